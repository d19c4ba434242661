//! What a simulation may cost, checked before it starts and watched while it runs.
//!
//! Valid parameters can ask for a lot: 64 processes on 16 cores are preempted every time
//! slice (two spans each time), 64 threads under one GIL with a 10 µs switch interval wake
//! every waiter every interval, the race's free-threaded and process cases replay every load
//! and store one by one. Unchecked, such a run took seconds to minutes, gigabytes of memory,
//! and wrote a report no page could open. So:
//!
//! - before it starts, [`Estimate`] works out from the set-up (lanes, GIL groups, cores, the
//!   tasks' costs from the profile, the switch interval and time slice) about how many spans,
//!   GIL events, events and replayed memory ops the run needs, and a run over a limit is
//!   refused with a message that names the number, the limit and what to change;
//! - while it runs, the engine counts the same things and stops at a limit (an estimate is an
//!   estimate), and asks its [`Cancel`] now and then whether to stop (Ctrl-C, a newer request);
//! - when it is done, the report is checked against what the page can open
//!   ([`crate::view::limits`]): lanes, length, samples and bytes.
//!
//! Spans and GIL events are limited to what the page draws (so every simulated report can be
//! opened there); events and memory ops to about a second or two of work natively.

use super::SimError;
use super::cell::Shape;
use super::costs::{SPEED_ONE, Tables};
use super::engine::{Engine, Feed};
use super::limits::{Halt, MAX_EVENTS, MAX_MEM_OPS};
use crate::exec::{Op, counter_unit};
use crate::gil::GilMode;
use crate::trace::RunReport;
use crate::view::limits::{
    MAX_GIL_EVENTS, MAX_LANES, MAX_REPORT_BYTES, MAX_SAMPLES, MAX_SPANS, MAX_TIME_US,
    pretty_json_len,
};
use crate::workload::{HashSpec, Task};

/// What makes most of a run's spans and events, for the advice in a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Driver {
    /// The GIL changing hands every switch interval.
    Gil,
    /// The OS preempting lanes every time slice (more runnable lanes than cores).
    Slices,
    /// The counter's loads and stores.
    Counter,
    /// Tasks and their blocking calls.
    Tasks,
}

impl Driver {
    fn hint(self) -> &'static str {
        match self {
            Driver::Gil => {
                "use a longer switch-interval-ms, fewer workers, fewer tasks or a smaller n"
            }
            Driver::Slices => "use more cores, fewer workers, fewer tasks or a smaller n",
            Driver::Counter => "use fewer increments or a longer switch-interval-ms",
            Driver::Tasks => "use fewer tasks or a smaller n",
        }
    }
}

/// About what a simulation will need, worked out from its set-up before it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Spans it records.
    pub spans: u64,
    /// GIL events (hand-offs, drop requests) it records.
    pub gil_events: u64,
    /// Events it takes.
    pub events: u64,
    /// Loads and stores of the counter it replays one by one.
    pub mem_ops: u64,
    /// Spans or events from GIL hand-offs, time slices, the counter, tasks.
    parts: [u64; 4],
}

impl Estimate {
    fn driver(&self) -> Driver {
        let [gil, slices, counter, tasks] = self.parts;
        let most = gil.max(slices).max(counter).max(tasks);
        if most == gil {
            Driver::Gil
        } else if most == slices {
            Driver::Slices
        } else if most == counter {
            Driver::Counter
        } else {
            Driver::Tasks
        }
    }

    /// Whether the run fits every limit; the refusal names the first it does not fit.
    pub fn check(&self) -> Result<(), SimError> {
        let over = |what: (&'static str, &'static str), estimate, limit, hint| {
            Err(SimError::OverBudget {
                verb: what.0,
                noun: what.1,
                estimate,
                limit,
                hint,
            })
        };
        let hint = self.driver().hint();
        if self.spans > MAX_SPANS as u64 {
            return over(("record", "spans"), self.spans, MAX_SPANS as u64, hint);
        }
        if self.gil_events > MAX_GIL_EVENTS as u64 {
            return over(
                ("record", "GIL events"),
                self.gil_events,
                MAX_GIL_EVENTS as u64,
                hint,
            );
        }
        if self.mem_ops > MAX_MEM_OPS {
            return over(
                ("replay", "loads and stores of the counter"),
                self.mem_ops,
                MAX_MEM_OPS,
                Driver::Counter.hint(),
            );
        }
        if self.events > MAX_EVENTS {
            return over(("take", "events"), self.events, MAX_EVENTS, hint);
        }
        Ok(())
    }

    /// Whether it will take long enough (about a tenth of a second or more natively) that a
    /// person should be told it is running and how to stop it.
    pub fn is_long(&self) -> bool {
        self.events > MAX_EVENTS / 20 || self.mem_ops > MAX_MEM_OPS / 20
    }
}

/// How much one task asks of its lane.
#[derive(Default)]
struct Load {
    /// CPU work at full speed, ns.
    cpu: u64,
    /// GIL hand-offs it causes when its lane shares a GIL with busy lanes.
    handoffs: f64,
    /// Blocking calls.
    calls: u64,
    /// Counter loads and stores.
    mem: u64,
    /// A counter task under a lock (a hand-off inside the lock blocks the taker on it).
    locked: bool,
}

/// Hand-offs while one lane runs `sum_powers(n)` beside others waiting for the GIL: a waiter
/// asks after `interval` ns and the holder lets go at its next check point (the end of its
/// step), so each hand-off takes at least the longer of the interval and the step.
fn pow_handoffs(t: &Tables, n: u32, interval: u64) -> f64 {
    let interval = interval.max(1) as f64;
    (0..n)
        .map(|i| {
            let c = t.steps(i, i + 1) as f64;
            c / c.max(interval)
        })
        .sum()
}

impl Engine<'_> {
    /// About what running the set-up will need (see the module's docs).
    pub(super) fn estimate(&self) -> Estimate {
        let mut e = Estimate {
            spans: 0,
            gil_events: 0,
            events: 0,
            mem_ops: 0,
            parts: [0; 4],
        };
        let cores = self.cpu.cores();
        for stage in &self.stages {
            let lanes = &self.lanes[stage.lanes.clone()];
            let k = lanes.len() as u64;
            // The stage's tasks: one list per dispatcher, or what a main thread is given.
            let mut seen = Vec::new();
            let mut tasks: Vec<&Task> = Vec::new();
            for lane in lanes {
                match &lane.feed {
                    Feed::Once(Some(list)) => tasks.extend(list.iter().map(|(_, t)| t)),
                    Feed::Once(None) => {}
                    Feed::Dispatch { d, .. } if !seen.contains(d) => {
                        seen.push(*d);
                        tasks.extend(self.dispatchers[*d].1.iter().map(|(_, t)| t));
                    }
                    Feed::Dispatch { .. } => {}
                }
            }
            // One GIL shared by the stage's lanes (threads of one interpreter), if any.
            let shared = lanes.first().map(|l| l.interp).filter(|&g| {
                k > 1
                    && lanes.iter().all(|l| l.interp == g)
                    && self.interps[g].gil.mode() == GilMode::Classic
            });
            let interval = shared.map_or(u64::MAX, |g| {
                self.interps[g].gil.interval_us() * 1000 + self.t.timer_slack
            });
            let mut pows: Vec<(u32, f64)> = Vec::new();
            let mut load = Load::default();
            let mut cpu_tasks = 0u64;
            for task in &tasks {
                let one = self.task_load(task, shared.is_some(), interval, &mut pows);
                cpu_tasks += u64::from(one.cpu > 0);
                load.cpu += one.cpu;
                load.handoffs += one.handoffs;
                load.calls += one.calls;
                load.mem += one.mem;
                load.locked |= one.locked;
            }
            // Lanes that want a core at once: one under a shared GIL (the others wait for
            // it off the core), else every lane that has CPU work.
            let runnable = if shared.is_some() {
                1
            } else {
                k.min(cpu_tasks)
            };
            let busy = runnable.clamp(1, cores);
            let slowest = (1..=busy as usize)
                .map(|b| self.t.speed(b))
                .min()
                .unwrap_or(SPEED_ONE)
                .max(1);
            let on_cores = (u128::from(load.cpu) * u128::from(SPEED_ONE) / u128::from(slowest))
                .min(u128::from(u64::MAX)) as u64;

            let (mut spans, mut events) = (
                3 * k + 3 * tasks.len() as u64,
                6 * k + 4 * tasks.len() as u64,
            );
            spans += 4 * load.calls;
            events += 4 * load.calls;
            e.parts[3] += spans;
            // Each lane's first take of its GIL is a hand-off too.
            e.gil_events += k;
            if shared.is_some() {
                // With one CPU-bound lane (the convoy's), the GIL changes hands only around
                // the others' blocking calls; with several, every interval while they run.
                let contended = if cpu_tasks > 1 { load.handoffs } else { 0.0 };
                let handoffs = (contended + 2.0 * load.calls as f64).ceil() as u64;
                let per = if load.locked { 4 } else { 2 };
                // Every waiter wakes every interval whether or not the GIL changes hands.
                let wakes = if cpu_tasks > 1 {
                    (k - 1).saturating_mul(on_cores / interval.max(1))
                } else {
                    2 * load.calls
                };
                spans += per * handoffs;
                e.gil_events += 2 * handoffs + 1;
                events += 4 * handoffs + wakes;
                e.parts[0] += per * handoffs + wakes;
            }
            if runnable > cores {
                let preemptions = on_cores / self.t.quantum.max(1);
                spans += 2 * preemptions;
                events += 3 * preemptions;
                e.parts[1] += 3 * preemptions;
            }
            if runnable > 1 && cores > 1 {
                // Lanes on cores at once: their loads and stores are replayed one by one.
                e.mem_ops += load.mem;
                e.parts[2] += load.mem / 32;
            }
            if busy > 1 && self.t.speed(1) != self.t.speed(busy as usize) {
                // Every change in the number of busy cores reschedules every running job.
                events = events.saturating_add(spans.saturating_mul(busy));
            }
            e.spans = e.spans.saturating_add(spans);
            e.events = e.events.saturating_add(events);
        }
        e
    }

    fn task_load(
        &self,
        task: &Task,
        shared: bool,
        interval: u64,
        pows: &mut Vec<(u32, f64)>,
    ) -> Load {
        // Work that holds a shared GIL throughout hands it over once per switch interval.
        let handoffs = |cpu: u64| {
            if shared {
                cpu as f64 / interval.max(1) as f64
            } else {
                0.0
            }
        };
        match task {
            Task::SumPowers { n } => {
                let handoffs = if !shared {
                    0.0
                } else if let Some(&(_, h)) = pows.iter().find(|(m, _)| m == n) {
                    h
                } else {
                    let h = pow_handoffs(self.t, *n, interval);
                    pows.push((*n, h));
                    h
                };
                Load {
                    cpu: self.t.steps(0, *n),
                    handoffs,
                    ..Load::default()
                }
            }
            Task::Counter(spec) => {
                let shape = Shape::new(&counter_unit(spec), self.t);
                let cpu = spec.increments.saturating_mul(shape.unit);
                Load {
                    cpu,
                    handoffs: handoffs(cpu),
                    mem: spec.increments.saturating_mul(shape.mem.len() as u64),
                    locked: shape.locks,
                    ..Load::default()
                }
            }
            Task::Sleeps { count, .. } => Load {
                calls: u64::from(*count),
                ..Load::default()
            },
            Task::Download(_) => Load {
                calls: 1,
                ..Load::default()
            },
            Task::Hash(spec) => {
                let chunk = spec.chunk.max(1);
                let updates = spec.bytes.div_ceil(chunk);
                let cpu = self.t.op(&Op::CCall { bytes: spec.bytes });
                if HashSpec::releases_gil(chunk) {
                    // Each big update releases the GIL and takes it back, like a call.
                    Load {
                        cpu,
                        calls: updates,
                        ..Load::default()
                    }
                } else {
                    Load {
                        cpu,
                        handoffs: handoffs(cpu),
                        ..Load::default()
                    }
                }
            }
        }
    }
}

/// Why the engine stopped, as the error a person reads; `None` when it was cancelled, which is
/// no error: the caller keeps what ran (see `sim::simulate_with`).
pub fn halted(h: Halt) -> Option<SimError> {
    let hint = Driver::Tasks.hint();
    Some(match h {
        Halt::Cancelled => return None,
        Halt::Spans => SimError::Exceeded {
            what: "spans",
            limit: MAX_SPANS as u64,
            hint,
        },
        Halt::GilEvents => SimError::Exceeded {
            what: "GIL events",
            limit: MAX_GIL_EVENTS as u64,
            hint: Driver::Gil.hint(),
        },
        Halt::Events => SimError::Exceeded {
            what: "events",
            limit: MAX_EVENTS,
            hint,
        },
        Halt::MemOps => SimError::Exceeded {
            what: "replayed loads and stores",
            limit: MAX_MEM_OPS,
            hint: Driver::Counter.hint(),
        },
    })
}

/// Whether the page can open `r` (its caps, [`crate::view::limits`]); the refusal names what
/// is over.
pub fn check_report(r: &RunReport) -> Result<(), SimError> {
    let too = |what: String, limit: String| {
        Err(SimError::TooBig {
            what,
            limit,
            hint: Driver::Tasks.hint(),
        })
    };
    if r.lanes.len() > MAX_LANES {
        return too(format!("{} lanes", r.lanes.len()), MAX_LANES.to_string());
    }
    if r.wall_us > MAX_TIME_US {
        return too(
            format!("{} long", crate::view::format_duration(r.wall_us)),
            "one day".into(),
        );
    }
    if r.cores.len() > MAX_SAMPLES || r.tasks.len() > MAX_SAMPLES {
        return too(
            format!("{} core samples", r.cores.len().max(r.tasks.len())),
            MAX_SAMPLES.to_string(),
        );
    }
    let bytes = pretty_json_len(r);
    if bytes > MAX_REPORT_BYTES {
        let mb = |b: u64| format!("{:.1} MB", b as f64 / (1024.0 * 1024.0));
        return too(mb(bytes), mb(MAX_REPORT_BYTES));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
