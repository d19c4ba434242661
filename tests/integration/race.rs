//! The shared-counter demo reproduces CPython 3.11's cases (CPYTHON-FACTS.md, issue #2).

use gil_lab::trace::{LaneKind, RunReport, SpanState};
use gil_lab::workload::{CounterCase, TaskOutcome};

use crate::util::{cores, report, report_of};

/// The case called `name` of a race report.
fn case<'a>(r: &'a RunReport, name: &str) -> &'a CounterCase {
    r.counters
        .iter()
        .find(|c| c.case == name)
        .unwrap_or_else(|| panic!("case {name} missing"))
}

#[test]
fn race_cases_match_cpython() {
    // A short switch interval makes hundreds of hand-offs happen even with few increments, so
    // "some updates lost" does not depend on luck.
    let r = report(&[
        "race",
        "--increments",
        "200000",
        "--switch-interval-ms",
        "0.05",
    ]);
    let case = |name: &str| case(&r, name);
    assert_eq!(case("threads, plain loop, GIL").lost, 0);
    assert!(case("threads, call inside the update, GIL").lost > 0);
    assert_eq!(case("threads, with a lock, GIL").lost, 0);
    if cores() >= 2 {
        assert!(case("threads, call inside the update, no GIL").lost > 0);
    }
    let procs = case("processes, plain loop");
    assert_eq!(procs.observed, 0, "the parent's counter must not move");
    assert_eq!(
        procs.expected,
        4 * 200_000,
        "each child still did its own increments"
    );
    // Each child was handed a copy of the parent's counter and saw only its own updates: were
    // the "processes" sharing memory, some child would see more than its own 200,000.
    let group = "processes, plain loop";
    let lanes: Vec<u32> = r
        .lanes
        .iter()
        .filter(|l| l.group.as_deref() == Some(group))
        .map(|l| l.id)
        .collect();
    assert_eq!(lanes.len(), 4);
    for t in r
        .tasks
        .iter()
        .filter(|t| t.lane.is_some_and(|l| lanes.contains(&l)))
    {
        assert_eq!(
            t.outcome,
            TaskOutcome::Counted {
                increments: 200_000,
                seen: Some(200_000)
            },
            "task {} of {group}",
            t.id
        );
    }
    // A multiprocessing.Value is real memory shared by the processes: with its lock around the
    // whole update nothing is lost; its lock around the read and the write alone loses updates
    // when the processes run at once.
    let locked = case("processes, shared Value with its lock");
    assert_eq!((locked.expected, locked.lost), (800_000, 0));
    assert_eq!(
        locked.observed, 800_000,
        "the parent reads the shared value"
    );
    if cores() >= 2 {
        assert!(case("processes, shared Value without its lock").lost > 0);
    }
}

/// Where the eval loop may switch is the version's: before 3.10 also inside a plain
/// `counter += 1`, from 3.10 only at calls and backward jumps (CPYTHON-FACTS.md: 3.6–3.9 lose
/// updates in every run, 3.10–3.13 none). Run and simulated alike.
#[test]
fn the_python_version_decides_whether_the_plain_loop_races() {
    for command in ["run", "simulate"] {
        let lost = |python: &str| {
            let r = report_of(
                command,
                &[
                    "race",
                    "--python",
                    python,
                    "--increments",
                    "200000",
                    "--switch-interval-ms",
                    "0.05",
                ],
            );
            let plain = case(&r, "threads, plain loop, GIL");
            assert!(
                plain.explanation.contains(&format!("Python {python} ")),
                "{}",
                plain.explanation
            );
            (
                plain.lost,
                case(&r, "threads, call inside the update, GIL").lost,
            )
        };
        let (plain, call) = lost("3.9");
        assert!(plain > 0 && call > 0, "{command} as 3.9: {plain} / {call}");
        let (plain, call) = lost("3.11");
        assert!(
            plain == 0 && call > 0,
            "{command} as 3.11: {plain} / {call}"
        );
    }
}

/// A thread that waits for the counter's lock waits for a lock, not for I/O: the race does no
/// I/O at all, so no thread case has an I/O wait, whatever the timing.
#[test]
fn lock_waits_are_lock_waits() {
    let r = report(&[
        "race",
        "--increments",
        "100000",
        "--switch-interval-ms",
        "0.05",
    ]);
    let threads: Vec<u32> = r
        .lanes
        .iter()
        .filter(|l| l.kind == LaneKind::Thread)
        .map(|l| l.id)
        .collect();
    assert!(!threads.is_empty());
    let io: Vec<_> = r
        .spans
        .iter()
        .filter(|s| threads.contains(&s.lane) && s.state == SpanState::IoWait)
        .collect();
    assert!(io.is_empty(), "I/O waits in the race: {io:?}");
    // Lock waits happen only where there is a lock: `with lock:`, and a `Value`'s.
    let locked: Vec<u32> = r
        .lanes
        .iter()
        .filter(|l| {
            l.group
                .as_deref()
                .is_some_and(|g| g.contains("lock") || g.contains("Value"))
        })
        .map(|l| l.id)
        .collect();
    assert!(
        r.spans
            .iter()
            .filter(|s| s.state == SpanState::LockWait)
            .all(|s| locked.contains(&s.lane))
    );
}
