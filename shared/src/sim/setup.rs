//! Scenario set-up: the model's [`RunPlan`] walked phase by phase, each lane a virtual one on
//! the engine, started as the plan says (the same lanes, GILs and dispatch the real runs walk).

use super::engine::{CaseInfo, Engine, Feed, Interp, Role, SimLane, Stage, Status};
use crate::exec::{Dispatch, Dispatcher, Numbered, Recorder, ThreadProgram};
use crate::gil::{GilMachine, GilMode};
use crate::plan::CounterShare;
use crate::plan::{Caps, LaneGil, Phase, RunPlan, Start};
use crate::scenario::Params;
use crate::workload::Task;

/// What the set-up tells the report.
pub struct Built {
    /// What the run is made of.
    pub plan: RunPlan,
    /// The interpreter of the GIL whose counts go into the report (thread runs).
    pub gil_interp: Option<usize>,
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

    /// One phase of `plan`: a stage whose lanes start as the plan says, each on its GIL's
    /// interpreter (`interps` holds the one made for each GIL group so far).
    fn phase(&mut self, plan: &RunPlan, phase: &Phase, interps: &mut [Option<usize>]) {
        let case = phase.case.as_ref().map(|c| CaseInfo {
            name: c.name.to_owned(),
            why: c.why.clone(),
            parent_cell: 0,
            increments: phase
                .tasks
                .iter()
                .map(|(_, t)| match t {
                    Task::Counter(spec) => spec.increments,
                    _ => 0,
                })
                .sum(),
        });
        let s = self.add_stage(case);
        // The parent's global: what its threads update, and the one cell a shared `Value`
        // maps into every process.
        let parent_cell = self.add_cell();
        if let Some(c) = &mut self.stages[s].case {
            c.parent_cell = parent_cell;
        }
        let d = self.add_dispatcher(&phase.dispatch, &phase.tasks);
        let (parent, child, exit) = self.t.process;
        for (k, lp) in phase.lanes.iter().enumerate() {
            let group = plan.group_of(lp.gil);
            let interp = match lp.gil {
                LaneGil::Group(g) => match interps.get(g).copied().flatten() {
                    Some(i) => i,
                    None => {
                        let i = self.add_interp(group.mode, group.switch_interval_us);
                        if let Some(slot) = interps.get_mut(g) {
                            *slot = Some(i);
                        }
                        i
                    }
                },
                LaneGil::Own => self.add_interp(group.mode, group.switch_interval_us),
            };
            let counter = match (lp.is_process(), phase.counter) {
                (true, CounterShare::Copy { value }) => {
                    // A child's copy of the parent's global, starting where the parent's was.
                    let c = self.add_cell();
                    self.cells[c].value = value;
                    c
                }
                _ => parent_cell,
            };
            let k64 = k as u64;
            let dispatched = |first| Feed::Dispatch { d, index: k, first };
            let mut begin = Begin {
                role: Role::Thread,
                program: ThreadProgram::worker(),
                interp,
                counter,
                feed: dispatched(false),
                stage: s,
                start_at: 0,
                starting_from: None,
                start_work: 0,
                exit_delay: 0,
            };
            match lp.start {
                Start::Running => {
                    begin.role = Role::Main;
                    begin.program = ThreadProgram::main_thread();
                    begin.feed = Feed::Once(Some(phase.tasks.clone()));
                }
                // The parent starts its threads one after another.
                Start::Thread => begin.start_at = (k64 + 1) * self.t.thread_start,
                // The parent starts each process in turn (its share of the start), which then
                // starts on a core of its own (the child's share); a pool first sets itself up.
                Start::Process { pool } => {
                    let setup = if pool { self.t.pool_setup } else { 0 };
                    begin.role = Role::Process;
                    begin.feed = dispatched(true);
                    begin.start_at = setup + (k64 + 1) * parent;
                    begin.starting_from = Some(setup + k64 * parent);
                    begin.start_work = child.max(1);
                    begin.exit_delay = exit;
                }
            }
            self.add_lane(begin);
        }
        self.close_stage(s);
    }
}

/// Sets up `params` with `tasks` on the engine, phase by phase as the model's plan says.
pub fn build(e: &mut Engine<'_>, params: &Params, tasks: &[Numbered]) -> Built {
    // The simulator models shared memory wherever the run happens.
    let plan = RunPlan::new(params, tasks, Caps::SHARED_MEMORY).unwrap_or_default();
    let mut interps = vec![None; plan.gils.len()];
    for phase in &plan.phases {
        e.phase(&plan, phase, &mut interps);
    }
    let gil_interp = plan
        .report
        .gil_stats
        .and_then(|g| interps.get(g).copied().flatten());
    Built { plan, gil_interp }
}
