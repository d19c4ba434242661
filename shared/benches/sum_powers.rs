//! `cargo bench -p gil-lab --bench sum_powers`: how long `sum_powers(n)` takes natively.
//!
//! A plain `harness = false` main (no criterion, to keep CI compile time low): every case runs a
//! few times and the median is printed. `GIL_LAB_BENCH_REPS=<k>` changes the repetitions of the
//! long cases (default 5); the single-step cases always run more often.
//!
//! Compare with CPython on the same machine, same moment:
//! `python3 -c 'import time;t=time.perf_counter();total=0` / `for i in range(10000): total=total+i**i`
//! / `print(time.perf_counter()-t)'`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use gil_lab::workload::{Digest, SumPowers, pow_self};
use num_bigint::BigUint;

/// Every step of `sum_powers(n)`, as the lab runs them, without the digest.
fn run_steps(n: u32) -> BigUint {
    let mut sp = SumPowers::new(n);
    while sp.step() {}
    sp.total().clone()
}

/// `i**i` by left-to-right square-and-multiply with num-bigint's own product (`&x * &x`), the
/// way `pow_self` worked before it squared on its own limbs: the reference for the speed-up.
fn bigint_square_and_multiply(i: u32) -> BigUint {
    if i == 0 {
        return BigUint::from(1u32);
    }
    let t = i.trailing_zeros();
    let m = i >> t;
    let mut acc = BigUint::from(m);
    for bit in (0..31 - i.leading_zeros()).rev() {
        acc = &acc * &acc;
        if i & (1 << bit) != 0 {
            acc *= m;
        }
    }
    acc << (u64::from(t) * u64::from(i))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn time_it(reps: usize, mut f: impl FnMut()) -> (Duration, Duration, Duration) {
    let times: Vec<Duration> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    let min = *times.iter().min().expect("reps > 0");
    let max = *times.iter().max().expect("reps > 0");
    (median(times), min, max)
}

fn report(label: &str, reps: usize, (med, min, max): (Duration, Duration, Duration)) {
    println!(
        "{label:<34} median {:>11.3} ms   (min {:.3}, max {:.3}, {reps} runs)",
        med.as_secs_f64() * 1e3,
        min.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
    );
}

fn main() {
    // `cargo bench` passes `--bench` (and maybe a filter); a filter picks cases by substring.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let wanted = |label: &str| filter.as_deref().is_none_or(|f| label.contains(f));
    let reps: usize = std::env::var("GIL_LAB_BENCH_REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(5);

    for i in [9999u32, 4999] {
        let label = format!("step pow_self({i})");
        if wanted(&label) {
            report(
                &label,
                51,
                time_it(51, || drop(black_box(pow_self(black_box(i))))),
            );
        }
        let label = format!("step num-bigint pow({i}, {i})");
        if wanted(&label) {
            let base = BigUint::from(i);
            report(
                &label,
                51,
                time_it(51, || drop(black_box(black_box(&base).pow(black_box(i))))),
            );
        }
    }
    for i in [9999u32, 4999] {
        let label = format!("step num-bigint sqr-and-mul({i})");
        if wanted(&label) {
            report(
                &label,
                51,
                time_it(51, || {
                    drop(black_box(bigint_square_and_multiply(black_box(i))))
                }),
            );
        }
    }
    for n in [1000u32, 5000, 10000] {
        let label = format!("sum_powers({n})");
        if wanted(&label) {
            let r = if n <= 1000 { 4 * reps } else { reps };
            report(
                &label,
                r,
                time_it(r, || drop(black_box(run_steps(black_box(n))))),
            );
        }
    }
    // The add of one step at the top (`total += 9999**9999` into the 9999-step total): linear,
    // against a few hundred µs for the power.
    let label = "step add (i = 9999)";
    if wanted(label) {
        let total = run_steps(9999);
        let x = pow_self(9999);
        let times: Vec<Duration> = (0..51)
            .map(|_| {
                let (mut t, x) = (total.clone(), x.clone());
                let start = Instant::now();
                t += x;
                let elapsed = start.elapsed();
                black_box(t);
                elapsed
            })
            .collect();
        let (min, max) = (times.iter().min().copied(), times.iter().max().copied());
        report(
            label,
            51,
            (
                median(times),
                min.unwrap_or_default(),
                max.unwrap_or_default(),
            ),
        );
    }
    // What the lab adds after the last step: the digest (a decimal conversion), not part of the
    // comparison with CPython's loop.
    let label = "Digest::of(the 10000-step total)";
    if wanted(label) {
        let total = run_steps(10000);
        report(
            label,
            reps,
            time_it(reps, || drop(black_box(Digest::of(black_box(&total))))),
        );
    }
}
