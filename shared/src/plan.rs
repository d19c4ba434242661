//! One plan per model: which lanes a run has, in which phases, which GIL each lane takes, how
//! tasks reach them, how each starts, and what the report says about the GIL. It is computed
//! once from the parameters and what the platform can do; the native runner
//! ([`crate::runner::run`]), the page's host and the simulator each walk it, so none of them
//! decides again what a model is made of.

pub mod convoy;
mod race;

use crate::exec::{Dispatch, Numbered};
use crate::gil::{DEFAULT_SWITCH_INTERVAL_US, GilMode};
use serde::{Deserialize, Serialize};

use crate::scenario::{Model, Params, Workload};
use crate::trace::{GilStats, Lane, LaneKind};
use crate::workload::{CounterSpec, CounterStyle, DownloadSpec, HashSpec, Task};

pub use race::CASE_COUNT as RACE_CASES;

/// What the platform a run happens on can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Threads (and a `multiprocessing.Value`) can share memory: native, and a cross-origin
    /// isolated page.
    pub shared_memory: bool,
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
                    checks: params.python.check_points(),
                }),
                Workload::Convoy { n, .. } => Task::SumPowers { n: *n },
                Workload::Hash { mib, chunk_bytes } => {
                    let bytes = u64::from(*mib) << 20;
                    Task::Hash(HashSpec {
                        bytes,
                        chunk: chunk_bytes.unwrap_or(bytes).min(bytes).max(1),
                    })
                }
            };
            (id, task)
        })
        .collect()
}

/// The lanes a run of `params` draws, known before it starts. Which lanes a model has does
/// not depend on the platform; only whether it can run there does.
pub fn lanes_of(params: &Params) -> Vec<Lane> {
    let tasks = build_tasks(params, &[]);
    RunPlan::new(params, &tasks, Caps::SHARED_MEMORY)
        .map(|p| p.lanes())
        .unwrap_or_default()
}

impl Caps {
    /// Native runs, a cross-origin isolated page's threaded engine, and the simulator (which
    /// models shared memory wherever it runs).
    pub const SHARED_MEMORY: Caps = Caps {
        shared_memory: true,
    };
}

/// Why a model has no plan on a platform.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The race's shared counter needs memory its lanes share.
    #[error("{}", NEEDS_SHARED_MEMORY)]
    NeedsSharedMemory,
}

/// Why the race demo does not run on a page without shared memory.
pub const NEEDS_SHARED_MEMORY: &str = "The shared-counter demo needs memory that threads (and a multiprocessing.Value) share, which a page only gets when it is cross-origin isolated: run `gil-lab serve` and open the lab from it. (On other pages the lab simulates these cases instead, labelled simulated.)";

/// An index into [`RunPlan::gils`].
pub type GilId = usize;

/// One GIL that several lanes take: the threads of one interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GilGroup {
    /// Classic, or free-threaded (no lock at all).
    pub mode: GilMode,
    /// `sys.setswitchinterval`, µs.
    pub switch_interval_us: u64,
}

/// Whose GIL a lane takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaneGil {
    /// A GIL its phase's other lanes may share.
    Group(GilId),
    /// Its own interpreter's classic GIL, nobody else's: a script's main thread, a process,
    /// a subinterpreter (PEP 684), a thread alone in its interpreter.
    Own,
}

/// How a lane comes to life, which is what its start costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Already there: a script's main thread.
    Running,
    /// `Thread.start()` (a subinterpreter's thread too), one after another from the parent.
    Thread,
    /// A new process; in a `Pool`, after the pool's own set-up.
    Process {
        /// Started by `multiprocessing.Pool`.
        pool: bool,
    },
}

/// One lane of a phase.
#[derive(Debug, Clone, PartialEq)]
pub struct LanePlan {
    /// Its row in the report (id, Python's name for it, its kind and group).
    pub lane: Lane,
    /// Whose GIL it takes.
    pub gil: LaneGil,
    /// How it starts.
    pub start: Start,
}

impl LanePlan {
    /// A script's main thread, fed everything at once rather than from a queue.
    pub fn is_main(&self) -> bool {
        self.lane.kind == LaneKind::Main
    }

    /// A process of its own (its own memory, started by the platform).
    pub fn is_process(&self) -> bool {
        self.lane.kind == LaneKind::Process
    }
}

/// A race case: what ran and why it came out as it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CasePlan {
    /// What ran.
    pub name: &'static str,
    /// Why it came out so (on the Python it ran as).
    pub why: String,
}

/// Lanes that start together once the previous phase has ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    /// Its lanes, in start order.
    pub lanes: Vec<LanePlan>,
    /// Its tasks, indexed by position in `dispatch`.
    pub tasks: Vec<Numbered>,
    /// Which lane (by index in `lanes`) runs which task.
    pub dispatch: Dispatch,
    /// What its processes' counter tasks update (its threads update their interpreter's).
    pub counter: CounterShare,
    /// The race case it is, if any: its report then counts lost updates.
    pub case: Option<CasePlan>,
}

impl Phase {
    /// Its lanes are processes (each started by the platform, each with its own memory).
    pub fn is_processes(&self) -> bool {
        self.lanes.iter().any(LanePlan::is_process)
    }

    /// Lane ids, in start order.
    pub fn lane_ids(&self) -> Vec<u32> {
        self.lanes.iter().map(|l| l.lane.id).collect()
    }
}

/// What the report says beyond the spans.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportRules {
    /// The GIL whose counts the report carries (a thread run's).
    pub gil_stats: Option<GilId>,
    /// The convoy demo's set-up, for its measurement.
    pub convoy: Option<convoy::Setup>,
}

/// Everything a run is made of. See the module docs. The default plan runs nothing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunPlan {
    /// In order; each starts when the previous one has ended.
    pub phases: Vec<Phase>,
    /// The GILs lanes share.
    pub gils: Vec<GilGroup>,
    /// Every task's label, by id.
    pub labels: Vec<(u32, String)>,
    /// What the report says.
    pub report: ReportRules,
}

impl RunPlan {
    /// The plan for `params` with `tasks` (from [`crate::plan::build_tasks`]) on a platform
    /// that can do `caps`.
    pub fn new(params: &Params, tasks: &[Numbered], caps: Caps) -> Result<Self, PlanError> {
        let mut b = Builder::default();
        let dispatch = Dispatch::for_model(&params.model, tasks.len() as u32);
        let copy = CounterShare::Copy { value: 0 };
        match &params.model {
            Model::Sequential => {
                let all = Dispatch::Fixed(vec![(0..tasks.len() as u32).collect()]);
                let lanes = b.lanes(LaneKind::Main, 1, None, |_| LaneGil::Own, Start::Running);
                b.phase(lanes, tasks, all, copy, None);
            }
            Model::Threads {
                workers,
                gil,
                switch_interval_us,
            } => {
                let g = b.gil(*gil, *switch_interval_us);
                b.report.gil_stats = Some(g);
                let lanes = b.lanes(
                    LaneKind::Thread,
                    *workers,
                    None,
                    |_| LaneGil::Group(g),
                    Start::Thread,
                );
                b.phase(lanes, tasks, dispatch, copy, None);
            }
            Model::Interpreters { workers } => {
                let lanes = b.lanes(
                    LaneKind::Interpreter,
                    *workers,
                    None,
                    |_| LaneGil::Own,
                    Start::Thread,
                );
                b.phase(lanes, tasks, dispatch, copy, None);
            }
            Model::Processes { workers } | Model::Pool { workers, .. } => {
                let start = Start::Process {
                    pool: matches!(params.model, Model::Pool { .. }),
                };
                let lanes = b.lanes(LaneKind::Process, *workers, None, |_| LaneGil::Own, start);
                b.phase(lanes, tasks, dispatch, copy, None);
            }
            Model::Convoy { .. } => {
                if let Some(setup) = convoy::Setup::from_params(params) {
                    b.convoy(&setup, tasks);
                    b.report.convoy = Some(setup);
                }
            }
            Model::Race {
                workers,
                switch_interval_us,
            } => {
                if !caps.shared_memory {
                    return Err(PlanError::NeedsSharedMemory);
                }
                let increments = match params.workload {
                    Workload::Counter { increments } => increments,
                    _ => 0,
                };
                race::cases(
                    &mut b,
                    *workers,
                    increments,
                    *switch_interval_us,
                    params.python,
                );
            }
        }
        if b.labels.is_empty() {
            b.labels = tasks.iter().map(|(id, t)| (*id, t.label())).collect();
        }
        Ok(RunPlan {
            phases: b.phases,
            gils: b.gils,
            labels: b.labels,
            report: b.report,
        })
    }

    /// Every lane of every phase, in order: the report's rows.
    pub fn lanes(&self) -> Vec<Lane> {
        self.phases
            .iter()
            .flat_map(|p| p.lanes.iter().map(|l| l.lane.clone()))
            .collect()
    }

    /// Whether it starts threads in the run's process (which, on a page, run best in one
    /// shared memory).
    pub fn has_threads(&self) -> bool {
        self.phases
            .iter()
            .any(|p| p.lanes.iter().any(|l| l.start == Start::Thread))
    }

    /// The GIL `gil` a lane of this plan takes: its group's, or a classic one of its own.
    pub fn group_of(&self, gil: LaneGil) -> GilGroup {
        match gil {
            LaneGil::Group(g) => self.gils.get(g).copied().unwrap_or(OWN),
            LaneGil::Own => OWN,
        }
    }

    /// The report's GIL counts and the note about them, from the counts of the group
    /// [`ReportRules::gil_stats`] names (`None` when the run reports none).
    pub fn gil_report(
        &self,
        switches: u64,
        drop_requests: u64,
    ) -> Option<(GilStats, Option<String>)> {
        let group = self.gils.get(self.report.gil_stats?)?;
        let stats = GilStats {
            switches,
            drop_requests,
            interval_us: group.switch_interval_us,
        };
        // One hand-over is just the first thread starting; only a classic GIL is handed over.
        let note = (group.mode == GilMode::Classic && switches > 1).then(|| gil_note(&stats));
        Some((stats, note))
    }
}

/// The GIL of a lane with an interpreter to itself.
const OWN: GilGroup = GilGroup {
    mode: GilMode::Classic,
    switch_interval_us: DEFAULT_SWITCH_INTERVAL_US,
};

/// The words for the GIL's counts, as every thread run's notes carry them.
pub fn gil_note(stats: &GilStats) -> String {
    format!(
        "The GIL changed hands {} times ({} drop requests after a {} ms wait).",
        stats.switches,
        stats.drop_requests,
        stats.interval_us as f64 / 1000.0
    )
}

/// A plan being put together.
#[derive(Default)]
struct Builder {
    phases: Vec<Phase>,
    gils: Vec<GilGroup>,
    labels: Vec<(u32, String)>,
    report: ReportRules,
    next_lane: u32,
}

impl Builder {
    fn gil(&mut self, mode: GilMode, switch_interval_us: u64) -> GilId {
        self.gils.push(GilGroup {
            mode,
            switch_interval_us,
        });
        self.gils.len() - 1
    }

    /// `count` lanes of `kind` from the next free id, named as Python names them
    /// (`Thread-1`, …).
    fn lanes(
        &mut self,
        kind: LaneKind,
        count: u32,
        group: Option<&str>,
        gil: impl Fn(u32) -> LaneGil,
        start: Start,
    ) -> Vec<LanePlan> {
        let first = self.next_lane;
        self.next_lane += count;
        (0..count)
            .map(|i| LanePlan {
                lane: Lane {
                    id: first + i,
                    label: python_name(kind, i),
                    kind,
                    group: group.map(str::to_owned),
                },
                gil: gil(i),
                start,
            })
            .collect()
    }

    fn phase(
        &mut self,
        lanes: Vec<LanePlan>,
        tasks: &[Numbered],
        dispatch: Dispatch,
        counter: CounterShare,
        case: Option<CasePlan>,
    ) {
        self.phases.push(Phase {
            lanes,
            tasks: tasks.to_vec(),
            dispatch,
            counter,
            case,
        });
    }

    /// The convoy demo: the I/O thread alone in its interpreter, then the same calls beside
    /// the CPU-bound threads under one GIL.
    fn convoy(&mut self, setup: &convoy::Setup, tasks: &[Numbered]) {
        let named = setup.lanes();
        let plan = |lane: &Lane, gil| LanePlan {
            lane: lane.clone(),
            gil,
            start: Start::Thread,
        };
        let copy = CounterShare::Copy { value: 0 };
        let (alone, beside) = named.split_at(1.min(named.len()));
        let (first, rest) = tasks.split_at(1.min(tasks.len()));
        let lanes = alone.iter().map(|l| plan(l, LaneGil::Own)).collect();
        self.phase(lanes, first, Dispatch::Fixed(vec![vec![0]]), copy, None);
        let g = self.gil(setup.gil, setup.switch_interval_us);
        self.report.gil_stats = Some(g);
        let lanes = beside.iter().map(|l| plan(l, LaneGil::Group(g))).collect();
        let each_its_own = Dispatch::Fixed((0..beside.len() as u32).map(|k| vec![k]).collect());
        self.phase(lanes, rest, each_its_own, copy, None);
        self.next_lane = named.len() as u32;
    }
}

/// What Python calls the `i`th lane of `kind`.
fn python_name(kind: LaneKind, i: u32) -> String {
    match kind {
        LaneKind::Main => "MainThread".to_owned(),
        LaneKind::Thread => format!("Thread-{}", i + 1),
        LaneKind::Process => format!("Process-{}", i + 1),
        LaneKind::Interpreter => format!("Interpreter-{}", i + 1),
    }
}

#[cfg(test)]
mod tests;
