//! `cargo bench -p gil-lab --bench simulate`: how long the simulator takes (issue 6's goals:
//! the lesson's `Pool(64)` over 256 tasks of `sum_powers(10000)` on 64 cores in ≤ 50 ms
//! natively, the race demo in a few seconds at most).
//!
//! A plain `harness = false` main like the `sum_powers` bench: each case runs a few times and
//! the median is printed, with a check that the same inputs gave the same bytes every time.
//! `GIL_LAB_BENCH_ONLY=<scenario>` keeps only that scenario's cases.

use std::time::{Duration, Instant};

use gil_lab::scenario::{Overrides, find};
use gil_lab::sim::{Profile, SimOptions, simulate};

fn case(label: &str, scenario: &str, over: Overrides, cores: u32, reps: usize) {
    // `GIL_LAB_BENCH_ONLY=race` runs only the cases of that scenario.
    if std::env::var("GIL_LAB_BENCH_ONLY").is_ok_and(|only| only != scenario) {
        return;
    }
    let params = over
        .apply(find(scenario).expect("scenario"))
        .expect("valid");
    let options = SimOptions {
        cores: Some(cores),
        seed: 1,
        ..Default::default()
    };
    let profile = Profile::builtin();
    let mut times: Vec<Duration> = Vec::new();
    let mut first: Option<String> = None;
    let mut same = true;
    let mut wall = 0;
    for _ in 0..reps {
        let t0 = Instant::now();
        let report = simulate(scenario, &params, &options, &profile).expect("simulates");
        times.push(t0.elapsed());
        wall = report.wall_us;
        let json = report.to_json();
        match &first {
            Some(f) => same &= *f == json,
            None => first = Some(json),
        }
    }
    times.sort();
    println!(
        "{label:<58} median {:>8.2} ms  (min {:>7.2}, max {:>7.2}; {reps} runs)  simulated wall {:.3} s  byte-identical: {}",
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
        wall as f64 / 1e6,
        if same { "yes" } else { "NO" }
    );
}

fn main() {
    println!("simulator, built-in profile '{}'", Profile::builtin().name);
    case(
        "cpu-pool: Pool(64), 256 × sum_powers(10000), 64 cores",
        "cpu-pool",
        Overrides {
            workers: Some(64),
            tasks: Some(256),
            ..Default::default()
        },
        64,
        31,
    );
    case(
        "cpu-threads: 4 threads, sum_powers(10000), 2 cores",
        "cpu-threads",
        Overrides::default(),
        2,
        11,
    );
    case(
        "cpu-threads: 64 threads, 256 × sum_powers(10000), 64 cores",
        "cpu-threads",
        Overrides {
            workers: Some(64),
            tasks: Some(256),
            ..Default::default()
        },
        64,
        5,
    );
    case(
        "io-threads: 30 downloads on 5 threads, 2 cores",
        "io-threads",
        Overrides::default(),
        2,
        11,
    );
    case(
        "race: 7 cases × 4 workers × 1,000,000 updates, 2 cores",
        "race",
        Overrides::default(),
        2,
        3,
    );
}
