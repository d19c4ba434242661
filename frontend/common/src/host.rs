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

use gil_lab::exec::{Dispatcher, Numbered};
use gil_lab::gil::Take;
use gil_lab::plan::RunPlan;
use gil_lab::plan::convoy;
use gil_lab::rng::SplitMix64;
use gil_lab::runner::Meter;
use gil_lab::runner::{self, RunParts};
use gil_lab::trace::{GilEvent, RunReport, Span, SpanState};
use gil_lab::workload::TaskOutcome;

use self::gil::Group;
use crate::protocol::{
    FromLane, LaneConfig, LaneCounter, LiveEvent, ProcessResult, RunRequest, ToLane,
};
use crate::{SpanMeter, io_note};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Preparing,
    Running,
    Finished,
}

/// The host side of one worker-based run (or of the processes of one race case). See the
/// module docs.
pub struct HostCore {
    request: Option<RunRequest>,
    /// What the run is made of (empty for a job's processes).
    plan: RunPlan,
    /// The host group standing for each of the plan's GILs (none for a GIL that is not one).
    host_groups: Vec<Option<usize>>,
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
}

impl HostCore {
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
            if self.state == State::Finished {
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

    /// Live events since the last call: spans, progress and outcomes in order, then each
    /// lane's latest open state.
    pub fn take_live(&mut self) -> Vec<LiveEvent> {
        let mut ev = std::mem::take(&mut self.live);
        ev.extend(std::mem::take(&mut self.open).into_values());
        ev
    }

    /// The report of the run (so far, if it has not finished), assembled as every path's is.
    pub fn report(&self) -> Option<RunReport> {
        let req = self.request.as_ref()?;
        let params = &req.params;
        let mut notes = Vec::new();
        let gil = self.gil_stats().map(|(stats, note)| {
            notes.extend(note);
            stats
        });
        if self.messaged_gil() {
            notes.push(crate::MESSAGE_GIL_NOTE.to_owned());
        }
        notes.extend(io_note(params));
        let mut spans = self.spans.clone();
        spans.sort_by_key(|s| (s.start_us, s.lane));
        let mut gil_events = self.gil_events.clone();
        gil_events.sort_by_key(GilEvent::at_us);
        let wall = self.ended_us;
        let machine = crate::machine(req.cores, &req.browser, req.isolated);
        let measured = SpanMeter {
            cores: machine.cores,
        }
        .stop(&spans, 0, wall);
        let mut report = runner::assemble(RunParts {
            scenario: &req.scenario,
            params,
            tasks: &self.plan.labels,
            lanes: self.plan.lanes(),
            spans,
            gil_events,
            outcomes: self.outcomes.clone(),
            started_us: 0,
            ended_us: wall,
            measured,
            gil,
            counters: Vec::new(),
            notes,
            machine,
        });
        if let Some(setup) = &self.plan.report.convoy {
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

mod gil;
mod plan;

pub use plan::shared_slice_us;

#[cfg(test)]
mod tests;
