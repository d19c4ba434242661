//! The seam for "the same on 16 / 64 cores" beside each live run.
//!
//! The simulator (a deterministic discrete-event model driving the core's own GIL machine,
//! thread programs and dispatchers in virtual time) is being added to the plain engine as
//! `simulate_json(scenario, params_json, options_json, profile_json)` and
//! `calibrate_browser(budget_ms)`. Until those exports are on main this seam answers "not
//! available" and the page shows nothing in their place: no placeholder picture, no invented
//! number.
//!
//! Wiring it, when the exports land:
//! - run both in a Worker (never on the page's main thread): calibrate once per browser and keep
//!   the machine profile in localStorage (key [`PROFILE_KEY`]);
//! - for each finished live run, ask for the same scenario and parameters on each of
//!   [`CORE_COUNTS`] cores and draw the reports beside the live one with the same `Picture`;
//! - label every simulated picture and number "simulated" (the report's `source` says so, and
//!   `view::simulation_words` gives the words).

use gil_lab::scenario::Params;
use gil_lab::trace::RunReport;

/// The machines a live run is simulated on, beside the learner's own.
pub const CORE_COUNTS: [u32; 2] = [16, 64];

/// Where the calibrated machine profile will be kept.
pub const PROFILE_KEY: &str = "gil-lab.simulator.profile";

/// A simulated run of `scenario` with `params` on `cores` cores, when the simulator is
/// available in this build; `None` until the engine exports it (see the module docs).
pub fn simulated(_scenario: &str, _params: &Params, _cores: u32) -> Option<RunReport> {
    None
}

/// Whether simulated pictures can be offered at all.
pub fn available() -> bool {
    false
}
