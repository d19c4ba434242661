//! A profile's costs turned into what the engine charges, in integer nanoseconds: a prefix-sum
//! table of `sum_powers` steps (so a run of steps costs one subtraction), op costs, start
//! costs, and core speeds as fixed-point factors. Integers keep a simulation byte-identical
//! from one run to the next.

use super::options::{Pace, Resolved, StartMethod};
use super::profile::{Costs, PerMethod, Profile, StartCost, StepPoint};
use crate::exec::Op;
use crate::workload::DownloadSpec;

/// Fixed-point 1.0 for core speeds.
pub const SPEED_ONE: u64 = 1 << 16;

fn ns(us: f64) -> u64 {
    (us * 1000.0).round().max(0.0) as u64
}

/// The cost of one step at `i`, interpolated on a log-log scale between measured points
/// (`i + 1` so that `i = 0` has a logarithm), with the last slope beyond the last point and
/// the first point's cost below the first.
pub fn step_cost_ns(points: &[StepPoint], i: u32) -> f64 {
    let x = f64::from(i) + 1.0;
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return 0.0;
    };
    if i <= first.i {
        return first.ns;
    }
    let seg = points
        .windows(2)
        .find(|w| i <= w[1].i)
        .map_or_else(|| [points[points.len() - 2], *last], |w| [w[0], w[1]]);
    let (x0, x1) = (f64::from(seg[0].i) + 1.0, f64::from(seg[1].i) + 1.0);
    let (y0, y1) = (seg[0].ns.ln(), seg[1].ns.ln());
    let slope = (y1 - y0) / (x1.ln() - x0.ln());
    (y0 + slope * (x.ln() - x0.ln())).exp()
}

/// Per-run cost tables.
#[derive(Debug, Clone)]
pub struct Tables {
    /// `prefix[i]` = cost of steps `0..i`, ns, for every `i` up to the largest `n` of the run.
    prefix: Vec<u64>,
    bytecode_ns: f64,
    op_ns: f64,
    lock_ns: f64,
    /// Every cost of the interpreter is multiplied by this (the free-threaded penalty at
    /// CPython's pace).
    slower: f64,
    /// `q.get()`, ns.
    pub queue_get: u64,
    /// A blocking call's own cost besides its wait, ns.
    pub call: u64,
    /// Starting one thread, ns.
    pub thread_start: u64,
    /// Starting and ending one process with the run's start method, ns.
    pub process: (u64, u64, u64),
    /// A `Pool`'s own set-up and tear-down, ns.
    pub pool_setup: u64,
    /// A process's round trip for its next batch, ns.
    pub batch: u64,
    /// Sending one result back, ns.
    pub result: u64,
    /// A fresh worker process's first `sum_powers`, extra, ns.
    pub first_task: u64,
    /// From a release to the signalled thread running, ns.
    pub handoff: u64,
    /// Lateness of timed waits, ns.
    pub timer_slack: u64,
    /// The OS scheduler's time slice, ns.
    pub quantum: u64,
    /// Core speed with k busy cores, fixed point: `speed[k-1]`.
    speed: Vec<u64>,
    io_overhead: u64,
    io_ns_per_byte: f64,
    sha256_ns_per_byte: f64,
    image_bytes: Vec<u64>,
}

fn method<T: Copy>(m: &PerMethod<T>, which: StartMethod) -> T {
    match which {
        StartMethod::Fork => m.fork,
        StartMethod::Spawn => m.spawn,
        StartMethod::Forkserver => m.forkserver,
    }
}

impl Tables {
    /// The tables for a run whose largest `sum_powers` argument is `max_n`.
    pub fn new(profile: &Profile, r: &Resolved, max_n: u32) -> Tables {
        let cpython = r.pace == Pace::Cpython;
        let c: &Costs = profile.costs(cpython);
        // The free-threaded build's single-thread penalty is CPython's interpreter overhead;
        // at the lab's own pace there is no interpreter to be slower.
        let slower = if cpython {
            1.0 + r.python.single_thread_penalty()
        } else {
            1.0
        };
        let mut prefix = Vec::with_capacity(max_n as usize + 1);
        let mut sum = 0u64;
        prefix.push(0);
        for i in 0..max_n {
            sum += (step_cost_ns(&c.step_ns, i) * slower).round().max(1.0) as u64;
            prefix.push(sum);
        }
        let StartCost {
            parent_us,
            child_us,
            exit_us,
        } = method(&c.process, r.start_method);
        Tables {
            prefix,
            bytecode_ns: c.bytecode_ns * slower,
            op_ns: c.op_ns * slower,
            lock_ns: c.lock_ns,
            slower,
            queue_get: ns(c.queue_get_us * slower),
            call: ns(c.call_us * slower),
            thread_start: ns(c.thread_start_us),
            process: (ns(parent_us), ns(child_us), ns(exit_us)),
            pool_setup: ns(method(&c.pool_setup_us, r.start_method)),
            batch: ns(c.batch_us),
            result: ns(c.result_us),
            first_task: ns(c.first_task_us * slower),
            handoff: ns(profile.handoff_us),
            timer_slack: ns(profile.timer_slack_us),
            quantum: ns(profile.quantum_us).max(1000),
            speed: c
                .efficiency
                .iter()
                .map(|e| ((e * SPEED_ONE as f64).round() as u64).max(1))
                .collect(),
            io_overhead: ns(profile.io.overhead_us),
            io_ns_per_byte: profile.io.ns_per_byte,
            // C code: no interpreter, so no free-threaded penalty either.
            sha256_ns_per_byte: c.sha256_ns_per_byte,
            image_bytes: r.image_bytes.clone(),
        }
    }

    /// Cost of steps `a..b` of `sum_powers`, ns.
    pub fn steps(&self, a: u32, b: u32) -> u64 {
        let at = |i: u32| self.prefix.get(i as usize).copied().unwrap_or(u64::MAX / 4);
        at(b).saturating_sub(at(a))
    }

    /// The number of steps from `a` (at least 1, at most `max`) after which at least `work`
    /// ns of steps are done: where a run of steps that has done `work` reaches its next check
    /// point.
    pub fn steps_covering(&self, a: u32, max: u32, work: u64) -> u32 {
        let base = self.prefix.get(a as usize).copied().unwrap_or(0);
        let end = (a as usize + max as usize).min(self.prefix.len() - 1);
        let slice = &self.prefix[a as usize..=end];
        let k = slice.partition_point(|&p| p - base < work);
        (k as u32).clamp(1, max.max(1))
    }

    /// Cost of one op other than a step, ns: a run of bytecodes is one dispatch plus its
    /// bytecodes, a load or a store one bytecode, a lock op the lock's cost; check points are
    /// free (CPython's eval breaker is one load inside the jump it checks at).
    pub fn op(&self, op: &Op) -> u64 {
        let v = match op {
            Op::Bytecodes(n) => self.op_ns + f64::from(*n) * self.bytecode_ns,
            Op::Load | Op::Store => self.bytecode_ns,
            Op::TryLock | Op::Unlock => self.lock_ns * self.slower,
            Op::PowStep { i } => return self.steps(*i, i + 1),
            // One `update()`: the call's dispatch, then the C code's bytes.
            Op::CCall { bytes } => self.op_ns + *bytes as f64 * self.sha256_ns_per_byte,
            _ => 0.0,
        };
        v.round() as u64
    }

    /// Speed of each busy core when `busy` cores are busy.
    pub fn speed(&self, busy: usize) -> u64 {
        let k = busy.clamp(1, self.speed.len().max(1));
        self.speed.get(k - 1).copied().unwrap_or(SPEED_ONE)
    }

    /// Bytes of the image `spec` fetches: the lab's images by their number in the URL
    /// (`photo-3`), any other URL by the task's place in the cycle.
    pub fn download_bytes(&self, spec: &DownloadSpec, task: u32) -> u64 {
        let sizes = &self.image_bytes;
        if sizes.is_empty() {
            return 0;
        }
        let by_name = spec
            .url
            .rsplit_once("photo-")
            .and_then(|(_, rest)| rest.split('.').next())
            .and_then(|k| k.parse::<usize>().ok())
            .and_then(|k| k.checked_sub(1));
        let k = by_name.unwrap_or(task as usize) % sizes.len();
        sizes[k]
    }

    /// How long a download takes: the per-download overhead, the server's time to first
    /// byte, then the body at the server's bandwidth (or at the machine's own speed when the
    /// server sets none).
    pub fn download(&self, bytes: u64, latency_ms: u64, bandwidth_kbps: u64) -> u64 {
        let local = if bandwidth_kbps == 0 {
            (bytes as f64 * self.io_ns_per_byte).round() as u64
        } else {
            0
        };
        self.io_overhead + crate::workload::network_ns(bytes, latency_ms, bandwidth_kbps) + local
    }
}

/// `work` ns of work at `speed`: how long it takes, rounded up.
pub fn time_for(work: u64, speed: u64) -> u64 {
    let speed = speed.max(1);
    match work.checked_mul(SPEED_ONE) {
        Some(w) => w.div_ceil(speed),
        None => ((u128::from(work) * u128::from(SPEED_ONE)).div_ceil(u128::from(speed))) as u64,
    }
}

/// Work done in `dt` ns at `speed`, rounded down.
pub fn work_in(dt: u64, speed: u64) -> u64 {
    match dt.checked_mul(speed) {
        Some(w) => w / SPEED_ONE,
        None => ((u128::from(dt) * u128::from(speed)) / u128::from(SPEED_ONE)) as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::options::SimOptions;

    fn tables() -> Tables {
        let p = Profile::builtin();
        let mut params = crate::scenario::find("cpu-sequential")
            .expect("scenario")
            .defaults();
        let r = SimOptions::default()
            .resolve(&mut params, 2)
            .expect("valid");
        Tables::new(&p, &r, 1000)
    }

    #[test]
    fn interpolation_passes_through_points_and_grows() {
        let pts = [
            StepPoint { i: 10, ns: 100.0 },
            StepPoint { i: 100, ns: 1000.0 },
            StepPoint {
                i: 1000,
                ns: 50_000.0,
            },
        ];
        assert!((step_cost_ns(&pts, 100) - 1000.0).abs() < 1e-6);
        assert!((step_cost_ns(&pts, 3) - 100.0).abs() < 1e-9);
        let mut last = 0.0;
        for i in (10..5000).step_by(7) {
            let c = step_cost_ns(&pts, i);
            assert!(c >= last, "cost falls at {i}");
            last = c;
        }
    }

    #[test]
    fn runs_of_steps_find_their_next_check_point() {
        let t = tables();
        let all = t.steps(0, 1000);
        assert_eq!(t.steps(0, 400) + t.steps(400, 1000), all);
        // Halfway through the work of steps 100..200, the step in progress ends at k.
        let half = t.steps(100, 200) / 2;
        let k = t.steps_covering(100, 100, half);
        assert!(t.steps(100, 100 + k) >= half && t.steps(100, 99 + k) < half);
        assert_eq!(t.steps_covering(100, 100, 0), 1);
        assert_eq!(t.steps_covering(100, 100, u64::MAX), 100);
    }

    #[test]
    fn speeds_are_fixed_point_and_times_round_up() {
        assert_eq!(time_for(1000, SPEED_ONE), 1000);
        assert_eq!(time_for(1000, SPEED_ONE / 2), 2000);
        assert_eq!(work_in(2000, SPEED_ONE / 2), 1000);
        assert_eq!(time_for(1, 3 * SPEED_ONE), 1);
    }
}
