//! Runs a scenario end to end on the platform's backends and assembles the [`RunReport`].

pub mod convoy;
pub(crate) mod race;

pub use race::CASE_COUNT as RACE_CASES;

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::exec::{self, Env, Numbered};
use crate::gil::Gil;
use crate::platform::{Clock, IoPerformer, Spawner};
use crate::scenario::{Model, Params, Workload};
use crate::trace::{
    CoreSample, CpuSource, GilEvent, GilStats, Lane, LaneKind, Machine, REPORT_VERSION, RunReport,
    Source, Span, SpanBuffer, TaskRecord, Tee, TraceSink,
};
use crate::workload::{
    CounterCase, CounterSpec, CounterStyle, DownloadSpec, SharedCounter, Task, TaskOutcome,
};

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

/// The counter a process's counter tasks update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CounterShare {
    /// Its own copy of the parent's global, starting at the parent's value (what a child
    /// process gets: nothing it changes reaches the parent).
    Copy {
        /// The parent's value when the process started.
        value: u64,
    },
    /// One `multiprocessing.Value` in memory every process of the run maps.
    SharedValue,
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
    /// Called after the last task ended: CPU user and system µs since `start` (this process
    /// and its children) and per-core samples.
    fn stop(&mut self) -> Measured;
}

/// What a [`Meter`] measured.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    /// User-mode CPU µs.
    pub cpu_user_us: u64,
    /// Kernel-mode CPU µs.
    pub cpu_sys_us: u64,
    /// Per-core samples, µs on the run clock.
    pub cores: Vec<CoreSample>,
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

/// The tasks a run's parameters describe. `image_urls` fills in download URLs when the
/// parameters name none (the lab's own image server).
pub fn build_tasks(params: &Params, image_urls: &[String]) -> Vec<Numbered> {
    if let Some(setup) = convoy::Setup::from_params(params) {
        return setup.tasks();
    }
    (0..params.tasks)
        .map(|id| {
            let task = match &params.workload {
                Workload::SumPowers { n } => Task::SumPowers { n: *n },
                Workload::Download { urls, .. } => {
                    let list = if urls.is_empty() {
                        image_urls
                    } else {
                        urls.as_slice()
                    };
                    let url = list
                        .get(id as usize % list.len().max(1))
                        .cloned()
                        .unwrap_or_default();
                    Task::Download(DownloadSpec::new(&url, id))
                }
                Workload::Counter { increments } => Task::Counter(CounterSpec {
                    increments: *increments,
                    style: CounterStyle::Plain,
                }),
                Workload::Convoy { n, .. } => Task::SumPowers { n: *n },
            };
            (id, task)
        })
        .collect()
}

/// `count` lanes of `kind` from id `first`, labelled as Python names them (`Thread-1`, …).
pub fn lanes(kind: LaneKind, first: u32, count: u32, group: Option<&str>) -> Vec<Lane> {
    (0..count)
        .map(|i| Lane {
            id: first + i,
            label: match kind {
                LaneKind::Main => "MainThread".to_owned(),
                LaneKind::Thread => format!("Thread-{}", i + 1),
                LaneKind::Process => format!("Process-{}", i + 1),
                LaneKind::Interpreter => format!("Interpreter-{}", i + 1),
            },
            kind,
            group: group.map(str::to_owned),
        })
        .collect()
}

/// The lanes `params` describe (the race demo's come with its cases).
pub fn lanes_for(params: &Params) -> Vec<Lane> {
    match &params.model {
        Model::Sequential => lanes(LaneKind::Main, 0, 1, None),
        Model::Threads { workers, .. } => lanes(LaneKind::Thread, 0, *workers, None),
        Model::Processes { workers } | Model::Pool { workers, .. } => {
            lanes(LaneKind::Process, 0, *workers, None)
        }
        Model::Interpreters { workers } => lanes(LaneKind::Interpreter, 0, *workers, None),
        Model::Race { .. } | Model::Convoy { .. } => Vec::new(),
    }
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
    /// Where CPU times came from.
    pub cpu_source: CpuSource,
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
        notes: p.notes,
        source: Source::Measured,
        cpu_source: p.cpu_source,
        gil: p.gil,
        gil_events,
        convoy: None,
        simulation: None,
    }
}

/// The words for the GIL's counts, as every thread run's notes carry them.
pub fn gil_note(stats: &GilStats) -> String {
    format!(
        "The GIL changed hands {} times ({} drop requests after a {} ms wait).",
        stats.switches,
        stats.drop_requests,
        stats.interval_us as f64 / 1000.0
    )
}

/// Runs `params` (named `scenario`) for real and returns the full report. `tasks` come from
/// [`build_tasks`].
pub fn run(scenario: &str, params: &Params, tasks: &[Numbered], b: Backends<'_>) -> RunReport {
    let buffer = SpanBuffer::default();
    let tee = Tee(&buffer, b.live);
    let env = Env {
        clock: b.clock,
        io: b.io,
        sink: &tee,
        stop: b.stop,
    };
    let counter = SharedCounter::new();
    let mut notes = Vec::new();
    let mut counters = Vec::new();
    let mut gil_stats = None;
    let mut convoy_tasks: Vec<(u32, String)> = Vec::new();
    let mut convoy_setup = None;
    let plan = Dispatch::for_model(&params.model, tasks.len() as u32);

    b.meter.start();
    let started = b.clock.now_us();
    let (lane_list, outcomes) = match &params.model {
        Model::Sequential => (
            lanes_for(params),
            exec::run_sequential(0, tasks, &counter, &env),
        ),
        Model::Threads {
            workers,
            gil,
            switch_interval_us,
        } => {
            let g = Gil::new(*gil, Duration::from_micros(*switch_interval_us));
            let ids: Vec<u32> = (0..*workers).collect();
            let out = exec::run_threads(&ids, tasks, &plan, &g, &counter, b.spawner, &env);
            let stats = GilStats {
                switches: g.switches(),
                drop_requests: g.drop_requests(),
                interval_us: *switch_interval_us,
            };
            if *gil == crate::gil::GilMode::Classic && stats.switches > 1 {
                notes.push(gil_note(&stats));
            }
            gil_stats = Some(stats);
            (lanes_for(params), out)
        }
        Model::Processes { workers } | Model::Pool { workers, .. } => {
            let plan = ProcessPlan {
                lanes: (0..*workers).collect(),
                tasks,
                dispatch: plan,
                counter: CounterShare::Copy { value: 0 },
            };
            (lanes_for(params), b.processes.run(plan, &env).outcomes)
        }
        Model::Interpreters { workers } => {
            // Each interpreter has its own GIL (PEP 684), so nobody waits for another's.
            let gils: Vec<Gil> = (0..*workers)
                .map(|_| {
                    Gil::new(
                        crate::gil::GilMode::Classic,
                        Duration::from_micros(crate::gil::DEFAULT_SWITCH_INTERVAL_US),
                    )
                })
                .collect();
            let ids: Vec<u32> = (0..*workers).collect();
            let out = exec::run_threads_with(
                &ids,
                tasks,
                &plan,
                exec::Gils::PerThread(&gils),
                &counter,
                b.spawner,
                &env,
            );
            (lanes_for(params), out)
        }
        Model::Convoy { gil, .. } => {
            let setup = convoy::Setup::from_params(params)
                .unwrap_or_else(|| unreachable!("a convoy model always gives a convoy setup"));
            let r = convoy::run(&setup, &counter, b.spawner, &env);
            convoy_tasks = r.tasks;
            convoy_setup = Some(setup);
            if let Some(stats) = &r.gil
                && *gil == crate::gil::GilMode::Classic
                && stats.switches > 1
            {
                notes.push(gil_note(stats));
            }
            gil_stats = r.gil;
            (r.lanes, r.outcomes)
        }
        Model::Race {
            workers,
            switch_interval_us,
        } => {
            let increments = match params.workload {
                Workload::Counter { increments } => increments,
                _ => 0,
            };
            let r = race::run_cases(
                *workers,
                increments,
                *switch_interval_us,
                b.spawner,
                b.processes,
                &env,
            );
            counters = r.cases;
            (r.lanes, r.outcomes)
        }
    };
    let ended = b.clock.now_us();
    let measured = b.meter.stop();

    let labels: Vec<(u32, String)> = match params.model {
        Model::Race { .. } => outcomes
            .iter()
            .map(|(id, _)| (*id, "counter worker".to_owned()))
            .collect(),
        Model::Convoy { .. } => convoy_tasks,
        _ => tasks.iter().map(|(id, t)| (*id, t.label())).collect(),
    };
    let spans = buffer.take();
    let convoy_found = convoy_setup
        .as_ref()
        .and_then(|s| convoy::measure(s, &spans));
    let mut report = assemble(RunParts {
        scenario,
        params,
        tasks: &labels,
        lanes: lane_list,
        spans,
        gil_events: buffer.take_gil_events(),
        outcomes,
        started_us: started,
        ended_us: ended,
        measured,
        cpu_source: CpuSource::Measured,
        gil: gil_stats,
        counters,
        notes,
        machine: b.machine,
    });
    report.convoy = convoy_found;
    report
}
