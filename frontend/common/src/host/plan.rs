//! Planning a run: which lanes, in which phases, with which GIL and which dispatch plan, for
//! every model the page runs on workers.

use std::collections::BTreeMap;

use gil_lab::exec::{Dispatch, Dispatcher, Numbered};
use gil_lab::gil::{GilMachine, GilMode};
use gil_lab::rng::SplitMix64;
use gil_lab::runner::CounterShare;
use gil_lab::runner::convoy::{self, ALONE_LANE, BESIDE_LANE};
use gil_lab::scenario::Model;

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
            setup: None,
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
            gil_stats_group: None,
            free_threads: None,
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

    /// Adds a phase whose lanes `lanes` run `tasks` under `plan`, each configured by `cfg`.
    fn add_phase(
        &mut self,
        lanes: &[u32],
        tasks: Vec<Numbered>,
        plan: &Dispatch,
        group: Option<usize>,
        cfg: impl Fn(u32) -> LaneConfig,
    ) {
        let phase = self.phases.len();
        for (k, &lane) in lanes.iter().enumerate() {
            self.slots.insert(
                lane,
                Slot {
                    phase,
                    k,
                    group,
                    config: cfg(lane),
                    created_ms: 0.0,
                    ready: false,
                    exited: false,
                },
            );
        }
        self.phases.push(Phase {
            lanes: lanes.to_vec(),
            tasks,
            dispatcher: Dispatcher::new(plan),
        });
    }

    /// The run `req` asks for, or why it cannot run on workers. `seed` seeds the choice among
    /// GIL waiters.
    pub fn new(req: RunRequest, seed: u64) -> Result<Self, String> {
        let mut h = Self::empty(seed);
        let io = IoModel::of(&req.params);
        let tasks = req.tasks.clone();
        let all: Vec<u32> = (0..tasks.len() as u32).collect();
        let plan = Dispatch::for_model(&req.params.model, tasks.len() as u32);
        let ids = |w: u32| (0..w).collect::<Vec<u32>>();
        match &req.params.model {
            Model::Sequential => {
                let own = LaneGil::Own {
                    mode: GilMode::Classic,
                };
                h.add_phase(&[0], tasks, &Dispatch::Fixed(vec![all]), None, |l| {
                    lane_config(l, Program::MainThread, own, io)
                });
            }
            Model::Threads {
                workers,
                gil,
                switch_interval_us,
            } => {
                if *gil == GilMode::Classic {
                    let g = h.add_group(GilMode::Classic, *switch_interval_us);
                    h.gil_stats_group = Some(g);
                    let slice = shared_slice_us(*switch_interval_us);
                    h.add_phase(&ids(*workers), tasks, &plan, Some(g), |l| LaneConfig {
                        slice_us: slice,
                        ..lane_config(l, Program::Worker, LaneGil::Host, io)
                    });
                } else {
                    // Free-threaded: no GIL anywhere, so nothing to ask the host for.
                    h.free_threads = Some(*switch_interval_us);
                    let free = LaneGil::Own {
                        mode: GilMode::Free,
                    };
                    h.add_phase(&ids(*workers), tasks, &plan, None, |l| {
                        lane_config(l, Program::Worker, free, io)
                    });
                }
            }
            Model::Processes { workers } | Model::Pool { workers, .. } => {
                h.processes = true;
                let own = LaneGil::Own {
                    mode: GilMode::Classic,
                };
                h.add_phase(&ids(*workers), tasks, &plan, None, |l| LaneConfig {
                    report_counter: true,
                    ..lane_config(l, Program::Worker, own, io)
                });
            }
            Model::Interpreters { workers } => {
                // Each interpreter has its own GIL: nobody waits for another's.
                let own = LaneGil::Own {
                    mode: GilMode::Classic,
                };
                h.add_phase(&ids(*workers), tasks, &plan, None, |l| {
                    lane_config(l, Program::Worker, own, io)
                });
            }
            Model::Convoy {
                cpu_threads,
                gil,
                switch_interval_us,
            } => {
                let setup = convoy::Setup::from_params(&req.params)
                    .ok_or_else(|| "the convoy demo's parameters are incomplete".to_owned())?;
                // Phase 1: the I/O thread alone; its GIL has nobody else to hand over to.
                let alone = LaneGil::Own {
                    mode: GilMode::Classic,
                };
                let first: Vec<Numbered> = tasks.iter().take(1).cloned().collect();
                h.add_phase(
                    &[ALONE_LANE],
                    first,
                    &Dispatch::Fixed(vec![vec![0]]),
                    None,
                    |l| lane_config(l, Program::Worker, alone, io),
                );
                // Phase 2: the same calls beside the CPU-bound threads, one GIL for all.
                let lanes: Vec<u32> = (BESIDE_LANE..2 + cpu_threads).collect();
                let rest: Vec<Numbered> = tasks.iter().skip(1).cloned().collect();
                let plan = Dispatch::Fixed((0..lanes.len() as u32).map(|k| vec![k]).collect());
                if *gil == GilMode::Classic {
                    let g = h.add_group(GilMode::Classic, *switch_interval_us);
                    h.gil_stats_group = Some(g);
                    let slice = shared_slice_us(*switch_interval_us);
                    h.add_phase(&lanes, rest, &plan, Some(g), |l| LaneConfig {
                        slice_us: slice,
                        ..lane_config(l, Program::Worker, LaneGil::Host, io)
                    });
                } else {
                    h.free_threads = Some(*switch_interval_us);
                    let free = LaneGil::Own {
                        mode: GilMode::Free,
                    };
                    h.add_phase(&lanes, rest, &plan, None, |l| {
                        lane_config(l, Program::Worker, free, io)
                    });
                }
                h.setup = Some(setup);
            }
            Model::Race { .. } => {
                return Err(crate::RACE_NEEDS_SHARED_MEMORY.to_owned());
            }
        }
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
        let counter = match job.counter {
            CounterShare::Copy { value } => LaneCounter::Copy { value },
            CounterShare::SharedValue => LaneCounter::Shared,
        };
        let own = LaneGil::Own {
            mode: GilMode::Classic,
        };
        h.add_phase(&job.lanes, job.tasks, &job.dispatch, None, |l| LaneConfig {
            counter,
            report_counter: true,
            ..lane_config(l, Program::Worker, own, job.io)
        });
        h
    }
}
