//! Scenario set-up: each execution model as one small function that adds interpreters,
//! counter cells, dispatchers and lanes to the engine, the way `runner::run` starts the real
//! ones (same lanes, same labels, same dispatch plans).

use super::engine::{CaseInfo, Engine, Feed, Interp, Role, SimLane, Stage, Status};
use crate::exec::{Dispatch, Dispatcher, Numbered, Recorder, ThreadProgram};
use crate::gil::{DEFAULT_SWITCH_INTERVAL_US, GilMachine, GilMode};
use crate::runner::convoy;
use crate::runner::race::{CASES, Regime};
use crate::runner::{CounterShare, lanes, lanes_for};
use crate::scenario::{Model, Params, Workload};
use crate::trace::{Lane, LaneKind};
use crate::workload::{CounterSpec, Task};

/// What the set-up tells the report.
pub struct Built {
    /// The report's lanes.
    pub lanes: Vec<Lane>,
    /// Every task's label.
    pub labels: Vec<(u32, String)>,
    /// The interpreter whose GIL counts go into the report (thread runs).
    pub gil_interp: Option<usize>,
    /// The convoy demo's set-up, for its measurement.
    pub convoy: Option<convoy::Setup>,
}

/// Whose GIL the threads of a stage take.
#[derive(Clone, Copy)]
enum Gils {
    /// One GIL for all of them (threads of one interpreter).
    Shared(GilMode, u64),
    /// One each (subinterpreters, PEP 684).
    PerThread,
}

/// How a lane begins.
struct Begin {
    role: Role,
    program: ThreadProgram,
    interp: usize,
    counter: usize,
    feed: Feed,
    stage: usize,
    start_at: u64,
    starting_from: Option<u64>,
    start_work: u64,
    exit_delay: u64,
}

impl Engine<'_> {
    fn add_interp(&mut self, mode: GilMode, interval_us: u64) -> usize {
        self.interps.push(Interp {
            gil: GilMachine::new(mode, interval_us),
            switch_waiters: Vec::new(),
        });
        self.interps.len() - 1
    }

    fn add_cell(&mut self) -> usize {
        self.cells.push(Default::default());
        self.cells.len() - 1
    }

    fn add_dispatcher(&mut self, plan: &Dispatch, tasks: &[Numbered]) -> usize {
        self.dispatchers
            .push((Dispatcher::new(plan), tasks.to_vec()));
        self.dispatchers.len() - 1
    }

    fn add_lane(&mut self, b: Begin) -> usize {
        let l = self.lanes.len();
        self.lanes.push(SimLane {
            role: b.role,
            prog: b.program,
            rec: Recorder::new(l as u32),
            interp: b.interp,
            counter: b.counter,
            feed: b.feed,
            status: Status::Pending,
            job: None,
            slot: None,
            queued: false,
            slice_end: 0,
            slice_pending: false,
            epoch: 0,
            cpu_epoch: 0,
            register: 0,
            signalled: false,
            returning: false,
            warm: false,
            stage: b.stage,
            start_at: b.start_at,
            starting_from: b.starting_from,
            start_work: b.start_work,
            exit_delay: b.exit_delay,
        });
        l
    }

    fn add_stage(&mut self, case: Option<CaseInfo>) -> usize {
        let at = self.lanes.len();
        self.stages.push(Stage {
            lanes: at..at,
            done: 0,
            end: 0,
            case,
        });
        self.stages.len() - 1
    }

    fn close_stage(&mut self, s: usize) {
        self.stages[s].lanes.end = self.lanes.len();
    }

    /// A script's main thread running every task in order.
    fn sequential(&mut self, tasks: &[Numbered]) {
        let s = self.add_stage(None);
        let interp = self.add_interp(GilMode::Classic, DEFAULT_SWITCH_INTERVAL_US);
        let counter = self.add_cell();
        self.add_lane(Begin {
            role: Role::Main,
            program: ThreadProgram::main_thread(),
            interp,
            counter,
            feed: Feed::Once(Some(tasks.to_vec())),
            stage: s,
            start_at: 0,
            starting_from: None,
            start_work: 0,
            exit_delay: 0,
        });
        self.close_stage(s);
    }

    /// `workers` threads (ids from the next lane on) sharing one GIL or one each, fed by
    /// `plan`; returns the shared interpreter. The parent starts them one after another.
    fn threads(
        &mut self,
        workers: u32,
        gils: Gils,
        plan: &Dispatch,
        tasks: &[Numbered],
        case: Option<CaseInfo>,
    ) -> usize {
        let s = self.add_stage(case);
        let (mode, interval) = match gils {
            Gils::Shared(mode, interval) => (mode, interval),
            Gils::PerThread => (GilMode::Classic, DEFAULT_SWITCH_INTERVAL_US),
        };
        let shared = self.add_interp(mode, interval);
        let counter = self.add_cell();
        if let Some(c) = &mut self.stages[s].case {
            c.parent_cell = counter;
        }
        let d = self.add_dispatcher(plan, tasks);
        for k in 0..workers as usize {
            let interp = match gils {
                Gils::Shared(..) => shared,
                Gils::PerThread => self.add_interp(mode, interval),
            };
            self.add_lane(Begin {
                role: Role::Thread,
                program: ThreadProgram::worker(),
                interp,
                counter,
                feed: Feed::Dispatch {
                    d,
                    index: k,
                    first: false,
                },
                stage: s,
                start_at: (k as u64 + 1) * self.t.thread_start,
                starting_from: None,
                start_work: 0,
                exit_delay: 0,
            });
        }
        self.close_stage(s);
        shared
    }

    /// `workers` processes, each with its own interpreter, GIL and memory, fed by `plan`. The
    /// parent starts them one after another (its share of each start); each then starts on a
    /// core of its own (the child's share). A pool first pays its own set-up.
    fn processes(
        &mut self,
        workers: u32,
        plan: &Dispatch,
        tasks: &[Numbered],
        pool: bool,
        share: CounterShare,
        case: Option<CaseInfo>,
    ) {
        let s = self.add_stage(case);
        // The parent's global; a shared `Value` is the one cell every process maps.
        let parent_cell = self.add_cell();
        if let Some(c) = &mut self.stages[s].case {
            c.parent_cell = parent_cell;
        }
        let d = self.add_dispatcher(plan, tasks);
        let (parent, child, exit) = self.t.process;
        let setup = if pool { self.t.pool_setup } else { 0 };
        for k in 0..workers as u64 {
            let interp = self.add_interp(GilMode::Classic, DEFAULT_SWITCH_INTERVAL_US);
            let counter = match share {
                CounterShare::SharedValue => parent_cell,
                // A child's copy of the parent's global, starting where the parent's was.
                CounterShare::Copy { value } => {
                    let c = self.add_cell();
                    self.cells[c].value = value;
                    c
                }
            };
            self.add_lane(Begin {
                role: Role::Process,
                program: ThreadProgram::worker(),
                interp,
                counter,
                feed: Feed::Dispatch {
                    d,
                    index: k as usize,
                    first: true,
                },
                stage: s,
                start_at: setup + (k + 1) * parent,
                starting_from: Some(setup + k * parent),
                start_work: child.max(1),
                exit_delay: exit,
            });
        }
        self.close_stage(s);
    }

    /// The race demo: every case of `runner`'s list, one after another, with `workers` lanes
    /// of `increments` updates each.
    fn race(&mut self, workers: u32, increments: u64, interval_us: u64) -> Vec<Lane> {
        let mut out = Vec::new();
        for (k, case) in CASES.iter().enumerate() {
            let first = k as u32 * workers;
            let spec = CounterSpec {
                increments,
                style: case.style,
            };
            let tasks: Vec<Numbered> = (first..first + workers)
                .map(|id| (id, Task::Counter(spec)))
                .collect();
            let plan = Dispatch::Fixed((0..workers).map(|i| vec![i]).collect());
            let info = CaseInfo {
                name: case.name.to_owned(),
                why: case.why.to_owned(),
                parent_cell: 0,
                increments: increments * u64::from(workers),
            };
            let kind = match case.regime {
                Regime::Threads(mode) => {
                    let gils = Gils::Shared(mode, interval_us);
                    self.threads(workers, gils, &plan, &tasks, Some(info));
                    LaneKind::Thread
                }
                Regime::Processes(share) => {
                    self.processes(workers, &plan, &tasks, false, share, Some(info));
                    LaneKind::Process
                }
            };
            out.extend(lanes(kind, first, workers, Some(case.name)));
        }
        out
    }
}

impl Engine<'_> {
    /// The convoy demo: the I/O thread alone with its own GIL, then the same calls beside the
    /// CPU-bound threads under one GIL; returns that GIL's interpreter.
    fn convoy(&mut self, setup: &convoy::Setup, tasks: &[Numbered]) -> usize {
        let one = Dispatch::Fixed(vec![vec![0]]);
        let alone = Gils::Shared(GilMode::Classic, DEFAULT_SWITCH_INTERVAL_US);
        self.threads(1, alone, &one, &tasks[..1], None);
        let beside = 1 + setup.cpu_threads;
        let plan = Dispatch::Fixed((0..beside).map(|k| vec![k]).collect());
        let gils = Gils::Shared(setup.gil, setup.switch_interval_us);
        self.threads(beside, gils, &plan, &tasks[1..], None)
    }
}

/// Sets up `params` with `tasks` on the engine.
pub fn build(e: &mut Engine<'_>, params: &Params, tasks: &[Numbered]) -> Built {
    let labels = tasks.iter().map(|(id, t)| (*id, t.label())).collect();
    let plan = Dispatch::for_model(&params.model, tasks.len() as u32);
    let mut gil_interp = None;
    let report_lanes = match &params.model {
        Model::Sequential => {
            e.sequential(tasks);
            lanes_for(params)
        }
        Model::Threads {
            workers,
            gil,
            switch_interval_us,
        } => {
            let gils = Gils::Shared(*gil, *switch_interval_us);
            gil_interp = Some(e.threads(*workers, gils, &plan, tasks, None));
            lanes_for(params)
        }
        Model::Interpreters { workers } => {
            e.threads(*workers, Gils::PerThread, &plan, tasks, None);
            lanes_for(params)
        }
        Model::Processes { workers } => {
            let copy = CounterShare::Copy { value: 0 };
            e.processes(*workers, &plan, tasks, false, copy, None);
            lanes_for(params)
        }
        Model::Pool { workers, .. } => {
            let copy = CounterShare::Copy { value: 0 };
            e.processes(*workers, &plan, tasks, true, copy, None);
            lanes_for(params)
        }
        Model::Convoy { .. } => {
            let Some(setup) = convoy::Setup::from_params(params) else {
                return Built {
                    lanes: Vec::new(),
                    labels,
                    gil_interp: None,
                    convoy: None,
                };
            };
            gil_interp = Some(e.convoy(&setup, tasks));
            return Built {
                lanes: setup.lanes(),
                labels,
                gil_interp,
                convoy: Some(setup),
            };
        }
        Model::Race {
            workers,
            switch_interval_us,
        } => {
            let increments = match params.workload {
                Workload::Counter { increments } => increments,
                _ => 0,
            };
            let lanes = e.race(*workers, increments, *switch_interval_us);
            let labels = (0..lanes.len() as u32)
                .map(|id| (id, "counter worker".to_owned()))
                .collect();
            return Built {
                lanes,
                labels,
                gil_interp: None,
                convoy: None,
            };
        }
    };
    Built {
        lanes: report_lanes,
        labels,
        gil_interp,
        convoy: None,
    }
}
