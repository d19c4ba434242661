//! # GIL Lab's Web Worker engine
//!
//! The shared core behind a thin `wasm-bindgen` API (the raytrace-parallel pattern: the heavy
//! work is platform-free, this crate only wires it to the browser). It is built twice:
//!
//! - **plain** (stable, no atomics): one instance in the host worker, where `HostRun` drives a
//!   worker-based run (the core's GIL machine granting a shared GIL by messages, the core's
//!   dispatcher, the report), and one instance per lane worker, where `LaneRun` runs the core's
//!   thread loop for real (a "process" with its own GIL, or a "thread" of a page without shared
//!   memory). Both are thin shells over `gil_lab_browser`'s `HostCore` and `LaneCore`.
//! - **threaded** (`--features threads`, nightly + build-std + atomics): one shared memory for a
//!   `wasm-bindgen-rayon` pool, the core's own [`gil_lab::gil::Gil`] living in it, and
//!   [`gil_lab::runner::run`] driving real threads (see `mt`); the race demo's processes are
//!   real lane workers of the host (`ProcessJob`).
//!
//! Nothing here ever runs on the page's main thread: only workers load this module.

#[cfg(all(target_arch = "wasm32", feature = "threads"))]
mod alloc;
#[cfg(all(target_arch = "wasm32", feature = "threads"))]
mod mt;
#[cfg(target_arch = "wasm32")]
mod workers;

use gil_lab::workload::{Digest, SumPowers, TaskOutcome};

// When compiling for web:
#[cfg(target_arch = "wasm32")]
use wasm_bindgen::prelude::*;

#[cfg(target_arch = "wasm32")]
thread_local! {
    /// This worker's `performance` and its `timeOrigin` (each worker has its own origin).
    /// Through `web-sys` rather than an `inline_js` snippet: a snippet is one more module file
    /// that every lane worker (and every pool thread) would have to fetch before it starts.
    static PERF: Option<(web_sys::Performance, f64)> = {
        use wasm_bindgen::JsCast;
        js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("performance"))
            .ok()
            .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
            .map(|p| {
                let origin = p.time_origin();
                (p, origin)
            })
    };
}

/// The one clock of the lab in the browser: `performance.timeOrigin + performance.now()` in
/// milliseconds, comparable across workers (each worker's `now()` alone has its own origin).
#[cfg(target_arch = "wasm32")]
pub fn now_ms() -> f64 {
    PERF.with(|p| p.as_ref().map_or(0.0, |(perf, origin)| origin + perf.now()))
}

// When compiling natively (tests):
/// Milliseconds on a process-wide clock (native tests only).
#[cfg(not(target_arch = "wasm32"))]
pub fn now_ms() -> f64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}

/// One `sum_powers(n)` call advanced in time slices: the host warms the engine up with it, and
/// the benchmark times the wasm kernel with it.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen)]
pub struct SumTask {
    sp: SumPowers,
    n: u32,
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen)]
impl SumTask {
    /// A fresh `sum_powers(n)`.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen(constructor))]
    pub fn new(n: u32) -> SumTask {
        SumTask {
            sp: SumPowers::new(n),
            n,
        }
    }

    /// Runs whole steps until `budget_ms` has passed or every step ran; `true` when finished.
    /// A step is never cut (one `i**i` is uninterruptible in CPython too).
    pub fn run_for(&mut self, budget_ms: f64) -> bool {
        let end = now_ms() + budget_ms;
        loop {
            if !self.sp.step() {
                return true;
            }
            if now_ms() >= end {
                return false;
            }
        }
    }

    /// Steps done so far.
    pub fn done(&self) -> u32 {
        self.sp.done()
    }

    /// The argument `n`.
    pub fn n(&self) -> u32 {
        self.n
    }

    /// The task's outcome as report JSON (`{"status":"sum",...}`), exact digest included.
    pub fn outcome_json(&self) -> String {
        let outcome = TaskOutcome::Sum(Digest::of(self.sp.total()));
        serde_json::to_string(&outcome).unwrap_or_default()
    }
}

/// Which engine build this is: `plain` or `threaded`.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen)]
pub fn engine_build() -> String {
    if cfg!(feature = "threads") {
        "threaded".into()
    } else {
        "plain".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliced_sum_matches_core() {
        let mut t = SumTask::new(300);
        while !t.run_for(0.01) {}
        let expected = TaskOutcome::Sum(SumPowers::new(300).finish());
        assert_eq!(
            t.outcome_json(),
            serde_json::to_string(&expected).unwrap_or_default()
        );
    }
}
