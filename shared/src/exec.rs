//! Execution models: how a list of tasks is run on lanes, each lane behaving like a Python
//! thread that must hold its interpreter's GIL to run a step.
//!
//! The sequential and threaded models run here, on threads supplied by a
//! [`Spawner`](crate::platform::Spawner). Processes need the platform (an OS process or a fresh
//! Web Worker); the platform runs each one's share with [`run_sequential`] and its own GIL.

mod counter;
mod pool;
mod pythread;

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub use counter::run_counter;
pub use pool::{Chunk, default_chunksize, pool_chunks, split_round_robin};
pub use pythread::PyThread;

use crate::gil::{Gil, GilMode};
use crate::platform::{Clock, IoPerformer, Spawner};
use crate::trace::{TraceSink, lock};
use crate::workload::{SharedCounter, SumPowers, Task, TaskOutcome};

/// What every lane of a run needs from the outside world.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    /// The run's shared clock.
    pub clock: &'a dyn Clock,
    /// Performs downloads.
    pub io: &'a dyn IoPerformer,
    /// Receives spans and progress as they happen.
    pub sink: &'a dyn TraceSink,
    /// Set to stop the run early: lanes finish their current step and stop (Ctrl-C, Stop).
    pub stop: &'a AtomicBool,
}

impl Env<'_> {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// A task with its position in the run.
pub type Numbered = (u32, Task);

/// Runs one task on a lane that holds the GIL; `counter` is the shared cell for counter tasks.
pub fn run_task(
    th: &mut PyThread<'_>,
    id: u32,
    task: &Task,
    counter: &SharedCounter,
    env: &Env<'_>,
) -> TaskOutcome {
    th.set_task(Some(id));
    let outcome = match task {
        Task::SumPowers { n } => {
            let mut sp = SumPowers::new(*n);
            let total = u64::from(*n);
            // Report progress a few hundred times per task, not at every step.
            let every = (total / 200).max(1);
            loop {
                if env.stopped() {
                    break TaskOutcome::Error {
                        message: "stopped before it finished".into(),
                    };
                }
                if !sp.step() {
                    break TaskOutcome::Sum(sp.finish());
                }
                let done = u64::from(sp.done());
                if done % every == 0 {
                    env.sink.progress(id, done, total);
                }
                // The loop's backward jump: a GIL check point.
                th.checkpoint();
            }
        }
        Task::Download(spec) => {
            // `requests.get` and `f.write` block in C with the GIL released.
            match th.blocking(|| env.io.download(spec)) {
                Ok(out) => TaskOutcome::Downloaded(out),
                Err(message) => TaskOutcome::Error { message },
            }
        }
        Task::Counter(spec) => run_counter(th, spec, counter, env),
    };
    env.sink.task_done(id);
    th.set_task(None);
    outcome
}

/// Runs `tasks` one after another on a single lane with its own GIL (the main thread of a
/// script, or the one thread of a worker process).
pub fn run_sequential(
    lane: u32,
    tasks: &[Numbered],
    counter: &SharedCounter,
    env: &Env<'_>,
) -> Vec<(u32, TaskOutcome)> {
    let gil = Gil::new(
        GilMode::Classic,
        Duration::from_micros(crate::gil::DEFAULT_SWITCH_INTERVAL_US),
    );
    let mut th = PyThread::start(&gil, lane, env);
    let mut out = Vec::with_capacity(tasks.len());
    for (id, task) in tasks {
        if env.stopped() {
            out.push((*id, TaskOutcome::NotRun));
            continue;
        }
        out.push((*id, run_task(&mut th, *id, task, counter, env)));
    }
    th.finish();
    out
}

/// Runs `tasks` on `lanes.len()` threads of one interpreter sharing `gil`: a queue of tasks that
/// worker threads pull from, as the lesson's `Queue` + daemon `Thread`s do.
pub fn run_threads(
    lanes: &[u32],
    tasks: &[Numbered],
    gil: &Gil,
    counter: &SharedCounter,
    spawner: &dyn Spawner,
    env: &Env<'_>,
) -> Vec<(u32, TaskOutcome)> {
    let queue: Mutex<VecDeque<&Numbered>> = Mutex::new(tasks.iter().collect());
    let results: Mutex<Vec<(u32, TaskOutcome)>> = Mutex::new(Vec::with_capacity(tasks.len()));
    let jobs: Vec<Box<dyn FnOnce() + Send + '_>> = lanes
        .iter()
        .map(|&lane| {
            let (queue, results) = (&queue, &results);
            Box::new(move || {
                let mut th = PyThread::start(gil, lane, env);
                loop {
                    // `q.get()` is a call: a check point before the next task.
                    th.checkpoint();
                    let next = lock(queue).pop_front();
                    let Some((id, task)) = next else { break };
                    let outcome = if env.stopped() {
                        TaskOutcome::NotRun
                    } else {
                        run_task(&mut th, *id, task, counter, env)
                    };
                    lock(results).push((*id, outcome));
                }
                th.finish();
            }) as Box<dyn FnOnce() + Send + '_>
        })
        .collect();
    spawner.run_all(jobs);
    let mut out = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    out.sort_by_key(|(id, _)| *id);
    out
}

#[cfg(test)]
mod tests;
