//! The convoy effect and subinterpreters (issue 8): a short blocking call beside a CPU-bound
//! thread waits for the GIL to come back; threads with a GIL each run at once.

use gil_lab::trace::SpanState;
use gil_lab::view::max_concurrent;

use crate::util::{cores, report};

#[test]
fn a_blocking_call_beside_a_cpu_thread_waits_for_the_gil() {
    // 20 calls of 1 ms beside sum_powers(6000): the CPU thread outlasts them.
    let r = report(&["convoy", "--tasks", "20", "--n", "6000"]);
    let c = r.convoy.expect("the report carries the convoy medians");
    assert!(
        c.alone_us >= 1_000,
        "a 1 ms call took {} µs alone",
        c.alone_us
    );
    // The waiting is structural: the call cannot return before the CPU thread reaches a check
    // point after a drop request, a switch interval (5 ms) after the I/O thread asked.
    assert!(
        c.beside_us >= 3 * c.alone_us,
        "beside {} µs vs alone {} µs",
        c.beside_us,
        c.alone_us
    );
    let free = report(&["convoy", "--tasks", "20", "--n", "6000", "--gil", "free"]);
    let f = free.convoy.expect("convoy medians");
    if cores() >= 2 {
        // No GIL to win back: the call costs about what it costs alone.
        assert!(
            f.beside_us < 2 * f.alone_us,
            "free-threaded: beside {} µs vs alone {} µs",
            f.beside_us,
            f.alone_us
        );
    }
}

#[test]
fn subinterpreters_run_at_once() {
    let r = report(&[
        "cpu-interpreters",
        "--n",
        "1500",
        "--tasks",
        "2",
        "--workers",
        "2",
    ]);
    assert!(r.tasks.iter().all(|t| t.outcome.is_ok()));
    assert!(!r.spans.iter().any(|s| s.state == SpanState::GilWait));
    if cores() >= 2 {
        assert_eq!(max_concurrent(&r, SpanState::Running), 2);
    }
}
