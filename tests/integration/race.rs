//! The shared-counter demo reproduces CPython 3.11's cases (CPYTHON-FACTS.md, issue #2).

use crate::util::{cores, report};

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
    let case = |name: &str| {
        r.counters
            .iter()
            .find(|c| c.case == name)
            .unwrap_or_else(|| panic!("case {name} missing"))
    };
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
    // Each child starts from its copy of the parent's counter and ends with its own count:
    // had the children shared the parent's memory, the parent would see their updates and
    // the children each other's.
    let process_lanes: Vec<u32> = r
        .lanes
        .iter()
        .filter(|l| l.group.as_deref() == Some("processes, plain loop"))
        .map(|l| l.id)
        .collect();
    assert_eq!(process_lanes.len(), 4);
    for t in r
        .tasks
        .iter()
        .filter(|t| t.lane.is_some_and(|l| process_lanes.contains(&l)))
    {
        assert_eq!(
            t.outcome,
            gil_lab::workload::TaskOutcome::Counted {
                increments: 200_000
            },
            "task {}",
            t.id
        );
    }
}
