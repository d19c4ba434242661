//! Hand-built reports for the golden pictures and the view's tests. Deterministic: no clock, no
//! randomness; the "jitter" below is arithmetic on the slice number.

use crate::gil::GilMode;
use crate::scenario::{Model, Params, Workload};
use crate::trace::{
    CoreSample, GilEvent, GilStats, Lane, LaneKind, Machine, RunReport, Span, SpanState, TaskRecord,
};
use crate::workload::{CounterCase, Digest, DownloadOutput, TaskOutcome};

/// One span (shared with the other modules' tests).
pub(crate) fn span(
    lane: u32,
    task: Option<u32>,
    state: SpanState,
    start_us: u64,
    end_us: u64,
) -> Span {
    Span {
        lane,
        task,
        state,
        start_us,
        end_us,
    }
}

fn lane(id: u32, label: &str, kind: LaneKind, group: Option<&str>) -> Lane {
    Lane {
        id,
        label: label.to_owned(),
        kind,
        group: group.map(str::to_owned),
    }
}

fn empty(scenario: &str, params: Params, machine: Machine) -> RunReport {
    RunReport::new(scenario, params, machine)
}

/// CPython's `sum(i**i for i in range(10000))`, as the workload tests check it.
fn lesson_digest() -> Digest {
    Digest {
        bits: 132_863,
        digits: 39_996,
        low64: "6738222566488232981".to_owned(),
        tail: "27837280816237204501".to_owned(),
    }
}

/// What [`take_turns`] produced besides the spans.
struct Turns {
    /// End of the last slice.
    end_us: u64,
    /// Hand-overs between threads.
    handovers: u32,
    /// The GIL's events: the first take, every hand-off, and the drop request before it.
    events: Vec<GilEvent>,
}

/// Threads taking turns on one GIL: `work_us` of running each, slices of about `slice_us`
/// (plus up to 0.4 ms to the next check point) with a `handover_us` gap, thread `i` arriving
/// at `arrive(i)`. The next holder is `pick(turn, waiting)`-th of the waiting threads in the
/// order they started waiting (0 = first come, first served; CPython does not promise that).
/// Appends the spans.
fn take_turns(
    spans: &mut Vec<Span>,
    lanes: &[u32],
    (work_us, slice_us, handover_us): (u64, u64, u64),
    arrive: impl Fn(usize) -> u64,
    pick: impl Fn(u64, usize) -> usize,
) -> Turns {
    let mut left: Vec<u64> = vec![work_us; lanes.len()];
    let mut waiting_since: Vec<u64> = (0..lanes.len()).map(&arrive).collect();
    let mut queue: Vec<usize> = (0..lanes.len()).collect();
    // The last holder rejoins the waiters only after the next one is picked: with forced
    // switching it cannot take the GIL straight back while others wait.
    let mut rejoin: Option<usize> = None;
    let mut now = arrive(0);
    let mut slice_no: u64 = 0;
    let mut handovers = 0;
    let mut events = Vec::new();
    let mut last: Option<u32> = None;
    while !queue.is_empty() || rejoin.is_some() {
        let i = if queue.is_empty() {
            rejoin.take().unwrap_or_default()
        } else {
            queue.remove(pick(slice_no, queue.len()).min(queue.len() - 1))
        };
        queue.extend(rejoin.take());
        let lane = lanes[i];
        let task = Some(lane);
        now = now.max(waiting_since[i]);
        if now > waiting_since[i] {
            spans.push(span(lane, task, SpanState::GilWait, waiting_since[i], now));
        }
        if last != Some(lane) {
            events.push(GilEvent::Handoff {
                at_us: now,
                from: last,
                to: lane,
            });
            last = Some(lane);
        }
        let jitter = (slice_no * 137) % 400;
        let run = left[i].min(slice_us + jitter);
        spans.push(span(lane, task, SpanState::Running, now, now + run));
        slice_no += 1;
        now += run;
        left[i] -= run;
        if left[i] > 0 {
            waiting_since[i] = now;
            rejoin = Some(i);
        }
        if let Some(&first) = queue.first() {
            // The longest waiter timed out a check point before the hand-over and asked.
            if run > jitter {
                events.push(GilEvent::DropRequest {
                    at_us: now - jitter,
                    by: lanes[first],
                    holder: lane,
                });
            }
            now += handover_us;
            handovers += 1;
        }
    }
    Turns {
        end_us: now,
        handovers,
        events,
    }
}

/// First come, first served: the order [`cpu_threads`] and [`race`] use.
fn fifo(_turn: u64, _waiting: usize) -> usize {
    0
}

/// Four threads under the classic GIL taking turns at `sum_powers(10000)`, two measured cores.
pub fn cpu_threads() -> RunReport {
    let params = Params {
        model: Model::Threads {
            workers: 4,
            gil: GilMode::Classic,
            switch_interval_us: 5_000,
        },
        workload: Workload::SumPowers { n: 10_000 },
        tasks: 4,
        python: Default::default(),
    };
    let machine = Machine {
        cores: 2,
        platform: "linux-x86_64".to_owned(),
        core_source: "proc-stat".to_owned(),
    };
    let mut r = empty("cpu-threads", params, machine);
    let ids = [0, 1, 2, 3];
    for &i in &ids {
        r.lanes.push(lane(
            i,
            &format!("Thread-{}", i + 1),
            LaneKind::Thread,
            None,
        ));
    }
    let Turns {
        end_us: end,
        handovers,
        ..
    } = take_turns(
        &mut r.spans,
        &ids,
        (31_000, 5_000, 60),
        |i| 300 + 250 * i as u64,
        fifo,
    );
    r.spans.sort_by_key(|s| (s.start_us, s.lane));
    r.wall_us = end + 400;
    let running: u64 = r
        .spans
        .iter()
        .filter(|s| s.state == SpanState::Running)
        .map(Span::duration_us)
        .sum();
    r.cpu_user_us = running + 2_100;
    r.cpu_sys_us = 1_200;
    r.baseline_wall_us = Some(running + 700);
    // The OS moves the one running thread between the two cores every few samples.
    let mut t = 0;
    let mut k = 0;
    while t < r.wall_us {
        let end = (t + 10_000).min(r.wall_us);
        let on_first = (k / 3) % 2 == 0;
        let (a, b) = if on_first { (0.94, 0.08) } else { (0.06, 0.97) };
        r.cores.push(CoreSample {
            start_us: t,
            end_us: end,
            busy: vec![a, b],
        });
        t = end;
        k += 1;
    }
    for &i in &ids {
        r.tasks.push(TaskRecord {
            id: i,
            label: "sum_powers(10000)".to_owned(),
            lane: Some(i),
            outcome: TaskOutcome::Sum(lesson_digest()),
        });
    }
    r.notes.push(format!(
        "The GIL changed hands {handovers} times ({handovers} drop requests after a 5 ms wait)."
    ));
    r
}

/// The lesson's own run at full size: four threads under the classic GIL, each running
/// `sum_powers(10000)` for 1.5 s in ~5 ms turns (about 1200 of them, ~6 s in all), with the
/// GIL's events and counts as a measured report carries them, and two cores taking turns at
/// the work in 12 ms samples. Every turn is narrower than a pixel of the whole-run picture
/// and than a terminal cell: the case the share drawing exists for.
pub fn cpu_threads_lesson() -> RunReport {
    let mut r = cpu_threads();
    r.spans.clear();
    r.cores.clear();
    r.notes.clear();
    let ids = [0, 1, 2, 3];
    // Not first come, first served: which waiter wins depends on the OS (here: arithmetic).
    let turns = take_turns(
        &mut r.spans,
        &ids,
        (1_500_000, 5_000, 15),
        |i| 240 + 40 * i as u64,
        |turn, waiting| ((turn * 7 + turn / 5) % waiting as u64) as usize,
    );
    r.spans.sort_by_key(|s| (s.start_us, s.lane));
    r.wall_us = turns.end_us + 300;
    let running: u64 = r
        .spans
        .iter()
        .filter(|s| s.state == SpanState::Running)
        .map(Span::duration_us)
        .sum();
    r.cpu_user_us = running + 9_000;
    r.cpu_sys_us = 36_000;
    r.baseline_wall_us = Some(running - 40_000);
    let mut t = 0;
    let mut k = 0u64;
    while t < r.wall_us {
        let end = (t + 12_000).min(r.wall_us);
        let (a, b) = if k.is_multiple_of(2) {
            (0.97, 0.05)
        } else {
            (0.04, 0.96)
        };
        r.cores.push(CoreSample {
            start_us: t,
            end_us: end,
            busy: vec![a, b],
        });
        t = end;
        k += 1;
    }
    let handoffs = turns
        .events
        .iter()
        .filter(|e| matches!(e, GilEvent::Handoff { .. }))
        .count() as u64;
    let stats = GilStats {
        switches: handoffs,
        drop_requests: turns.events.len() as u64 - handoffs,
        interval_us: 5_000,
    };
    r.notes.push(crate::runner::gil_note(&stats));
    r.gil = Some(stats);
    r.gil_events = turns.events;
    r
}

/// The race demo in miniature: four cases of two workers, lane groups, counters, no core data.
pub fn race() -> RunReport {
    let params = Params {
        model: Model::Race {
            workers: 2,
            switch_interval_us: 5_000,
        },
        workload: Workload::Counter {
            increments: 100_000,
        },
        tasks: 2,
        python: Default::default(),
    };
    let machine = Machine {
        cores: 8,
        platform: "linux-x86_64".to_owned(),
        core_source: String::new(),
    };
    let mut r = empty("race", params, machine);
    let cases: [(&str, LaneKind, u64, &str); 4] = [
        (
            "threads, plain loop, GIL",
            LaneKind::Thread,
            0,
            "The GIL only changes hands between updates, never inside one.",
        ),
        (
            "threads, call inside the update, GIL",
            LaneKind::Thread,
            61_234,
            "The call inside the update lets the GIL pass between the read and the write.",
        ),
        (
            "threads, with a lock, GIL",
            LaneKind::Thread,
            0,
            "Only the lock holder updates the counter; the others wait for the lock.",
        ),
        (
            "processes, plain loop",
            LaneKind::Process,
            200_000,
            "Each process changed its own copy; the parent's counter never moved.",
        ),
    ];
    let mut t = 200;
    for (k, (name, kind, lost, why)) in cases.iter().enumerate() {
        let ids = [2 * k as u32, 2 * k as u32 + 1];
        let prefix = if *kind == LaneKind::Thread {
            "Thread"
        } else {
            "Process"
        };
        for (j, &id) in ids.iter().enumerate() {
            r.lanes
                .push(lane(id, &format!("{prefix}-{}", j + 1), *kind, Some(name)));
        }
        let start = t;
        match k {
            0 | 1 => {
                let turns = take_turns(
                    &mut r.spans,
                    &ids,
                    (12_000, 5_000, 60),
                    |i| start + 150 * i as u64,
                    fifo,
                );
                t = turns.end_us;
            }
            2 => {
                // Short turns with the lock: the other thread blocks on it (GIL released).
                let mut now = start;
                for step in 0..8u64 {
                    let (runner, waiter) =
                        (ids[(step % 2) as usize], ids[((step + 1) % 2) as usize]);
                    let run = 2_800 + (step * 97) % 300;
                    r.spans.push(span(
                        runner,
                        Some(runner),
                        SpanState::Running,
                        now,
                        now + run,
                    ));
                    r.spans.push(span(
                        waiter,
                        Some(waiter),
                        SpanState::LockWait,
                        now,
                        now + run,
                    ));
                    now += run + 40;
                }
                t = now;
            }
            _ => {
                for (j, &id) in ids.iter().enumerate() {
                    let boot = start + 400 * j as u64;
                    let ready = boot + 18_000 + 700 * j as u64;
                    r.spans
                        .push(span(id, Some(id), SpanState::Starting, boot, ready));
                    r.spans.push(span(
                        id,
                        Some(id),
                        SpanState::Running,
                        ready,
                        ready + 11_000,
                    ));
                    t = t.max(ready + 11_000);
                }
            }
        }
        for &id in &ids {
            r.tasks.push(TaskRecord {
                id,
                label: "counter worker".to_owned(),
                lane: Some(id),
                outcome: TaskOutcome::Counted {
                    increments: 100_000,
                    seen: None,
                },
            });
        }
        r.counters.push(CounterCase {
            case: (*name).to_owned(),
            expected: 200_000,
            observed: 200_000 - lost,
            lost: *lost,
            explanation: (*why).to_owned(),
        });
        t += 1_500;
    }
    r.spans.sort_by_key(|s| (s.start_us, s.lane));
    r.wall_us = t;
    r.cpu_user_us = 141_000;
    r.cpu_sys_us = 9_800;
    r
}

/// Three threads downloading nine images: long I/O waits with the GIL released, short bursts
/// of Python, one failed download, per-core load estimated (as in a browser).
pub fn io_threads() -> RunReport {
    let params = Params {
        model: Model::Threads {
            workers: 3,
            gil: GilMode::Classic,
            switch_interval_us: 5_000,
        },
        workload: Workload::Download {
            urls: Vec::new(),
            latency_ms: 100,
            bandwidth_kbps: 32_000,
        },
        tasks: 9,
        python: Default::default(),
    };
    let machine = Machine {
        cores: 2,
        platform: "browser (Chromium 126, cross-origin isolated)".to_owned(),
        core_source: "estimated".to_owned(),
    };
    let mut r = empty("io-threads", params, machine);
    for i in 0..3u32 {
        r.lanes.push(lane(
            i,
            &format!("Thread-{}", i + 1),
            LaneKind::Thread,
            None,
        ));
    }
    // A tiny event simulation: each lane wants the GIL for a short burst before and after
    // each download; bursts never overlap (one GIL), and the download wait releases it.
    // Lane `l` takes tasks l, l + 3, l + 6.
    let size = |task: u32| 180_000 + u64::from(task * 7 % 5) * 40_000;
    let mut want = [400u64, 400, 400]; // when each lane next wants the GIL
    let mut phase = [0u32; 3]; // 0: before the download, 1: after it
    let mut task_of = [0u32, 1, 2];
    let mut done = [false; 3];
    let mut gil_free = 0u64;
    let mut finished_at = 0u64;
    while let Some(lane) = (0..3usize)
        .filter(|&l| !done[l])
        .min_by_key(|&l| (want[l], l))
    {
        let task = task_of[lane];
        let id = lane as u32;
        let start = want[lane].max(gil_free);
        if start > want[lane] {
            r.spans
                .push(span(id, Some(task), SpanState::GilWait, want[lane], start));
        }
        let burst = if phase[lane] == 0 { 450 } else { 300 };
        r.spans.push(span(
            id,
            Some(task),
            SpanState::Running,
            start,
            start + burst,
        ));
        gil_free = start + burst;
        if phase[lane] == 0 {
            let io_us = if task == 7 {
                100_000
            } else {
                100_000 + size(task) * 1_000 / 4_000
            };
            r.spans.push(span(
                id,
                Some(task),
                SpanState::IoWait,
                gil_free,
                gil_free + io_us,
            ));
            want[lane] = gil_free + io_us;
            phase[lane] = 1;
        } else {
            want[lane] = gil_free + 80;
            phase[lane] = 0;
            task_of[lane] += 3;
            done[lane] = task_of[lane] >= 9;
            finished_at = finished_at.max(gil_free);
        }
    }
    for task in 0..9u32 {
        let url = format!("http://127.0.0.1:8000/img/{}.jpg", task % 6);
        r.tasks.push(TaskRecord {
            id: task,
            label: format!("download {url}"),
            lane: Some(task % 3),
            outcome: if task == 7 {
                TaskOutcome::Error {
                    message: "connection reset by peer".to_owned(),
                }
            } else {
                TaskOutcome::Downloaded(DownloadOutput {
                    file: format!("{task:03}-{}.jpg", task % 6),
                    bytes: size(task),
                })
            },
        });
    }
    r.spans.sort_by_key(|s| (s.start_us, s.lane));
    r.wall_us = finished_at + 200;
    r.cpu_user_us = 9_400;
    r.cpu_sys_us = 3_100;
    r.baseline_wall_us = Some(2_480_000);
    let mut t = 0;
    let mut k = 0u64;
    while t < r.wall_us {
        let end = (t + 25_000).min(r.wall_us);
        let a = 0.02 + (k * 7 % 5) as f32 * 0.01;
        let b = 0.01 + (k * 3 % 4) as f32 * 0.01;
        r.cores.push(CoreSample {
            start_us: t,
            end_us: end,
            busy: vec![a, b],
        });
        t = end;
        k += 1;
    }
    r
}

/// A dense trace: `n` spans over four threads, each lane alternating running and waiting for
/// the GIL in contiguous spans of `len_us` (± a little).
pub fn dense(n: usize, len_us: u64) -> RunReport {
    let mut r = cpu_threads();
    r.spans.clear();
    let mut ends = [0u64; 4];
    for k in 0..n {
        let lane = k % 4;
        let state = if (k / 4) % 2 == 0 {
            SpanState::Running
        } else {
            SpanState::GilWait
        };
        let len = len_us + (k as u64 * 37) % (len_us / 4 + 1);
        let start = ends[lane];
        r.spans.push(span(
            lane as u32,
            Some(lane as u32),
            state,
            start,
            start + len,
        ));
        ends[lane] = start + len;
    }
    r.spans.sort_by_key(|s| (s.start_us, s.lane));
    r.wall_us = ends.iter().copied().max().unwrap_or(0) + 1_000;
    r
}
