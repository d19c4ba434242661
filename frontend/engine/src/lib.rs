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

/// A download's result as the host's JavaScript reports it (flat arguments cross the
/// wasm-bindgen boundary cheaply), for whichever engine asked.
#[cfg(target_arch = "wasm32")]
pub(crate) fn download_result(
    ok: bool,
    file: String,
    bytes: f64,
    error: String,
) -> Result<gil_lab::workload::DownloadOutput, String> {
    if ok {
        Ok(gil_lab::workload::DownloadOutput {
            file,
            bytes: bytes as u64,
        })
    } else {
        Err(error)
    }
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

/// The simulator behind [`simulate_json`], callable natively (tests) as well: the report
/// JSON, or a one-line message naming the bad field and its range.
pub fn simulate_report(
    scenario: &str,
    params_json: &str,
    options_json: &str,
    profile_json: &str,
) -> Result<String, String> {
    use gil_lab::scenario::Overrides;
    use gil_lab::sim::{Profile, SimOptions, simulate};
    let found = gil_lab::scenario::find(scenario)
        .ok_or_else(|| format!("unknown scenario '{scenario}'"))?;
    let overrides: Overrides = if params_json.trim().is_empty() {
        Overrides::default()
    } else {
        // Every field may be left out, `urls` too.
        let mut v: serde_json::Value =
            serde_json::from_str(params_json).map_err(|e| format!("params: {e}"))?;
        if let Some(o) = v.as_object_mut() {
            o.entry("urls").or_insert_with(|| serde_json::json!([]));
        }
        serde_json::from_value(v).map_err(|e| format!("params: {e}"))?
    };
    let params = overrides.apply(found).map_err(|e| e.to_string())?;
    let options: SimOptions = if options_json.trim().is_empty() {
        SimOptions::default()
    } else {
        serde_json::from_str(options_json).map_err(|e| format!("options: {e}"))?
    };
    let profile = if profile_json.trim().is_empty() {
        Profile::builtin()
    } else {
        Profile::from_json(profile_json).map_err(|e| e.to_string())?
    };
    // Compact, not `to_json`'s pretty form: a 64-core Pool's report is less than half the
    // size, and the page parses it on its main thread.
    simulate(scenario, &params, &options, &profile)
        .map(|r| serde_json::to_string(&r).unwrap_or_default())
        .map_err(|e| e.to_string())
}

/// Simulates `scenario` on a modelled machine and returns its report as JSON (`source:
/// "simulated"`), ready for `view::layout` like any report. Takes milliseconds (the lesson's
/// `Pool(64)` over 256 tasks is a few hundred jobs): call it in a worker, never on the page's
/// main thread.
///
/// - `params_json`: the form's overrides, as for a real run (`{"n": 10000, "workers": 64,
///   "tasks": 256}`; field names of `gil_lab::scenario::Overrides`); `""` for the defaults.
/// - `options_json`: `gil_lab::sim::SimOptions`: `{"cores": 64, "python": "3.13t",
///   "start_method": "forkserver", "seed": 1, "pace": "native", "image_bytes": [..]}`, every
///   field optional (`cores` defaults to the profile's; pass the page's image sizes in
///   `image_bytes`, since the page's images differ from the native server's).
/// - `profile_json`: a profile from [`calibrate_browser`] (kept in `localStorage`), or `""`
///   for the built-in one.
///
/// Errors are one line naming the field and its allowed range (`cores = 0 is out of range:
/// allowed 1..=256`).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
pub fn simulate_json(
    scenario: String,
    params_json: &str,
    options_json: &str,
    profile_json: &str,
) -> Result<String, JsError> {
    simulate_report(&scenario, params_json, options_json, profile_json)
        .map_err(|e| JsError::new(&e))
}

/// The page's clock for the calibration: [`now_ms`] in µs.
struct PageClock;

impl gil_lab::platform::Clock for PageClock {
    fn now_us(&self) -> u64 {
        (now_ms() * 1000.0) as u64
    }
}

/// Measures this wasm instance for the simulator within about `budget_ms` (the page gives
/// it ≤ 2000 the first time it simulates, in a worker, and keeps the result in
/// `localStorage`): the per-step cost of `sum_powers`, its loop timed as far as the budget
/// allows (the simulator carries the curve's last slope on beyond), and the counter loop's bytecode, op and lock costs. Start costs of workers keep the
/// built-in profile's values. Returns the profile JSON for [`simulate_json`].
#[cfg_attr(target_arch = "wasm32", wasm_bindgen)]
pub fn calibrate_browser(budget_ms: f64) -> String {
    use gil_lab::sim::Profile;
    use gil_lab::sim::calibrate::{browser_profile, fit_counter, measure_counter, measure_steps};
    let budget_ms = budget_ms.clamp(50.0, 60_000.0);
    let start = now_ms();
    let mut clock = || now_ms() * 1e6;
    let steps = measure_steps(&mut clock, budget_ms * 0.6 * 1e6, 12_000, 1);
    let left = budget_ms - (now_ms() - start);
    // Nine timed runs of the counter loops; ~0.2 µs per update in wasm.
    let updates = ((left * 0.5 * 1000.0 / 9.0 / 0.2) as u64).clamp(2_000, 200_000);
    let counter = fit_counter(measure_counter(&PageClock, updates));
    let base = Profile::builtin();
    browser_profile(&base, steps, Some(counter), "calibrated in this browser").to_json()
}

/// How long the modelled network takes to deliver `bytes`, ms (`gil_lab::workload::network_ns`):
/// what `io.js` waits out after a fetch, so the page, the simulator and the image server share
/// one rule.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen)]
pub fn network_ms(bytes: f64, latency_ms: f64, bandwidth_kbps: f64) -> f64 {
    gil_lab::workload::network_ns(bytes as u64, latency_ms as u64, bandwidth_kbps as u64) as f64
        / 1e6
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
    fn simulations_come_back_as_report_json() {
        let json = simulate_report(
            "cpu-pool",
            r#"{"workers": 8, "tasks": 16, "n": 500}"#,
            r#"{"cores": 8, "python": "3.14t"}"#,
            "",
        )
        .expect("simulates");
        let r = gil_lab::trace::RunReport::from_json(&json).expect("a report");
        assert_eq!(r.source, gil_lab::trace::Source::Simulated);
        assert_eq!(r.lanes.len(), 8);
        let e = simulate_report("cpu-pool", "", r#"{"cores": 0}"#, "").expect_err("0 cores");
        assert!(e.contains("cores = 0"), "{e}");
        let e = simulate_report("cpu-pool", "", r#"{"python": "2.7"}"#, "").expect_err("old");
        assert!(e.contains("python"), "{e}");
    }

    #[test]
    fn a_browser_calibration_is_a_valid_profile() {
        let p = gil_lab::sim::Profile::from_json(&calibrate_browser(150.0)).expect("valid");
        assert!(p.native.step_ns.len() >= 2);
        assert!(p.native.origin.contains("this browser"));
    }

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
