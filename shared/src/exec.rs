//! Execution models: how a list of tasks is run on lanes, each lane behaving like a Python
//! thread that must hold its interpreter's GIL to run a step.
//!
//! The rules are sans-IO and live here once: the thread loop with its check points
//! ([`ThreadProgram`]), who gets which task ([`Dispatcher`]), and (in [`crate::gil`]) the GIL.
//! [`PyThread`] drives them on real threads supplied by a
//! [`Spawner`](crate::platform::Spawner); the browser's message-passing lanes and the
//! simulator drive the same rules on their own clocks. Processes need the platform (an OS
//! process or a fresh Web Worker); each runs its share with its own GIL through
//! [`run_process_lane`].

mod dispatch;
mod event_loop;
mod pool;
mod program;
mod pythread;
mod recorder;
mod work;

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub use dispatch::{Dispatch, Dispatcher};
pub use event_loop::{Blocker, Change, EventLoop, LoopOp, LoopStep, TaskState};
pub use pool::{Chunk, default_chunksize, pool_chunks, split_round_robin};
pub(crate) use program::counter_unit;
pub use program::{Blocking, COUNTER_BYTECODES, Op, RunAhead, ThreadProgram};
pub use pythread::PyThread;
pub use recorder::Recorder;
pub use work::{Work, interpreter_work};

use crate::gil::{DEFAULT_SWITCH_INTERVAL_US, Gil, GilMode};
use crate::platform::{Clock, IoPerformer, Spawner};
use crate::sync::lock;
use crate::trace::TraceSink;
use crate::workload::{CounterCell, Task, TaskOutcome};

/// What every lane of a run needs from the outside world.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    /// The run's shared clock.
    pub clock: &'a dyn Clock,
    /// Performs downloads and blocking sleeps.
    pub io: &'a dyn IoPerformer,
    /// Receives spans and progress as they happen.
    pub sink: &'a dyn TraceSink,
    /// Set to stop the run early: lanes finish their current step and stop (Ctrl-C, Stop).
    pub stop: &'a AtomicBool,
}

impl Env<'_> {
    /// Whether the run was asked to stop.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// A task with its number in the run.
pub type Numbered = (u32, Task);

/// A GIL nobody else shares: a script's main thread, or a process's.
fn own_gil() -> Gil {
    Gil::new(
        GilMode::Classic,
        Duration::from_micros(DEFAULT_SWITCH_INTERVAL_US),
    )
}

/// Runs `tasks` one after another on a single lane with its own GIL (the main thread of a
/// script).
pub fn run_sequential(
    lane: u32,
    tasks: &[Numbered],
    counter: &dyn CounterCell,
    env: &Env<'_>,
) -> Vec<(u32, TaskOutcome)> {
    let gil = own_gil();
    let th = PyThread::new(&gil, lane, counter, env);
    let mut all = Some(tasks.to_vec());
    let mut outcomes = th.run(ThreadProgram::main_thread(), || {
        all.take().unwrap_or_default()
    });
    // Tasks never begun (a stopped run) are not run.
    for (id, _) in tasks {
        if !outcomes.iter().any(|(i, _)| i == id) {
            outcomes.push((*id, TaskOutcome::NotRun));
        }
    }
    outcomes.sort_by_key(|(id, _)| *id);
    outcomes
}

/// The main thread of one process: its own GIL, fed batches of tasks by `next_batch` (which
/// returns none when the parent has no more work for it).
pub fn run_process_lane(
    lane: u32,
    counter: &dyn CounterCell,
    env: &Env<'_>,
    next_batch: impl FnMut() -> Vec<Numbered>,
) -> Vec<(u32, TaskOutcome)> {
    let gil = own_gil();
    PyThread::new(&gil, lane, counter, env)
        .reporting_counter()
        .run(ThreadProgram::worker(), next_batch)
}

/// Runs `tasks` on `lanes.len()` threads of one interpreter sharing `gil`: a queue of tasks that
/// worker threads pull from, as the lesson's `Queue` + daemon `Thread`s do (or another plan).
pub fn run_threads(
    lanes: &[u32],
    tasks: &[Numbered],
    plan: &Dispatch,
    gil: &Gil,
    counter: &dyn CounterCell,
    spawner: &dyn Spawner,
    env: &Env<'_>,
) -> Vec<(u32, TaskOutcome)> {
    let each = vec![gil; lanes.len()];
    run_threads_with(lanes, tasks, plan, &each, counter, spawner, env)
}

/// [`run_threads`] with thread `k` taking `gils[k]` (one GIL shared by an interpreter's
/// threads, or one each for subinterpreters).
pub fn run_threads_with(
    lanes: &[u32],
    tasks: &[Numbered],
    plan: &Dispatch,
    gils: &[&Gil],
    counter: &dyn CounterCell,
    spawner: &dyn Spawner,
    env: &Env<'_>,
) -> Vec<(u32, TaskOutcome)> {
    let dispatcher = Mutex::new(Dispatcher::new(plan));
    let results: Mutex<Vec<(u32, TaskOutcome)>> = Mutex::new(Vec::with_capacity(tasks.len()));
    let jobs: Vec<Box<dyn FnOnce() + Send + '_>> = lanes
        .iter()
        .enumerate()
        .filter_map(|(k, &lane)| Some((k, lane, *gils.get(k)?)))
        .map(|(k, lane, gil)| {
            let (dispatcher, results) = (&dispatcher, &results);
            Box::new(move || {
                let th = PyThread::new(gil, lane, counter, env);
                let next = || {
                    lock(dispatcher)
                        .next(k)
                        .into_iter()
                        .filter_map(|pos| tasks.get(pos as usize).cloned())
                        .collect()
                };
                let out = th.run(ThreadProgram::worker(), next);
                lock(results).extend(out);
            }) as Box<dyn FnOnce() + Send + '_>
        })
        .collect();
    spawner.run_all(jobs);
    let mut out = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let never_given = lock(&dispatcher).remaining();
    out.extend(
        never_given
            .into_iter()
            .filter_map(|pos| tasks.get(pos as usize))
            .map(|(id, _)| (*id, TaskOutcome::NotRun)),
    );
    out.sort_by_key(|(id, _)| *id);
    out
}

#[cfg(test)]
mod tests;
