//! The parent side of a process run: one child `gil-lab __worker` per process, each with its own
//! interpreter, GIL and memory, fed tasks over a pipe (see [`crate::worker`]).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use gil_lab::exec::{Dispatcher, Env};
use gil_lab::plan::CounterShare;
use gil_lab::protocol::{FromWorker, ToWorker, WorkerCounter};
use gil_lab::runner::{ProcessLauncher, ProcessPlan, ProcessRun};
use gil_lab::trace::{Span, SpanState};
use gil_lab::workload::TaskOutcome;

use crate::download::DownloadLimits;
use crate::shared_value::MappedCounter;
use crate::stop;

/// The hidden subcommand a child runs.
pub const WORKER_SUBCOMMAND: &str = "__worker";

/// Starts OS processes running this same binary.
pub struct NativeProcesses {
    /// The `gil-lab` executable.
    pub exe: PathBuf,
    /// The run's epoch, so children stamp spans on the parent's clock.
    pub epoch_ns: u64,
    /// Where downloads go.
    pub out_dir: String,
    /// Deadline and size limit of each download.
    pub limits: DownloadLimits,
}

/// How long a worker told to stop may take to finish its step before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(2);
/// How often a process's watcher looks at the run's stop flag.
const WATCH_EVERY: Duration = Duration::from_millis(20);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn send(stdin: &mut ChildStdin, msg: &ToWorker) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(msg).map_err(std::io::Error::other)?;
    line.push(b'\n');
    stdin.write_all(&line)?;
    stdin.flush()
}

/// The task numbers at `indices` of `tasks`: plans name tasks by position, workers by number.
fn task_ids(tasks: &[gil_lab::exec::Numbered], indices: impl IntoIterator<Item = u32>) -> Vec<u32> {
    indices
        .into_iter()
        .filter_map(|i| tasks.get(i as usize).map(|t| t.0))
        .collect()
}

/// Where a process takes its next batch from: the run's one dispatcher (shares given once,
/// or pool chunks pulled as processes become free).
struct Feed<'a> {
    dispatcher: &'a Mutex<Dispatcher>,
    index: usize,
    tasks: &'a [gil_lab::exec::Numbered],
}

impl Feed<'_> {
    fn next(&mut self) -> Option<Vec<u32>> {
        let positions = self
            .dispatcher
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .next(self.index);
        (!positions.is_empty()).then(|| task_ids(self.tasks, positions))
    }
}

impl NativeProcesses {
    fn spawn(&self) -> std::io::Result<Child> {
        let child = Command::new(&self.exe)
            .arg(WORKER_SUBCOMMAND)
            .args(self.limits.worker_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        stop::register_child(child.id());
        Ok(child)
    }

    /// Until `done`: once the run's stop flag is set, tells the child to stop, and kills it if
    /// it has not ended within [`STOP_GRACE`] (a worker never outlives its run).
    fn watch(env: &Env<'_>, stdin: &Mutex<ChildStdin>, pid: u32, done: &AtomicBool) {
        while !done.load(Ordering::Relaxed) {
            if env.stop.load(Ordering::Relaxed) {
                let _ = send(&mut lock(stdin), &ToWorker::Stop);
                let asked = Instant::now();
                while !done.load(Ordering::Relaxed) {
                    if asked.elapsed() > STOP_GRACE {
                        stop::kill(pid);
                        return;
                    }
                    std::thread::sleep(WATCH_EVERY);
                }
                return;
            }
            std::thread::sleep(WATCH_EVERY);
        }
    }

    /// Drives one child until it has no more work; returns the outcomes it reported, with an
    /// error for every task it was given but never finished.
    fn drive(
        &self,
        lane: u32,
        mut child: Child,
        started_us: u64,
        mut feed: Feed<'_>,
        env: &Env<'_>,
    ) -> Vec<(u32, TaskOutcome)> {
        let mut outcomes = Vec::new();
        let mut pending: Vec<u32> = Vec::new();
        let pid = child.id();
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            stop::forget_child(pid);
            let _ = child.kill();
            let _ = child.wait();
            return outcomes;
        };
        let stdin = Mutex::new(stdin);
        let done = AtomicBool::new(false);
        let mut next_batch = |pending: &mut Vec<u32>| {
            let batch = if env.stop.load(Ordering::Relaxed) {
                None
            } else {
                feed.next()
            };
            let msg = match batch {
                Some(ids) => {
                    pending.extend(&ids);
                    ToWorker::Run { ids }
                }
                None => ToWorker::Exit,
            };
            send(&mut lock(&stdin), &msg).is_ok()
        };
        std::thread::scope(|scope| {
            scope.spawn(|| Self::watch(env, &stdin, pid, &done));
            // The first batch goes straight after `Init`, so the child need not wait for a
            // round trip once it is up (Python's `Process(target, args)` also knows its work
            // at start).
            next_batch(&mut pending);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let Ok(msg) = serde_json::from_str::<FromWorker>(&line) else {
                    continue;
                };
                match msg {
                    FromWorker::Ready { at_us } => {
                        env.sink.span(Span {
                            lane,
                            task: None,
                            state: SpanState::Starting,
                            start_us: started_us,
                            end_us: at_us.max(started_us),
                        });
                    }
                    FromWorker::Span(s) => env.sink.span(s),
                    FromWorker::Progress { task, done, total } => {
                        env.sink.progress(task, done, total);
                    }
                    FromWorker::TaskDone { id, outcome } => {
                        pending.retain(|&p| p != id);
                        env.sink.task_done(id, &outcome);
                        outcomes.push((id, outcome));
                    }
                    FromWorker::BatchDone => {
                        next_batch(&mut pending);
                    }
                }
            }
            done.store(true, Ordering::Relaxed);
        });
        drop(stdin);
        stop::forget_child(pid);
        let status = child.wait();
        if env.stop.load(Ordering::Relaxed) {
            // A stopped run: tasks the worker had not finished are "not run", not crashes.
            pending.clear();
        }
        if !pending.is_empty() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            let why = match status {
                Ok(s) => format!("worker process exited ({s}) before finishing"),
                Err(e) => format!("worker process could not be waited for: {e}"),
            };
            let detail = err
                .lines()
                .last()
                .map(|l| format!(": {l}"))
                .unwrap_or_default();
            for id in pending {
                outcomes.push((
                    id,
                    TaskOutcome::Error {
                        message: format!("{why}{detail}"),
                    },
                ));
            }
        }
        outcomes
    }
}

impl ProcessLauncher for NativeProcesses {
    fn run(&self, plan: ProcessPlan<'_>, env: &Env<'_>) -> ProcessRun {
        // A shared `Value` is a small file every process maps; the parent keeps its mapping to
        // read the result, and the file goes when the run ends.
        let mut shared = None;
        let counter = match plan.counter {
            CounterShare::Copy { value } => WorkerCounter::Copy { value },
            CounterShare::SharedValue => match MappedCounter::create() {
                Ok((cell, path)) => {
                    let c = WorkerCounter::Mapped {
                        path: path.display().to_string(),
                    };
                    shared = Some((cell, path));
                    c
                }
                Err(e) => {
                    let message = format!("{e:#}");
                    return ProcessRun {
                        outcomes: plan
                            .tasks
                            .iter()
                            .map(|(id, _)| {
                                (
                                    *id,
                                    TaskOutcome::Error {
                                        message: message.clone(),
                                    },
                                )
                            })
                            .collect(),
                        shared_value: None,
                    };
                }
            },
        };
        let dispatcher = Mutex::new(Dispatcher::new(&plan.dispatch));
        let results = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for (k, &lane) in plan.lanes.iter().enumerate() {
                let feed = Feed {
                    dispatcher: &dispatcher,
                    index: k,
                    tasks: plan.tasks,
                };
                let started_us = env.clock.now_us();
                let init = ToWorker::Init {
                    lane,
                    epoch_ns: self.epoch_ns,
                    tasks: plan.tasks.to_vec(),
                    out_dir: self.out_dir.clone(),
                    counter: counter.clone(),
                };
                let child = self.spawn().and_then(|mut c| {
                    let sent = c
                        .stdin
                        .as_mut()
                        .ok_or_else(|| std::io::Error::other("no stdin pipe"))
                        .and_then(|stdin| send(stdin, &init));
                    match sent {
                        Ok(()) => Ok(c),
                        Err(e) => {
                            stop::forget_child(c.id());
                            let _ = c.kill();
                            let _ = c.wait();
                            Err(e)
                        }
                    }
                });
                let results = &results;
                match child {
                    Ok(child) => {
                        scope.spawn(move || {
                            let out = self.drive(lane, child, started_us, feed, env);
                            results
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .extend(out);
                        });
                    }
                    Err(e) => {
                        // A pool's other workers can still take the shared chunks; a fixed
                        // share has nobody else, so it fails here.
                        let mut feed = feed;
                        let mut failed = Vec::new();
                        if matches!(plan.dispatch, gil_lab::exec::Dispatch::Fixed(_)) {
                            while let Some(ids) = feed.next() {
                                failed.extend(ids.into_iter().map(|id| {
                                    (
                                        id,
                                        TaskOutcome::Error {
                                            message: format!("could not start worker process: {e}"),
                                        },
                                    )
                                }));
                            }
                        }
                        results
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .extend(failed);
                    }
                }
            }
        });
        let mut out = results
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        out.sort_by_key(|(id, _)| *id);
        ProcessRun {
            outcomes: out,
            shared_value: shared.map(|(cell, _path)| cell.get()),
        }
    }
}
