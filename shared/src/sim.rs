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

pub mod calibrate;
mod costs;
mod counter;
mod cpu;
mod engine;
mod lane;
mod options;
mod profile;
mod queue;
mod report;
mod setup;

#[cfg(test)]
mod tests;

pub use costs::step_cost_ns;
pub use engine::MAX_EVENTS;
pub use options::{CORES, Pace, Python, Resolved, SimOptions, StartMethod};
pub use profile::{
    Costs, IoCosts, PROFILE_VERSION, PerMethod, Profile, ProfileError, StartCost, StepPoint,
};

use crate::exec::Numbered;
use crate::runner::build_tasks;
use crate::scenario::{InputError, Model, Params, Workload, find};
use crate::trace::RunReport;

/// Why a simulation could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A parameter or option out of range.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The run would take too many events to simulate in reasonable time.
    #[error(
        "the simulation needs more than {limit} events (allowed at most {limit}): use a longer switch-interval-ms, a smaller n or fewer tasks"
    )]
    TooLong {
        /// The limit.
        limit: u64,
    },
}

/// The URLs downloads of a simulated run fetch when the parameters name none: the lab's six
/// images, by name (their sizes come from the options).
fn lab_image_urls() -> Vec<String> {
    (1..=crate::workload::LAB_IMAGE_BYTES.len())
        .map(|k| format!("http://images.sim/img/photo-{k}.bmp"))
        .collect()
}

/// Simulates scenario `scenario` with `params` on the machine `profile` describes, as
/// `options` say. For a scenario with a sequential baseline, the baseline is simulated too
/// (same work, same options) and gives the report's speed-up.
pub fn simulate(
    scenario: &str,
    params: &Params,
    options: &SimOptions,
    profile: &Profile,
) -> Result<RunReport, SimError> {
    let tasks = build_tasks(params, &lab_image_urls());
    let mut report = simulate_tasks(scenario, params, &tasks, options, profile)?;
    if matches!(&params.workload, Workload::Download { urls, .. } if !urls.is_empty()) {
        report.notes.push(
            "The simulator cannot know the size of other URLs' bodies: it charges them the lab's image sizes in turn."
                .into(),
        );
    }
    let has_baseline = find(scenario).is_some_and(|s| s.baseline.is_some());
    if has_baseline && params.model != Model::Sequential {
        let seq = Params {
            model: Model::Sequential,
            ..params.clone()
        };
        let base = simulate_tasks(scenario, &seq, &tasks, options, profile)?;
        report.baseline_wall_us = Some(base.wall_us);
    }
    Ok(report)
}

/// Simulates `params` running exactly `tasks` (numbered as [`build_tasks`] numbers them).
pub fn simulate_tasks(
    scenario: &str,
    params: &Params,
    tasks: &[Numbered],
    options: &SimOptions,
    profile: &Profile,
) -> Result<RunReport, SimError> {
    run(scenario, params, tasks, options, profile, true)
}

/// [`simulate_tasks`], with runs of identical units as one job (`bulk`) or op by op.
fn run(
    scenario: &str,
    params: &Params,
    tasks: &[Numbered],
    options: &SimOptions,
    profile: &Profile,
    bulk: bool,
) -> Result<RunReport, SimError> {
    let mut params = params.clone();
    let resolved = options.resolve(&mut params, profile.cores)?;
    let max_n = tasks
        .iter()
        .filter_map(|(_, t)| match t {
            crate::workload::Task::SumPowers { n } => Some(*n),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    let tables = costs::Tables::new(profile, &resolved, max_n);
    let mut engine = engine::Engine::new(&tables, resolved.cores, resolved.seed);
    engine.bulk = bulk;
    if let Workload::Download {
        latency_ms,
        bandwidth_kbps,
        ..
    } = params.workload
    {
        engine.io = (latency_ms, bandwidth_kbps);
    }
    let built = setup::build(&mut engine, &params, tasks);
    engine
        .run()
        .map_err(|_| SimError::TooLong { limit: MAX_EVENTS })?;
    Ok(report::build(
        engine, scenario, &params, built, &resolved, profile,
    ))
}
