//! Measuring a machine for its [`Profile`]: the parts every platform shares. The caller brings
//! the clock (natively `Instant`, in the page `performance.now()`); `native/src/calibrate.rs`
//! adds what only an OS can measure (processes, the real GIL's hand-off, many cores).
//!
//! - [`measure_steps`]: the per-step cost of `sum_powers` at a grid of `i`, each point the median
//!   of timings of a few consecutive steps (even and odd `i` cost differently);
//! - [`measure_counter`] + [`fit_counter`]: the three counter loops of the race demo, run by the
//!   real thread driver, give the bytecode, op and lock costs;
//! - [`browser_profile`]: a profile measured in a page within a time budget.

use std::sync::atomic::AtomicBool;

use super::profile::{Costs, Profile, StepPoint};
use crate::exec::{Env, run_sequential};
use crate::platform::{Clock, NoIo};
use crate::trace::NullSink;
use crate::workload::{CounterSpec, CounterStyle, SharedCounter, Task, pow_self};

/// Where the step cost is sampled: dense where it bends (small `i`, where the bigint
/// algorithms switch), sparse where it is a smooth power law.
pub const STEP_GRID: &[u32] = &[
    0, 8, 16, 32, 64, 100, 150, 200, 300, 400, 500, 600, 800, 1000, 1250, 1500, 2000, 2500, 3000,
    3500, 4000, 5000, 6000, 7000, 8000, 10_000, 12_000,
];

/// Consecutive steps averaged at each grid point.
pub const WINDOW: u32 = 8;

/// The per-step cost at every grid point up to `max_i`, timed with `now_ns` (ns on any
/// monotonic clock), stopping early (with at least two points) once `budget_ns` is spent.
///
/// Each point is the median of several timings of [`WINDOW`] consecutive steps: the speed
/// the machine typically gives (the fastest timing would flatter a machine whose other work,
/// a hyperthread sibling say, slows every longer run). A clock too coarse to time one
/// window (100 µs in pages that are not cross-origin isolated) gets the windows timed in
/// groups long enough for it.
pub fn measure_steps(
    now_ns: &mut dyn FnMut() -> f64,
    budget_ns: f64,
    max_i: u32,
) -> Vec<StepPoint> {
    let start = now_ns();
    let mut out: Vec<StepPoint> = Vec::new();
    for &i in STEP_GRID.iter().filter(|&&i| i <= max_i) {
        if out.len() >= 2 && now_ns() - start > budget_ns {
            break;
        }
        // A running total the size the loop's is at this point (the add is part of a step).
        let total = pow_self(i.saturating_sub(1));
        let window = |times: u32| {
            for _ in 0..times {
                for j in i..i + WINDOW {
                    let s = &total + pow_self(j);
                    std::hint::black_box(s);
                }
            }
        };
        // How many windows per timing: enough for 0.5 ms.
        let mut group = 1u32;
        loop {
            let t0 = now_ns();
            window(group);
            if now_ns() - t0 >= 5e5 || group >= 1 << 16 {
                break;
            }
            group *= 4;
        }
        let (mut times, mut spent) = (Vec::new(), 0.0);
        while times.len() < 9 || (spent < 2e7 && times.len() < 200) {
            let t0 = now_ns();
            window(group);
            let dt = now_ns() - t0;
            times.push(dt);
            spent += dt;
        }
        out.push(StepPoint {
            i: i + WINDOW / 2,
            ns: (median(&mut times) / f64::from(group * WINDOW)).max(1.0),
        });
    }
    out
}

/// µs per update of the race demo's three counter styles (plain, call inside, with a lock),
/// run by the real thread driver on one thread with `clock`, `updates` each.
pub fn measure_counter(clock: &dyn Clock, updates: u64) -> [f64; 3] {
    let stop = AtomicBool::new(false);
    let env = Env {
        clock,
        io: &NoIo,
        sink: &NullSink,
        stop: &stop,
    };
    let mut out = [0.0; 3];
    for (k, style) in [
        CounterStyle::Plain,
        CounterStyle::InCall,
        CounterStyle::Locked,
    ]
    .into_iter()
    .enumerate()
    {
        let tasks = vec![(
            0,
            Task::Counter(CounterSpec {
                increments: updates,
                style,
            }),
        )];
        let mut times: Vec<f64> = (0..3)
            .map(|_| {
                let counter = SharedCounter::new();
                let t0 = clock.now_us();
                run_sequential(0, &tasks, &counter, &env);
                clock.now_us().saturating_sub(t0) as f64
            })
            .collect();
        out[k] = median(&mut times) / updates.max(1) as f64;
    }
    out
}

/// The median of `v` (0 when empty).
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// `(bytecode_ns, op_ns, lock_ns)` from the µs per update of the three counter styles.
///
/// The thread program's updates are plain = 4 bytecodes + load + store (3 ops, 6 bytecodes'
/// worth with the load and store), call inside = 4 ops and the same bytecodes, locked = 6 ops,
/// the same bytecodes and 2 lock ops; check points are free. Three equations, three unknowns.
pub fn fit_counter(us_per_update: [f64; 3]) -> (f64, f64, f64) {
    let [plain, in_call, locked] = us_per_update.map(|us| us * 1000.0);
    let op = (in_call - plain).max(0.0);
    let bytecode = ((plain - 3.0 * op) / 6.0).max(0.1);
    let lock = ((locked - 6.0 * op - 6.0 * bytecode) / 2.0).max(0.0);
    (bytecode, op, lock)
}

/// `efficiency[k-1]` from the mean time of one copy of a fixed job when `k` copies run at
/// once, for k = 1, 2, …
pub fn efficiency(times: &[f64]) -> Vec<f64> {
    let Some(&alone) = times.first() else {
        return vec![1.0];
    };
    times
        .iter()
        .map(|&t| {
            if t > 0.0 {
                (alone / t).clamp(0.05, 4.0)
            } else {
                1.0
            }
        })
        .collect()
}

/// `base` with the lab's own per-step and counter costs replaced by ones measured in a page
/// (what `calibrate_browser` returns); start costs keep `base`'s values.
pub fn browser_profile(
    base: &Profile,
    steps: Vec<StepPoint>,
    counter: Option<(f64, f64, f64)>,
    origin: &str,
) -> Profile {
    let mut p = base.clone();
    p.name = origin.to_owned();
    let native: &mut Costs = &mut p.native;
    native.origin = format!(
        "{origin}: per-step and counter costs measured in this page; start costs from '{}'",
        base.name
    );
    if steps.len() >= 2 {
        native.step_ns = steps;
    }
    if let Some((bytecode, op, lock)) = counter {
        native.bytecode_ns = bytecode;
        native.op_ns = op;
        native.lock_ns = lock;
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counter_fit_inverts_the_cost_model() {
        let (b, o, l) = (7.0, 3.0, 11.0);
        let plain = (3.0 * o + 6.0 * b) / 1000.0;
        let in_call = (4.0 * o + 6.0 * b) / 1000.0;
        let locked = (6.0 * o + 6.0 * b + 2.0 * l) / 1000.0;
        let (fb, fo, fl) = fit_counter([plain, in_call, locked]);
        assert!((fb - b).abs() < 1e-9 && (fo - o).abs() < 1e-9 && (fl - l).abs() < 1e-9);
    }

    #[test]
    fn steps_are_measured_in_increasing_i() {
        let t0 = std::time::Instant::now();
        let mut now = move || t0.elapsed().as_nanos() as f64;
        let pts = measure_steps(&mut now, 5e7, 300);
        assert!(pts.len() >= 2);
        assert!(pts.windows(2).all(|w| w[0].i < w[1].i && w[0].ns > 0.0));
        assert_eq!(efficiency(&[10.0, 12.5]), vec![1.0, 0.8]);
    }
}
