//! Worker-based runs: thin `wasm-bindgen` shells over `gil_lab_browser`'s [`HostCore`] (in the
//! host worker) and [`LaneCore`] (in each lane worker), which hold every rule and are tested
//! natively. JavaScript only creates workers, posts the JSON text these return, fetches and
//! sets timers.
//!
//! Also here: the race demo's `multiprocessing.Value` for lane workers of an isolated page — a
//! [`CounterCell`] over `Atomics` on an `Int32Array` of a `SharedArrayBuffer` every lane maps.

use std::cell::RefCell;

use gil_lab::platform::Clock;
use gil_lab::workload::CounterCell;
use gil_lab_browser::host::{HostCore, HostOut};
use gil_lab_browser::lane::LaneCore;
use gil_lab_browser::protocol::{
    FromHost, FromLane, HostAction, LaneCounter, ProcessJob, ToLane, parse_run, to_text,
};
use js_sys::{Atomics, Int32Array};
use wasm_bindgen::prelude::*;

use crate::now_ms;

thread_local! {
    /// The run's shared counter in this worker: `[value, lock]`.
    static SHARED: RefCell<Option<Int32Array>> = const { RefCell::new(None) };
}

/// Maps the run's shared counter (an `Int32Array` over a `SharedArrayBuffer`) in this worker.
#[wasm_bindgen]
pub fn set_shared_counter(cells: Int32Array) {
    SHARED.with(|s| *s.borrow_mut() = Some(cells));
}

const VALUE: u32 = 0;
const LOCK: u32 = 1;

/// `multiprocessing.Value` on shared memory: `counter += 1` as a separate atomic load and
/// store (so another worker's store can fall in between), and its lock as a word taken with
/// `compareExchange` and waited for with `Atomics.wait` (lane workers may block).
///
/// The value is 32 bits wide: the lab's limits (50 million increments × 64 workers) fit.
struct AtomicsCounter;

fn with_cells<R>(f: impl FnOnce(&Int32Array) -> R) -> Option<R> {
    SHARED.with(|s| s.borrow().as_ref().map(f))
}

impl CounterCell for AtomicsCounter {
    fn load(&self) -> u64 {
        with_cells(|c| Atomics::load(c, VALUE).unwrap_or(0) as u32 as u64).unwrap_or(0)
    }

    fn store(&self, v: u64) {
        with_cells(|c| Atomics::store(c, VALUE, v as u32 as i32));
    }

    fn try_lock(&self) -> bool {
        with_cells(|c| Atomics::compare_exchange(c, LOCK, 0, 1) == Ok(0)).unwrap_or(true)
    }

    fn lock(&self) {
        with_cells(|c| {
            while Atomics::compare_exchange(c, LOCK, 0, 1) != Ok(0) {
                // Sleeps while the word is still 1 (held); returns at once otherwise.
                let _ = Atomics::wait(c, LOCK, 1);
            }
        });
    }

    fn unlock(&self) {
        with_cells(|c| {
            let _ = Atomics::store(c, LOCK, 0);
            let _ = Atomics::notify(c, LOCK);
        });
    }
}

/// µs since the run's epoch on `timeOrigin + now()`.
struct EpochClock {
    epoch_ms: f64,
}

impl Clock for EpochClock {
    fn now_us(&self) -> u64 {
        ((now_ms() - self.epoch_ms) * 1000.0).max(0.0) as u64
    }
}

fn js_err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// One lane worker's thread: the core's thread loop carried out for real.
#[wasm_bindgen]
pub struct LaneRun {
    core: LaneCore,
    clock: EpochClock,
    slice_us: u64,
}

#[wasm_bindgen]
impl LaneRun {
    /// The lane `init` (a `ToLane::Init` message) describes.
    #[wasm_bindgen(constructor)]
    pub fn new(init: &str) -> Result<LaneRun, JsError> {
        let ToLane::Init { config } = serde_json::from_str(init).map_err(js_err)? else {
            return Err(JsError::new("a lane's first message must be `init`"));
        };
        let shared = (config.counter == LaneCounter::Shared && with_cells(|_| ()).is_some())
            .then(|| Box::new(AtomicsCounter) as Box<dyn CounterCell>);
        let clock = EpochClock {
            epoch_ms: config.epoch_ms.unwrap_or(0.0),
        };
        let slice_us = config.slice_us;
        Ok(LaneRun {
            core: LaneCore::new(config, shared, now_ms()),
            clock,
            slice_us,
        })
    }

    /// Runs until the thread must wait; returns what to do next (a `LaneStep`, JSON).
    pub fn run(&mut self) -> String {
        to_text(&self.core.run(&self.clock, self.slice_us))
    }

    /// What to post to the host (a JSON array of `FromLane`), if anything.
    pub fn outbox(&mut self) -> Option<String> {
        let out: Vec<FromLane> = self.core.take_outbox();
        (!out.is_empty()).then(|| to_text(&out))
    }

    /// A message from the host (`ToLane`, JSON); `true` when the lane should run again.
    pub fn on_message(&mut self, text: &str) -> Result<bool, JsError> {
        let msg: ToLane = serde_json::from_str(text).map_err(js_err)?;
        if let ToLane::Start { epoch_ms } = msg {
            self.clock.epoch_ms = epoch_ms;
        }
        Ok(self.core.on_message(msg, &self.clock))
    }

    /// The download of the last `download` step ended.
    pub fn downloaded(&mut self, ok: bool, file: String, bytes: f64, error: String) {
        self.core
            .downloaded(crate::download_result(ok, file, bytes, error));
    }

    /// The timer of the last `sleep` step fired.
    pub fn slept(&mut self) {
        self.core.slept();
    }
}

/// The host worker's side of a worker-based run (or of the processes of a race case).
#[wasm_bindgen]
pub struct HostRun {
    core: HostCore,
    /// A run the page asked for (which ends with its report), not a threaded engine's job.
    page_run: bool,
}

fn seed() -> u64 {
    now_ms().to_bits()
}

#[wasm_bindgen]
impl HostRun {
    /// The run of `request` (a `ToHost::Run` message), or why it cannot run on workers.
    #[wasm_bindgen(constructor)]
    pub fn new(request: &str) -> Result<HostRun, JsError> {
        let run = parse_run(request).map_err(|e| JsError::new(&e))?;
        let core = HostCore::new(run, seed()).map_err(|e| JsError::new(&e))?;
        Ok(HostRun {
            core,
            page_run: true,
        })
    }

    /// The processes of `job` (a `ProcessJob`) on the clock started at `epoch_ms`.
    pub fn for_processes(job: &str, epoch_ms: f64) -> Result<HostRun, JsError> {
        let job: ProcessJob = serde_json::from_str(job).map_err(js_err)?;
        Ok(HostRun {
            core: HostCore::for_processes(job, epoch_ms, seed()),
            page_run: false,
        })
    }

    /// Whether the lanes map a shared counter (give them one with the spawn).
    pub fn needs_shared_counter(&self) -> bool {
        self.core.needs_shared_counter()
    }

    /// Starts the run: what to do (a JSON array of `HostAction`).
    pub fn begin(&mut self) -> String {
        let outs = self.core.begin(now_ms());
        self.actions(outs)
    }

    /// Messages from `lane` (a JSON array of `FromLane`): what to do.
    pub fn on_lane(&mut self, lane: u32, text: &str) -> Result<String, JsError> {
        let msgs: Vec<FromLane> = serde_json::from_str(text).map_err(js_err)?;
        let outs = self.core.on_lane(lane, msgs, now_ms());
        Ok(self.actions(outs))
    }

    /// The live events since the last call, as a `FromHost::Events` message for the page.
    pub fn page_events(&mut self) -> Option<String> {
        let events = self.core.take_live();
        (!events.is_empty()).then(|| to_text(&FromHost::Events { events }))
    }

    /// The live events since the last call, as a JSON array of `LiveEvent` (for the threaded
    /// engine, whose run these processes are part of).
    pub fn live_events(&mut self) -> String {
        to_text(&self.core.take_live())
    }

    /// What the processes produced (a `ProcessResult`), the shared counter read last.
    pub fn process_result(&self) -> String {
        let shared = with_cells(|_| AtomicsCounter.load());
        to_text(&self.core.process_result(shared))
    }

    fn actions(&mut self, outs: Vec<HostOut>) -> String {
        let mut acts = Vec::with_capacity(outs.len());
        for o in outs {
            match o {
                HostOut::Spawn { config } => acts.push(HostAction::Spawn {
                    lane: config.lane,
                    shared_counter: config.counter == LaneCounter::Shared,
                    init: to_text(&ToLane::Init { config }),
                }),
                HostOut::Send { lane, msg } => acts.push(HostAction::Send {
                    lane,
                    msg: to_text(&msg),
                }),
                HostOut::Terminate { lane } => acts.push(HostAction::Terminate { lane }),
                HostOut::Started { epoch_ms } => acts.push(HostAction::Page {
                    msg: to_text(&FromHost::Started { epoch_ms }),
                }),
                HostOut::Finished => {
                    if self.page_run {
                        if let Some(msg) = self.page_events() {
                            acts.push(HostAction::Page { msg });
                        }
                        if let Some(report) = self.core.report() {
                            acts.push(HostAction::Page {
                                msg: to_text(&FromHost::Done {
                                    report: Box::new(report),
                                    pool: None,
                                }),
                            });
                        }
                    }
                    acts.push(HostAction::Finished);
                }
            }
        }
        to_text(&acts)
    }
}

/// A `FromHost::Error` message for the page.
#[wasm_bindgen]
pub fn host_error(message: &str) -> String {
    to_text(&FromHost::Error {
        message: message.to_owned(),
    })
}
