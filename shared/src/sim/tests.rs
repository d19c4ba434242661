//! Structural tests of simulated reports: what must hold whatever the costs are.

use super::*;
use crate::scenario::{Overrides, find};
use crate::trace::{LaneKind, SpanState};
use crate::view::max_concurrent;
use crate::workload::{Task, TaskOutcome};

/// A profile with round, flat costs and cores that never slow down, so tests can reason
/// about times exactly.
fn flat() -> Profile {
    let mut p = Profile::builtin();
    for c in [&mut p.native, &mut p.cpython] {
        c.step_ns = vec![
            StepPoint {
                i: 0,
                ns: 100_000.0,
            },
            StepPoint {
                i: 50_000,
                ns: 100_000.0,
            },
        ];
        c.efficiency = vec![1.0];
        c.bytecode_ns = 5.0;
        c.op_ns = 2.0;
        c.lock_ns = 10.0;
    }
    p.handoff_us = 20.0;
    p.timer_slack_us = 50.0;
    p
}

fn params(name: &str, o: Overrides) -> Params {
    o.apply(find(name).expect("scenario")).expect("valid")
}

fn sim(name: &str, o: Overrides, cores: u32, profile: &Profile) -> RunReport {
    let options = SimOptions {
        cores: Some(cores),
        ..Default::default()
    };
    simulate(name, &params(name, o), &options, profile).expect("simulates")
}

fn n(n: u64) -> Overrides {
    Overrides {
        n: Some(n),
        ..Default::default()
    }
}

#[test]
fn classic_gil_never_overlaps_even_on_16_cores() {
    let r = sim(
        "cpu-threads",
        Overrides {
            workers: Some(8),
            tasks: Some(8),
            ..n(300)
        },
        16,
        &flat(),
    );
    assert_eq!(max_concurrent(&r, SpanState::Running), 1);
    assert!(r.spans.iter().any(|s| s.state == SpanState::GilWait));
    let gil = r.gil.as_ref().expect("thread runs count hand-offs");
    assert!(gil.switches > 8, "{gil:?}");
    assert!(r.tasks.iter().all(|t| t.outcome == TaskOutcome::Simulated));
    // One core's worth of work: 8 × 300 steps of 100 µs, plus hand-offs.
    assert!((240_000..260_000).contains(&r.wall_us), "{}", r.wall_us);
}

#[test]
fn free_threads_overlap_as_many_as_there_are_cores() {
    for (threads, cores) in [(4, 4), (4, 8), (8, 64)] {
        let r = sim(
            "cpu-threads-free",
            Overrides {
                workers: Some(threads),
                tasks: Some(threads),
                ..n(200)
            },
            cores,
            &flat(),
        );
        assert_eq!(
            max_concurrent(&r, SpanState::Running),
            threads as usize,
            "{threads} threads on {cores} cores"
        );
        assert!(!r.spans.iter().any(|s| s.state == SpanState::GilWait));
        assert!(!r.spans.iter().any(|s| s.state == SpanState::CpuWait));
    }
}

#[test]
fn four_processes_on_two_cores_take_turns() {
    let r = sim("cpu-processes", n(500), 2, &flat());
    assert!(r.lanes.iter().all(|l| l.kind == LaneKind::Process));
    assert_eq!(max_concurrent(&r, SpanState::Running), 2);
    assert!(r.spans.iter().any(|s| s.state == SpanState::CpuWait));
    for lane in &r.lanes {
        // Every process starts, once: all its start-up comes before its first task.
        let spans: Vec<_> = r.lane_spans(lane.id).collect();
        let first_run = spans
            .iter()
            .position(|s| s.state == SpanState::Running)
            .expect("it runs");
        assert!(
            spans[..first_run]
                .iter()
                .any(|s| s.state == SpanState::Starting)
        );
        assert!(
            !spans[first_run..]
                .iter()
                .any(|s| s.state == SpanState::Starting)
        );
    }
    // Four tasks of 50 ms on two cores: at least 100 ms.
    assert!(r.wall_us >= 100_000, "{}", r.wall_us);
    assert!(r.cpu_total_us() as f64 > 1.9 * 100_000.0);
}

#[test]
fn a_blocking_thread_beside_a_cpu_thread_waits_an_interval_per_call() {
    // The convoy effect: each 1 ms call must win the GIL back from the CPU-bound thread,
    // which lets go only after a whole interval.
    let profile = flat();
    let convoy = |with_cpu: bool| {
        let mut tasks = Vec::new();
        if with_cpu {
            tasks.push((0, Task::SumPowers { n: 3000 }));
        }
        tasks.push((
            tasks.len() as u32,
            Task::Sleeps {
                count: 20,
                us: 1000,
            },
        ));
        let p = Params {
            tasks: tasks.len() as u32,
            ..params(
                "cpu-threads",
                Overrides {
                    workers: Some(tasks.len() as u64),
                    ..Default::default()
                },
            )
        };
        let r = simulate_tasks("cpu-threads", &p, &tasks, &SimOptions::default(), &profile)
            .expect("simulates");
        let id = tasks.len() as u32 - 1;
        let spans: Vec<_> = r.spans.iter().filter(|s| s.task == Some(id)).collect();
        let (start, end) = (
            spans.iter().map(|s| s.start_us).min().unwrap_or(0),
            spans.iter().map(|s| s.end_us).max().unwrap_or(0),
        );
        (end - start) as f64 / 20.0
    };
    let alone = convoy(false);
    let beside = convoy(true);
    assert!((1000.0..1200.0).contains(&alone), "alone {alone} µs");
    // One 5 ms interval, the 1 ms call, and at most one 0.1 ms step to finish.
    assert!((5_500.0..6_500.0).contains(&beside), "beside {beside} µs");
}

#[test]
fn the_convoy_scenario_measures_an_interval_per_call() {
    let r = sim("convoy", Overrides::default(), 2, &flat());
    let c = r.convoy.as_ref().expect("the convoy measurement");
    assert!((1000..1200).contains(&c.alone_us), "{c:?}");
    assert!((5_500..6_500).contains(&c.beside_us), "{c:?}");
    // Without a GIL the call costs what it costs alone.
    let free = sim(
        "convoy",
        Overrides {
            gil: Some(crate::gil::GilMode::Free),
            ..Default::default()
        },
        2,
        &flat(),
    );
    let c = free.convoy.as_ref().expect("measured");
    assert!(c.beside_us < 1300, "{c:?}");
}

#[test]
fn subinterpreters_run_in_parallel_like_processes() {
    let r = sim("cpu-interpreters", n(300), 4, &flat());
    assert!(r.lanes.iter().all(|l| l.kind == LaneKind::Interpreter));
    assert_eq!(max_concurrent(&r, SpanState::Running), 4);
    assert!(!r.spans.iter().any(|s| s.state == SpanState::GilWait));
}

#[test]
fn races_lose_updates_where_the_real_ones_do() {
    let r = sim(
        "race",
        Overrides {
            increments: Some(300_000),
            switch_interval_ms: Some(1.0),
            ..Default::default()
        },
        2,
        &Profile::builtin(),
    );
    let lost: Vec<u64> = r.counters.iter().map(|c| c.lost).collect();
    assert_eq!(r.counters.len(), 7, "{lost:?}");
    assert_eq!(lost[0], 0, "plain loop under the GIL");
    assert!(
        lost[1] > 0,
        "call inside the update under the GIL: {lost:?}"
    );
    assert_eq!(lost[2], 0, "with a lock");
    assert!(lost[3] > 0, "no GIL: {lost:?}");
    assert_eq!(r.counters[4].observed, 0, "processes: the parent's copy");
    assert!(lost[5] > 0, "a shared Value, bare +=: {lost:?}");
    assert_eq!(lost[6], 0, "a shared Value under its lock");
    assert!(r.counters.iter().all(|c| c.expected == 4 * 300_000));
    assert_eq!(r.lanes.len(), 28);
}

#[test]
fn same_inputs_and_seed_give_the_same_bytes() {
    let run = |seed| {
        let o = SimOptions {
            cores: Some(4),
            seed,
            ..Default::default()
        };
        let p = params(
            "cpu-threads",
            Overrides {
                workers: Some(6),
                tasks: Some(9),
                ..n(400)
            },
        );
        simulate("cpu-threads", &p, &o, &Profile::builtin())
            .expect("simulates")
            .to_json()
    };
    assert_eq!(run(7), run(7));
    let race = || {
        sim(
            "race",
            Overrides {
                increments: Some(50_000),
                ..Default::default()
            },
            2,
            &Profile::builtin(),
        )
        .to_json()
    };
    assert_eq!(race(), race());
}

#[test]
fn runs_of_units_give_what_stepping_one_op_at_a_time_gives() {
    let profile = flat();
    let o = SimOptions {
        cores: Some(2),
        ..Default::default()
    };
    for (name, over) in [
        (
            "cpu-threads",
            Overrides {
                workers: Some(3),
                tasks: Some(4),
                switch_interval_ms: Some(1.0),
                ..n(120)
            },
        ),
        ("cpu-pool", n(80)),
        (
            "race",
            Overrides {
                increments: Some(20_000),
                switch_interval_ms: Some(0.2),
                ..Default::default()
            },
        ),
    ] {
        let p = params(name, over);
        let tasks = build_tasks(&p, &lab_image_urls());
        let bulk = run(name, &p, &tasks, &o, &profile, true, &NeverCancel).expect("bulk");
        let stepped = run(name, &p, &tasks, &o, &profile, false, &NeverCancel).expect("stepped");
        if name == "race" {
            // The thread cases (lanes 0..16). The process cases differ on purpose: a run of
            // locked updates across processes is modelled, not stepped, and a Value's brief
            // locks cost time without blocking (see `counter.rs`).
            let threads = |r: &RunReport| -> Vec<crate::trace::Span> {
                r.spans.iter().filter(|s| s.lane < 16).copied().collect()
            };
            assert_eq!(threads(&bulk), threads(&stepped));
            assert_eq!(bulk.counters[..4], stepped.counters[..4]);
            continue;
        }
        assert_eq!(bulk.wall_us, stepped.wall_us, "{name}");
        assert_eq!(bulk.spans, stepped.spans, "{name}");
        assert_eq!(bulk.counters, stepped.counters, "{name}");
        assert_eq!(bulk.gil, stepped.gil, "{name}");
    }
}

#[test]
fn the_lessons_pool_on_64_cores_fills_them() {
    let r = sim(
        "cpu-pool",
        Overrides {
            workers: Some(64),
            tasks: Some(256),
            ..Default::default()
        },
        64,
        &Profile::builtin(),
    );
    assert_eq!(r.lanes.len(), 64);
    assert_eq!(r.tasks.len(), 256);
    assert_eq!(max_concurrent(&r, SpanState::Running), 64);
    assert!(r.tasks.iter().all(|t| t.lane.is_some()));
    assert!(r.baseline_wall_us.is_some_and(|b| b > 20 * r.wall_us));
    let sim = r.simulation.as_ref().expect("says what it modelled");
    assert_eq!((sim.cores, sim.python.as_str()), (64, "3.11"));
}

#[test]
fn downloads_overlap_on_threads() {
    let p = flat();
    let seq = sim("io-sequential", Overrides::default(), 2, &p);
    let thr = sim("io-threads", Overrides::default(), 2, &p);
    // 30 downloads of 100 ms + ~1 MB at 4 MB/s; five threads wait at once.
    assert!(seq.wall_us > 9_000_000, "{}", seq.wall_us);
    let speedup = seq.wall_us as f64 / thr.wall_us as f64;
    assert!((4.0..5.2).contains(&speedup), "{speedup}");
    assert_eq!(max_concurrent(&thr, SpanState::IoWait), 5);
}

#[test]
fn bad_options_are_input_errors() {
    let p = params("cpu-threads", Overrides::default());
    let e = simulate(
        "cpu-threads",
        &p,
        &SimOptions {
            cores: Some(1000),
            ..Default::default()
        },
        &Profile::builtin(),
    )
    .expect_err("too many cores");
    assert!(e.to_string().starts_with("cores = 1000"), "{e}");
}

#[test]
fn a_fresh_process_pays_its_warm_up_once_and_threads_never() {
    let o = || Overrides {
        workers: Some(2),
        tasks: Some(4),
        ..n(100)
    };
    let cold = {
        let mut p = flat();
        p.native.first_task_us = 3_000.0;
        p
    };
    // Two processes on two cores, two tasks each: each pays 3 ms once, at the same time.
    let warm_p = sim("cpu-processes", o(), 2, &flat());
    let cold_p = sim("cpu-processes", o(), 2, &cold);
    let extra = cold_p.wall_us - warm_p.wall_us;
    assert!((2_900..3_100).contains(&extra), "{extra} µs");
    // Threads share their process's warm heap.
    let warm_t = sim("cpu-threads-free", o(), 2, &flat());
    let cold_t = sim("cpu-threads-free", o(), 2, &cold);
    assert_eq!(cold_t.wall_us, warm_t.wall_us);
}

fn hash(mib: u64, chunk: u64) -> Overrides {
    Overrides {
        mib: Some(mib),
        chunk_bytes: Some(chunk),
        ..Default::default()
    }
}

/// C code that released the GIL needs a core, not the GIL: on 4 cores the 4 threads' updates
/// overlap while their Python code still takes turns; on 2 cores only 2 hash at once.
#[test]
fn c_code_overlaps_on_enough_cores_and_small_updates_do_not() {
    let r = sim("hash-threads", hash(4, 1 << 20), 4, &flat());
    assert_eq!(max_concurrent(&r, SpanState::Running), 1);
    assert_eq!(max_concurrent(&r, SpanState::CCode), 4);
    assert!(r.tasks.iter().all(|t| t.outcome == TaskOutcome::Simulated));
    let two = sim("hash-threads", hash(4, 1 << 20), 2, &flat());
    assert_eq!(max_concurrent(&two, SpanState::CCode), 2);
    assert!(two.spans.iter().any(|s| s.state == SpanState::CpuWait));
    assert!(two.wall_us > r.wall_us);
    let small = sim("hash-threads", hash(1, 1024), 4, &flat());
    assert!(!small.spans.iter().any(|s| s.state == SpanState::CCode));
    assert_eq!(max_concurrent(&small, SpanState::Running), 1);
}
