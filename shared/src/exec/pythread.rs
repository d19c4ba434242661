//! The driver that runs a [`ThreadProgram`] on a real thread: a real [`Gil`], real arithmetic,
//! a real counter in shared memory, real downloads. Every op's effect on the lane's state
//! becomes a span through the shared [`Recorder`].

use super::Env;
use super::program::{Blocking, Op, ThreadProgram};
use super::recorder::Recorder;
use super::work::Work;
use crate::gil::Gil;
use crate::trace::SpanState;
use crate::workload::{CounterCell, Task, TaskOutcome};

/// One Python thread on a real thread.
pub struct PyThread<'a> {
    gil: &'a Gil,
    env: Env<'a>,
    counter: &'a dyn CounterCell,
    rec: Recorder,
    work: Work,
    register: u64,
    /// A process reports the counter value it ends with (its own copy of a global).
    report_counter: bool,
}

impl<'a> PyThread<'a> {
    /// A thread on `lane` sharing `gil`, updating `counter` in counter tasks.
    pub fn new(gil: &'a Gil, lane: u32, counter: &'a dyn CounterCell, env: &Env<'a>) -> Self {
        Self {
            gil,
            env: *env,
            counter,
            rec: Recorder::new(lane),
            work: Work::default(),
            register: 0,
            report_counter: false,
        }
    }

    /// Counter tasks' outcomes carry the counter's value at their end (`seen`): what a
    /// process's own copy of the counter reads.
    pub fn reporting_counter(mut self) -> Self {
        self.report_counter = true;
        self
    }

    fn now(&self) -> u64 {
        self.env.clock.now_us()
    }

    fn take(&mut self) {
        let asked = self.now();
        let (at, waited) = self
            .gil
            .take(self.rec.lane(), self.env.clock, self.env.sink);
        if waited {
            self.rec.enter(SpanState::GilWait, asked, self.env.sink);
        }
        // Running begins when the GIL was ours (`at`, read under the GIL's mutex), never when
        // we asked: an uncontended take can still find the GIL just released by a thread whose
        // running span ended after `asked`.
        self.rec.enter(SpanState::Running, at, self.env.sink);
    }

    fn release(&mut self, next: SpanState, ending: bool) {
        let at = self.now();
        if ending {
            self.rec.close(at, self.env.sink);
        } else {
            self.rec.enter(next, at, self.env.sink);
        }
        self.gil
            .release(self.rec.lane(), self.env.clock, ending, self.env.sink);
    }

    /// The wait that began at the release before a `Blocking::Lock` is for the lock, not I/O:
    /// it is relabelled from its start, so no sliver of I/O wait is drawn.
    fn waiting_for_the_lock(&mut self) {
        let since = self.rec.since();
        self.rec.enter(SpanState::LockWait, since, self.env.sink);
    }

    /// Runs `program` to its end. `next_tasks` answers `q.get()` (or a process's request for
    /// its next batch); it returns no tasks when there is no more work. Returns every task's
    /// outcome.
    pub fn run(
        mut self,
        mut program: ThreadProgram,
        mut next_tasks: impl FnMut() -> Vec<(u32, Task)>,
    ) -> Vec<(u32, TaskOutcome)> {
        let mut outcomes = Vec::new();
        let mut stopped = false;
        loop {
            if !stopped && self.env.stopped() {
                program.stop();
                stopped = true;
            }
            match program.next_op() {
                Op::Take => self.take(),
                Op::Release => self.release(SpanState::IoWait, false),
                Op::ReleaseForC => self.release(SpanState::CCode, false),
                Op::CCall { bytes } => self.work.c_call(bytes),
                Op::Checkpoint => {
                    if self.gil.drop_requested() {
                        // Waiting for the other thread to take over is already waiting for the
                        // GIL back.
                        self.release(SpanState::GilWait, false);
                        self.take();
                    }
                }
                Op::Next => {
                    let tasks = if stopped { Vec::new() } else { next_tasks() };
                    self.work.give(&tasks);
                    program.give(tasks);
                }
                Op::Begin(id) => {
                    let at = self.now();
                    self.rec.set_task(Some(id), at, self.env.sink);
                    self.work.begin(id);
                }
                Op::PowStep { .. } => {
                    if let Some((task, done, total)) = self.work.pow_step() {
                        // A few hundred progress reports per task, not one per step.
                        if done % (total / 200).max(1) == 0 {
                            self.env.sink.progress(task, done, total);
                        }
                    }
                }
                op @ (Op::Bytecodes(_) | Op::Load | Op::Store | Op::TryLock | Op::Unlock) => {
                    if let Some(got) = self.work.counter_op(&op, self.counter, &mut self.register) {
                        program.lock_result(got);
                    }
                }
                Op::Block(b) => match b {
                    Blocking::Download(spec) => {
                        let r = self.env.io.download(&spec);
                        self.work.downloaded(r);
                    }
                    Blocking::Sleep { us } => {
                        self.env.io.sleep(us);
                        self.work.slept();
                    }
                    Blocking::Lock => {
                        self.waiting_for_the_lock();
                        self.counter.lock();
                    }
                },
                Op::End(id) => {
                    let mut outcome = self.work.end(id);
                    if let TaskOutcome::Counted { seen, .. } = &mut outcome
                        && self.report_counter
                    {
                        *seen = Some(self.counter.load());
                    }
                    self.env.sink.task_done(id, &outcome);
                    outcomes.push((id, outcome));
                    let at = self.now();
                    self.rec.set_task(None, at, self.env.sink);
                }
                Op::Exit => {
                    self.release(SpanState::Running, true);
                    return outcomes;
                }
            }
        }
    }
}
