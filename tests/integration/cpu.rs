//! The CPU-bound demos: exact results, and who runs when.

use gil_lab::trace::{LaneKind, SpanState};
use gil_lab::view::max_concurrent;
use gil_lab::workload::TaskOutcome;

use crate::util::{cores, report};

/// `sum(i**i for i in range(300))` as CPython 3.11 prints it: bit length, digits, last 20
/// digits, low 64 bits.
const CPYTHON_300: (u64, u64, &str, &str) =
    (2459, 741, "99500299595028546761", "16217154449559176393");

#[test]
fn sequential_digests_equal_cpython() {
    let r = report(&["cpu-sequential", "--n", "300"]);
    assert_eq!(r.tasks.len(), 4);
    for t in &r.tasks {
        let TaskOutcome::Sum(d) = &t.outcome else {
            panic!("task {} has no sum: {:?}", t.id, t.outcome)
        };
        assert_eq!(
            (d.bits, d.digits, d.tail.as_str(), d.low64.as_str()),
            CPYTHON_300
        );
    }
    assert_eq!(r.lanes.len(), 1);
    assert_eq!(r.lanes[0].kind, LaneKind::Main);
}

#[test]
fn classic_gil_threads_never_overlap() {
    let r = report(&["cpu-threads", "--n", "1500", "--switch-interval-ms", "1"]);
    assert_eq!(r.lanes.len(), 4);
    assert_eq!(max_concurrent(&r, SpanState::Running), 1);
    assert!(r.spans.iter().any(|s| s.state == SpanState::GilWait));
    assert!(r.tasks.iter().all(|t| t.outcome.is_ok()));
}

#[test]
fn free_threads_overlap_on_two_cores() {
    if cores() < 2 {
        return;
    }
    let r = report(&["cpu-threads-free", "--n", "1500"]);
    assert!(max_concurrent(&r, SpanState::Running) >= 2);
    assert!(!r.spans.iter().any(|s| s.state == SpanState::GilWait));
}

#[test]
fn processes_overlap_and_pay_a_start_cost() {
    let r = report(&["cpu-processes", "--n", "1500"]);
    assert_eq!(r.lanes.len(), 4);
    assert!(r.lanes.iter().all(|l| l.kind == LaneKind::Process));
    for lane in &r.lanes {
        assert_eq!(
            r.lane_spans(lane.id)
                .filter(|s| s.state == SpanState::Starting)
                .count(),
            1,
            "lane {}",
            lane.label
        );
    }
    if cores() >= 2 {
        assert!(max_concurrent(&r, SpanState::Running) >= 2);
    }
    let first = &r.tasks[0].outcome;
    assert!(
        r.tasks
            .iter()
            .all(|t| &t.outcome == first && t.outcome.is_ok())
    );
}

#[test]
fn pool_runs_every_task_on_reused_processes() {
    let r = report(&["cpu-pool", "--n", "400", "--workers", "2", "--tasks", "6"]);
    assert_eq!(r.lanes.len(), 2);
    assert_eq!(r.tasks.len(), 6);
    assert!(r.tasks.iter().all(|t| t.outcome.is_ok()));
    // Two processes started, six tasks: each process ran several tasks.
    assert_eq!(
        r.spans
            .iter()
            .filter(|s| s.state == SpanState::Starting)
            .count(),
        2
    );
    let lanes: std::collections::BTreeSet<u32> = r.tasks.iter().filter_map(|t| t.lane).collect();
    assert!(lanes.len() <= 2);
}
