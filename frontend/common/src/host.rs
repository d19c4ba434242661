//! The host worker's side of a worker-based run: the core's [`GilMachine`] granting a shared
//! GIL by messages, the core's [`Dispatcher`] answering `q.get()`, and the report assembled
//! through `gil_lab::runner::assemble` — the same rules and the same report shape as every
//! other path, driven by messages instead of a mutex.
//!
//! [`HostCore`] is sans-IO: lane messages and the time come in, [`HostOut`]s go out (create a
//! worker, post a message, the run is over). The engine's `HostRun` is a thin `wasm-bindgen`
//! shell around it, and the tests drive it natively.
//!
//! ## One clock, ordered by the host
//!
//! Lanes stamp what they do on their own reading of `timeOrigin + now()`. The host keeps each
//! GIL's machine on a clock that never goes back: a message stamped earlier than what the
//! machine has seen counts as happening now. The machine's waits end lazily: before anything
//! stamped `t` is applied, every wait ending by `t` is replayed in order (a drop request is
//! set at the moment the wait ended, just as a waiter's timed-out condition would). A grant is
//! stamped no earlier than the last release, so a running span never begins before the
//! previous holder's ended.
//!
//! The holder learns when a drop request becomes due from the grant (and from a `DropDue`
//! update when a new waiter arrives) and releases at its first check point past it; so no
//! timer runs anywhere and the switch interval is honoured below the browser's timer floor.

use std::collections::BTreeMap;

use gil_lab::exec::{Dispatch, Dispatcher, Numbered};
use gil_lab::gil::{GilMachine, GilMode, Take};
use gil_lab::rng::SplitMix64;
use gil_lab::runner::convoy::{self, ALONE_LANE, BESIDE_LANE};
use gil_lab::runner::{self, CounterShare, Measured, RunParts};
use gil_lab::scenario::Model;
use gil_lab::trace::{CpuSource, GilEvent, GilStats, Lane, RunReport, Span, SpanState};
use gil_lab::workload::TaskOutcome;

use crate::protocol::{
    FromLane, IoModel, LaneConfig, LaneCounter, LaneGil, LiveEvent, ProcessJob, ProcessResult,
    Program, RunRequest, ToLane,
};
use crate::{estimate_cores, io_note, running_us};

/// How long a lane that owns its GIL works between looks at its messages, µs: it expects
/// none while it works, so this only bounds how stale its event loop gets.
const OWN_SLICE_US: u64 = 50_000;

/// What the host's JavaScript is asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum HostOut {
    /// Create a lane worker with this configuration.
    Spawn {
        /// Its configuration.
        config: LaneConfig,
    },
    /// Post a message to a lane.
    Send {
        /// Lane id.
        lane: u32,
        /// The message.
        msg: ToLane,
    },
    /// A lane's thread ended: terminate its worker.
    Terminate {
        /// Lane id.
        lane: u32,
    },
    /// The run's clock started (tell the page).
    Started {
        /// Epoch, ms on `timeOrigin + now()`.
        epoch_ms: f64,
    },
    /// Every lane has ended.
    Finished,
    /// The run cannot go on.
    Failed {
        /// Why.
        message: String,
    },
}

struct Slot {
    phase: usize,
    /// Index among its phase's lanes (the dispatcher's lane index).
    k: usize,
    group: Option<usize>,
    config: LaneConfig,
    created_ms: f64,
    ready: bool,
    exited: bool,
}

struct Phase {
    lanes: Vec<u32>,
    tasks: Vec<Numbered>,
    dispatcher: Dispatcher,
}

/// One shared GIL and the bookkeeping that orders it.
struct Group {
    machine: GilMachine,
    /// The latest instant the machine has seen.
    clock_us: u64,
    /// The latest release: no grant is stamped before it.
    last_release_us: u64,
    /// A grant not yet sent: (lane, at, waited).
    pending: Option<(u32, u64, bool)>,
    /// What the holder was last told: (holder, drop due).
    told: Option<(u32, Option<u64>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Preparing,
    Running,
    Finished,
    Failed,
}

/// The host side of one worker-based run (or of the processes of one race case). See the
/// module docs.
pub struct HostCore {
    request: Option<RunRequest>,
    setup: Option<convoy::Setup>,
    slots: BTreeMap<u32, Slot>,
    phases: Vec<Phase>,
    phase: usize,
    groups: Vec<Group>,
    rng: SplitMix64,
    /// Lanes are fresh processes: the clock runs from before they are created.
    processes: bool,
    /// The epoch was given (a job of the threaded engine, whose run announced it).
    epoch_given: bool,
    epoch_ms: Option<f64>,
    spans: Vec<Span>,
    gil_events: Vec<GilEvent>,
    outcomes: Vec<(u32, TaskOutcome)>,
    live: Vec<LiveEvent>,
    open: BTreeMap<u32, LiveEvent>,
    ended_us: u64,
    state: State,
    gil_stats_group: Option<usize>,
    free_threads: Option<u64>,
}

fn lane_config(lane: u32, program: Program, gil: LaneGil, io: IoModel) -> LaneConfig {
    let slice_us = OWN_SLICE_US;
    LaneConfig {
        lane,
        program,
        gil,
        counter: LaneCounter::Copy { value: 0 },
        report_counter: false,
        epoch_ms: None,
        io,
        slice_us,
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

    /// Whether the lanes map one shared counter (the driver makes the `SharedArrayBuffer`).
    pub fn needs_shared_counter(&self) -> bool {
        self.slots
            .values()
            .any(|s| s.config.counter == LaneCounter::Shared)
    }

    /// Whether every lane has ended.
    pub fn finished(&self) -> bool {
        self.state == State::Finished
    }

    fn us(&self, abs_ms: f64) -> u64 {
        self.epoch_ms
            .map_or(0, |e| ((abs_ms - e) * 1000.0).max(0.0) as u64)
    }

    /// Starts the run at `now_ms` (absolute): lane workers to create, and for processes the
    /// clock's start (a process's start cost is part of the run).
    pub fn begin(&mut self, now_ms: f64) -> Vec<HostOut> {
        let mut out = Vec::new();
        if self.processes && self.epoch_ms.is_none() {
            self.epoch_ms = Some(now_ms);
        }
        if self.processes && !self.epoch_given {
            out.push(HostOut::Started { epoch_ms: now_ms });
        }
        if let Some(setup) = &self.setup {
            self.live.push(LiveEvent::Lanes {
                lanes: setup.lanes(),
            });
        }
        let epoch = self.epoch_ms.filter(|_| self.processes);
        for slot in self.slots.values_mut() {
            slot.created_ms = now_ms;
            slot.config.epoch_ms = epoch;
            out.push(HostOut::Spawn {
                config: slot.config.clone(),
            });
        }
        if self.slots.is_empty() {
            self.state = State::Finished;
            out.push(HostOut::Finished);
        } else if self.processes {
            self.state = State::Running;
        }
        out
    }

    /// Messages from `lane`, received at `now_ms` (absolute).
    pub fn on_lane(&mut self, lane: u32, msgs: Vec<FromLane>, now_ms: f64) -> Vec<HostOut> {
        let mut out = Vec::new();
        for msg in msgs {
            if matches!(self.state, State::Finished | State::Failed) {
                break;
            }
            self.on_one(lane, msg, now_ms, &mut out);
        }
        out
    }

    fn on_one(&mut self, lane: u32, msg: FromLane, now_ms: f64, out: &mut Vec<HostOut>) {
        let Some(slot) = self.slots.get(&lane) else {
            return;
        };
        let group = slot.group;
        match msg {
            FromLane::Ready { at_ms } => self.ready(lane, at_ms, now_ms, out),
            FromLane::Take { at_us } => {
                if let Some(g) = group {
                    let t = self.advance(g, at_us, out);
                    if self.groups[g].machine.take(lane, t) == Take::Granted {
                        self.grant(g, lane, t, false, out);
                    }
                    self.settle(g, out);
                }
            }
            FromLane::Release { at_us, ending } => {
                if let Some(g) = group {
                    let t = self.advance(g, at_us, out);
                    self.release(g, lane, t, ending, out);
                    self.settle(g, out);
                }
            }
            FromLane::Yield { at_us } => {
                if let Some(g) = group {
                    let t = self.advance(g, at_us, out);
                    // Released at a check point; forced switching keeps it out until another
                    // lane has taken the GIL, and then it asks again.
                    let at = self.release(g, lane, t, false, out);
                    if self.groups[g].machine.take(lane, at) == Take::Granted {
                        self.grant(g, lane, at, true, out);
                    }
                    self.settle(g, out);
                }
            }
            FromLane::Next => {
                let (phase, k) = (slot.phase, slot.k);
                let p = &mut self.phases[phase];
                let tasks: Vec<Numbered> = p
                    .dispatcher
                    .next(k)
                    .into_iter()
                    .filter_map(|pos| p.tasks.get(pos as usize).cloned())
                    .collect();
                out.push(HostOut::Send {
                    lane,
                    msg: ToLane::Work { tasks },
                });
            }
            FromLane::Span { span } => {
                self.spans.push(span);
                self.live.push(LiveEvent::Span { span });
            }
            FromLane::Open {
                task,
                state,
                since_us,
            } => {
                self.open.insert(
                    lane,
                    LiveEvent::Open {
                        lane,
                        task,
                        state,
                        since_us,
                    },
                );
            }
            FromLane::Progress {
                task,
                done,
                total,
                at_us,
            } => self.live.push(LiveEvent::Progress {
                lane: Some(lane),
                task,
                done,
                total,
                at_us,
            }),
            FromLane::TaskDone { id, outcome } => {
                self.live.push(LiveEvent::Outcome {
                    id,
                    outcome: outcome.clone(),
                });
                self.outcomes.push((id, outcome));
            }
            FromLane::Gil { event } => self.gil_events.push(event),
            FromLane::Exited { at_us } => self.exited(lane, at_us, now_ms, out),
            FromLane::Failed { message } => {
                self.state = State::Failed;
                out.push(HostOut::Failed {
                    message: format!("lane {}: {message}", lane + 1),
                });
            }
        }
    }

    fn ready(&mut self, lane: u32, at_ms: f64, now_ms: f64, out: &mut Vec<HostOut>) {
        let processes = self.processes;
        let (start, end) = {
            let Some(slot) = self.slots.get_mut(&lane) else {
                return;
            };
            slot.ready = true;
            (slot.created_ms, at_ms)
        };
        if processes {
            // A process's start cost: from creating its worker to its engine being up.
            let span = Span {
                lane,
                task: None,
                state: SpanState::Starting,
                start_us: self.us(start),
                end_us: self.us(end),
            };
            if span.end_us > span.start_us {
                self.spans.push(span);
                self.live.push(LiveEvent::Span { span });
            }
            return;
        }
        if self.state == State::Preparing && self.slots.values().all(|s| s.ready) {
            // Python threads start in well under a millisecond; the workers standing in for
            // them were started before the clock, so their start cost is not the run's.
            self.epoch_ms = Some(now_ms);
            self.state = State::Running;
            out.push(HostOut::Started { epoch_ms: now_ms });
            self.start_phase(0, now_ms, out);
        }
    }

    fn start_phase(&mut self, phase: usize, now_ms: f64, out: &mut Vec<HostOut>) {
        self.phase = phase;
        let epoch_ms = self.epoch_ms.unwrap_or(now_ms);
        for &lane in &self.phases[phase].lanes {
            out.push(HostOut::Send {
                lane,
                msg: ToLane::Start { epoch_ms },
            });
        }
    }

    fn exited(&mut self, lane: u32, at_us: u64, now_ms: f64, out: &mut Vec<HostOut>) {
        let phase = match self.slots.get_mut(&lane) {
            Some(slot) => {
                slot.exited = true;
                slot.phase
            }
            None => return,
        };
        self.open.remove(&lane);
        self.ended_us = self.ended_us.max(at_us);
        out.push(HostOut::Terminate { lane });
        let done = self.phases[phase]
            .lanes
            .iter()
            .all(|l| self.slots.get(l).is_none_or(|s| s.exited));
        if !done || phase != self.phase {
            return;
        }
        if phase + 1 < self.phases.len() && !self.processes {
            self.start_phase(phase + 1, now_ms, out);
        } else if self.slots.values().all(|s| s.exited) {
            self.ended_us = self.ended_us.max(self.us(now_ms));
            self.state = State::Finished;
            out.push(HostOut::Finished);
        }
    }

    /// Brings group `g`'s machine to `at_us` (or to where it already is, if later): every
    /// wait that ended meanwhile times out, in order. Returns the machine's time.
    fn advance(&mut self, g: usize, at_us: u64, out: &mut Vec<HostOut>) -> u64 {
        let t = at_us.max(self.groups[g].clock_us);
        while let Some((lane, until)) = self.groups[g].machine.next_deadline() {
            if until > t {
                break;
            }
            let m = &mut self.groups[g].machine;
            if m.wake(lane, until, true) == Take::Granted {
                // Only when the GIL was free with a waiter left waiting, which grants do
                // not leave behind; handled all the same.
                self.grant(g, lane, until, true, out);
            }
        }
        self.groups[g].clock_us = t;
        t
    }

    /// `lane` releases group `g`'s GIL at `t`; a waiter, chosen as the machine chooses, takes
    /// it at once. Returns the hand-off's time.
    fn release(
        &mut self,
        g: usize,
        lane: u32,
        t: u64,
        ending: bool,
        out: &mut Vec<HostOut>,
    ) -> u64 {
        let grp = &mut self.groups[g];
        let r = grp.machine.release(lane, t, ending);
        grp.last_release_us = grp.last_release_us.max(t);
        if grp.told.is_some_and(|(h, _)| h == lane) {
            grp.told = None;
        }
        if !r.wake_one {
            return t;
        }
        let Some(next) = grp.machine.choose_waiter(&mut self.rng) else {
            return t;
        };
        if grp.machine.wake(next, t, false) == Take::Granted {
            self.grant(g, next, t, true, out);
        }
        t
    }

    /// The machine gave `lane` the GIL at `at`: the message goes out once the group has
    /// settled (so that it carries the drop due time of every waiter).
    fn grant(&mut self, g: usize, lane: u32, at: u64, waited: bool, out: &mut Vec<HostOut>) {
        if self.groups[g].pending.is_some() {
            self.settle(g, out);
        }
        let grp = &mut self.groups[g];
        let at = if grp.machine.mode() == GilMode::Classic {
            at.max(grp.last_release_us)
        } else {
            at
        };
        grp.clock_us = grp.clock_us.max(at);
        grp.pending = Some((lane, at, waited));
    }

    /// Sends the pending grant, or tells the holder a new drop due time.
    fn settle(&mut self, g: usize, out: &mut Vec<HostOut>) {
        let grp = &mut self.groups[g];
        for e in grp.machine.drain_events() {
            self.gil_events.push(e);
        }
        let due = grp.machine.drop_due_us();
        if let Some((lane, at_us, waited)) = grp.pending.take() {
            grp.told = Some((lane, due));
            out.push(HostOut::Send {
                lane,
                msg: ToLane::Granted {
                    at_us,
                    waited,
                    drop_due_us: due,
                },
            });
            return;
        }
        if let Some(holder) = grp.machine.holder()
            && grp.told != Some((holder, due))
        {
            grp.told = Some((holder, due));
            out.push(HostOut::Send {
                lane: holder,
                msg: ToLane::DropDue { at_us: due },
            });
        }
    }

    /// Live events since the last call: spans, progress and outcomes in order, then each
    /// lane's latest open state.
    pub fn take_live(&mut self) -> Vec<LiveEvent> {
        let mut ev = std::mem::take(&mut self.live);
        ev.extend(std::mem::take(&mut self.open).into_values());
        ev
    }

    /// The GIL's counts for a thread run.
    fn gil_stats(&self) -> Option<GilStats> {
        if let Some(g) = self.gil_stats_group {
            let m = &self.groups[g].machine;
            return Some(GilStats {
                switches: m.switches(),
                drop_requests: m.drop_requests(),
                interval_us: m.interval_us(),
            });
        }
        self.free_threads.map(|interval_us| GilStats {
            switches: 0,
            drop_requests: 0,
            interval_us,
        })
    }

    /// The report of the run (so far, if it has not finished), assembled as every path's is.
    pub fn report(&self) -> Option<RunReport> {
        let req = self.request.as_ref()?;
        let params = &req.params;
        let labels: Vec<(u32, String)> = req.tasks.iter().map(|(id, t)| (*id, t.label())).collect();
        let lanes: Vec<Lane> = match &self.setup {
            Some(setup) => setup.lanes(),
            None => runner::lanes_for(params),
        };
        let gil = self.gil_stats();
        let mut notes = Vec::new();
        if let Some(stats) = &gil
            && self.gil_stats_group.is_some()
        {
            if stats.switches > 1 {
                notes.push(runner::gil_note(stats));
            }
            notes.push(crate::MESSAGE_GIL_NOTE.to_owned());
        }
        notes.extend(io_note(params));
        let mut spans = self.spans.clone();
        spans.sort_by_key(|s| (s.start_us, s.lane));
        let mut gil_events = self.gil_events.clone();
        gil_events.sort_by_key(GilEvent::at_us);
        let wall = self.ended_us;
        let machine = crate::machine(req.cores, &req.browser, req.isolated);
        let measured = Measured {
            cpu_user_us: running_us(&spans),
            cpu_sys_us: 0,
            cores: estimate_cores(&spans, wall, machine.cores),
        };
        let mut report = runner::assemble(RunParts {
            scenario: &req.scenario,
            params,
            tasks: &labels,
            lanes,
            spans,
            gil_events,
            outcomes: self.outcomes.clone(),
            started_us: 0,
            ended_us: wall,
            measured,
            cpu_source: CpuSource::Estimated,
            gil,
            counters: Vec::new(),
            notes,
            machine,
        });
        if let Some(setup) = &self.setup {
            report.convoy = convoy::measure(setup, &report.spans);
        }
        Some(report)
    }

    /// What a [`ProcessJob`]'s processes produced; `shared_value` is the shared counter's
    /// final value, read by the driver.
    pub fn process_result(&self, shared_value: Option<u64>) -> ProcessResult {
        ProcessResult {
            outcomes: self.outcomes.clone(),
            shared_value: shared_value.filter(|_| self.needs_shared_counter()),
        }
    }
}

#[cfg(test)]
mod tests;
