//! A lane's spans from its state changes: every driver (real threads, message-passing lanes,
//! the simulator) tells the recorder "from now on this lane is …" and gets the same spans.
//!
//! Times never go backwards on a lane: a state that begins before the current one began (two
//! workers' clocks disagreeing by a few µs, say) begins when the current one began. That is how
//! a lane granted the GIL at a time stamped by the machine never draws its running span before
//! the releaser's ended.

use crate::trace::{Span, SpanState, TraceSink};

/// One lane's current state and the span it is building.
#[derive(Debug, Clone)]
pub struct Recorder {
    lane: u32,
    task: Option<u32>,
    state: Option<SpanState>,
    since: u64,
}

impl Recorder {
    /// A lane that is doing nothing yet.
    pub fn new(lane: u32) -> Self {
        Self {
            lane,
            task: None,
            state: None,
            since: 0,
        }
    }

    /// The lane's id.
    pub fn lane(&self) -> u32 {
        self.lane
    }

    /// The current state (`None`: not started, or ended).
    pub fn state(&self) -> Option<SpanState> {
        self.state
    }

    /// When the current state began.
    pub fn since(&self) -> u64 {
        self.since
    }

    /// The task spans are attributed to.
    pub fn task(&self) -> Option<u32> {
        self.task
    }

    /// `at`, or the start of the current state if that is later.
    pub fn clamp(&self, at: u64) -> u64 {
        at.max(self.since)
    }

    fn flush(&mut self, at: u64, sink: &dyn TraceSink) -> u64 {
        let at = self.clamp(at);
        if let Some(state) = self.state
            && at > self.since
        {
            sink.span(Span {
                lane: self.lane,
                task: self.task,
                state,
                start_us: self.since,
                end_us: at,
            });
        }
        self.since = at;
        at
    }

    /// From `at` on the lane is in `state`; returns the (clamped) instant.
    pub fn enter(&mut self, state: SpanState, at: u64, sink: &dyn TraceSink) -> u64 {
        if self.state == Some(state) {
            return self.clamp(at);
        }
        let at = self.flush(at, sink);
        self.state = Some(state);
        at
    }

    /// From `at` on the lane's spans belong to `task`.
    pub fn set_task(&mut self, task: Option<u32>, at: u64, sink: &dyn TraceSink) {
        if self.task != task {
            self.flush(at, sink);
            self.task = task;
        }
    }

    /// The lane ends at `at`: its last span is closed.
    pub fn close(&mut self, at: u64, sink: &dyn TraceSink) -> u64 {
        let at = self.flush(at, sink);
        self.state = None;
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::SpanBuffer;

    #[test]
    fn spans_follow_state_changes_and_never_go_back() {
        let buf = SpanBuffer::default();
        let mut r = Recorder::new(2);
        r.enter(SpanState::GilWait, 10, &buf);
        r.enter(SpanState::Running, 10, &buf); // no wait: no span
        r.set_task(Some(0), 15, &buf);
        r.enter(SpanState::GilWait, 40, &buf);
        // A grant stamped before the wait began (another clock) starts when the wait began.
        assert_eq!(r.enter(SpanState::Running, 35, &buf), 40);
        r.close(50, &buf);
        let spans = buf.take();
        let got: Vec<(SpanState, u64, u64, Option<u32>)> = spans
            .iter()
            .map(|s| (s.state, s.start_us, s.end_us, s.task))
            .collect();
        assert_eq!(
            got,
            vec![
                (SpanState::Running, 10, 15, None),
                (SpanState::Running, 15, 40, Some(0)),
                (SpanState::Running, 40, 50, Some(0)),
            ]
        );
    }
}
