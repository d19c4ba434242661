//! The simulator's budget (issue 11): estimates before a run, limits while it runs, Ctrl-C,
//! and reports the page can open.

use std::cell::Cell;

use crate::scenario::{Overrides, find};
use crate::sim::{
    Cancel, NeverCancel, Pace, Profile, SimError, SimOptions, build_tasks, check_report,
    estimate_tasks, lab_image_urls, run, simulate, simulate_with,
};
use crate::view::limits::{MAX_REPORT_BYTES, MAX_SPANS};
use crate::workload::TaskOutcome;

fn params(name: &str, o: Overrides) -> crate::scenario::Params {
    o.apply(find(name).expect("scenario")).expect("valid")
}

fn options(cores: u32, pace: Pace) -> SimOptions {
    SimOptions {
        cores: Some(cores),
        pace,
        ..Default::default()
    }
}

fn n(n: u64) -> Overrides {
    Overrides {
        n: Some(n),
        ..Default::default()
    }
}

/// The lesson's Pool(64) over 256 tasks on 16 cores: every time slice preempts a process.
fn pool_on_16() -> (crate::scenario::Params, SimOptions) {
    let o = Overrides {
        workers: Some(64),
        tasks: Some(256),
        ..Default::default()
    };
    (params("cpu-pool", o), options(16, Pace::Native))
}

#[test]
fn the_estimate_is_close_to_what_a_run_records() {
    let race = |inc, ms| Overrides {
        increments: Some(inc),
        switch_interval_ms: Some(ms),
        ..Default::default()
    };
    let cases: Vec<(&str, Overrides, u32, Pace)> = vec![
        ("cpu-threads", n(10000), 2, Pace::Native),
        (
            "cpu-threads",
            Overrides {
                workers: Some(8),
                tasks: Some(8),
                ..n(3000)
            },
            2,
            Pace::Cpython,
        ),
        ("cpu-threads-free", n(10000), 2, Pace::Native),
        ("cpu-processes", n(10000), 1, Pace::Native),
        (
            "cpu-pool",
            Overrides {
                workers: Some(64),
                tasks: Some(256),
                ..Default::default()
            },
            64,
            Pace::Native,
        ),
        (
            "cpu-pool",
            Overrides {
                workers: Some(8),
                tasks: Some(64),
                ..n(2000)
            },
            4,
            Pace::Native,
        ),
        ("cpu-interpreters", n(10000), 2, Pace::Native),
        ("race", race(300_000, 5.0), 2, Pace::Native),
        ("race", race(300_000, 1.0), 2, Pace::Native),
        ("convoy", Overrides::default(), 2, Pace::Cpython),
        ("io-threads", Overrides::default(), 2, Pace::Native),
    ];
    let profile = Profile::builtin();
    for (name, o, cores, pace) in cases {
        let p = params(name, o);
        let opts = options(cores, pace);
        let tasks = build_tasks(&p, &lab_image_urls());
        let est = estimate_tasks(&p, &tasks, &opts, &profile).expect("estimates");
        let r = run(name, &p, &tasks, &opts, &profile, true, &NeverCancel).expect("runs");
        let (spans, gil) = (r.spans.len() as u64, r.gil_events.len() as u64);
        // Not below (a refusal is never for less than the run needs), and not far above (a
        // run the page could draw is not refused).
        assert!(
            (spans..=5 * spans + 300).contains(&est.spans),
            "{name} on {cores}: {spans} spans, estimated {}",
            est.spans
        );
        assert!(
            (gil..=5 * gil + 300).contains(&est.gil_events),
            "{name} on {cores}: {gil} GIL events, estimated {}",
            est.gil_events
        );
    }
}

#[test]
fn over_the_budget_is_refused_before_anything_runs() {
    // 157,000 spans: a 20 MB report the page cannot open.
    let (p, o) = pool_on_16();
    let e = simulate("cpu-pool", &p, &o, &Profile::builtin()).expect_err("too many spans");
    assert!(
        matches!(e, SimError::OverBudget { noun: "spans", .. }),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.starts_with("this simulation would record about ")
            && text.contains(" spans; the limit is 10,000; use more cores"),
        "{text}"
    );
    // 64 threads under one GIL, 10 µs interval, CPython's pace: millions of wake-ups (took
    // 14 s before it gave up).
    let p = params(
        "cpu-threads",
        Overrides {
            workers: Some(64),
            tasks: Some(64),
            switch_interval_ms: Some(0.01),
            ..n(20000)
        },
    );
    let e = simulate(
        "cpu-threads",
        &p,
        &options(2, Pace::Cpython),
        &Profile::builtin(),
    )
    .expect_err("too long");
    assert!(matches!(e, SimError::OverBudget { .. }), "{e:?}");
    assert!(e.to_string().contains("switch-interval-ms"), "{e}");
    // The race's cases where lanes run at once replay every load and store.
    let p = params(
        "race",
        Overrides {
            increments: Some(50_000_000),
            switch_interval_ms: Some(1000.0),
            ..Default::default()
        },
    );
    let e = simulate("race", &p, &options(4, Pace::Native), &Profile::builtin())
        .expect_err("too many memory ops");
    assert!(
        e.to_string()
            .starts_with("this simulation would replay about "),
        "{e}"
    );
}

#[test]
fn limits_watched_while_it_runs_stop_what_the_estimate_missed() {
    // The lock's convoy at CPython's pace hands the lock over every hand-off latency, which
    // the estimate does not model: the running count stops it at the limit.
    let p = params(
        "race",
        Overrides {
            increments: Some(3_000_000),
            ..Default::default()
        },
    );
    let o = options(4, Pace::Cpython);
    let tasks = build_tasks(&p, &lab_image_urls());
    let est = estimate_tasks(&p, &tasks, &o, &Profile::builtin()).expect("estimates");
    assert!(est.spans <= MAX_SPANS as u64, "now estimated: {est:?}");
    let e = simulate("race", &p, &o, &Profile::builtin()).expect_err("over while running");
    assert!(
        matches!(e, SimError::Exceeded { what: "spans", .. }),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .starts_with("this simulation needs more than 10,000 spans"),
        "{e}"
    );
}

/// Says "stop" from its `after`-th question on.
struct StopAfter {
    asked: Cell<u32>,
    after: u32,
}

impl Cancel for StopAfter {
    fn cancelled(&self) -> bool {
        self.asked.set(self.asked.get() + 1);
        self.asked.get() >= self.after
    }
}

#[test]
fn a_cancelled_simulation_stops_and_keeps_what_ran() {
    // Seconds of replayed loads and stores uninterrupted; the hook is asked every few
    // thousand.
    let p = params(
        "race",
        Overrides {
            increments: Some(7_000_000),
            switch_interval_ms: Some(1000.0),
            ..Default::default()
        },
    );
    let o = options(4, Pace::Native);
    let stop = StopAfter {
        asked: Cell::new(0),
        after: 3,
    };
    let r = simulate_with("race", &p, &o, &Profile::builtin(), &stop).expect("a partial report");
    assert!(
        r.notes.iter().any(|n| n.starts_with("Stopped early")),
        "{:?}",
        r.notes
    );
    // Asked three times, so stopped within three polls of work: far from all 28 tasks.
    assert!(stop.asked.get() <= 4, "asked {} times", stop.asked.get());
    let done = r
        .tasks
        .iter()
        .filter(|t| t.outcome == TaskOutcome::Simulated)
        .count();
    assert!(done < r.tasks.len(), "{done} of {} done", r.tasks.len());
    check_report(&r).expect("a partial report the page opens");
    // Every span it kept is closed and in order.
    assert!(r.spans.iter().all(|s| s.end_us >= s.start_us));
}

#[test]
fn a_long_run_on_many_cores_gives_a_report_the_page_opens() {
    // Issue 11: 64 processes × 256 tasks of n = 50000 at CPython's pace on 256 cores wrote
    // 107 MB (core samples every 50 ms over half an hour).
    let p = params(
        "cpu-processes",
        Overrides {
            workers: Some(64),
            tasks: Some(256),
            ..n(50000)
        },
    );
    let r = simulate(
        "cpu-processes",
        &p,
        &options(256, Pace::Cpython),
        &Profile::builtin(),
    )
    .expect("simulates");
    assert!(r.wall_us > 600_000_000, "{}", r.wall_us);
    let bytes = r.to_json().len() as u64;
    assert!(bytes <= MAX_REPORT_BYTES, "{bytes} bytes");
    assert!(
        r.notes.iter().any(|n| n.contains("core chart")),
        "{:?}",
        r.notes
    );
}

#[test]
fn reports_the_page_cannot_open_are_refused() {
    let p = params("cpu-threads", n(300));
    let mut r = simulate(
        "cpu-threads",
        &p,
        &options(2, Pace::Native),
        &Profile::builtin(),
    )
    .expect("simulates");
    check_report(&r).expect("a small report passes");
    r.notes.push("x".repeat(MAX_REPORT_BYTES as usize));
    let e = check_report(&r).expect_err("too many bytes").to_string();
    assert!(
        e.starts_with("this simulation's report would be 3.0 MB; the limit is 3.0 MB")
            || e.contains("MB; the limit is 3.0 MB, what the page can open"),
        "{e}"
    );
}
