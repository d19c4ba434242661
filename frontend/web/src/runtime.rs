//! The page's side of the engine: it creates the host Worker, sends it runs, folds what it
//! streams back into a [`LiveRun`], and keeps the partial trace when the learner stops a run.
//! No engine work happens here: only bookkeeping and drawing.

use std::cell::RefCell;

use gil_lab::exec::Numbered;
use gil_lab::plan::{Caps, PlanError, RunPlan};
use gil_lab::scenario::Params;
use gil_lab::trace::{RunReport, SpanState};
use gil_lab_browser::protocol::{FromHost, LiveEvent, RunRequest, ToHost, pool_threads, to_text};
use gil_lab_browser::{LiveRun, OpenSpan};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

/// Which engine path a run takes (the protocol's [`EnginePath`](gil_lab_browser::protocol::EnginePath)).
pub use gil_lab_browser::protocol::EnginePath as Path;

/// What the page hears about a run.
pub enum Update {
    /// The picture should be redrawn.
    Progress,
    /// The run finished with this report.
    Finished(Box<RunReport>),
    /// The run failed.
    Failed(String),
}

struct Host {
    worker: Worker,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
    _onerror: Closure<dyn FnMut(web_sys::ErrorEvent)>,
    pool: u32,
}

struct Current {
    live: LiveRun,
    epoch_ms: Option<f64>,
    last_end: std::collections::BTreeMap<u32, u64>,
    message: String,
}

/// The function that hears about runs.
type Listener = Box<dyn Fn(Update)>;

thread_local! {
    static HOST: RefCell<Option<Host>> = const { RefCell::new(None) };
    static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
    static LISTENER: RefCell<Option<Listener>> = const { RefCell::new(None) };
}

/// `performance.timeOrigin + performance.now()`: the lab's one clock.
pub fn abs_now_ms() -> f64 {
    let perf = web_sys::window().and_then(|w| w.performance());
    perf.map_or(0.0, |p| p.time_origin() + p.now())
}

fn notify(u: Update) {
    LISTENER.with(|l| {
        if let Some(f) = l.borrow().as_ref() {
            f(u);
        }
    });
}

/// Sets the function that hears about runs.
pub fn set_listener(f: impl Fn(Update) + 'static) {
    LISTENER.with(|l| *l.borrow_mut() = Some(Box::new(f)));
}

fn spawn_host() -> Result<(), String> {
    let opts = WorkerOptions::new();
    opts.set_type(WorkerType::Module);
    let worker = Worker::new_with_options("js/host.js", &opts)
        .map_err(|e| format!("could not start the engine worker: {e:?}"))?;
    let host = worker.clone();
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        // The host posts the engine's messages as JSON text, and asks for lane workers with
        // objects (js/lanes.js starts them: the page, not the host, so Firefox cannot hang).
        let data = ev.data();
        if !data.is_string() {
            if let Err(e) = lanes_call("fromHost", &[host.clone().into(), data]) {
                kill_host();
                notify(Update::Failed(e));
            }
            return;
        }
        let text = data.as_string().unwrap_or_default();
        match serde_json::from_str::<FromHost>(&text) {
            Ok(msg) => on_host(msg),
            Err(e) => notify(Update::Failed(format!(
                "the engine sent something unexpected: {e}"
            ))),
        }
    });
    let onerror = Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |ev: web_sys::ErrorEvent| {
        ev.prevent_default();
        let msg = format!("the engine worker failed: {}", ev.message());
        kill_host();
        notify(Update::Failed(msg));
    });
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    HOST.with(|h| {
        *h.borrow_mut() = Some(Host {
            worker,
            _onmessage: onmessage,
            _onerror: onerror,
            pool: 0,
        })
    });
    Ok(())
}

/// Calls `globalThis.gilLabLanes[name](...args)` (js/lanes.js, loaded by both pages).
fn lanes_call(name: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let missing = || "the page's lane starter (js/lanes.js) is not loaded".to_owned();
    let lanes = js_sys::Reflect::get(&js_sys::global(), &"gilLabLanes".into())
        .ok()
        .filter(|v| v.is_object())
        .ok_or_else(missing)?;
    let f = js_sys::Reflect::get(&lanes, &name.into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or_else(missing)?;
    f.apply(&lanes, &args.iter().collect::<js_sys::Array>())
        .map_err(|e| format!("a lane worker could not be started: {e:?}"))
}

fn kill_host() {
    // The lanes the page started for the host go with it.
    let _ = lanes_call("stopAll", &[]);
    HOST.with(|h| {
        if let Some(host) = h.borrow_mut().take() {
            host.worker.terminate();
        }
    });
}

fn on_host(msg: FromHost) {
    match msg {
        FromHost::Started { epoch_ms } => CURRENT.with(|c| {
            if let Some(cur) = c.borrow_mut().as_mut() {
                cur.epoch_ms = Some(epoch_ms);
            }
        }),
        FromHost::Events { events } => {
            CURRENT.with(|c| {
                if let Some(cur) = c.borrow_mut().as_mut() {
                    for e in events {
                        apply(cur, e);
                    }
                }
            });
            notify(Update::Progress);
        }
        FromHost::Done { report, pool } => {
            if let Some(p) = pool {
                HOST.with(|h| {
                    if let Some(host) = h.borrow_mut().as_mut() {
                        host.pool = p;
                    }
                });
            }
            if CURRENT.with(|c| c.borrow_mut().take()).is_some() {
                notify(Update::Finished(report));
            }
        }
        FromHost::Error { message } => {
            let retry = message == "restart-needed";
            if retry {
                // The shared-memory pool is smaller than this run needs: a fresh host.
                kill_host();
                let again = CURRENT.with(|c| c.borrow().as_ref().map(|c| c.message.clone()));
                if let Some(m) = again
                    && spawn_host().is_ok()
                {
                    post(&m);
                    return;
                }
            }
            CURRENT.with(|c| c.borrow_mut().take());
            notify(Update::Failed(message));
        }
    }
}

fn apply(cur: &mut Current, e: LiveEvent) {
    match e {
        LiveEvent::Span { span } => {
            let end = cur.last_end.entry(span.lane).or_insert(0);
            *end = (*end).max(span.end_us);
            if cur
                .live
                .open
                .get(&span.lane)
                .is_some_and(|o| o.since_us < span.end_us)
            {
                cur.live.open.remove(&span.lane);
            }
            cur.live.spans.push(span);
        }
        LiveEvent::Open {
            lane,
            task,
            state,
            since_us,
        } => {
            cur.live.open.insert(
                lane,
                OpenSpan {
                    lane,
                    task,
                    state,
                    since_us,
                },
            );
        }
        LiveEvent::Progress {
            lane, task, at_us, ..
        } => {
            // The threaded engine reports spans when they end: a lane making progress is
            // running since its last span ended.
            if let Some(lane) = lane {
                let since = cur.last_end.get(&lane).copied().unwrap_or(0).min(at_us);
                let stale = cur
                    .live
                    .open
                    .get(&lane)
                    .is_none_or(|o| o.task != Some(task));
                if stale {
                    cur.live.open.insert(
                        lane,
                        OpenSpan {
                            lane,
                            task: Some(task),
                            state: SpanState::Running,
                            since_us: since,
                        },
                    );
                }
            }
        }
        LiveEvent::Outcome { id, outcome } => {
            cur.live.outcomes.insert(id, outcome);
        }
    }
}

fn post(message: &str) {
    HOST.with(|h| {
        if let Some(host) = h.borrow().as_ref() {
            let _ = host.worker.post_message(&JsValue::from_str(message));
        }
    });
}

/// The path for `params`, or why it cannot run here (the model's plan says; only the race
/// demo, whose thread and `Value` cases need shared memory, has none on a page that is not
/// isolated). One interpreter's threads share one memory: where a page has it, they run on
/// the threaded engine.
pub fn path_for(params: &Params, isolated: bool) -> Result<Path, String> {
    let plan = plan_here(params, isolated).map_err(|e| e.to_string())?;
    Ok(if isolated && plan.has_threads() {
        Path::SharedMemory
    } else {
        Path::Workers
    })
}

/// Whether the simulator stands in for a run this page cannot do (the model has no plan
/// here). The lab and the lesson both ask here, so both pages treat such a host alike.
pub fn simulator_stands_in(params: &Params, isolated: bool) -> bool {
    plan_here(params, isolated) == Err(PlanError::NeedsSharedMemory)
}

/// The plan of `params` on this page (without its tasks: only its make-up is asked about).
fn plan_here(params: &Params, isolated: bool) -> Result<RunPlan, PlanError> {
    RunPlan::new(
        params,
        &[],
        Caps {
            shared_memory: isolated,
        },
    )
}

/// The note a report made that way carries.
pub const SIMULATED_INSTEAD: &str = "Simulated, not run: this page is not cross-origin isolated, so its threads cannot share memory; the race's thread and Value cases come from the simulator here.";

/// Starts a run; updates arrive at the listener.
#[allow(clippy::too_many_arguments)]
pub fn start(
    scenario: &str,
    params: Params,
    tasks: Vec<Numbered>,
    path: Path,
    images: &[String],
    cores: u32,
    browser: &str,
    isolated: bool,
) -> Result<(), String> {
    // The pool this run asks for, and the least it can run on (the same rule without the
    // cores' floor): a host whose pool is smaller is replaced.
    let pool = pool_threads(params.model.workers(), cores);
    let need = pool_threads(params.model.workers(), 0);
    let healthy = HOST.with(|h| {
        h.borrow()
            .as_ref()
            .is_some_and(|host| path != Path::SharedMemory || host.pool == 0 || host.pool >= need)
    });
    if !healthy {
        kill_host();
    }
    if HOST.with(|h| h.borrow().is_none()) {
        spawn_host()?;
    }
    let machine = gil_lab_browser::machine(cores, browser, isolated);
    let live = LiveRun::new(scenario, params.clone(), tasks.clone(), machine);
    let message = to_text(&ToHost::Run(Box::new(RunRequest {
        scenario: scenario.to_owned(),
        params,
        tasks,
        path,
        images: images.to_vec(),
        cores,
        browser: browser.to_owned(),
        isolated,
        pool_threads: pool,
    })));
    CURRENT.with(|c| {
        *c.borrow_mut() = Some(Current {
            live,
            epoch_ms: None,
            last_end: Default::default(),
            message: message.clone(),
        })
    });
    post(&message);
    Ok(())
}

/// The run so far, drawn up to now (`None` when nothing is running).
pub fn snapshot() -> Option<RunReport> {
    CURRENT.with(|c| {
        let c = c.borrow();
        let cur = c.as_ref()?;
        let now = cur
            .epoch_ms
            .map_or(0, |e| ((abs_now_ms() - e) * 1000.0).max(0.0) as u64);
        Some(cur.live.report(now))
    })
}

/// Stops the run at once: every worker is terminated, the trace so far is kept and returned.
pub fn stop() -> Option<RunReport> {
    kill_host();
    let mut report = snapshot()?;
    CURRENT.with(|c| c.borrow_mut().take());
    report.notes.push(format!(
        "Stopped after {}: the trace up to that moment is kept; tasks that had begun show as stopped before the end, the others as never started.",
        gil_lab::view::format_duration(report.wall_us)
    ));
    Some(report)
}

/// Whether a run is in progress.
pub fn running() -> bool {
    CURRENT.with(|c| c.borrow().is_some())
}

/// The demo the lab shows first (and the one its host gets ready for).
pub const DEFAULT_DEMO: &str = "cpu-threads";

/// Starts the host ahead of the first run, so its engine is compiled by then and, on a
/// shared-memory page, its pool is running at the size the default demo needs.
pub fn warm_up() {
    if HOST.with(|h| h.borrow().is_none()) && spawn_host().is_ok() {
        let workers =
            gil_lab::scenario::find(DEFAULT_DEMO).map_or(4, |s| s.defaults().model.workers());
        post(&to_text(&ToHost::Prepare {
            pool_threads: pool_threads(workers, crate::page::cores()),
        }));
    }
}
