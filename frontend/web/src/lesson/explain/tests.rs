//! Each section's reading of hand-made reports: the answer it picks and the numbers it quotes.

use gil_lab::trace::{Convoy, Lane, LaneKind, Machine, RunReport, Span, SpanState};
use gil_lab::workload::CounterCase;

use super::*;
use crate::lesson::sections::{Size, find};

/// A report of demo `k` of section `id` (quick size) with `lanes` lanes of `kind`.
fn report(id: &str, k: usize, kind: LaneKind, lanes: u32, wall_us: u64) -> RunReport {
    let demo = &find(id).expect("section").demos[k];
    let params = demo.params(Size::Quick).expect("params");
    let mut r = RunReport::new(
        demo.scenario,
        params,
        Machine {
            cores: 2,
            platform: "test".into(),
            core_source: String::new(),
        },
    );
    r.wall_us = wall_us;
    r.lanes = (0..lanes)
        .map(|id| Lane {
            id,
            label: format!("Lane-{}", id + 1),
            kind,
            group: None,
        })
        .collect();
    r
}

fn span(lane: u32, state: SpanState, start_us: u64, end_us: u64) -> Span {
    Span {
        lane,
        task: Some(lane),
        state,
        start_us,
        end_us,
    }
}

/// Two lanes taking 5 ms turns for `wall_us`, the other one waiting for the GIL.
fn taking_turns(r: &mut RunReport, wall_us: u64) {
    let mut t = 0;
    let mut lane = 0;
    while t < wall_us {
        r.spans.push(span(lane, SpanState::Running, t, t + 5_000));
        r.spans
            .push(span(1 - lane, SpanState::GilWait, t, t + 5_000));
        t += 5_000;
        lane = 1 - lane;
    }
    r.cpu_user_us = wall_us;
}

/// Two lanes running side by side for `wall_us`.
fn side_by_side(r: &mut RunReport, wall_us: u64) {
    for lane in 0..2 {
        r.spans.push(span(lane, SpanState::Running, 0, wall_us));
    }
    r.cpu_user_us = 2 * wall_us;
}

#[test]
fn threads_under_the_gil_are_no_faster_and_the_numbers_say_so() {
    let seq = report("gil", 0, LaneKind::Main, 1, 400_000);
    let mut thr = report("gil", 1, LaneKind::Thread, 2, 410_000);
    taking_turns(&mut thr, 410_000);
    let v = gil(&[seq, thr], 2);
    assert_eq!(v.answer, Some("same"));
    let text = v.lines.join("\n");
    assert!(text.contains("400 ms") && text.contains("410 ms"), "{text}");
    assert!(text.contains("0.98×"), "{text}");
    assert!(text.contains("At most 1 thread was computing"), "{text}");
    assert!(text.contains("changed 81 times"), "{text}");
    assert!(text.contains("5.00 ms (median)"), "{text}");
    assert!(text.contains("CPU time over wall time: 1.00"), "{text}");
    assert!(v.headline.contains("0.98×"));
}

#[test]
fn threads_that_overlap_on_two_cores_count_as_per_core() {
    let seq = report("gil", 0, LaneKind::Main, 1, 400_000);
    let mut thr = report("gil", 1, LaneKind::Thread, 2, 210_000);
    side_by_side(&mut thr, 210_000);
    let v = gil(&[seq.clone(), thr.clone()], 2);
    assert_eq!(v.answer, Some("per-core"));
    // On 4 cores the same 1.9× is short of the 4 a learner could hope for.
    assert_eq!(gil(&[seq, thr], 4).answer, Some("some"));
}

#[test]
fn concurrency_tells_taking_turns_from_running_at_once() {
    let mut with = report("concurrency", 0, LaneKind::Thread, 2, 100_000);
    taking_turns(&mut with, 100_000);
    // A hand-off whose spans overlap by less than the clock's coarseness is not parallelism.
    with.spans
        .push(span(0, SpanState::Running, 99_900, 100_150));
    let mut free = report("concurrency", 1, LaneKind::Thread, 2, 60_000);
    side_by_side(&mut free, 60_000);
    let v = concurrency(&[with.clone(), free], 2);
    assert_eq!(v.answer, Some("free-only"), "{:?}", v.lines);
    assert!(v.lines[0].contains("at most 1 thread was computing"));
    assert!(v.lines[1].contains("up to 2 threads computed"));
    assert_eq!(v.lines.len(), 2, "two threads on two cores need no caveat");
    let mut single = report("concurrency", 1, LaneKind::Thread, 2, 100_000);
    taking_turns(&mut single, 100_000);
    let v = concurrency(&[with, single], 1);
    assert_eq!(v.answer, Some("neither"));
    assert!(v.lines.iter().any(|l| l.contains("single core")));
}

#[test]
fn process_start_up_is_measured_from_the_starting_bars() {
    let mut thr = report("processes-threads", 0, LaneKind::Thread, 2, 20_000);
    thr.spans.push(span(0, SpanState::Running, 60, 10_000));
    thr.spans.push(span(1, SpanState::GilWait, 80, 10_000));
    let mut procs = report("processes-threads", 1, LaneKind::Process, 2, 60_000);
    for lane in 0..2 {
        procs.spans.push(span(
            lane,
            SpanState::Starting,
            0,
            30_000 + u64::from(lane) * 4_000,
        ));
        procs.spans.push(span(
            lane,
            SpanState::Running,
            30_000 + u64::from(lane) * 4_000,
            60_000,
        ));
    }
    let v = processes_threads(&[thr, procs], 2);
    assert_eq!(v.answer, Some("much"));
    let text = v.lines.join("\n");
    assert!(text.contains("at work 80 µs after Run"), "{text}");
    assert!(text.contains("34.0 ms starting"), "{text}");
}

#[test]
fn downloads_on_threads_overlap_their_waits() {
    let seq = report("io", 0, LaneKind::Main, 1, 3_600_000);
    let mut thr = report("io", 1, LaneKind::Thread, 5, 800_000);
    for lane in 0..5 {
        thr.spans.push(span(
            lane,
            SpanState::IoWait,
            1_000,
            700_000 + u64::from(lane),
        ));
    }
    thr.cpu_user_us = 40_000;
    let v = io(&[seq, thr], 2);
    assert_eq!(v.answer, Some("many"));
    let text = v.lines.join("\n");
    assert!(
        text.contains("12 downloads") && text.contains("4.50×"),
        "{text}"
    );
    assert!(
        text.contains("Up to 5 downloads were waiting at once"),
        "{text}"
    );
    assert!(text.contains("CPU time over wall time: 0.05"), "{text}");
}

#[test]
fn the_convoy_medians_decide() {
    let mut r = report("convoy", 0, LaneKind::Thread, 3, 900_000);
    r.convoy = Some(Convoy {
        alone_us: 1_100,
        beside_us: 6_200,
    });
    let v = convoy(&[r.clone()], 2);
    assert_eq!(v.answer, Some("interval"));
    let text = v.lines.join("\n");
    assert!(
        text.contains("1.10 ms") && text.contains("6.20 ms") && text.contains("5.64×"),
        "{text}"
    );
    assert!(text.contains("switch interval is 5.00 ms"), "{text}");
    r.convoy = None;
    let v = convoy(&[r], 2);
    assert_eq!(v.answer, None);
}

#[test]
fn shared_data_quotes_every_case() {
    let mut r = report("shared-data", 0, LaneKind::Thread, 4, 900_000);
    let case = |case: &str, expected: u64, observed: u64| CounterCase {
        case: case.into(),
        expected,
        observed,
        lost: expected - observed,
        explanation: String::new(),
    };
    r.counters = vec![
        case("4 threads, plain loop, GIL", 400_000, 400_000),
        case("4 threads, call inside the update, GIL", 400_000, 151_000),
        case("4 processes, plain loop", 400_000, 0),
    ];
    let v = shared_data(&[r], 2);
    assert_eq!(v.answer, Some("none"));
    assert!(v.lines[0].contains("0 of 400,000 updates lost"));
    assert!(v.lines[1].contains("249,000 of 400,000"));
    assert!(v.lines[2].contains("still reads 0"));
    assert!(v.headline.contains("249,000"));
}

#[test]
fn which_compares_per_call() {
    let thr = report("which", 0, LaneKind::Thread, 4, 800_000);
    let pool = report("which", 1, LaneKind::Process, 4, 450_000);
    let v = which(&[thr.clone(), pool.clone()], 2);
    assert_eq!(v.answer, Some("pool"));
    assert!(v.lines[1].contains("1.78×"), "{:?}", v.lines);
    assert_eq!(which(&[thr.clone(), thr], 1).answer, Some("same"));
}

#[test]
fn a_guess_is_compared_in_the_learners_words() {
    let s = find("gil").expect("gil");
    assert_eq!(
        s.compare_guess(Some("same"), Some("same")),
        "You guessed “about as fast, or slower”, and this run agrees."
    );
    let t = s.compare_guess(Some("per-core"), Some("same"));
    assert!(
        t.contains("You guessed “about as many") && t.contains("showed “about as fast"),
        "{t}"
    );
    assert!(
        s.compare_guess(None, Some("same"))
            .starts_with("You did not guess")
    );
    assert!(
        s.compare_guess(Some("same"), None)
            .contains("does not clearly match")
    );
}

#[test]
fn missing_reports_give_no_verdict_instead_of_a_panic() {
    for s in crate::lesson::sections::SECTIONS {
        assert_eq!((s.explain)(&[], 2), Verdict::default(), "{}", s.id);
    }
}

#[test]
fn old_race_compares_the_two_versions() {
    let case = |expected: u64, lost: u64, why: &str| CounterCase {
        case: "threads, plain loop, GIL".into(),
        expected,
        observed: expected - lost,
        lost,
        explanation: why.into(),
    };
    let mut old = report("old-race", 0, LaneKind::Thread, 4, 900_000);
    old.counters = vec![
        case(400_000, 210_000, "before 3.10"),
        case(400_000, 230_000, ""),
    ];
    let mut new = report("old-race", 1, LaneKind::Thread, 4, 900_000);
    new.counters = vec![case(400_000, 0, "since 3.10"), case(400_000, 240_000, "")];
    let v = old_race(&[old, new], 2);
    assert_eq!(v.answer, Some("old-only"));
    assert!(
        v.lines[0].starts_with("As Python 3.9: the plain loop lost 210,000 of 400,000"),
        "{}",
        v.lines[0]
    );
    assert!(v.lines[1].contains("lost 0 of 400,000") && v.lines[1].contains("240,000"));
    assert_eq!(
        v.headline,
        "plain loop, lost updates: 210,000 as 3.9, 0 as 3.11"
    );
}

/// Two processes that each start for `start_us`, then compute for `work_us`.
fn started_processes(start_us: u64, work_us: u64) -> RunReport {
    let mut r = report("processes", 1, LaneKind::Process, 2, start_us + work_us);
    for lane in 0..2 {
        r.spans.push(span(lane, SpanState::Starting, 0, start_us));
        r.spans
            .push(span(lane, SpanState::Running, start_us, start_us + work_us));
    }
    r
}

#[test]
fn processes_too_short_for_their_start_get_no_verdict() {
    let seq = report("processes", 0, LaneKind::Main, 1, 1_000_000);
    // 50 ms to start, 400 ms of work: less than 20 starts' worth.
    let v = processes(&[seq.clone(), started_processes(50_000, 400_000)], 2);
    assert_eq!(v.answer, None);
    let last = v.lines.last().expect("a line says why");
    assert!(
        last.starts_with("Too short to judge") && last.contains("50.0 ms"),
        "{last}"
    );
    // 50 ms to start, 1.5 s of work each: judged.
    let seq = report("processes", 0, LaneKind::Main, 1, 3_000_000);
    let v = processes(&[seq, started_processes(50_000, 1_500_000)], 2);
    assert_eq!(v.answer, Some("per-core"));
    assert!(v.lines.iter().all(|l| !l.starts_with("Too short")));
}
