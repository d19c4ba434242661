//! One lane of a worker-based run: the core's own thread loop ([`ThreadProgram`]) carried out
//! for real inside a lane worker, with the GIL either granted by the host worker's machine
//! (threads of a page without shared memory) or the lane's own (a process).
//!
//! [`LaneCore`] is sans-IO like the program it drives: it runs ops until it has to wait (for the
//! GIL, for tasks, for a download or a timer) and says so with a [`LaneStep`]; what it has to
//! tell the host collects in an outbox of [`FromLane`] messages. The engine's `LaneRun` is a
//! thin `wasm-bindgen` shell around it, and the tests below drive it natively.
//!
//! Time stamps keep one order with the host's: a running span begins no earlier than the grant
//! the host stamped (itself no earlier than the previous holder's stamped release), and the
//! shared [`Recorder`] never lets a state begin before the previous one. So under a classic
//! GIL no two lanes' running spans overlap, whatever the browser's clock coarsening.
//!
//! Check points look at the time instead of a flag: the host says when a drop request would
//! become due (`GilMachine::drop_due_us`), and the holder releases at its first check point
//! past that moment. No timer is involved, so switch intervals far below the browser's timer
//! resolution are honoured.

use gil_lab::exec::{Blocking, Op, Recorder, ThreadProgram, Work};
use gil_lab::gil::{GilMachine, Take};
use gil_lab::platform::Clock;
use gil_lab::trace::{SpanBuffer, SpanState};
use gil_lab::workload::{CounterCell, DownloadOutput, SharedCounter, TaskOutcome};

use crate::protocol::{FromLane, LaneConfig, LaneCounter, LaneGil, LaneStep, Program, ToLane};

/// How often a task's progress goes to the host, µs.
const PROGRESS_EVERY_US: u64 = 50_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    /// Runnable.
    Nothing,
    /// For [`ToLane::Start`].
    Start,
    /// For [`ToLane::Granted`].
    Grant,
    /// For [`ToLane::Work`].
    Tasks,
    /// For the driver to finish a download or a sleep.
    Blocked,
    /// The thread has ended.
    Exited,
}

/// A lane's thread, its GIL as far as the lane sees it, and its work. See the module docs.
pub struct LaneCore {
    cfg: LaneConfig,
    program: ThreadProgram,
    rec: Recorder,
    spans: SpanBuffer,
    work: Work,
    counter: Box<dyn CounterCell>,
    register: u64,
    /// The lane's own GIL ([`LaneGil::Own`]).
    own: Option<GilMachine>,
    /// When the shared GIL's drop request is due, while this lane holds it.
    drop_due: Option<u64>,
    waiting: Waiting,
    /// A check point cut short by the end of a slice: look at it again first.
    at_checkpoint: bool,
    outbox: Vec<FromLane>,
    told_open: Option<(SpanState, u64, Option<u32>)>,
    last_progress_us: u64,
}

impl LaneCore {
    /// A lane configured by `cfg`, whose engine became ready at `ready_ms` (absolute).
    /// `shared` is the run's shared counter when `cfg.counter` is [`LaneCounter::Shared`].
    pub fn new(cfg: LaneConfig, shared: Option<Box<dyn CounterCell>>, ready_ms: f64) -> Self {
        let counter: Box<dyn CounterCell> = match (cfg.counter, shared) {
            (LaneCounter::Shared, Some(c)) => c,
            (LaneCounter::Copy { value }, _) => Box::new(SharedCounter::with_value(value)),
            // No shared memory was handed over: a copy, and the host's report says nothing
            // was shared (the cases that need it do not run on such pages).
            (LaneCounter::Shared, None) => Box::new(SharedCounter::new()),
        };
        let own = match cfg.gil {
            LaneGil::Own { mode } => Some(GilMachine::new(
                mode,
                gil_lab::gil::DEFAULT_SWITCH_INTERVAL_US,
            )),
            LaneGil::Host => None,
        };
        let program = match cfg.program {
            Program::Worker => ThreadProgram::worker(),
            Program::MainThread => ThreadProgram::main_thread(),
        };
        let waiting = if cfg.epoch_ms.is_some() {
            Waiting::Nothing
        } else {
            Waiting::Start
        };
        Self {
            rec: Recorder::new(cfg.lane),
            cfg,
            program,
            spans: SpanBuffer::default(),
            work: Work::default(),
            counter,
            register: 0,
            own,
            drop_due: None,
            waiting,
            at_checkpoint: false,
            outbox: vec![FromLane::Ready { at_ms: ready_ms }],
            told_open: None,
            last_progress_us: 0,
        }
    }

    /// The lane's id.
    pub fn lane(&self) -> u32 {
        self.cfg.lane
    }

    /// Whether [`run`](Self::run) has work to do now.
    pub fn runnable(&self) -> bool {
        self.waiting == Waiting::Nothing
    }

    /// Messages for the host since the last call, in order.
    pub fn take_outbox(&mut self) -> Vec<FromLane> {
        std::mem::take(&mut self.outbox)
    }

    /// A message from the host. Returns whether the lane became runnable (its driver then
    /// calls [`run`](Self::run); a lane that was running already carries on by itself).
    pub fn on_message(&mut self, msg: ToLane, clock: &dyn Clock) -> bool {
        let before = self.waiting;
        match msg {
            ToLane::Init { .. } => {}
            ToLane::Start { .. } => {
                if self.waiting == Waiting::Start {
                    self.waiting = Waiting::Nothing;
                }
            }
            ToLane::Granted {
                at_us,
                waited,
                drop_due_us,
            } => {
                if self.waiting == Waiting::Grant {
                    // Running from the grant's stamp, or from when this lane heard of it if
                    // it had to wait (it resumed then); never before the releaser stopped.
                    let start = if waited {
                        at_us.max(clock.now_us())
                    } else {
                        at_us
                    };
                    self.rec.enter(SpanState::Running, start, &self.spans);
                    self.drop_due = drop_due_us;
                    self.waiting = Waiting::Nothing;
                    self.sync();
                }
            }
            ToLane::DropDue { at_us } => self.drop_due = at_us,
            ToLane::Work { tasks } => {
                if self.waiting == Waiting::Tasks {
                    self.work.give(&tasks);
                    self.program.give(tasks);
                    self.waiting = Waiting::Nothing;
                }
            }
        }
        before != Waiting::Nothing && self.waiting == Waiting::Nothing
    }

    /// The download asked for by [`LaneStep::Download`] ended.
    pub fn downloaded(&mut self, result: Result<DownloadOutput, String>) {
        self.work.downloaded(result);
        self.unblock();
    }

    /// The sleep asked for by [`LaneStep::Sleep`] ended.
    pub fn slept(&mut self) {
        self.work.slept();
        self.unblock();
    }

    fn unblock(&mut self) {
        if self.waiting == Waiting::Blocked {
            self.waiting = Waiting::Nothing;
        }
    }

    /// Runs the thread's ops for up to `budget_us` (ending at a check point) or until it must
    /// wait; says what the driver does next.
    pub fn run(&mut self, clock: &dyn Clock, budget_us: u64) -> LaneStep {
        match self.waiting {
            Waiting::Nothing => {}
            Waiting::Exited => return LaneStep::Exit,
            _ => return LaneStep::Wait,
        }
        let deadline = clock.now_us().saturating_add(budget_us);
        let step = loop {
            if std::mem::take(&mut self.at_checkpoint) {
                if let Some(step) = self.checkpoint(clock) {
                    break step;
                }
                continue;
            }
            if let Some(step) = self.op(clock, deadline) {
                break step;
            }
        };
        self.sync();
        step
    }

    /// Carries out one op; `Some` when the lane stops running for now.
    fn op(&mut self, clock: &dyn Clock, deadline: u64) -> Option<LaneStep> {
        match self.program.next_op() {
            Op::Take => return self.take(clock),
            Op::Release => self.release(clock, SpanState::IoWait, false),
            Op::ReleaseForC => {
                self.release(clock, SpanState::CCode, false);
                // The host must hear of the release before the C code starts, or no other
                // lane is granted the GIL while this one computes: hand the driver a turn
                // (it posts the outbox), then run on.
                return Some(LaneStep::Yield);
            }
            // The real SHA-256 update, here in the worker.
            Op::CCall { bytes } => self.work.c_call(bytes),
            Op::Checkpoint => {
                if clock.now_us() >= deadline {
                    // The slice is over: let the driver read its messages (a new drop due
                    // time, say), then look at this check point again.
                    self.at_checkpoint = true;
                    return Some(LaneStep::Yield);
                }
                return self.checkpoint(clock);
            }
            Op::Next => {
                self.outbox.push(FromLane::Next);
                self.waiting = Waiting::Tasks;
                return Some(LaneStep::Wait);
            }
            Op::Begin(id) => {
                self.rec.set_task(Some(id), clock.now_us(), &self.spans);
                self.work.begin(id);
                self.sync();
            }
            Op::PowStep { .. } => {
                if let Some((task, done, total)) = self.work.pow_step() {
                    let now = clock.now_us();
                    if now.saturating_sub(self.last_progress_us) >= PROGRESS_EVERY_US {
                        self.last_progress_us = now;
                        self.outbox.push(FromLane::Progress {
                            task,
                            done,
                            total,
                            at_us: now,
                        });
                    }
                }
            }
            op @ (Op::Bytecodes(_) | Op::Load | Op::Store | Op::TryLock | Op::Unlock) => {
                if let Some(got) = self
                    .work
                    .counter_op(&op, &*self.counter, &mut self.register)
                {
                    self.program.lock_result(got);
                }
            }
            Op::Block(b) => match b {
                Blocking::Download(spec) => {
                    self.waiting = Waiting::Blocked;
                    return Some(LaneStep::Download {
                        url: spec.url,
                        file_name: spec.file_name,
                        io: self.cfg.io,
                    });
                }
                Blocking::Sleep { us } => {
                    self.waiting = Waiting::Blocked;
                    return Some(LaneStep::Sleep { us });
                }
                // Only a shared counter can be contended, and only where the lane may block
                // (a worker waiting on shared memory). The wait since the release is for the
                // lock, relabelled from its start.
                Blocking::Lock => {
                    let since = self.rec.since();
                    self.rec.enter(SpanState::LockWait, since, &self.spans);
                    self.counter.lock();
                }
            },
            Op::End(id) => {
                let mut outcome = self.work.end(id);
                if let TaskOutcome::Counted { seen, .. } = &mut outcome
                    && self.cfg.report_counter
                {
                    *seen = Some(self.counter.load());
                }
                self.outbox.push(FromLane::TaskDone { id, outcome });
                self.rec.set_task(None, clock.now_us(), &self.spans);
                self.sync();
            }
            Op::Exit => {
                self.release(clock, SpanState::Running, true);
                let at = self.rec.since();
                self.outbox.push(FromLane::Exited { at_us: at });
                self.waiting = Waiting::Exited;
                return Some(LaneStep::Exit);
            }
        }
        None
    }

    fn take(&mut self, clock: &dyn Clock) -> Option<LaneStep> {
        let now = clock.now_us();
        if let Some(m) = self.own.as_mut() {
            // Nobody shares this GIL: it is free whenever the lane asks.
            if m.take(self.cfg.lane, now) == Take::Granted {
                self.rec.enter(SpanState::Running, now, &self.spans);
                self.drain_own();
                self.sync();
                return None;
            }
        }
        let at = self.rec.enter(SpanState::GilWait, now, &self.spans);
        self.outbox.push(FromLane::Take { at_us: at });
        self.waiting = Waiting::Grant;
        self.sync();
        Some(LaneStep::Wait)
    }

    fn release(&mut self, clock: &dyn Clock, next: SpanState, ending: bool) {
        let now = clock.now_us();
        let at = if ending {
            self.rec.close(now, &self.spans)
        } else {
            self.rec.enter(next, now, &self.spans)
        };
        self.drop_due = None;
        match self.own.as_mut() {
            Some(m) => {
                m.release(self.cfg.lane, at, ending);
                self.drain_own();
            }
            None => self.outbox.push(FromLane::Release { at_us: at, ending }),
        }
        self.sync();
    }

    /// A check point: past the drop request's due time the holder releases the GIL, waits
    /// for the hand-off and asks again (all one [`FromLane::Yield`]).
    fn checkpoint(&mut self, clock: &dyn Clock) -> Option<LaneStep> {
        if self.own.is_some() {
            // A GIL of one thread never has a waiter to ask for it.
            return None;
        }
        let now = clock.now_us();
        if self.drop_due.is_none_or(|due| now < due) {
            return None;
        }
        let at = self.rec.enter(SpanState::GilWait, now, &self.spans);
        self.drop_due = None;
        self.outbox.push(FromLane::Yield { at_us: at });
        self.waiting = Waiting::Grant;
        self.sync();
        Some(LaneStep::Wait)
    }

    fn drain_own(&mut self) {
        if let Some(m) = self.own.as_mut() {
            for event in m.drain_events() {
                self.outbox.push(FromLane::Gil { event });
            }
        }
    }

    /// Moves finished spans to the outbox and says which state is open now.
    fn sync(&mut self) {
        for span in self.spans.take() {
            self.outbox.push(FromLane::Span { span });
        }
        let open = self
            .rec
            .state()
            .map(|s| (s, self.rec.since(), self.rec.task()));
        if open != self.told_open {
            if let Some((state, since_us, task)) = open {
                self.outbox.push(FromLane::Open {
                    task,
                    state,
                    since_us,
                });
            }
            self.told_open = open;
        }
    }
}

#[cfg(test)]
mod tests;
