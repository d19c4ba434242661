//! Runs a scenario end to end on the platform's backends and assembles the [`RunReport`].

mod race;

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::exec::{self, Env, Numbered};
use crate::gil::Gil;
use crate::platform::{Clock, IoPerformer, Spawner};
use crate::scenario::{Model, Params, Workload};
use crate::trace::{
    CoreSample, Lane, LaneKind, Machine, REPORT_VERSION, RunReport, SpanBuffer, TaskRecord, Tee,
    TraceSink,
};
use crate::workload::{CounterSpec, CounterStyle, DownloadSpec, SharedCounter, Task, TaskOutcome};

/// How tasks are handed to processes.
#[derive(Debug, Clone, PartialEq)]
pub enum Dispatch {
    /// `Process(target=...)`: each process gets the listed task indices up front.
    Fixed(Vec<Vec<u32>>),
    /// `Pool.map`: processes pull these chunks of task indices as they become free.
    Chunks(Vec<exec::Chunk>),
}

/// A batch of work for separate processes (each with its own interpreter, GIL and memory).
pub struct ProcessPlan<'a> {
    /// One lane id per process, in start order.
    pub lanes: Vec<u32>,
    /// Every task, indexed by its number.
    pub tasks: &'a [Numbered],
    /// Which process runs which tasks.
    pub dispatch: Dispatch,
}

/// Starts processes (OS processes, or fresh Web Workers) and runs a [`ProcessPlan`] on them.
///
/// Each process records a `starting` span for its real start cost, then runs its tasks with
/// [`exec::run_sequential`] semantics on its own GIL, streaming spans to `env.sink`.
pub trait ProcessLauncher: Sync {
    /// Runs the plan; returns every task's outcome (failed processes give `Error` outcomes).
    fn run(&self, plan: ProcessPlan<'_>, env: &Env<'_>) -> Vec<(u32, TaskOutcome)>;
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
            };
            (id, task)
        })
        .collect()
}

fn lanes(kind: LaneKind, first: u32, count: u32, group: Option<&str>) -> Vec<Lane> {
    (0..count)
        .map(|i| Lane {
            id: first + i,
            label: match kind {
                LaneKind::Main => "MainThread".to_owned(),
                LaneKind::Thread => format!("Thread-{}", i + 1),
                LaneKind::Process => format!("Process-{}", i + 1),
            },
            kind,
            group: group.map(str::to_owned),
        })
        .collect()
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

    b.meter.start();
    let started = b.clock.now_us();
    let (lane_list, outcomes) = match &params.model {
        Model::Sequential => (
            lanes(LaneKind::Main, 0, 1, None),
            exec::run_sequential(0, tasks, &counter, &env),
        ),
        Model::Threads {
            workers,
            gil,
            switch_interval_us,
        } => {
            let g = Gil::new(*gil, Duration::from_micros(*switch_interval_us));
            let ids: Vec<u32> = (0..*workers).collect();
            let out = exec::run_threads(&ids, tasks, &g, &counter, b.spawner, &env);
            if g.switches() > 0 {
                notes.push(format!(
                    "The GIL changed hands {} times ({} drop requests after a {} ms wait).",
                    g.switches(),
                    g.drop_requests(),
                    *switch_interval_us as f64 / 1000.0
                ));
            }
            (lanes(LaneKind::Thread, 0, *workers, None), out)
        }
        Model::Processes { workers } => {
            let ids: Vec<u32> = (0..*workers).collect();
            let dispatch = Dispatch::Fixed(exec::split_round_robin(params.tasks, *workers));
            let plan = ProcessPlan {
                lanes: ids,
                tasks,
                dispatch,
            };
            (
                lanes(LaneKind::Process, 0, *workers, None),
                b.processes.run(plan, &env),
            )
        }
        Model::Pool { workers, chunksize } => {
            let ids: Vec<u32> = (0..*workers).collect();
            let dispatch = Dispatch::Chunks(exec::pool_chunks(params.tasks, *chunksize));
            let plan = ProcessPlan {
                lanes: ids,
                tasks,
                dispatch,
            };
            (
                lanes(LaneKind::Process, 0, *workers, None),
                b.processes.run(plan, &env),
            )
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
    let wall_us = b.clock.now_us().saturating_sub(started);
    let measured = b.meter.stop();

    let mut records: Vec<TaskRecord> = Vec::new();
    // The clock's epoch is set before set-up (server, meter); the report starts at the first
    // task, so that time 0 is where `wall_us` starts.
    let mut spans = buffer.take();
    for s in &mut spans {
        s.start_us = s.start_us.saturating_sub(started);
        s.end_us = s.end_us.saturating_sub(started);
    }
    let mut cores = measured.cores;
    cores.retain(|c| c.end_us > started);
    for c in &mut cores {
        c.start_us = c.start_us.saturating_sub(started);
        c.end_us = c.end_us.saturating_sub(started);
    }
    let all_tasks: Vec<(u32, String)> = if matches!(params.model, Model::Race { .. }) {
        outcomes
            .iter()
            .map(|(id, _)| (*id, "counter worker".to_owned()))
            .collect()
    } else {
        tasks.iter().map(|(id, t)| (*id, t.label())).collect()
    };
    for (id, label) in all_tasks {
        let outcome = outcomes
            .iter()
            .find(|(i, _)| *i == id)
            .map_or(TaskOutcome::NotRun, |(_, o)| o.clone());
        let lane = spans.iter().find(|s| s.task == Some(id)).map(|s| s.lane);
        records.push(TaskRecord {
            id,
            label,
            lane,
            outcome,
        });
    }
    RunReport {
        version: REPORT_VERSION,
        scenario: scenario.to_owned(),
        params: params.clone(),
        machine: b.machine,
        wall_us,
        cpu_user_us: measured.cpu_user_us,
        cpu_sys_us: measured.cpu_sys_us,
        lanes: lane_list,
        spans,
        cores,
        tasks: records,
        baseline_wall_us: None,
        counters,
        notes,
    }
}
