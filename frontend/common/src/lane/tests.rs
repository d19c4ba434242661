//! One lane alone, driven message by message.

use std::sync::atomic::{AtomicU64, Ordering};

use gil_lab::gil::GilMode;
use gil_lab::platform::Clock;
use gil_lab::trace::SpanState;
use gil_lab::workload::Task;

use super::*;
use crate::protocol::IoModel;

/// A clock the test sets.
struct Manual(AtomicU64);

impl Clock for Manual {
    fn now_us(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

fn set(c: &Manual, t: u64) {
    c.0.store(t, Ordering::Relaxed);
}

fn thread_lane() -> LaneCore {
    let cfg = LaneConfig {
        lane: 1,
        program: Program::Worker,
        gil: LaneGil::Host,
        counter: LaneCounter::Copy { value: 0 },
        report_counter: false,
        epoch_ms: None,
        io: IoModel::default(),
        slice_us: 1_000,
    };
    LaneCore::new(cfg, None, 0.0)
}

fn kinds(out: &[FromLane]) -> Vec<&'static str> {
    out.iter()
        .map(|m| match m {
            FromLane::Ready { .. } => "ready",
            FromLane::Take { .. } => "take",
            FromLane::Release { .. } => "release",
            FromLane::Yield { .. } => "yield",
            FromLane::Next => "next",
            FromLane::Span { .. } => "span",
            FromLane::Open { .. } => "open",
            FromLane::Progress { .. } => "progress",
            FromLane::TaskDone { .. } => "done",
            FromLane::Gil { .. } => "gil",
            FromLane::Exited { .. } => "exited",
        })
        .collect()
}

/// A thread lane holding the GIL with one `sum_powers(50)` to do.
fn holding(c: &Manual, drop_due_us: Option<u64>) -> LaneCore {
    let mut l = thread_lane();
    l.on_message(ToLane::Start { epoch_ms: 0.0 }, c);
    l.run(c, 1_000);
    l.on_message(
        ToLane::Granted {
            at_us: 0,
            waited: false,
            drop_due_us,
        },
        c,
    );
    l.run(c, 1_000);
    l.on_message(
        ToLane::Work {
            tasks: vec![(0, Task::SumPowers { n: 50 })],
        },
        c,
    );
    l.take_outbox();
    l
}

#[test]
fn a_thread_waits_for_start_then_asks_for_the_gil() {
    let c = Manual(AtomicU64::new(0));
    let mut l = thread_lane();
    assert_eq!(kinds(&l.take_outbox()), vec!["ready"]);
    assert_eq!(l.run(&c, 1_000), LaneStep::Wait);
    assert!(l.on_message(ToLane::Start { epoch_ms: 1.0 }, &c));
    set(&c, 10);
    assert_eq!(l.run(&c, 1_000), LaneStep::Wait);
    let out = l.take_outbox();
    assert!(out.contains(&FromLane::Take { at_us: 10 }), "{out:?}");
    // Granted at 40 on the host's order; heard of at 30 on this lane's clock: running from
    // the grant's stamp, never earlier.
    set(&c, 30);
    assert!(l.on_message(
        ToLane::Granted {
            at_us: 40,
            waited: true,
            drop_due_us: None
        },
        &c
    ));
    assert_eq!(l.run(&c, 1_000), LaneStep::Wait);
    let out = l.take_outbox();
    assert!(out.contains(&FromLane::Span {
        span: gil_lab::trace::Span {
            lane: 1,
            task: None,
            state: SpanState::GilWait,
            start_us: 10,
            end_us: 40
        }
    }));
    assert_eq!(out.last(), Some(&FromLane::Next));
}

#[test]
fn the_holder_yields_at_the_first_check_point_past_the_due_time() {
    let c = Manual(AtomicU64::new(0));
    let mut l = holding(&c, Some(500));
    // Before the due time check points pass; a slice of 0 ends at the first one.
    set(&c, 499);
    assert_eq!(l.run(&c, 0), LaneStep::Yield);
    set(&c, 500);
    assert_eq!(l.run(&c, 1_000), LaneStep::Wait);
    let out = l.take_outbox();
    assert!(out.contains(&FromLane::Yield { at_us: 500 }), "{out:?}");
    // The next grant's due time replaces the old one.
    l.on_message(
        ToLane::Granted {
            at_us: 700,
            waited: true,
            drop_due_us: None,
        },
        &c,
    );
    set(&c, 800);
    let mut step = l.run(&c, 10_000);
    while step == LaneStep::Yield {
        step = l.run(&c, 10_000);
    }
    assert_eq!(step, LaneStep::Wait);
    let out = l.take_outbox();
    assert!(
        out.iter()
            .any(|m| matches!(m, FromLane::TaskDone { id: 0, .. }))
    );
    assert_eq!(out.last(), Some(&FromLane::Next));
}

#[test]
fn a_new_waiter_heard_of_between_slices_counts_at_the_same_check_point() {
    let c = Manual(AtomicU64::new(0));
    let mut l = holding(&c, None);
    assert_eq!(l.run(&c, 0), LaneStep::Yield);
    // Not a resumption: the lane was running and carries on by itself.
    assert!(!l.on_message(ToLane::DropDue { at_us: Some(0) }, &c));
    assert_eq!(l.run(&c, 0), LaneStep::Wait);
    assert!(l.take_outbox().contains(&FromLane::Yield { at_us: 0 }));
}

#[test]
fn a_process_runs_on_its_own_gil_and_blocks_for_downloads() {
    let c = Manual(AtomicU64::new(0));
    let cfg = LaneConfig {
        lane: 0,
        program: Program::Worker,
        gil: LaneGil::Own {
            mode: GilMode::Classic,
        },
        counter: LaneCounter::Copy { value: 0 },
        report_counter: true,
        epoch_ms: Some(0.0),
        io: IoModel {
            latency_ms: 5,
            bandwidth_kbps: 0,
        },
        slice_us: 50_000,
    };
    let mut l = LaneCore::new(cfg, None, 0.0);
    assert_eq!(l.run(&c, 1_000), LaneStep::Wait);
    assert!(kinds(&l.take_outbox()).contains(&"next"));
    let spec = gil_lab::workload::DownloadSpec::new("img/photo-1.jpg", 0);
    l.on_message(
        ToLane::Work {
            tasks: vec![(0, Task::Download(spec.clone()))],
        },
        &c,
    );
    set(&c, 5);
    assert_eq!(
        l.run(&c, 1_000),
        LaneStep::Download {
            url: spec.url.clone(),
            file_name: spec.file_name.clone(),
            io: IoModel {
                latency_ms: 5,
                bandwidth_kbps: 0
            }
        }
    );
    assert_eq!(
        l.run(&c, 1_000),
        LaneStep::Wait,
        "blocked until the driver says"
    );
    set(&c, 900);
    l.downloaded(Ok(gil_lab::workload::DownloadOutput {
        file: "f".into(),
        bytes: 3,
    }));
    assert_eq!(l.run(&c, 1_000), LaneStep::Wait);
    let out = l.take_outbox();
    let io = out.iter().find_map(|m| match m {
        FromLane::Span { span } if span.state == SpanState::IoWait => Some(*span),
        _ => None,
    });
    assert_eq!(io.map(|s| (s.start_us, s.end_us)), Some((5, 900)));
    assert!(kinds(&out).contains(&"done"));
    // No GIL message ever went to the host.
    assert!(
        !kinds(&out)
            .iter()
            .any(|k| matches!(*k, "take" | "release" | "yield"))
    );
    l.on_message(ToLane::Work { tasks: vec![] }, &c);
    assert_eq!(l.run(&c, 1_000), LaneStep::Exit);
    assert!(kinds(&l.take_outbox()).contains(&"exited"));
}

/// A big `update()` releases the GIL, and the lane hands its driver a turn right then, so
/// the host hears of the release before the hashing (the whole update) starts: otherwise no
/// other lane is granted the GIL while this one computes in C.
#[test]
fn a_big_update_tells_the_host_before_hashing() {
    let c = Manual(AtomicU64::new(0));
    let mut l = thread_lane();
    l.on_message(ToLane::Start { epoch_ms: 0.0 }, &c);
    l.run(&c, 1_000);
    l.on_message(
        ToLane::Granted {
            at_us: 0,
            waited: false,
            drop_due_us: None,
        },
        &c,
    );
    l.run(&c, 1_000);
    let spec = gil_lab::workload::HashSpec {
        bytes: 8192,
        chunk: 4096,
    };
    l.on_message(
        ToLane::Work {
            tasks: vec![(0, Task::Hash(spec))],
        },
        &c,
    );
    l.take_outbox();
    set(&c, 5);
    assert_eq!(l.run(&c, 1_000), LaneStep::Yield);
    let out = l.take_outbox();
    assert!(
        out.contains(&FromLane::Release {
            at_us: 5,
            ending: false
        }),
        "{out:?}"
    );
    // Then the update runs, and the lane asks for the GIL back.
    set(&c, 9);
    assert_eq!(l.run(&c, 1_000), LaneStep::Wait);
    let out = l.take_outbox();
    assert!(out.contains(&FromLane::Take { at_us: 9 }), "{out:?}");
    assert!(out.iter().any(|m| matches!(
        m,
        FromLane::Span { span } if span.state == SpanState::CCode && span.start_us == 5
    )));
}
