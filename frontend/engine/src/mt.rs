//! Threads in a cross-origin-isolated page: one shared wasm memory, a `wasm-bindgen-rayon`
//! pool, and the core's own [`Gil`](gil_lab::gil::Gil) in that memory, so every hand-off is a
//! real lock hand-off between real threads.
//!
//! The host worker calls [`mt_start`]; the run itself goes onto a pool thread so the host's
//! event loop stays free. The host then calls [`mt_poll`] every few ms for the downloads and
//! processes waiting to be carried out, and [`mt_events`] every 100 ms for the live picture.
//! Downloads happen in the host with `fetch`, a modelled wait and OPFS (all asynchronous,
//! which a pool thread cannot do); the lane that asked blocks on a condition variable
//! meanwhile, with its GIL released — exactly the lesson's "blocking I/O releases the GIL".
//! [`mt_io_done`] hands the result back.
//!
//! Processes (the race demo's process cases) are real: the [`ProcessLauncher`] here hands a
//! [`ProcessJob`] to the host, which runs it on fresh lane workers (a plain `HostRun`), and
//! blocks until they are done, passing their spans on as they come ([`mt_process_events`],
//! [`mt_processes_done`]). A shared `multiprocessing.Value` is a `SharedArrayBuffer` the lane
//! workers map.

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use gil_lab::exec::Env;
use gil_lab::platform::{Clock, IoPerformer, Spawner};
use gil_lab::runner::{self, Backends, ProcessLauncher, ProcessPlan, ProcessRun};
use gil_lab::trace::{Span, TraceSink};
use gil_lab::workload::{DownloadOutput, DownloadSpec};
use gil_lab_browser::protocol::{
    FromHost, IoModel, LiveEvent, ProcessJob, ProcessResult, parse_run, to_text,
};
use serde::Serialize;
use wasm_bindgen::prelude::*;

// `initThreadPool` is exported by wasm-bindgen-rayon itself (a `#[wasm_bindgen]` item of a
// dependency is part of this module's exports); referencing it keeps the crate linked.
use wasm_bindgen_rayon as _;

#[global_allocator]
static ALLOC: crate::alloc::ThreadCaching = crate::alloc::ThreadCaching;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// µs since the run's epoch on the shared clock.
///
/// Each worker reads `timeOrigin + performance.now()`, and workers' time origins disagree by
/// up to the browser's coarsening (tens of µs and more): a thread that takes the GIL could
/// stamp its start before the releaser's end, and a classic-GIL run would show two running
/// spans at once. So the clock never goes back across threads: every reading is at least the
/// latest one any thread has made. A hand-off orders the two readings (the lock passes from
/// one thread to the other), so the taker's start is never before the releaser's end.
struct AbsClock {
    epoch_ms: f64,
    latest_us: AtomicU64,
}

impl AbsClock {
    fn new(epoch_ms: f64) -> Self {
        Self {
            epoch_ms,
            latest_us: AtomicU64::new(0),
        }
    }
}

impl Clock for AbsClock {
    fn now_us(&self) -> u64 {
        let raw = ((crate::now_ms() - self.epoch_ms) * 1000.0).max(0.0) as u64;
        let before = self.latest_us.fetch_max(raw, Ordering::AcqRel);
        raw.max(before)
    }
}

thread_local! {
    /// The lane this pool thread is currently running (learned from its spans and from the
    /// spawner), so progress can be attributed to a lane for the live picture.
    static LANE: Cell<Option<u32>> = const { Cell::new(None) };
}

struct LiveSink {
    events: Mutex<Vec<LiveEvent>>,
    clock: Arc<AbsClock>,
}

impl TraceSink for LiveSink {
    fn span(&self, span: Span) {
        LANE.with(|l| l.set(Some(span.lane)));
        lock(&self.events).push(LiveEvent::Span { span });
    }
    fn progress(&self, task: u32, done: u64, total: u64) {
        let at_us = self.clock.now_us();
        let lane = LANE.with(Cell::get);
        lock(&self.events).push(LiveEvent::Progress {
            lane,
            task,
            done,
            total,
            at_us,
        });
    }
}

#[derive(Serialize, Clone)]
struct IoRequest {
    id: u32,
    url: String,
    file_name: String,
    io: IoModel,
}

#[derive(Default)]
struct IoQueue {
    model: IoModel,
    next: AtomicU32,
    pending: Mutex<Vec<IoRequest>>,
    results: Mutex<HashMap<u32, Result<DownloadOutput, String>>>,
    ready: Condvar,
}

impl IoPerformer for IoQueue {
    fn download(&self, spec: &DownloadSpec) -> Result<DownloadOutput, String> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        lock(&self.pending).push(IoRequest {
            id,
            url: spec.url.clone(),
            file_name: spec.file_name.clone(),
            io: self.model,
        });
        let mut results = lock(&self.results);
        loop {
            if let Some(r) = results.remove(&id) {
                return r;
            }
            results = self
                .ready
                .wait(results)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    fn sleep(&self, us: u64) {
        // Pool threads live in workers of a shared memory, where blocking waits are allowed.
        std::thread::sleep(std::time::Duration::from_micros(us));
    }
}

/// Every job on its own pool thread: the pool has more threads than any run has lanes (see
/// `Spawner`'s contract: a GIL waiter that never got a thread would never ask for the GIL).
struct PoolSpawner;

impl Spawner for PoolSpawner {
    fn run_all<'a>(&self, jobs: Vec<Box<dyn FnOnce() + Send + 'a>>) {
        rayon::scope(|s| {
            // `run_threads` makes one job per lane, in lane order: job i is lane i (the race
            // demo's later cases are offset, and their first span corrects the hint).
            for (i, job) in jobs.into_iter().enumerate() {
                s.spawn(move |_| {
                    LANE.with(|l| l.set(Some(i as u32)));
                    job();
                });
            }
        });
    }
}

/// Real processes: each [`ProcessPlan`] becomes a [`ProcessJob`] the host worker runs on fresh
/// lane workers; this pool thread waits for it, passing the lanes' spans to the run's sink as
/// they arrive.
#[derive(Default)]
struct WorkerProcesses {
    job: Mutex<Option<ProcessJob>>,
    inbox: Mutex<VecDeque<Bridged>>,
    arrived: Condvar,
    io: IoModel,
}

enum Bridged {
    Events(Vec<LiveEvent>),
    Done(ProcessResult),
}

impl ProcessLauncher for WorkerProcesses {
    fn run(&self, plan: ProcessPlan<'_>, env: &Env<'_>) -> ProcessRun {
        *lock(&self.job) = Some(ProcessJob {
            lanes: plan.lanes,
            tasks: plan.tasks.to_vec(),
            dispatch: plan.dispatch,
            counter: plan.counter,
            io: self.io,
        });
        let mut inbox = lock(&self.inbox);
        loop {
            while let Some(msg) = inbox.pop_front() {
                match msg {
                    Bridged::Events(events) => {
                        for e in events {
                            match e {
                                LiveEvent::Span { span } => env.sink.span(span),
                                LiveEvent::Outcome { id, outcome } => {
                                    env.sink.task_done(id, &outcome)
                                }
                                _ => {}
                            }
                        }
                    }
                    Bridged::Done(r) => {
                        return ProcessRun {
                            outcomes: r.outcomes,
                            shared_value: r.shared_value,
                        };
                    }
                }
            }
            inbox = self
                .arrived
                .wait(inbox)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}

struct Run {
    sink: LiveSink,
    io: IoQueue,
    processes: WorkerProcesses,
    stop: AtomicBool,
    done: Mutex<Option<String>>,
}

static CURRENT: Mutex<Option<Arc<Run>>> = Mutex::new(None);

/// Starts the run of `request` (a `ToHost::Run` message) on the pool. `epoch_ms` is the run's
/// start on the shared clock.
#[wasm_bindgen]
pub fn mt_start(request: &str, epoch_ms: f64) -> Result<(), JsError> {
    let req = parse_run(request).map_err(|e| JsError::new(&e))?;
    let clock = Arc::new(AbsClock::new(epoch_ms));
    let io = IoModel::of(&req.params);
    let run = Arc::new(Run {
        sink: LiveSink {
            events: Mutex::new(Vec::new()),
            clock: clock.clone(),
        },
        io: IoQueue {
            model: io,
            ..IoQueue::default()
        },
        processes: WorkerProcesses {
            io,
            ..WorkerProcesses::default()
        },
        stop: AtomicBool::new(false),
        done: Mutex::new(None),
    });
    *lock(&CURRENT) = Some(run.clone());
    rayon::spawn(move || {
        let machine = gil_lab_browser::machine(req.cores, &req.browser, true);
        // Browsers expose no CPU clock or core load: the meter estimates both from the lanes'
        // activity.
        let mut meter = gil_lab_browser::SpanMeter {
            cores: machine.cores,
        };
        let mut report = runner::run(
            &req.scenario,
            &req.params,
            &req.tasks,
            Backends {
                clock: clock.as_ref(),
                io: &run.io,
                spawner: &PoolSpawner,
                processes: &run.processes,
                meter: &mut meter,
                live: &run.sink,
                stop: &run.stop,
                machine,
            },
        );
        if !report.counters.is_empty() {
            report.notes.push(
                "The race's processes ran in separate workers, each with its own memory; a shared multiprocessing.Value is a SharedArrayBuffer every one of them maps.".to_owned(),
            );
        }
        report.notes.extend(gil_lab_browser::io_note(&req.params));
        let done = FromHost::Done {
            report: Box::new(report),
            pool: Some(rayon::current_num_threads() as u32),
        };
        *lock(&run.done) = Some(to_text(&done));
    });
    Ok(())
}

#[derive(Serialize)]
struct Poll {
    io: Vec<IoRequest>,
    processes: Option<ProcessJob>,
    done: Option<String>,
}

/// The downloads to perform, the processes to run, and (once the run has finished) the
/// `FromHost::Done` message for the page, as JSON.
#[wasm_bindgen]
pub fn mt_poll() -> String {
    let Some(run) = lock(&CURRENT).clone() else {
        return "{\"io\":[]}".into();
    };
    let poll = Poll {
        io: std::mem::take(&mut *lock(&run.io.pending)),
        processes: lock(&run.processes.job).take(),
        done: lock(&run.done).take(),
    };
    serde_json::to_string(&poll).unwrap_or_default()
}

/// Everything recorded since the last call, as a `FromHost::Events` message for the page.
#[wasm_bindgen]
pub fn mt_events() -> Option<String> {
    let run = lock(&CURRENT).clone()?;
    let events = std::mem::take(&mut *lock(&run.sink.events));
    (!events.is_empty()).then(|| to_text(&FromHost::Events { events }))
}

fn bridge(msg: Bridged) {
    if let Some(run) = lock(&CURRENT).clone() {
        lock(&run.processes.inbox).push_back(msg);
        run.processes.arrived.notify_all();
    }
}

/// Live events of the current process job's lanes (a JSON array of `LiveEvent`).
#[wasm_bindgen]
pub fn mt_process_events(events: &str) -> Result<(), JsError> {
    bridge(Bridged::Events(serde_json::from_str(events)?));
    Ok(())
}

/// The current process job could not run (a lane worker failed): the run stops, and the
/// page hears why from the host.
#[wasm_bindgen]
pub fn mt_processes_failed() {
    if let Some(run) = lock(&CURRENT).clone() {
        run.stop.store(true, Ordering::Relaxed);
    }
    bridge(Bridged::Done(ProcessResult::default()));
}

/// The current process job ended with this `ProcessResult`.
#[wasm_bindgen]
pub fn mt_processes_done(result: &str) -> Result<(), JsError> {
    bridge(Bridged::Done(serde_json::from_str(result)?));
    Ok(())
}

/// The result of download `id`: `bytes` ≥ 0 and the file written, or an error message.
#[wasm_bindgen]
pub fn mt_io_done(id: u32, ok: bool, file: String, bytes: f64, error: String) {
    let Some(run) = lock(&CURRENT).clone() else {
        return;
    };
    lock(&run.io.results).insert(id, crate::download_result(ok, file, bytes, error));
    run.io.ready.notify_all();
}

/// Asks the lanes to stop after their current step (the page also terminates the workers).
#[wasm_bindgen]
pub fn mt_stop() {
    if let Some(run) = lock(&CURRENT).clone() {
        run.stop.store(true, Ordering::Relaxed);
    }
}

/// A quick self-check of the pool: runs `threads` allocation-heavy jobs at once and returns
/// their wall time in ms (the bench compares 1 against 2 threads).
#[wasm_bindgen]
pub fn mt_alloc_probe(threads: u32, n: u32) -> f64 {
    let t0 = crate::now_ms();
    rayon::scope(|s| {
        for _ in 0..threads {
            s.spawn(move |_| {
                let _ = gil_lab::workload::SumPowers::new(n).finish();
            });
        }
    });
    crate::now_ms() - t0
}
