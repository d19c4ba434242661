//! The discrete-event engine: virtual time in nanoseconds, an event queue, the cores, and the
//! lanes' CPU work.
//!
//! A lane's CPU work is a [`Job`]: a run of `sum_powers` steps, a run of counter updates, one
//! op, a process start or an overhead, measured in nanoseconds at full speed. While a lane sits
//! on a core its job advances at the speed of a core with that many cores busy (the
//! profile's parallel-efficiency curve); off a core it stands still. A job never spans a check
//! point at which the GIL could change hands: when a waiter's drop request appears, the
//! holder's job is cut at its next check point ([`Engine::cut_at_next_check`]). So 2.56 M
//! steps of the lesson's `Pool(64)` are a few hundred jobs, not millions of events, and the
//! answer is the same as stepping one by one.
//!
//! Everything is integer arithmetic on a seeded generator: the same inputs give the same
//! report, byte for byte.

use std::ops::Range;

use super::cell::{Cell, Shape};
use super::costs::{SPEED_ONE, Tables, time_for, work_in};
use super::cpu::Cpu;
use super::limits::{Cancel, Halt, MAX_EVENTS, MAX_MEM_OPS, NeverCancel};
use super::queue::{Event, Queue, Wake};
use crate::exec::{Dispatcher, Numbered, Op, Recorder, ThreadProgram};
use crate::gil::GilMachine;
use crate::rng::SplitMix64;
use crate::trace::{GilEvent, SpanBuffer, SpanState};
use crate::view::limits::{MAX_GIL_EVENTS, MAX_SPANS};
use crate::workload::{CounterCase, TaskOutcome};

/// How often a run looks at its limits and its [`Cancel`]: every this many events or
/// replayed memory ops (about a millisecond of work).
pub const POLL: u64 = 4096;

/// What kind of lane, for the costs that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A script's main thread (no queue).
    Main,
    /// A worker thread pulling from a queue.
    Thread,
    /// A process's main thread fed batches by its parent.
    Process,
}

/// Where a lane's `Op::Next` gets its tasks.
#[derive(Debug, Clone)]
pub enum Feed {
    /// All of these the first time, nothing after.
    Once(Option<Vec<Numbered>>),
    /// Dispatcher `d`'s share for the lane with index `index`; `first` is free (it came with
    /// the process's start).
    Dispatch {
        /// Dispatcher index.
        d: usize,
        /// The lane's index among the dispatcher's workers.
        index: usize,
        /// The next batch is the first one.
        first: bool,
    },
}

/// After a forced switch, what the releaser does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Asks for the GIL again (a check point).
    Take,
    /// Goes on with its next op (a release before a blocking call).
    Continue,
}

/// What a blocked lane waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    /// A download or a sleep.
    Io,
    /// The counter's lock.
    Lock,
    /// Its parent's answer to "next batch".
    Batch,
}

/// Where a lane is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Its stage has not started it yet.
    Pending,
    /// Doing ops and CPU work.
    Run,
    /// Waiting for the GIL.
    Gil,
    /// Forced switching: waiting for another thread to take the GIL it released.
    Switch(After),
    /// In a blocking call.
    Blocked(Block),
    /// Exited.
    Done,
}

/// CPU work in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// What the work is.
    pub kind: JobKind,
    /// Its size, ns at full speed.
    pub work: u64,
    /// Work done at `since`.
    pub done: u64,
    /// When `done` was last brought up to date.
    pub since: u64,
}

/// The kinds of CPU work.
#[derive(Debug, Clone, PartialEq)]
pub enum JobKind {
    /// `full` whole steps from `i0` (each with its check point), then one more step whose
    /// check point comes after the job.
    Steps {
        /// First step.
        i0: u32,
        /// Whole units skipped.
        full: u32,
    },
    /// `full` whole counter updates of shape `shape`, then the first `tail` ops of the next
    /// (the op after them is a check point).
    Units {
        /// Index into the engine's shapes.
        shape: usize,
        /// Whole updates.
        full: u64,
        /// Ops of the next update.
        tail: usize,
        /// Memory ops of the job applied so far.
        mem_next: u64,
        /// Memory ops in the job.
        mem_total: u64,
    },
    /// One op.
    Op(Op),
    /// A process starting.
    Start,
    /// Overhead outside Python code (a queue `get`, sending a result).
    Overhead,
}

/// One simulated lane.
#[derive(Debug)]
pub struct SimLane {
    /// What kind of lane.
    pub role: Role,
    /// Its thread program.
    pub prog: ThreadProgram,
    /// Its spans.
    pub rec: Recorder,
    /// Index of its interpreter (GIL).
    pub interp: usize,
    /// Index of the counter cell it updates.
    pub counter: usize,
    /// Where it gets tasks.
    pub feed: Feed,
    /// Where it is.
    pub status: Status,
    /// CPU work in progress.
    pub job: Option<Job>,
    /// Its core, when on one.
    pub slot: Option<usize>,
    /// Waiting for a core.
    pub queued: bool,
    /// End of its time slice.
    pub slice_end: u64,
    /// A slice event is pending.
    pub slice_pending: bool,
    /// Generation of its lane events.
    pub epoch: u64,
    /// Generation of its core placement (slice events).
    pub cpu_epoch: u64,
    /// The counter value it last loaded.
    pub register: u64,
    /// Signalled by a GIL release, not yet awake.
    pub signalled: bool,
    /// Back from a blocking call: the call's own cost is due once it holds the GIL again.
    pub returning: bool,
    /// Its first `sum_powers` has begun (a fresh process pays a warm-up on it).
    pub warm: bool,
    /// Its stage.
    pub stage: usize,
    /// From its stage's start to its own start, ns.
    pub start_at: u64,
    /// From its stage's start to the start of its `starting` span, when it has one.
    pub starting_from: Option<u64>,
    /// CPU work of its start (a process), ns.
    pub start_work: u64,
    /// From its exit to its parent's `join()` returning, ns.
    pub exit_delay: u64,
}

/// The interpreter of a group of lanes: its GIL and who waits for a switch.
#[derive(Debug)]
pub struct Interp {
    /// The GIL's rules.
    pub gil: GilMachine,
    /// Lanes parked by forced switching.
    pub switch_waiters: Vec<usize>,
}

/// The race demo's bookkeeping for one stage.
#[derive(Debug, Clone)]
pub struct CaseInfo {
    /// What ran.
    pub name: String,
    /// Why it came out so.
    pub why: String,
    /// The cell the parent reads at the end.
    pub parent_cell: usize,
    /// Increments the workers did.
    pub increments: u64,
}

/// A group of lanes that starts when the previous group has ended.
#[derive(Debug, Clone)]
pub struct Stage {
    /// Its lanes.
    pub lanes: Range<usize>,
    /// Lanes that exited.
    pub done: usize,
    /// When the last of them was joined.
    pub end: u64,
    /// Race bookkeeping.
    pub case: Option<CaseInfo>,
}

/// The whole simulated world.
pub struct Engine<'a> {
    /// Costs.
    pub t: &'a Tables,
    /// Now, ns.
    pub now: u64,
    pub(super) queue: Queue,
    pub(super) cpu: Cpu,
    /// Every lane; a lane's index is its id in the report.
    pub lanes: Vec<SimLane>,
    /// Every interpreter.
    pub interps: Vec<Interp>,
    /// Every counter cell.
    pub cells: Vec<Cell>,
    /// Task dispatchers with the tasks they hand out.
    pub dispatchers: Vec<(Dispatcher, Vec<Numbered>)>,
    /// Stages, run one after another.
    pub stages: Vec<Stage>,
    pub(super) shapes: Vec<Shape>,
    pub(super) rng: SplitMix64,
    /// Spans.
    pub sink: SpanBuffer,
    /// GIL events, µs.
    pub gil_events: Vec<GilEvent>,
    /// Task outcomes.
    pub outcomes: Vec<(u32, TaskOutcome)>,
    /// Race cases.
    pub cases: Vec<CounterCase>,
    /// Server time to first byte and bandwidth for downloads.
    pub io: (u64, u64),
    /// CPU time on cores running Python (user) and starting processes (sys), ns.
    pub cpu_time: (u64, u64),
    /// When the last stage ended.
    pub end: u64,
    /// Runs of identical units become one job (off only in tests that compare with stepping
    /// one op at a time).
    pub bulk: bool,
    /// Asked every [`POLL`] events (and replayed memory ops) whether to stop.
    pub cancel: &'a dyn Cancel,
    /// Set where a limit is reached deep inside an event (replaying memory ops); the run
    /// stops after that event.
    pub(super) halt: Option<Halt>,
    /// Memory ops replayed one by one so far.
    pub(super) mem_ops: u64,
    events: u64,
    last_speed: u64,
    dirty: Vec<usize>,
}

impl<'a> Engine<'a> {
    /// An empty world on `cores` cores.
    pub fn new(t: &'a Tables, cores: u32, seed: u64) -> Engine<'a> {
        Engine {
            t,
            now: 0,
            queue: Queue::default(),
            cpu: Cpu::new(cores),
            lanes: Vec::new(),
            interps: Vec::new(),
            cells: Vec::new(),
            dispatchers: Vec::new(),
            stages: Vec::new(),
            shapes: Vec::new(),
            rng: SplitMix64::new(seed),
            sink: SpanBuffer::default(),
            gil_events: Vec::new(),
            outcomes: Vec::new(),
            cases: Vec::new(),
            io: (0, 0),
            cpu_time: (0, 0),
            end: 0,
            bulk: true,
            cancel: &NeverCancel,
            halt: None,
            mem_ops: 0,
            events: 0,
            last_speed: SPEED_ONE,
            dirty: Vec::new(),
        }
    }

    /// Runs every stage to its end, or until a limit is reached or [`Engine::cancel`] says
    /// to stop.
    pub fn run(&mut self) -> Result<(), Halt> {
        if !self.stages.is_empty() {
            self.queue.push(0, Event::Stage(0));
        }
        while let Some((at, ev)) = self.queue.pop() {
            self.events += 1;
            if self.events > MAX_EVENTS {
                return Err(Halt::Events);
            }
            if self.events.is_multiple_of(POLL) {
                self.poll();
            }
            self.advance(at);
            if let Some(h) = self.halt {
                return Err(h);
            }
            match ev {
                Event::Lane { lane, epoch, what } => {
                    if self.lanes[lane].epoch == epoch {
                        self.on_wake(lane, what);
                    }
                }
                Event::Slice { lane, epoch } => {
                    if self.lanes[lane].cpu_epoch == epoch {
                        self.lanes[lane].slice_pending = false;
                        self.on_slice(lane);
                    }
                }
                Event::Stage(s) => self.start_stage(s),
            }
            self.schedule_jobs();
        }
        self.cpu.close(self.now);
        Ok(())
    }

    /// Ends the run where it is (it was cancelled): every lane's open span closes now, so
    /// the report shows what ran up to here.
    pub fn stop_here(&mut self) {
        let now_us = self.now / 1000;
        for lane in &mut self.lanes {
            if !matches!(lane.status, Status::Pending | Status::Done) {
                lane.rec.close(now_us, &self.sink);
            }
        }
        self.cpu.close(self.now);
        self.end = self.now;
    }

    /// Looks at the limits that grow with the run and at [`Engine::cancel`]; sets
    /// [`Engine::halt`] when the run must stop. Returns whether it must.
    pub(super) fn poll(&mut self) -> bool {
        if self.halt.is_none() {
            self.halt = if self.cancel.cancelled() {
                Some(Halt::Cancelled)
            } else if self.sink.len() > MAX_SPANS {
                Some(Halt::Spans)
            } else if self.gil_events.len() > MAX_GIL_EVENTS {
                Some(Halt::GilEvents)
            } else if self.mem_ops > MAX_MEM_OPS {
                Some(Halt::MemOps)
            } else {
                None
            };
        }
        self.halt.is_some()
    }

    /// Schedules `what` for lane `l` at `at`, replacing whatever it had pending.
    pub fn wake_at(&mut self, l: usize, at: u64, what: Wake) {
        let lane = &mut self.lanes[l];
        lane.epoch += 1;
        let epoch = lane.epoch;
        self.queue.push(
            at.max(self.now),
            Event::Lane {
                lane: l,
                epoch,
                what,
            },
        );
    }

    /// Brings time to `at`: memory ops of counter runs up to then, CPU time, job progress.
    fn advance(&mut self, at: u64) {
        let at = at.max(self.now);
        self.settle(at);
        let dt = at - self.now;
        let speed = self.t.speed(self.cpu.busy());
        for &l in self.cpu.running() {
            if let Some(job) = &mut self.lanes[l].job {
                job.done = (job.done + work_in(at - job.since, speed)).min(job.work);
                job.since = at;
                if job.kind == JobKind::Start {
                    self.cpu_time.1 += dt;
                } else {
                    self.cpu_time.0 += dt;
                }
            }
        }
        self.now = at;
    }

    /// Schedules the completion of every job whose end moved: new jobs, lanes that got a
    /// core, and all running jobs when the number of busy cores (so their speed) changed.
    fn schedule_jobs(&mut self) {
        let speed = self.t.speed(self.cpu.busy());
        let mut dirty = std::mem::take(&mut self.dirty);
        if speed != self.last_speed {
            self.last_speed = speed;
            dirty.extend_from_slice(self.cpu.running());
        }
        dirty.sort_unstable();
        dirty.dedup();
        for &l in &dirty {
            let lane = &self.lanes[l];
            if lane.slot.is_none() {
                continue;
            }
            if let Some(job) = &lane.job {
                let at = self.now + time_for(job.work - job.done, speed);
                self.wake_at(l, at, Wake::Job);
            }
        }
        dirty.clear();
        self.dirty = dirty;
    }

    /// Lane `l` starts CPU work `job` now.
    pub fn begin_job(&mut self, l: usize, kind: JobKind, work: u64) {
        self.lanes[l].job = Some(Job {
            kind,
            work,
            done: 0,
            since: self.now,
        });
        self.want_core(l);
        self.show(l);
    }

    /// Work of lane `l`'s job done by now.
    pub fn job_done_now(&self, l: usize) -> u64 {
        self.lanes[l].job.as_ref().map_or(0, |j| j.done)
    }

    /// Marks lane `l`'s job end as moved.
    pub fn job_changed(&mut self, l: usize) {
        self.dirty.push(l);
    }

    /// Lane `l` needs a core for its job.
    fn want_core(&mut self, l: usize) {
        if self.lanes[l].slot.is_some() {
            self.dirty.push(l);
            return;
        }
        match self.cpu.place(l, self.now) {
            Some(slot) => self.placed(l, slot),
            None => {
                self.cpu.enqueue(l);
                self.lanes[l].queued = true;
                self.ensure_slices();
            }
        }
    }

    fn placed(&mut self, l: usize, slot: usize) {
        let quantum = self.t.quantum;
        let lane = &mut self.lanes[l];
        lane.slot = Some(slot);
        lane.queued = false;
        lane.slice_end = self.now + quantum;
        lane.cpu_epoch += 1;
        lane.slice_pending = false;
        if let Some(job) = &mut lane.job {
            job.since = self.now;
        }
        self.dirty.push(l);
        self.show(l);
        self.ensure_slices();
    }

    /// When lanes wait for a core, every running lane's slice end becomes an event.
    fn ensure_slices(&mut self) {
        if !self.cpu.contended() {
            return;
        }
        for &l in self.cpu.running() {
            let lane = &mut self.lanes[l];
            if !lane.slice_pending {
                lane.slice_pending = true;
                let epoch = lane.cpu_epoch;
                self.queue.push(
                    lane.slice_end.max(self.now),
                    Event::Slice { lane: l, epoch },
                );
            }
        }
    }

    /// Lane `l` gives up its core (it waits, blocks or exits) or its place in the queue.
    pub fn leave_core(&mut self, l: usize) {
        if self.lanes[l].queued {
            self.cpu.dequeue(l);
            self.lanes[l].queued = false;
        }
        let Some(slot) = self.lanes[l].slot.take() else {
            return;
        };
        // Whatever completion was pending is void; the caller schedules what comes next.
        self.lanes[l].epoch += 1;
        if let Some(next) = self.cpu.leave(slot, self.now) {
            self.placed(next, slot);
        }
    }

    fn on_slice(&mut self, l: usize) {
        let Some(slot) = self.lanes[l].slot else {
            return;
        };
        if let Some(next) = self.cpu.preempt(slot, self.now) {
            let lane = &mut self.lanes[l];
            lane.slot = None;
            lane.queued = true;
            lane.epoch += 1;
            self.show(l);
            self.placed(next, slot);
        }
    }

    /// The recorder follows the lane's status: what a learner sees.
    pub fn show(&mut self, l: usize) {
        let holds_gil = self.interps[self.lanes[l].interp].gil.holder() == Some(l as u32);
        let lane = &mut self.lanes[l];
        let state = match lane.status {
            Status::Pending | Status::Done => return,
            Status::Run => match (&lane.job, lane.slot) {
                (Some(j), Some(_)) if j.kind == JobKind::Start => SpanState::Starting,
                // An `update()` that released the GIL (a small one holds it: running).
                (Some(j), Some(_))
                    if matches!(j.kind, JobKind::Op(Op::CCall { .. })) && !holds_gil =>
                {
                    SpanState::CCode
                }
                (Some(_), Some(_)) | (None, _) => SpanState::Running,
                (Some(_), None) => SpanState::CpuWait,
            },
            Status::Gil | Status::Switch(After::Take) => SpanState::GilWait,
            Status::Blocked(Block::Lock) => SpanState::LockWait,
            // Waiting for the parent's answer is waiting on a pipe: off the core, like I/O.
            Status::Switch(After::Continue) | Status::Blocked(_) => SpanState::IoWait,
        };
        lane.rec.enter(state, self.now / 1000, &self.sink);
    }

    fn start_stage(&mut self, s: usize) {
        let begin = self.now;
        for l in self.stages[s].lanes.clone() {
            let lane = &mut self.lanes[l];
            if let Some(from) = lane.starting_from {
                lane.rec
                    .enter(SpanState::Starting, (begin + from) / 1000, &self.sink);
            }
            let at = begin + lane.start_at;
            self.wake_at(l, at, Wake::Start);
        }
        if self.stages[s].lanes.is_empty() {
            self.stage_over(s);
        }
    }

    /// Lane `l` exited now.
    pub fn lane_exited(&mut self, l: usize) {
        let now_us = self.now / 1000;
        let lane = &mut self.lanes[l];
        lane.rec.close(now_us, &self.sink);
        lane.status = Status::Done;
        let (s, delay) = (lane.stage, lane.exit_delay);
        self.leave_core(l);
        let stage = &mut self.stages[s];
        stage.done += 1;
        stage.end = stage.end.max(self.now + delay);
        if stage.done == stage.lanes.len() {
            self.stage_over(s);
        }
    }

    fn stage_over(&mut self, s: usize) {
        let end = self.stages[s].end.max(self.now);
        if let Some(case) = self.stages[s].case.clone() {
            let observed = self.cells[case.parent_cell].value;
            self.cases.push(CounterCase {
                case: case.name,
                expected: case.increments,
                observed,
                lost: case.increments.saturating_sub(observed),
                explanation: case.why,
            });
        }
        if s + 1 < self.stages.len() {
            self.queue.push(end, Event::Stage(s + 1));
        } else {
            self.end = end;
        }
    }
}
