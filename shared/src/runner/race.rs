//! The race demo: the same counter updates run under each regime, one case after another.

use std::time::Duration;

use crate::exec::{self, Dispatch, Env, Numbered};
use crate::gil::{Gil, GilMode};
use crate::platform::Spawner;
use crate::runner::{ProcessLauncher, ProcessPlan};
use crate::trace::{Lane, LaneKind};
use crate::workload::{CounterCase, CounterSpec, CounterStyle, SharedCounter, Task, TaskOutcome};

/// Lanes, task outcomes and one [`CounterCase`] per regime.
pub struct RaceResult {
    /// Every case's lanes, grouped by case.
    pub lanes: Vec<Lane>,
    /// Every worker's outcome.
    pub outcomes: Vec<(u32, TaskOutcome)>,
    /// Expected against observed, per case.
    pub cases: Vec<CounterCase>,
}

/// One regime of the race demo (the simulator runs the same list).
pub(crate) struct Case {
    pub(crate) name: &'static str,
    pub(crate) style: CounterStyle,
    /// `None` runs the workers as processes.
    pub(crate) gil: Option<GilMode>,
    pub(crate) why: &'static str,
}

/// The race demo's cases, in order.
pub(crate) const CASES: [Case; 5] = [
    Case {
        name: "threads, plain loop, GIL",
        style: CounterStyle::Plain,
        gil: Some(GilMode::Classic),
        why: "The GIL only changes hands between updates (at the loop's end), never inside one.",
    },
    Case {
        name: "threads, call inside the update, GIL",
        style: CounterStyle::InCall,
        gil: Some(GilMode::Classic),
        why: "The call between reading and writing the counter lets the GIL pass; the other thread's updates are then overwritten.",
    },
    Case {
        name: "threads, with a lock, GIL",
        style: CounterStyle::Locked,
        gil: Some(GilMode::Classic),
        why: "Only the lock holder can update; the others wait for the lock, so nothing is overwritten.",
    },
    Case {
        name: "threads, call inside the update, no GIL",
        style: CounterStyle::InCall,
        gil: Some(GilMode::Free),
        why: "Without a GIL threads really run at once on several cores and overwrite each other.",
    },
    Case {
        name: "processes, plain loop",
        style: CounterStyle::Plain,
        gil: None,
        why: "Each process changed its own copy of the counter; the parent's never moved.",
    },
];

/// Runs every case with `workers` lanes of `increments` updates each.
pub fn run_cases(
    workers: u32,
    increments: u64,
    switch_interval_us: u64,
    spawner: &dyn Spawner,
    processes: &dyn ProcessLauncher,
    env: &Env<'_>,
) -> RaceResult {
    let mut out = RaceResult {
        lanes: Vec::new(),
        outcomes: Vec::new(),
        cases: Vec::new(),
    };
    for (k, case) in CASES.iter().enumerate() {
        let first = k as u32 * workers;
        let ids: Vec<u32> = (first..first + workers).collect();
        let spec = CounterSpec {
            increments,
            style: case.style,
        };
        let tasks: Vec<Numbered> = ids.iter().map(|&id| (id, Task::Counter(spec))).collect();
        let counter = SharedCounter::new();
        let kind = if case.gil.is_some() {
            LaneKind::Thread
        } else {
            LaneKind::Process
        };
        let outcomes = match case.gil {
            Some(mode) => {
                let gil = Gil::new(mode, Duration::from_micros(switch_interval_us));
                let plan = Dispatch::Fixed((0..workers).map(|i| vec![i]).collect());
                exec::run_threads(&ids, &tasks, &plan, &gil, &counter, spawner, env)
            }
            None => {
                let plan = ProcessPlan {
                    lanes: ids.clone(),
                    tasks: &tasks,
                    dispatch: Dispatch::Fixed((0..workers).map(|i| vec![i]).collect()),
                };
                processes.run(plan, env)
            }
        };
        let done: u64 = outcomes
            .iter()
            .map(|(_, o)| {
                if let TaskOutcome::Counted { increments } = o {
                    *increments
                } else {
                    0
                }
            })
            .sum();
        let observed = counter.get();
        out.cases.push(CounterCase {
            case: case.name.to_owned(),
            expected: done,
            observed,
            lost: done.saturating_sub(observed),
            explanation: case.why.to_owned(),
        });
        for (i, &id) in ids.iter().enumerate() {
            let prefix = if case.gil.is_some() {
                "Thread"
            } else {
                "Process"
            };
            out.lanes.push(Lane {
                id,
                label: format!("{prefix}-{}", i + 1),
                kind,
                group: Some(case.name.to_owned()),
            });
        }
        out.outcomes.extend(outcomes);
        if env.stop.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
    }
    out
}
