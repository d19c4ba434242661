//! Measuring a machine for its [`Profile`]: the parts every platform shares. The caller brings
//! the clock (natively `Instant`, in the page `performance.now()`); `native/src/calibrate.rs`
//! adds what only an OS can measure (processes, the real GIL's hand-off, many cores).
//!
//! - [`measure_steps`]: the per-step cost of `sum_powers` as its loop runs, timed between the
//!   points of a grid of `i`, the median of a few passes;
//! - [`measure_counter`] + [`fit_counter`]: the three counter loops of the race demo, run by the
//!   real thread driver, give the bytecode, op and lock costs;
//! - [`browser_profile`]: a profile measured in a page within a time budget.

use std::sync::atomic::AtomicBool;

use super::profile::{Costs, Profile, StepPoint};
use crate::exec::{Env, run_sequential};
use crate::platform::{Clock, NoIo};
use crate::trace::NullSink;
use crate::workload::{CounterSpec, CounterStyle, SharedCounter, SumPowers, Task};

/// Where the step cost is sampled (block boundaries of the timed loop): dense where it bends
/// (small `i`, where the bigint algorithms switch), sparse where it is a smooth power law.
pub const STEP_GRID: &[u32] = &[
    0, 8, 16, 32, 64, 100, 150, 200, 300, 400, 500, 600, 800, 1000, 1250, 1500, 2000, 2500, 3000,
    3500, 4000, 5000, 6000, 7000, 8000, 10_000, 12_000,
];

/// The per-step cost of `sum_powers` as its own loop runs it, timed with `now_ns` (ns on any
/// monotonic clock): the loop runs from `i = 0` with a time stamp at every grid point, up to
/// `max_i` or until `budget_ns` is spent, `passes` times (fewer if the budget runs out); each
/// point is the median over the passes of the mean step cost between two grid points, placed
/// at their middle.
///
/// The real loop, not repeated samples of a few steps: a loop whose numbers keep growing
/// allocates fresh, ever larger memory, and that costs (about 1.5× at `i` ≈ 2000 natively)
/// what repeating the same few steps hides.
pub fn measure_steps(
    now_ns: &mut dyn FnMut() -> f64,
    budget_ns: f64,
    max_i: u32,
    passes: u32,
) -> Vec<StepPoint> {
    let start = now_ns();
    let bounds: Vec<u32> = STEP_GRID
        .iter()
        .copied()
        .filter(|&i| i <= max_i)
        .chain(std::iter::once(max_i))
        .collect();
    // per_block[k]: ns per step between bounds[k] and bounds[k+1], one entry per pass.
    let mut per_block: Vec<Vec<f64>> = vec![Vec::new(); bounds.len().saturating_sub(1)];
    for pass in 0..passes.max(1) {
        let mut sp = SumPowers::new(max_i);
        let mut t = now_ns();
        'blocks: for (k, w) in bounds.windows(2).enumerate() {
            if w[1] <= w[0] {
                continue;
            }
            for i in w[0]..w[1] {
                sp.step();
                // Out of budget: keep what this pass reached (on the first pass, at least
                // two blocks), a block cut short included.
                if (i & 7 == 7 || i + 1 == w[1])
                    && now_ns() - start > budget_ns
                    && (pass > 0 || k >= 1)
                {
                    // A block at least half done still says what its steps cost.
                    if 2 * (i + 1 - w[0]) >= w[1] - w[0] {
                        per_block[k].push((now_ns() - t) / f64::from(i + 1 - w[0]));
                    }
                    break 'blocks;
                }
            }
            let now = now_ns();
            per_block[k].push((now - t) / f64::from(w[1] - w[0]));
            t = now;
        }
        std::hint::black_box(sp.total());
        if now_ns() - start > budget_ns {
            break;
        }
    }
    bounds
        .windows(2)
        .zip(per_block.iter_mut())
        .filter(|(w, times)| w[1] > w[0] && !times.is_empty())
        .map(|(w, times)| StepPoint {
            i: (w[0] + w[1]) / 2,
            ns: median(times).max(1.0),
        })
        .collect()
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
                checks: Default::default(),
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
/// In the thread program a run of bytecodes costs one dispatch (`op_ns`) plus its bytecodes, a
/// load or a store one bytecode, a lock op `lock_ns`, a check point nothing. So plain = 6
/// bytecodes + 1 dispatch, call inside = 6 bytecodes + 2 dispatches (the second run of
/// bytecodes is the call), locked = call inside + 2 lock ops: three equations, three unknowns.
pub fn fit_counter(us_per_update: [f64; 3]) -> (f64, f64, f64) {
    let [plain, in_call, locked] = us_per_update.map(|us| us * 1000.0);
    let op = (in_call - plain).max(0.0);
    let bytecode = ((plain - op) / 6.0).max(0.1);
    let lock = ((locked - in_call) / 2.0).max(0.0);
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
                // Within the range a profile may hold (noise can make two copies look
                // faster than one; a core is never faster for others being busy).
                (alone / t).clamp(0.06, super::profile::EFFICIENCY.1)
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
        let plain = (o + 6.0 * b) / 1000.0;
        let in_call = (2.0 * o + 6.0 * b) / 1000.0;
        let locked = (2.0 * o + 6.0 * b + 2.0 * l) / 1000.0;
        let (fb, fo, fl) = fit_counter([plain, in_call, locked]);
        assert!((fb - b).abs() < 1e-9 && (fo - o).abs() < 1e-9 && (fl - l).abs() < 1e-9);
    }

    #[test]
    fn steps_are_measured_in_increasing_i() {
        let t0 = std::time::Instant::now();
        let mut now = move || t0.elapsed().as_nanos() as f64;
        let pts = measure_steps(&mut now, 5e8, 300, 2);
        assert!(pts.len() >= 2);
        assert!(pts.windows(2).all(|w| w[0].i < w[1].i && w[0].ns > 0.0));
        assert_eq!(efficiency(&[10.0, 12.5]), vec![1.0, 0.8]);
    }
}
