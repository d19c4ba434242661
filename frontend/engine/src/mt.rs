//! Threads in a cross-origin-isolated page: one shared wasm memory, a `wasm-bindgen-rayon`
//! pool, and the core's own [`Gil`](gil_lab::gil::Gil) in that memory, so every hand-off is a
//! real lock hand-off between real threads.
//!
//! The host worker calls [`mt_start`]; the run itself goes onto a pool thread so the host's
//! event loop stays free. The host then calls [`mt_poll`] every few ms: it drains the spans and
//! progress recorded so far and the downloads waiting to be performed. Downloads happen in the
//! host with `fetch`, a modelled wait and OPFS (all asynchronous, which a pool thread cannot
//! do); the lane that asked blocks on a condition variable meanwhile, with its GIL released —
//! exactly the lesson's "blocking I/O releases the GIL". [`mt_io_done`] hands the result back.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use gil_lab::exec::{self, Dispatcher, Env};
use gil_lab::platform::{Clock, IoPerformer, Spawner};
use gil_lab::runner::{
    self, Backends, CounterShare, Measured, Meter, ProcessLauncher, ProcessPlan, ProcessRun,
};
use gil_lab::scenario::Params;
use gil_lab::trace::{Span, TraceSink};
use gil_lab::workload::{CounterCell, DownloadOutput, DownloadSpec, SharedCounter};
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
struct AbsClock {
    epoch_ms: f64,
}

impl Clock for AbsClock {
    fn now_us(&self) -> u64 {
        ((crate::now_ms() - self.epoch_ms) * 1000.0).max(0.0) as u64
    }
}

/// What the host drains at each poll.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    Span {
        span: Span,
    },
    Progress {
        lane: Option<u32>,
        task: u32,
        done: u64,
        total: u64,
        at_us: u64,
    },
}

thread_local! {
    /// The lane this pool thread is currently running (learned from its spans and from the
    /// spawner), so progress can be attributed to a lane for the live picture.
    static LANE: Cell<Option<u32>> = const { Cell::new(None) };
}

struct LiveSink {
    events: Mutex<Vec<Event>>,
    clock: Arc<AbsClock>,
}

impl TraceSink for LiveSink {
    fn span(&self, span: Span) {
        LANE.with(|l| l.set(Some(span.lane)));
        lock(&self.events).push(Event::Span { span });
    }
    fn progress(&self, task: u32, done: u64, total: u64) {
        let at_us = self.clock.now_us();
        let lane = LANE.with(Cell::get);
        lock(&self.events).push(Event::Progress {
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
}

#[derive(Default)]
struct IoQueue {
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

/// The race demo's "processes" case inside one page: each process gets its own counter cell
/// (separate memory), so the parent's counter never moves, as with `multiprocessing`.
struct SeparateMemory;

impl ProcessLauncher for SeparateMemory {
    fn run(&self, plan: ProcessPlan<'_>, env: &Env<'_>) -> ProcessRun {
        // The run's one dispatcher hands out shares or pool chunks, as natively.
        let dispatcher = Mutex::new(Dispatcher::new(&plan.dispatch));
        let out = Mutex::new(Vec::new());
        // A `multiprocessing.Value` is one cell every "process" updates.
        let value = SharedCounter::new();
        let shared = matches!(plan.counter, CounterShare::SharedValue);
        let start = match plan.counter {
            CounterShare::Copy { value } => value,
            CounterShare::SharedValue => 0,
        };
        rayon::scope(|s| {
            for (k, &lane) in plan.lanes.iter().enumerate() {
                let (out, dispatcher, value) = (&out, &dispatcher, &value);
                let tasks = plan.tasks;
                s.spawn(move |_| {
                    let copy = SharedCounter::with_value(start);
                    let own: &dyn CounterCell = if shared { value } else { &copy };
                    let next = || {
                        lock(dispatcher)
                            .next(k)
                            .into_iter()
                            .filter_map(|pos| tasks.get(pos as usize).cloned())
                            .collect()
                    };
                    let r = exec::run_process_lane(lane, own, env, next);
                    lock(out).extend(r);
                });
            }
        });
        ProcessRun {
            outcomes: out
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
            shared_value: shared.then(|| value.get()),
        }
    }
}

struct NoMeter;

impl Meter for NoMeter {
    fn start(&mut self) {}
    fn stop(&mut self) -> Measured {
        Measured::default()
    }
}

struct Run {
    sink: LiveSink,
    io: IoQueue,
    stop: AtomicBool,
    report: Mutex<Option<String>>,
}

static CURRENT: Mutex<Option<Arc<Run>>> = Mutex::new(None);

/// Starts `params` (scenario `scenario`) on the pool. `epoch_ms` is the run's start on the
/// shared clock; `image_urls` are the page's own image files.
#[wasm_bindgen]
pub fn mt_start(
    scenario: String,
    params_json: &str,
    image_urls_json: &str,
    epoch_ms: f64,
    cores: u32,
    browser: String,
) -> Result<(), JsError> {
    let params: Params = serde_json::from_str(params_json)?;
    let urls: Vec<String> = serde_json::from_str(image_urls_json)?;
    let clock = Arc::new(AbsClock { epoch_ms });
    let run = Arc::new(Run {
        sink: LiveSink {
            events: Mutex::new(Vec::new()),
            clock: clock.clone(),
        },
        io: IoQueue::default(),
        stop: AtomicBool::new(false),
        report: Mutex::new(None),
    });
    *lock(&CURRENT) = Some(run.clone());
    rayon::spawn(move || {
        let tasks = runner::build_tasks(&params, &urls);
        let mut meter = NoMeter;
        let machine = gil_lab_browser::machine(cores, &browser, true);
        let mut report = runner::run(
            &scenario,
            &params,
            &tasks,
            Backends {
                clock: clock.as_ref(),
                io: &run.io,
                spawner: &PoolSpawner,
                processes: &SeparateMemory,
                meter: &mut meter,
                live: &run.sink,
                stop: &run.stop,
                machine,
            },
        );
        if !report.counters.is_empty() {
            // Say plainly what the browser cannot do: a race run happens inside one threaded
            // engine, so its "processes" are pool threads with a counter each, not Workers.
            report.notes.push(
                "In the browser the race's processes are threads with separate counters (separate memory), standing in for real processes.".to_owned(),
            );
        }
        // Browsers expose no CPU clock or core load: estimate both from the lanes' activity.
        report.cpu_user_us = gil_lab_browser::running_us(&report.spans);
        report.cores =
            gil_lab_browser::estimate_cores(&report.spans, report.wall_us, report.machine.cores);
        *lock(&run.report) = Some(report.to_json());
    });
    Ok(())
}

#[derive(Serialize)]
struct Poll {
    events: Vec<Event>,
    io: Vec<IoRequest>,
    report: Option<String>,
}

/// Everything recorded since the last poll, the downloads to perform, and the report once the
/// run has finished (JSON).
#[wasm_bindgen]
pub fn mt_poll() -> String {
    let Some(run) = lock(&CURRENT).clone() else {
        return "{}".into();
    };
    let poll = Poll {
        events: std::mem::take(&mut *lock(&run.sink.events)),
        io: std::mem::take(&mut *lock(&run.io.pending)),
        report: lock(&run.report).take(),
    };
    serde_json::to_string(&poll).unwrap_or_default()
}

/// The result of download `id`: `bytes` ≥ 0 and the file written, or an error message.
#[wasm_bindgen]
pub fn mt_io_done(id: u32, ok: bool, file: String, bytes: f64, error: String) {
    let Some(run) = lock(&CURRENT).clone() else {
        return;
    };
    let r = if ok {
        Ok(DownloadOutput {
            file,
            bytes: bytes as u64,
        })
    } else {
        Err(error)
    };
    lock(&run.io.results).insert(id, r);
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
