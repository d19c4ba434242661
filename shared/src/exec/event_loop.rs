//! asyncio's event loop as a sans-IO machine: which coroutine runs next on the loop's one
//! thread, and what each is doing meanwhile. It is the asyncio models' rule, written once for
//! the drivers that will carry it out (one OS thread natively, one lane worker in a page, a
//! virtual lane in the simulator), as `ThreadProgram` is for threads.
//!
//! The program it stands for is the lesson's downloads as coroutines:
//!
//! ```python
//! async def fetch(sem, url, k):
//!     async with sem:                     # at most `limit` in flight
//!         body = await get(url)           # the loop runs others meanwhile
//!     write(f'{k}.jpg', body)             # on the loop's thread, briefly
//!
//! await asyncio.gather(*(fetch(sem, u, k) for k, u in enumerate(urls)), blocker())
//! ```
//!
//! with an optional `blocker` that calls `sum_powers(n)` without awaiting (every other task
//! then waits, its response ready but unread) or awaits `asyncio.to_thread(sum_powers, n)`.
//!
//! Like asyncio's `_run_once`, the loop runs the steps that are ready in the order they
//! became ready, and looks for finished I/O (`select`) only between steps: a response that
//! arrives while a step runs is read after it. A step is never interrupted: one coroutine
//! runs at a time, switching only at an `await`.
//!
//! ```
//! use gil_lab::exec::{EventLoop, LoopOp, LoopStep};
//! let mut lp = EventLoop::new(&[0, 1], 1, None);
//! assert_eq!(lp.next(0), LoopOp::Step { id: 0, step: LoopStep::Request });
//! lp.step_done(0, 5);
//! // Task 1 waits for the semaphore; nothing else is ready.
//! assert_eq!(lp.next(5), LoopOp::Select);
//! lp.ready(0, 100);
//! assert_eq!(lp.next(100), LoopOp::Step { id: 0, step: LoopStep::Finish });
//! ```

use std::collections::VecDeque;

/// What the loop's thread does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopOp {
    /// Run this step of task `id` on the loop's thread, holding the GIL; report its end with
    /// [`EventLoop::step_done`].
    Step {
        /// The task.
        id: u32,
        /// What the step does.
        step: LoopStep,
    },
    /// Nothing is ready: wait in the selector, with the GIL released, for an awaited result
    /// ([`EventLoop::ready`]).
    Select,
    /// Every task has finished.
    Done,
}

/// One run of a coroutine between two awaits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopStep {
    /// Enter the semaphore and send the request; the task then awaits the response.
    Request,
    /// Read the response and write the file; the task ends and frees its place in the
    /// semaphore.
    Finish,
    /// The blocker's `sum_powers(n)`, called without awaiting: the loop runs nothing else
    /// until it returns.
    Compute,
    /// The blocker hands `sum_powers(n)` to a worker thread (`asyncio.to_thread`) and awaits
    /// it; the driver starts that thread and calls [`EventLoop::ready`] when it is done.
    Offload,
    /// The blocker takes the thread's result and ends.
    Collect,
}

/// What a task is doing, as its row in the picture shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// Created, waiting for a place in the semaphore (nothing to draw).
    Queued,
    /// Its step runs on the loop's thread.
    Running,
    /// Awaiting I/O or a worker thread.
    Awaiting,
    /// Its result is ready, but the loop is busy with another step.
    Ready,
    /// Finished.
    Done,
}

/// The blocking coroutine of `asyncio-blocked`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocker {
    /// Its task id.
    pub id: u32,
    /// `await asyncio.to_thread(...)` instead of a plain call.
    pub offload: bool,
}

/// A task's state changed at a time: what a driver turns into the task row's spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// The task.
    pub id: u32,
    /// Its new state.
    pub state: TaskState,
    /// When, on the run's clock.
    pub at_us: u64,
}

/// The loop. See the module docs.
#[derive(Debug, Clone)]
pub struct EventLoop {
    in_flight: usize,
    /// Downloads waiting for the semaphore, in order.
    queued: VecDeque<u32>,
    /// Steps ready to run, in the order they became ready.
    ready: VecDeque<(u32, LoopStep)>,
    states: Vec<(u32, TaskState)>,
    blocker: Option<Blocker>,
    running: Option<(u32, LoopStep)>,
    changes: Vec<Change>,
}

impl EventLoop {
    /// `gather` of one download per id in `downloads`, at most `limit` in flight, and the
    /// `blocker` if any. The tasks are created in that order, the blocker last: its first
    /// step comes after the first requests are out.
    pub fn new(downloads: &[u32], limit: usize, blocker: Option<Blocker>) -> Self {
        let limit = limit.max(1);
        let mut lp = Self {
            in_flight: 0,
            queued: VecDeque::new(),
            ready: VecDeque::new(),
            states: Vec::new(),
            blocker,
            running: None,
            changes: Vec::new(),
        };
        for &id in downloads {
            lp.states.push((id, TaskState::Queued));
            if lp.in_flight + lp.ready.len() < limit {
                lp.ready.push_back((id, LoopStep::Request));
            } else {
                lp.queued.push_back(id);
            }
        }
        if let Some(b) = blocker {
            lp.states.push((b.id, TaskState::Queued));
            let step = if b.offload {
                LoopStep::Offload
            } else {
                LoopStep::Compute
            };
            lp.ready.push_back((b.id, step));
        }
        lp
    }

    fn set(&mut self, id: u32, state: TaskState, at_us: u64) {
        if let Some(s) = self.states.iter_mut().find(|(i, _)| *i == id)
            && s.1 != state
        {
            s.1 = state;
            self.changes.push(Change { id, state, at_us });
        }
    }

    /// What the loop's thread does next, at `now_us`. A step handed out must be reported
    /// done before the next call.
    pub fn next(&mut self, now_us: u64) -> LoopOp {
        if let Some((id, step)) = self.running {
            // Asked again before the step was reported done: it is still the one to run.
            return LoopOp::Step { id, step };
        }
        if let Some((id, step)) = self.ready.pop_front() {
            if step == LoopStep::Request {
                self.in_flight += 1;
            }
            self.running = Some((id, step));
            self.set(id, TaskState::Running, now_us);
            return LoopOp::Step { id, step };
        }
        if self.states.iter().all(|(_, s)| *s == TaskState::Done) {
            LoopOp::Done
        } else {
            LoopOp::Select
        }
    }

    /// The step handed out by [`next`](Self::next) for task `id` ended at `now_us`.
    pub fn step_done(&mut self, id: u32, now_us: u64) {
        let Some((running, step)) = self.running.take() else {
            return;
        };
        if running != id {
            self.running = Some((running, step));
            return;
        }
        match step {
            LoopStep::Request | LoopStep::Offload => self.set(id, TaskState::Awaiting, now_us),
            LoopStep::Finish => {
                self.set(id, TaskState::Done, now_us);
                self.in_flight = self.in_flight.saturating_sub(1);
                // The semaphore wakes its next waiter, which enters on its next step.
                if let Some(next) = self.queued.pop_front() {
                    self.ready.push_back((next, LoopStep::Request));
                }
            }
            LoopStep::Compute | LoopStep::Collect => self.set(id, TaskState::Done, now_us),
        }
    }

    /// What task `id` awaited (its response, or the worker thread) is ready at `at_us`; the
    /// loop reads it when its thread is free.
    pub fn ready(&mut self, id: u32, at_us: u64) {
        if self.state(id) != Some(TaskState::Awaiting) {
            return;
        }
        let step = match self.blocker {
            Some(b) if b.id == id => LoopStep::Collect,
            _ => LoopStep::Finish,
        };
        self.set(id, TaskState::Ready, at_us);
        self.ready.push_back((id, step));
    }

    /// Task `id`'s state.
    pub fn state(&self, id: u32) -> Option<TaskState> {
        self.states.iter().find(|(i, _)| *i == id).map(|(_, s)| *s)
    }

    /// How many downloads are in flight (entered the semaphore, not yet finished).
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// The state changes since the last call, in order.
    pub fn take_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drives `lp` with every awaited result arriving `wait_us` after its request ended and
    /// each step taking `step_us` (`compute_us` for the blocker's call): the order of steps
    /// and the changes.
    fn drive(
        lp: &mut EventLoop,
        step_us: u64,
        wait_us: u64,
        compute_us: u64,
    ) -> Vec<(u32, LoopStep)> {
        let mut now = 0;
        let mut pending: Vec<(u64, u32)> = Vec::new();
        let mut order = Vec::new();
        for _ in 0..10_000 {
            // Between steps the selector reports what arrived by now.
            pending.sort_unstable();
            while let Some(&(t, id)) = pending.first() {
                if t > now {
                    break;
                }
                pending.remove(0);
                lp.ready(id, t);
            }
            match lp.next(now) {
                LoopOp::Step { id, step } => {
                    order.push((id, step));
                    now += if step == LoopStep::Compute {
                        compute_us
                    } else {
                        step_us
                    };
                    lp.step_done(id, now);
                    if matches!(step, LoopStep::Request | LoopStep::Offload) {
                        let wait = if step == LoopStep::Offload {
                            compute_us
                        } else {
                            wait_us
                        };
                        pending.push((now + wait, id));
                    }
                }
                LoopOp::Select => {
                    pending.sort_unstable();
                    now = now.max(pending.first().map_or(now, |p| p.0));
                }
                LoopOp::Done => return order,
            }
        }
        panic!("the loop never finished: {order:?}");
    }

    #[test]
    fn at_most_limit_requests_are_in_flight_and_every_task_ends() {
        let ids: Vec<u32> = (0..30).collect();
        let mut lp = EventLoop::new(&ids, 5, None);
        let mut most = 0;
        let mut now = 0;
        let mut pending: VecDeque<(u64, u32)> = VecDeque::new();
        loop {
            while pending.front().is_some_and(|p| p.0 <= now) {
                if let Some((t, id)) = pending.pop_front() {
                    lp.ready(id, t);
                }
            }
            match lp.next(now) {
                LoopOp::Step { id, step } => {
                    now += 10;
                    lp.step_done(id, now);
                    if step == LoopStep::Request {
                        pending.push_back((now + 1_000, id));
                    }
                    most = most.max(lp.in_flight());
                }
                LoopOp::Select => now = pending.front().map_or(now, |p| p.0),
                LoopOp::Done => break,
            }
        }
        assert_eq!(most, 5);
        assert!(ids.iter().all(|&id| lp.state(id) == Some(TaskState::Done)));
        // 30 downloads of 1 ms, 5 at a time: about 6 ms, not 30.
        assert!(now < 7_000, "{now}");
    }

    #[test]
    fn a_blocking_call_leaves_every_ready_response_unread_until_it_returns() {
        let mut lp = EventLoop::new(
            &[0, 1, 2],
            5,
            Some(Blocker {
                id: 9,
                offload: false,
            }),
        );
        let order = drive(&mut lp, 10, 100, 50_000);
        // The requests go out, then the call runs; only after it do the responses get read.
        assert_eq!(
            &order[..4],
            &[
                (0, LoopStep::Request),
                (1, LoopStep::Request),
                (2, LoopStep::Request),
                (9, LoopStep::Compute)
            ]
        );
        let changes = lp.take_changes();
        let ready_at = |id| {
            changes
                .iter()
                .find(|c| c.id == id && c.state == TaskState::Ready)
                .map(|c| c.at_us)
        };
        let finish_at = |id| {
            changes
                .iter()
                .filter(|c| c.id == id && c.state == TaskState::Running)
                .map(|c| c.at_us)
                .nth(1)
        };
        for id in 0..3 {
            // Ready ~100 µs after the request, read only after the 50 ms call.
            let (r, f) = (ready_at(id).expect("ready"), finish_at(id).expect("read"));
            assert!(r < 1_000 && f >= 50_000, "task {id}: ready {r}, read {f}");
        }
    }

    #[test]
    fn an_offloaded_call_leaves_the_loop_free() {
        let mut lp = EventLoop::new(
            &[0, 1, 2],
            5,
            Some(Blocker {
                id: 9,
                offload: true,
            }),
        );
        let order = drive(&mut lp, 10, 100, 50_000);
        let finished: Vec<u32> = order
            .iter()
            .filter(|(_, s)| *s == LoopStep::Finish)
            .map(|(id, _)| *id)
            .collect();
        // Every download finishes before the thread's result is collected, last.
        assert_eq!(finished, vec![0, 1, 2]);
        assert_eq!(order.last(), Some(&(9, LoopStep::Collect)));
    }
}
