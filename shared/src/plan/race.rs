//! The race demo: the same counter updates run under each regime, one case (a phase) after
//! another.

use super::{Builder, CasePlan, CounterShare, LaneGil, Start};
use crate::exec::{Dispatch, Numbered};
use crate::gil::GilMode;
use crate::scenario::{CheckPoints, Python};
use crate::trace::LaneKind;
use crate::workload::{CounterSpec, CounterStyle, Task};

/// Who runs a case's workers.
#[derive(Clone, Copy)]
enum Regime {
    /// Threads of one interpreter with this GIL.
    Threads(GilMode),
    /// Processes, each with its own GIL, updating this counter.
    Processes(CounterShare),
}

/// One regime of the race demo.
struct Case {
    name: &'static str,
    style: CounterStyle,
    regime: Regime,
    why: &'static str,
}

/// How many cases the demo runs (each with `workers` lanes).
pub const CASE_COUNT: u32 = CASES.len() as u32;

/// Every case, in the order the demo runs them.
const CASES: [Case; 7] = [
    Case {
        name: "threads, plain loop, GIL",
        style: CounterStyle::Plain,
        regime: Regime::Threads(GilMode::Classic),
        // Said with the version it ran as: see [`why`].
        why: "",
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

/// Adds every case as a phase of `workers` lanes, each with one task of `increments` updates.
pub(super) fn cases(
    b: &mut Builder,
    workers: u32,
    increments: u64,
    switch_interval_us: u64,
    python: Python,
) {
    for case in &CASES {
        let first = b.next_lane;
        let spec = CounterSpec {
            increments,
            style: case.style,
            checks: python.check_points(),
        };
        let tasks: Vec<Numbered> = (first..first + workers)
            .map(|id| (id, Task::Counter(spec)))
            .collect();
        b.labels.extend(
            tasks
                .iter()
                .map(|(id, _)| (*id, "counter worker".to_owned())),
        );
        // Every worker gets its own task: `Thread(target=f, args=(k,))`.
        let each_its_own = Dispatch::Fixed((0..workers).map(|i| vec![i]).collect());
        let plan = CasePlan {
            name: case.name,
            why: why(case, python),
        };
        let (lanes, counter) = match case.regime {
            Regime::Threads(mode) => {
                let g = b.gil(mode, switch_interval_us);
                let lanes = b.lanes(
                    LaneKind::Thread,
                    workers,
                    Some(case.name),
                    |_| LaneGil::Group(g),
                    Start::Thread,
                );
                (lanes, CounterShare::Copy { value: 0 })
            }
            Regime::Processes(share) => {
                let start = Start::Process { pool: false };
                let lanes = b.lanes(
                    LaneKind::Process,
                    workers,
                    Some(case.name),
                    |_| LaneGil::Own,
                    start,
                );
                (lanes, share)
            }
        };
        b.phase(lanes, &tasks, each_its_own, counter, Some(plan));
    }
}

/// Why `case` came out as it did on `python`: the plain loop's answer is the version's.
fn why(case: &Case, python: Python) -> String {
    if !(case.style == CounterStyle::Plain && matches!(case.regime, Regime::Threads(_))) {
        return case.why.to_owned();
    }
    let v = python.key();
    match python.check_points() {
        CheckPoints::CallsAndJumps => format!(
            "Python {v} looks for a GIL drop request only at calls and backward jumps (since 3.10), so the GIL changes hands between updates, at the loop's end, never inside one."
        ),
        CheckPoints::MostBytecodes => format!(
            "Python {v} looks for a GIL drop request before most bytecodes, so the GIL can pass between reading the counter and writing it back; the other threads' updates meanwhile are overwritten. From 3.10 on it looks only at calls and backward jumps, and this loop loses nothing."
        ),
    }
}
