//! One lane behaving as a Python thread: it holds its interpreter's GIL while it runs, checks
//! for drop requests at each check point, and releases the GIL around blocking calls. Every
//! state change becomes a span.

use crate::exec::Env;
use crate::gil::Gil;
use crate::trace::{Span, SpanState};

/// A lane that runs Python-like code under a [`Gil`].
pub struct PyThread<'a> {
    gil: &'a Gil,
    lane: u32,
    env: Env<'a>,
    task: Option<u32>,
    /// When the current `Running` span began.
    since: u64,
}

impl<'a> PyThread<'a> {
    /// Starts the thread: it first waits for the GIL (a `gil_wait` span if it had to).
    pub fn start(gil: &'a Gil, lane: u32, env: &Env<'a>) -> Self {
        let mut th = Self {
            gil,
            lane,
            env: *env,
            task: None,
            since: 0,
        };
        let now = env.clock.now_us();
        th.acquire(now, false);
        th
    }

    fn record(&self, state: SpanState, start_us: u64, end_us: u64) {
        self.env.sink.span(Span {
            lane: self.lane,
            task: self.task,
            state,
            start_us,
            end_us,
        });
    }

    /// Takes the GIL; the wait since `asked` (if any) is recorded as a `gil_wait` span.
    fn acquire(&mut self, asked: u64, handed_over: bool) {
        let waited = self.gil.take(self.lane);
        let now = self.env.clock.now_us();
        if (waited || handed_over) && now > asked {
            self.record(SpanState::GilWait, asked, now);
        }
        self.since = now;
    }

    /// Ends the current `Running` span and releases the GIL.
    fn release(&mut self, forced: bool) -> u64 {
        let now = self.env.clock.now_us();
        if now > self.since {
            self.record(SpanState::Running, self.since, now);
        }
        self.gil.release(self.lane, forced);
        now
    }

    /// A point where CPython's eval loop looks at the drop request (a call or a backward jump):
    /// if another thread asked for the GIL, hand it over and queue up to get it back.
    pub fn checkpoint(&mut self) {
        if self.gil.drop_requested() {
            // Waiting for the other thread to take over is already waiting for the GIL back.
            let released = self.release(true);
            self.acquire(released, true);
        }
    }

    /// Runs `f` as a blocking C call: the GIL is released for its duration (an `io_wait` span)
    /// and taken back afterwards.
    pub fn blocking<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let start = self.release(false);
        let r = f();
        let end = self.env.clock.now_us();
        self.record(SpanState::IoWait, start, end);
        self.acquire(end, false);
        r
    }

    /// Switches the task this thread's spans are attributed to.
    pub fn set_task(&mut self, task: Option<u32>) {
        if self.task == task {
            return;
        }
        let now = self.env.clock.now_us();
        if now > self.since {
            self.record(SpanState::Running, self.since, now);
        }
        self.since = now;
        self.task = task;
    }

    /// The thread ends: its last span is closed and the GIL released.
    pub fn finish(mut self) {
        self.release(false);
    }
}
