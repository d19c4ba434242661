//! The simulator: "what would this look like on 64 cores?" answered in milliseconds, as a
//! [`RunReport`] with `source: "simulated"` that the same renderer draws.
//!
//! It is a deterministic discrete-event model that drives the lab's own rules in virtual
//! time — the [`GilMachine`](crate::gil::GilMachine), the [`ThreadProgram`](crate::exec::ThreadProgram)
//! with its check points, the [`Dispatcher`](crate::exec::Dispatcher) — on a modelled machine:
//!
//! - N cores and an OS scheduler: more runnable lanes than cores share them round-robin with
//!   a time slice, the waiting ones in `cpu_wait`; a core runs slower when many are busy (the
//!   profile's parallel-efficiency curve);
//! - Python 3.11/3.12 (classic GIL) or free-threaded 3.13t/3.14t (no GIL, a single-thread
//!   penalty at CPython's pace), and the start methods fork, spawn and forkserver;
//! - costs from a [`Profile`] measured by `gil-lab calibrate`: the per-step cost curve of
//!   `sum_powers`, thread and process starts, pool set-up, batches and results, the GIL's
//!   hand-off latency, downloads (time to first byte, bandwidth).
//!
//! The work itself is not done: tasks end as [`TaskOutcome::Simulated`](crate::workload::TaskOutcome).
//! The race demo's counter is the exception in spirit: its loads and stores are replayed in
//! virtual time, so updates are lost exactly where the real ones are.
//!
//! ```
//! use gil_lab::sim::{Profile, SimOptions, simulate};
//! use gil_lab::scenario::{Overrides, find};
//! let scenario = find("cpu-pool").expect("scenario");
//! let params = Overrides { workers: Some(64), tasks: Some(256), ..Default::default() }
//!     .apply(scenario)
//!     .expect("valid");
//! let options = SimOptions { cores: Some(64), ..Default::default() };
//! let report = simulate("cpu-pool", &params, &options, &Profile::builtin()).expect("simulates");
//! assert_eq!(report.source, gil_lab::trace::Source::Simulated);
//! assert_eq!(report.lanes.len(), 64);
//! ```

mod budget;
pub mod calibrate;
mod cell;
mod costs;
mod counter;
mod cpu;
mod engine;
mod lane;
mod limits;
mod options;
mod profile;
mod queue;
mod report;
mod setup;

#[cfg(test)]
mod tests;

pub use budget::{Estimate, check_report};
pub use costs::step_cost_ns;
pub use limits::{Cancel, MAX_EVENTS, MAX_MEM_OPS, NeverCancel};
pub use options::{CORES, Pace, Python, Resolved, SimOptions, StartMethod};
pub use profile::{
    Costs, EFFICIENCY, IoCosts, PROFILE_VERSION, PerMethod, Profile, ProfileError, StartCost,
    StepPoint, default_sha256_ns_per_byte,
};

use crate::exec::Numbered;
use crate::plan::build_tasks;
use crate::scenario::{InputError, Model, Params, Workload, find};
use crate::trace::RunReport;
use crate::view::group_digits;

/// Why a simulation could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A parameter or option out of range.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The run would need more than a limit, worked out before it starts ([`Estimate`]).
    #[error(
        "this simulation would {verb} about {} {noun}; the limit is {}; {hint}",
        group_digits(*estimate),
        group_digits(*limit)
    )]
    OverBudget {
        /// What it would do (`record`).
        verb: &'static str,
        /// Of what (`spans`).
        noun: &'static str,
        /// About how many.
        estimate: u64,
        /// The limit.
        limit: u64,
        /// What to change.
        hint: &'static str,
    },
    /// The run reached a limit while it ran (its estimate was too low).
    #[error(
        "this simulation needs more than {} {what}, the limit; it was stopped there; {hint}",
        group_digits(*limit)
    )]
    Exceeded {
        /// What it counted.
        what: &'static str,
        /// The limit.
        limit: u64,
        /// What to change.
        hint: &'static str,
    },
    /// The finished report is bigger than the page can open.
    #[error(
        "this simulation's report would be {what}; the limit is {limit}, what the page can open; {hint}"
    )]
    TooBig {
        /// What is over (`3.4 MB`, `300 lanes`).
        what: String,
        /// The limit.
        limit: String,
        /// What to change.
        hint: &'static str,
    },
}

/// The note of a simulation its [`Cancel`] stopped.
const STOPPED_NOTE: &str = "Stopped early: the simulation up to then is kept.";

/// The URLs downloads of a simulated run fetch when the parameters name none: the lab's six
/// images, by name (their sizes come from the options).
pub(crate) fn lab_image_urls() -> Vec<String> {
    (1..=crate::workload::LAB_IMAGE_BYTES.len())
        .map(|k| format!("http://images.sim/img/photo-{k}.bmp"))
        .collect()
}

/// Simulates scenario `scenario` with `params` on the machine `profile` describes, as
/// `options` say. For a scenario with a sequential baseline, the baseline is simulated too
/// (same work, same options) and gives the report's speed-up.
///
/// A run that would need more than the simulator's budget (`sim::budget`: spans and GIL
/// events the page can draw, events and memory ops for about a second of work) is refused
/// before it starts, and so is a report the page could not open.
pub fn simulate(
    scenario: &str,
    params: &Params,
    options: &SimOptions,
    profile: &Profile,
) -> Result<RunReport, SimError> {
    simulate_with(scenario, params, options, profile, &NeverCancel)
}

/// [`simulate`], stopped within about a millisecond of work once `cancel` says so: the report
/// then holds what was simulated up to there, with a "Stopped early" note (and no baseline),
/// like a real run stopped by Ctrl-C. The caller knows it asked.
pub fn simulate_with(
    scenario: &str,
    params: &Params,
    options: &SimOptions,
    profile: &Profile,
    cancel: &dyn Cancel,
) -> Result<RunReport, SimError> {
    let tasks = build_tasks(params, &lab_image_urls());
    let mut report = run(scenario, params, &tasks, options, profile, true, cancel)?;
    if matches!(&params.workload, Workload::Download { urls, .. } if !urls.is_empty()) {
        report.notes.push(
            "The simulator cannot know the size of other URLs' bodies: it charges them the lab's image sizes in turn."
                .into(),
        );
    }
    let has_baseline = find(scenario).is_some_and(|s| s.baseline.is_some());
    if has_baseline && params.model != Model::Sequential && !cancel.cancelled() {
        let seq = Params {
            model: Model::Sequential,
            ..params.clone()
        };
        let base = run(scenario, &seq, &tasks, options, profile, true, cancel)?;
        if !cancel.cancelled() {
            report.baseline_wall_us = Some(base.wall_us);
        }
    }
    // Stopped in the baseline, or between the two: the report says so all the same.
    if cancel.cancelled() && !report.notes.iter().any(|n| n == STOPPED_NOTE) {
        report.notes.push(STOPPED_NOTE.into());
    }
    check_report(&report)?;
    Ok(report)
}

/// About what simulating `scenario` will need (the larger of the run and its sequential
/// baseline), and whether that fits the budget, without running it: a few ms at most.
pub fn estimate(
    scenario: &str,
    params: &Params,
    options: &SimOptions,
    profile: &Profile,
) -> Result<Estimate, SimError> {
    let tasks = build_tasks(params, &lab_image_urls());
    let est = estimate_tasks(params, &tasks, options, profile)?;
    est.check()?;
    let has_baseline = find(scenario).is_some_and(|s| s.baseline.is_some());
    if has_baseline && params.model != Model::Sequential {
        let seq = Params {
            model: Model::Sequential,
            ..params.clone()
        };
        let base = estimate_tasks(&seq, &tasks, options, profile)?;
        base.check()?;
        if base.events > est.events {
            return Ok(base);
        }
    }
    Ok(est)
}

fn estimate_tasks(
    params: &Params,
    tasks: &[Numbered],
    options: &SimOptions,
    profile: &Profile,
) -> Result<Estimate, SimError> {
    let mut params = params.clone();
    let resolved = options.resolve(&mut params, profile.cores)?;
    let tables = costs::Tables::new(profile, &resolved, max_n(tasks));
    let mut engine = engine::Engine::new(&tables, resolved.cores, resolved.seed);
    setup::build(&mut engine, &params, tasks);
    Ok(engine.estimate())
}

/// Simulates `params` running exactly `tasks` (numbered as [`build_tasks`] numbers them).
pub fn simulate_tasks(
    scenario: &str,
    params: &Params,
    tasks: &[Numbered],
    options: &SimOptions,
    profile: &Profile,
) -> Result<RunReport, SimError> {
    run(
        scenario,
        params,
        tasks,
        options,
        profile,
        true,
        &NeverCancel,
    )
}

/// The largest `sum_powers` argument among `tasks` (how far the cost table goes).
fn max_n(tasks: &[Numbered]) -> u32 {
    tasks
        .iter()
        .filter_map(|(_, t)| match t {
            crate::workload::Task::SumPowers { n } => Some(*n),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// [`simulate_tasks`], with runs of identical units as one job (`bulk`) or op by op, checked
/// against the budget before it starts and stopped by `cancel` or a limit.
fn run(
    scenario: &str,
    params: &Params,
    tasks: &[Numbered],
    options: &SimOptions,
    profile: &Profile,
    bulk: bool,
    cancel: &dyn Cancel,
) -> Result<RunReport, SimError> {
    let mut params = params.clone();
    let resolved = options.resolve(&mut params, profile.cores)?;
    let tables = costs::Tables::new(profile, &resolved, max_n(tasks));
    let mut engine = engine::Engine::new(&tables, resolved.cores, resolved.seed);
    engine.bulk = bulk;
    engine.cancel = cancel;
    if let Workload::Download {
        latency_ms,
        bandwidth_kbps,
        ..
    } = params.workload
    {
        engine.io = (latency_ms, bandwidth_kbps);
    }
    let built = setup::build(&mut engine, &params, tasks);
    if bulk {
        // Stepping op by op (tests only) takes far more events than the estimate counts.
        engine.estimate().check()?;
    }
    let stopped = match engine.run().map_err(budget::halted) {
        Ok(()) => false,
        Err(Some(over)) => return Err(over),
        Err(None) => {
            engine.stop_here();
            true
        }
    };
    let mut report = report::build(engine, scenario, &params, built, &resolved, profile);
    if stopped {
        report.notes.push(STOPPED_NOTE.into());
    }
    Ok(report)
}
