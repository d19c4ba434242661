//! A run's lane workers, phases and GIL groups, from the model's [`RunPlan`].

use std::collections::BTreeMap;

use gil_lab::exec::{Dispatch, Dispatcher, Numbered};
use gil_lab::gil::{GilMachine, GilMode};
use gil_lab::plan::CounterShare;
use gil_lab::plan::{Caps, LaneGil as PlanGil, RunPlan};
use gil_lab::rng::SplitMix64;

use super::gil::Group;
use super::{HostCore, Phase, Slot, State};
use crate::protocol::{IoModel, LaneConfig, LaneCounter, LaneGil, ProcessJob, Program, RunRequest};

/// How long a lane that owns its GIL works between looks at its messages, µs: it expects
/// none while it works, so this only bounds how stale its event loop gets.
const OWN_SLICE_US: u64 = 50_000;

fn lane_config(lane: u32, program: Program, gil: LaneGil, io: IoModel) -> LaneConfig {
    LaneConfig {
        lane,
        program,
        gil,
        counter: LaneCounter::Copy { value: 0 },
        report_counter: false,
        epoch_ms: None,
        io,
        slice_us: OWN_SLICE_US,
    }
}

/// What a process lane's counter tasks update.
fn lane_counter(share: CounterShare) -> LaneCounter {
    match share {
        CounterShare::Copy { value } => LaneCounter::Copy { value },
        CounterShare::SharedValue => LaneCounter::Shared,
    }
}

/// How long a lane holding a shared GIL works between looks at its messages: short enough
/// that a new waiter's drop request is seen about on time, long enough that looking (a turn
/// of the worker's event loop) costs little.
pub fn shared_slice_us(interval_us: u64) -> u64 {
    (interval_us / 4).clamp(100, 1_000)
}

impl HostCore {
    fn empty(seed: u64) -> Self {
        Self {
            request: None,
            plan: RunPlan::default(),
            host_groups: Vec::new(),
            slots: BTreeMap::new(),
            phases: Vec::new(),
            phase: 0,
            groups: Vec::new(),
            rng: SplitMix64::new(seed),
            processes: false,
            epoch_given: false,
            epoch_ms: None,
            spans: Vec::new(),
            gil_events: Vec::new(),
            outcomes: Vec::new(),
            live: Vec::new(),
            open: BTreeMap::new(),
            ended_us: 0,
            state: State::Preparing,
        }
    }

    fn add_group(&mut self, mode: GilMode, interval_us: u64) -> usize {
        self.groups.push(Group {
            machine: GilMachine::new(mode, interval_us),
            clock_us: 0,
            last_release_us: 0,
            pending: None,
            told: None,
        });
        self.groups.len() - 1
    }

    /// Adds a phase whose lanes (each with its configuration) run `tasks` under `dispatch`,
    /// taking host group `group`'s GIL if any.
    fn add_phase(
        &mut self,
        lanes: Vec<LaneConfig>,
        tasks: Vec<Numbered>,
        dispatch: &Dispatch,
        group: Option<usize>,
    ) {
        let phase = self.phases.len();
        let ids = lanes.iter().map(|c| c.lane).collect();
        for (k, config) in lanes.into_iter().enumerate() {
            self.slots.insert(
                config.lane,
                Slot {
                    phase,
                    k,
                    group,
                    config,
                    created_ms: 0.0,
                    ready: false,
                    exited: false,
                },
            );
        }
        self.phases.push(Phase {
            lanes: ids,
            tasks,
            dispatcher: Dispatcher::new(dispatch),
        });
    }

    /// The run `req` asks for, or why it cannot run on workers. `seed` seeds the choice among
    /// GIL waiters. The model's plan says what it is made of; a classic GIL that lanes share
    /// becomes a host group that grants it by messages.
    pub fn new(req: RunRequest, seed: u64) -> Result<Self, String> {
        let mut h = Self::empty(seed);
        // The lanes are separate workers: they never share a wasm memory.
        let plan = RunPlan::new(
            &req.params,
            &req.tasks,
            Caps {
                shared_memory: false,
            },
        )
        .map_err(|e| e.to_string())?;
        let io = IoModel::of(&req.params);
        h.host_groups = plan
            .gils
            .iter()
            .map(|g| {
                (g.mode == GilMode::Classic).then(|| h.add_group(g.mode, g.switch_interval_us))
            })
            .collect();
        for phase in &plan.phases {
            h.processes |= phase.is_processes();
            let host = |gil| match gil {
                PlanGil::Group(g) => h.host_groups.get(g).copied().flatten(),
                PlanGil::Own => None,
            };
            let group = phase.lanes.iter().find_map(|l| host(l.gil));
            let configs = phase
                .lanes
                .iter()
                .map(|l| {
                    let program = if l.is_main() {
                        Program::MainThread
                    } else {
                        Program::Worker
                    };
                    let g = plan.group_of(l.gil);
                    let gil = match host(l.gil) {
                        Some(_) => LaneGil::Host,
                        None => LaneGil::Own { mode: g.mode },
                    };
                    let mut c = lane_config(l.lane.id, program, gil, io);
                    if gil == LaneGil::Host {
                        c.slice_us = shared_slice_us(g.switch_interval_us);
                    }
                    if l.is_process() {
                        c.report_counter = true;
                        c.counter = lane_counter(phase.counter);
                    }
                    c
                })
                .collect();
            h.add_phase(configs, phase.tasks.clone(), &phase.dispatch, group);
        }
        h.plan = plan;
        h.request = Some(req);
        Ok(h)
    }

    /// The processes of `job`, on the run clock whose epoch is `epoch_ms` (the threaded
    /// engine's race cases on an isolated page).
    pub fn for_processes(job: ProcessJob, epoch_ms: f64, seed: u64) -> Self {
        let mut h = Self::empty(seed);
        h.processes = true;
        h.epoch_given = true;
        h.epoch_ms = Some(epoch_ms);
        let own = LaneGil::Own {
            mode: GilMode::Classic,
        };
        let configs = job
            .lanes
            .iter()
            .map(|&l| LaneConfig {
                counter: lane_counter(job.counter),
                report_counter: true,
                ..lane_config(l, Program::Worker, own, job.io)
            })
            .collect();
        h.add_phase(configs, job.tasks, &job.dispatch, None);
        h
    }
}
