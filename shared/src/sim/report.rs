//! A finished simulation as a [`RunReport`], assembled by [`runner::assemble`] like every real
//! run, then marked as simulated with what was modelled.

use super::engine::Engine;
use super::options::Resolved;
use super::profile::Profile;
use super::setup::Built;
use crate::runner::{self, Measured, RunParts};
use crate::scenario::Params;
use crate::trace::{CpuSource, Machine, RunReport, Simulation, Source};

/// The report of the simulation `e` has run.
pub fn build(
    e: Engine<'_>,
    scenario: &str,
    params: &Params,
    built: Built,
    r: &Resolved,
    profile: &Profile,
) -> RunReport {
    let mut notes = Vec::new();
    let gil = built.gil_interp.and_then(|g| {
        let m = &e.interps.get(g)?.gil;
        let (stats, note) = built.plan.gil_report(m.switches(), m.drop_requests())?;
        notes.extend(note);
        Some(stats)
    });
    let width = e.cpu.sample_width(e.end);
    if width > super::cpu::MAX_SAMPLE_NS {
        notes.push(format!(
            "Each column of the core chart is {} wide: a long simulation on many cores keeps its chart to {} numbers.",
            crate::view::format_duration(width / 1000),
            crate::view::group_digits(super::cpu::SAMPLE_CELLS)
        ));
    }
    let measured = Measured {
        cpu_user_us: e.cpu_time.0 / 1000,
        cpu_sys_us: e.cpu_time.1 / 1000,
        cores: e.cpu.samples(e.end),
        // Modelled, not read from a system.
        source: CpuSource::Estimated,
        notes: Vec::new(),
    };
    let mut outcomes = e.outcomes;
    outcomes.sort_by_key(|(id, _)| *id);
    let mut report = runner::assemble(RunParts {
        scenario,
        params,
        tasks: &built.plan.labels,
        lanes: built.plan.lanes(),
        spans: e.sink.take(),
        gil_events: e.gil_events,
        outcomes,
        started_us: 0,
        ended_us: e.end / 1000,
        measured,
        gil,
        counters: e.cases,
        notes,
        machine: Machine {
            cores: r.cores,
            platform: format!("simulated {}-core machine", r.cores),
            core_source: "simulated".into(),
        },
    });
    report.convoy = built
        .plan
        .report
        .convoy
        .as_ref()
        .and_then(|setup| crate::plan::convoy::measure(setup, &report.spans));
    report.source = Source::Simulated;
    report.simulation = Some(Simulation {
        profile: profile.name.clone(),
        cores: r.cores,
        python: r.python.key().to_owned(),
        start_method: r.start_method.key().to_owned(),
        pace: r.pace.key().to_owned(),
        seed: r.seed,
    });
    report
}
