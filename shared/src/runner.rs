//! Runs a scenario end to end on the platform's backends and assembles the [`RunReport`].

pub use crate::plan::{RACE_CASES, gil_note};

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::exec::{self, Env, Numbered};
use crate::gil::Gil;
use crate::plan::{Caps, CounterShare, LaneGil, Phase, RunPlan, convoy};
use crate::platform::{Clock, IoPerformer, Spawner};
use crate::scenario::Params;
use crate::trace::{
    CoreSample, CpuSource, GilEvent, GilStats, Lane, Machine, REPORT_VERSION, RunReport, Source,
    Span, SpanBuffer, TaskRecord, Tee, TraceSink,
};
use crate::workload::{CounterCase, SharedCounter, TaskOutcome};

pub use crate::exec::Dispatch;

/// A batch of work for separate processes (each with its own interpreter, GIL and memory).
pub struct ProcessPlan<'a> {
    /// One lane id per process, in start order.
    pub lanes: Vec<u32>,
    /// Every task, indexed by its position.
    pub tasks: &'a [Numbered],
    /// Which process runs which tasks (positions in `tasks`, lanes by index in `lanes`).
    pub dispatch: Dispatch,
    /// What counter tasks update in each process.
    pub counter: CounterShare,
}

/// What a [`ProcessLauncher`] hands back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessRun {
    /// Every task's outcome (failed processes give `Error` outcomes).
    pub outcomes: Vec<(u32, TaskOutcome)>,
    /// The shared `Value` at the end, with [`CounterShare::SharedValue`].
    pub shared_value: Option<u64>,
}

/// Starts processes (OS processes, or fresh Web Workers) and runs a [`ProcessPlan`] on them.
///
/// Each process records a `starting` span for its real start cost, then runs its batches with
/// [`exec::run_process_lane`] on its own GIL, streaming spans to `env.sink`.
pub trait ProcessLauncher: Sync {
    /// Runs the plan.
    fn run(&self, plan: ProcessPlan<'_>, env: &Env<'_>) -> ProcessRun;
}

/// Measures what only the platform can: CPU time and per-core load.
pub trait Meter {
    /// Called right before the first task starts.
    fn start(&mut self);
    /// Called after the last task ended, with the run's spans (on the run clock) and when its
    /// first task started and its last ended: CPU user and system µs since `start` (this
    /// process and its children) and per-core samples. A platform that cannot read them (a
    /// browser) estimates them from the spans, and says so in [`Measured::source`].
    fn stop(&mut self, spans: &[Span], started_us: u64, ended_us: u64) -> Measured;
}

/// What a [`Meter`] measured (or estimated).
#[derive(Debug, Clone, Default)]
pub struct Measured {
    /// User-mode CPU µs.
    pub cpu_user_us: u64,
    /// Kernel-mode CPU µs.
    pub cpu_sys_us: u64,
    /// Per-core samples, µs on the run clock.
    pub cores: Vec<CoreSample>,
    /// Read from the system, or estimated.
    pub source: CpuSource,
    /// What the report should say about how they were found.
    pub notes: Vec<String>,
}

/// The platform a run happens on.
pub struct Backends<'a> {
    /// The shared clock.
    pub clock: &'a dyn Clock,
    /// Downloads.
    pub io: &'a dyn IoPerformer,
    /// Real threads.
    pub spawner: &'a dyn Spawner,
    /// Real processes.
    pub processes: &'a dyn ProcessLauncher,
    /// CPU time and core load.
    pub meter: &'a mut dyn Meter,
    /// Live display (progress bar, live chart).
    pub live: &'a dyn TraceSink,
    /// Set to stop early.
    pub stop: &'a AtomicBool,
    /// Facts for the report.
    pub machine: Machine,
}

/// Everything a finished (or stopped) run produced, on the run's clock, before it becomes a
/// report. Every path assembles its report through [`assemble`], so they all have one shape.
pub struct RunParts<'a> {
    /// Scenario name.
    pub scenario: &'a str,
    /// Its parameters.
    pub params: &'a Params,
    /// Every task (for the labels).
    pub tasks: &'a [(u32, String)],
    /// The lanes.
    pub lanes: Vec<Lane>,
    /// Every span.
    pub spans: Vec<Span>,
    /// GIL events.
    pub gil_events: Vec<GilEvent>,
    /// Task outcomes (missing ones are reported as not run).
    pub outcomes: Vec<(u32, TaskOutcome)>,
    /// When the first task started and the last ended, on the run clock.
    pub started_us: u64,
    /// See `started_us`.
    pub ended_us: u64,
    /// CPU time.
    pub measured: Measured,
    /// The GIL's counts, for thread runs.
    pub gil: Option<GilStats>,
    /// The race cases.
    pub counters: Vec<CounterCase>,
    /// Notes.
    pub notes: Vec<String>,
    /// Machine facts.
    pub machine: Machine,
}

/// The report of a run: times shifted so that 0 is the first task's start.
pub fn assemble(p: RunParts<'_>) -> RunReport {
    let started = p.started_us;
    let mut spans = p.spans;
    for s in &mut spans {
        s.start_us = s.start_us.saturating_sub(started);
        s.end_us = s.end_us.saturating_sub(started);
    }
    spans.retain(|s| s.end_us > s.start_us);
    spans.sort_by_key(|s| (s.start_us, s.lane));
    let mut notes = p.notes;
    notes.extend(p.measured.notes);
    let mut cores = p.measured.cores;
    cores.retain(|c| c.end_us > started);
    for c in &mut cores {
        c.start_us = c.start_us.saturating_sub(started);
        c.end_us = c.end_us.saturating_sub(started);
    }
    let gil_events: Vec<GilEvent> = p
        .gil_events
        .into_iter()
        .map(|e| e.shifted_back(started))
        .collect();
    let records = p
        .tasks
        .iter()
        .map(|(id, label)| TaskRecord {
            id: *id,
            label: label.clone(),
            lane: spans.iter().find(|s| s.task == Some(*id)).map(|s| s.lane),
            outcome: p
                .outcomes
                .iter()
                .find(|(i, _)| i == id)
                .map_or(TaskOutcome::NotRun, |(_, o)| o.clone()),
        })
        .collect();
    RunReport {
        version: REPORT_VERSION,
        scenario: p.scenario.to_owned(),
        params: p.params.clone(),
        machine: p.machine,
        wall_us: p.ended_us.saturating_sub(started),
        cpu_user_us: p.measured.cpu_user_us,
        cpu_sys_us: p.measured.cpu_sys_us,
        lanes: p.lanes,
        spans,
        cores,
        tasks: records,
        baseline_wall_us: None,
        counters: p.counters,
        notes,
        source: Source::Measured,
        cpu_source: p.measured.source,
        gil: p.gil,
        gil_events,
        convoy: None,
        simulation: None,
    }
}

/// Runs `params` (named `scenario`) for real, on a platform whose threads share memory
/// (native, or a cross-origin isolated page), and returns the full report. `tasks` come from
/// [`build_tasks`]; the lanes and phases from the model's [`RunPlan`].
pub fn run(scenario: &str, params: &Params, tasks: &[Numbered], b: Backends<'_>) -> RunReport {
    let buffer = SpanBuffer::default();
    let tee = Tee(&buffer, b.live);
    let env = Env {
        clock: b.clock,
        io: b.io,
        sink: &tee,
        stop: b.stop,
    };
    let mut notes = Vec::new();
    let plan = match RunPlan::new(params, tasks, Caps::SHARED_MEMORY) {
        Ok(plan) => plan,
        Err(e) => {
            // Not reached (only a platform without shared memory lacks a plan), but said
            // rather than hidden if it ever is.
            notes.push(e.to_string());
            RunPlan::default()
        }
    };
    let gils: Vec<Gil> = plan
        .gils
        .iter()
        .map(|g| Gil::new(g.mode, Duration::from_micros(g.switch_interval_us)))
        .collect();
    let mut outcomes = Vec::new();
    let mut counters = Vec::new();

    b.meter.start();
    let started = b.clock.now_us();
    for (k, phase) in plan.phases.iter().enumerate() {
        // A stopped run ends with the phase it was in.
        if k > 0 && env.stopped() {
            break;
        }
        let (done, observed) = run_phase(&plan, phase, &gils, &b, &env);
        if let Some(case) = &phase.case {
            counters.push(CounterCase::of(case.name, &case.why, &done, observed));
        }
        outcomes.extend(done);
    }
    let ended = b.clock.now_us();
    let spans = buffer.take();
    let measured = b.meter.stop(&spans, started, ended);

    let gil = plan.report.gil_stats.and_then(|g| {
        let (stats, note) = plan.gil_report(gils[g].switches(), gils[g].drop_requests())?;
        notes.extend(note);
        Some(stats)
    });
    let convoy_found = plan
        .report
        .convoy
        .as_ref()
        .and_then(|s| convoy::measure(s, &spans));
    let mut report = assemble(RunParts {
        scenario,
        params,
        tasks: &plan.labels,
        lanes: plan.lanes(),
        spans,
        gil_events: buffer.take_gil_events(),
        outcomes,
        started_us: started,
        ended_us: ended,
        measured,
        gil,
        counters,
        notes,
        machine: b.machine,
    });
    report.convoy = convoy_found;
    report
}

/// Runs one phase of `plan` on real threads or processes; returns its outcomes and what the
/// parent's counter reads at the end.
fn run_phase(
    plan: &RunPlan,
    phase: &Phase,
    gils: &[Gil],
    b: &Backends<'_>,
    env: &Env<'_>,
) -> (Vec<(u32, TaskOutcome)>, u64) {
    let counter = SharedCounter::new();
    let ids = phase.lane_ids();
    if phase.is_processes() {
        let r = b.processes.run(
            ProcessPlan {
                lanes: ids,
                tasks: &phase.tasks,
                dispatch: phase.dispatch.clone(),
                counter: phase.counter,
            },
            env,
        );
        // A copy in each child leaves the parent's counter where it was; a shared Value is
        // what the parent reads back.
        let observed = r.shared_value.unwrap_or_else(|| counter.get());
        return (r.outcomes, observed);
    }
    if let [main] = phase.lanes.as_slice()
        && main.is_main()
    {
        let out = exec::run_sequential(main.lane.id, &phase.tasks, &counter, env);
        return (out, counter.get());
    }
    // A lane with an interpreter to itself gets a GIL nobody else takes.
    let own: Vec<Gil> = phase
        .lanes
        .iter()
        .map(|l| {
            let g = plan.group_of(l.gil);
            Gil::new(g.mode, Duration::from_micros(g.switch_interval_us))
        })
        .collect();
    let each: Vec<&Gil> = phase
        .lanes
        .iter()
        .zip(&own)
        .map(|(l, own)| match l.gil {
            LaneGil::Group(g) => gils.get(g).unwrap_or(own),
            LaneGil::Own => own,
        })
        .collect();
    let out = exec::run_threads_with(
        &ids,
        &phase.tasks,
        &phase.dispatch,
        &each,
        &counter,
        b.spawner,
        env,
    );
    (out, counter.get())
}
