//! The race demo: the same counter updates run under each regime, one case after another.

use std::time::Duration;

use crate::exec::{self, Dispatch, Env, Numbered};
use crate::gil::{Gil, GilMode};
use crate::platform::Spawner;
use crate::runner::{CounterShare, ProcessLauncher, ProcessPlan};
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

/// Who runs a case's workers.
#[derive(Clone, Copy)]
pub(crate) enum Regime {
    /// Threads of one interpreter with this GIL.
    Threads(GilMode),
    /// Processes, each with its own GIL, updating this counter.
    Processes(CounterShare),
}

/// One regime of the race demo (the simulator runs the same list).
pub(crate) struct Case {
    pub(crate) name: &'static str,
    pub(crate) style: CounterStyle,
    pub(crate) regime: Regime,
    pub(crate) why: &'static str,
}

/// How many cases the demo runs (each with `workers` lanes).
pub const CASE_COUNT: u32 = CASES.len() as u32;

/// Every case, in the order the demo runs them.
pub(crate) const CASES: [Case; 7] = [
    Case {
        name: "threads, plain loop, GIL",
        style: CounterStyle::Plain,
        regime: Regime::Threads(GilMode::Classic),
        why: "The GIL only changes hands between updates (at the loop's end), never inside one.",
    },
    Case {
        name: "threads, call inside the update, GIL",
        style: CounterStyle::InCall,
        regime: Regime::Threads(GilMode::Classic),
        why: "The call between reading and writing the counter lets the GIL pass; the other thread's updates are then overwritten.",
    },
    Case {
        name: "threads, with a lock, GIL",
        style: CounterStyle::Locked,
        regime: Regime::Threads(GilMode::Classic),
        why: "Only the lock holder can update; the others wait for the lock, so nothing is overwritten.",
    },
    Case {
        name: "threads, call inside the update, no GIL",
        style: CounterStyle::InCall,
        regime: Regime::Threads(GilMode::Free),
        why: "Without a GIL threads really run at once on several cores and overwrite each other.",
    },
    Case {
        name: "processes, plain loop",
        style: CounterStyle::Plain,
        regime: Regime::Processes(CounterShare::Copy { value: 0 }),
        why: "Each process changed its own copy of the counter; the parent's never moved.",
    },
    Case {
        name: "processes, shared Value without its lock",
        style: CounterStyle::ValueBare,
        regime: Regime::Processes(CounterShare::SharedValue),
        why: "The processes run at once and share one Value; its built-in lock guards the read and the write separately, not the +=, so they overwrite each other.",
    },
    Case {
        name: "processes, shared Value with its lock",
        style: CounterStyle::Locked,
        regime: Regime::Processes(CounterShare::SharedValue),
        why: "`with v.get_lock():` spans the whole update, so only one process updates at a time and nothing is overwritten.",
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
        // Every worker gets its own task: `Thread(target=f, args=(k,))`.
        let plan = Dispatch::Fixed((0..workers).map(|i| vec![i]).collect());
        let counter = SharedCounter::new();
        let (outcomes, observed, kind) = match case.regime {
            Regime::Threads(mode) => {
                let gil = Gil::new(mode, Duration::from_micros(switch_interval_us));
                let o = exec::run_threads(&ids, &tasks, &plan, &gil, &counter, spawner, env);
                (o, counter.get(), LaneKind::Thread)
            }
            Regime::Processes(share) => {
                let plan = ProcessPlan {
                    lanes: ids.clone(),
                    tasks: &tasks,
                    dispatch: plan,
                    counter: share,
                };
                let r = processes.run(plan, env);
                // A copy in each child leaves the parent's counter where it was; a shared
                // Value is what the parent reads back.
                let observed = r.shared_value.unwrap_or_else(|| counter.get());
                (r.outcomes, observed, LaneKind::Process)
            }
        };
        let done: u64 = outcomes
            .iter()
            .map(|(_, o)| {
                if let TaskOutcome::Counted { increments, .. } = o {
                    *increments
                } else {
                    0
                }
            })
            .sum();
        out.cases.push(CounterCase {
            case: case.name.to_owned(),
            expected: done,
            observed,
            lost: done.saturating_sub(observed),
            explanation: case.why.to_owned(),
        });
        let prefix = if kind == LaneKind::Thread {
            "Thread"
        } else {
            "Process"
        };
        for (i, &id) in ids.iter().enumerate() {
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
