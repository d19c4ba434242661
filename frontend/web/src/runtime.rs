//! The page's side of the engine: it creates the host Worker, sends it runs, folds what it
//! streams back into a [`LiveRun`], and keeps the partial trace when the learner stops a run.
//! No engine work happens here: only bookkeeping and drawing.

use std::cell::RefCell;

use gil_lab::exec::Numbered;
use gil_lab::scenario::{Model, Params};
use gil_lab::trace::{RunReport, Span, SpanState};
use gil_lab::workload::TaskOutcome;
use gil_lab_browser::{LiveRun, OpenSpan};
use serde::Deserialize;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

/// One event the host streams back (see `frontend/js/host.js`).
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Ev {
    Span {
        span: Span,
    },
    Open {
        lane: u32,
        #[serde(default)]
        task: Option<u32>,
        state: SpanState,
        since_us: u64,
    },
    Progress {
        lane: Option<u32>,
        task: u32,
        at_us: u64,
    },
    Outcome {
        id: u32,
        outcome: TaskOutcome,
    },
}

#[derive(Debug, Deserialize)]
struct RawDone {
    wall_us: u64,
    #[serde(default)]
    notes: Vec<String>,
}

/// A message from the host worker.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum HostMsg {
    Hello,
    Started {
        epoch_ms: f64,
    },
    Events {
        events: Vec<Ev>,
    },
    Done {
        #[serde(default)]
        report: Option<String>,
        #[serde(default)]
        raw: Option<RawDone>,
        #[serde(default)]
        pool: Option<u32>,
    },
    Error {
        message: String,
    },
    #[serde(other)]
    Other,
}

/// What the page hears about a run.
pub enum Update {
    /// The picture should be redrawn.
    Progress,
    /// The run finished with this report.
    Finished(RunReport),
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

thread_local! {
    static HOST: RefCell<Option<Host>> = const { RefCell::new(None) };
    static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
    static LISTENER: RefCell<Option<Box<dyn Fn(Update)>>> = const { RefCell::new(None) };
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
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let text = js_sys::JSON::stringify(&ev.data())
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default();
        match serde_json::from_str::<HostMsg>(&text) {
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

fn kill_host() {
    HOST.with(|h| {
        if let Some(host) = h.borrow_mut().take() {
            host.worker.terminate();
        }
    });
}

fn on_host(msg: HostMsg) {
    match msg {
        HostMsg::Hello | HostMsg::Other => {}
        HostMsg::Started { epoch_ms } => CURRENT.with(|c| {
            if let Some(cur) = c.borrow_mut().as_mut() {
                cur.epoch_ms = Some(epoch_ms);
            }
        }),
        HostMsg::Events { events } => {
            CURRENT.with(|c| {
                if let Some(cur) = c.borrow_mut().as_mut() {
                    for e in events {
                        apply(cur, e);
                    }
                }
            });
            notify(Update::Progress);
        }
        HostMsg::Done { report, raw, pool } => {
            if let Some(p) = pool {
                HOST.with(|h| {
                    if let Some(host) = h.borrow_mut().as_mut() {
                        host.pool = p;
                    }
                });
            }
            let Some(cur) = CURRENT.with(|c| c.borrow_mut().take()) else {
                return;
            };
            let result = match (report, raw) {
                (Some(json), _) => RunReport::from_json(&json).map_err(|e| e.to_string()),
                (None, Some(raw)) => {
                    let mut live = cur.live;
                    live.open.clear();
                    live.notes.extend(raw.notes);
                    let mut r = live.report(raw.wall_us);
                    r.wall_us = raw.wall_us;
                    Ok(r)
                }
                (None, None) => Err("the engine finished without a report".to_owned()),
            };
            match result {
                Ok(r) => notify(Update::Finished(r)),
                Err(e) => notify(Update::Failed(e)),
            }
        }
        HostMsg::Error { message } => {
            let retry = message == "restart-needed";
            if retry {
                // The shared-memory pool is smaller than this run needs: a fresh host.
                kill_host();
                let again = CURRENT.with(|c| c.borrow().as_ref().map(|c| c.message.clone()));
                if let Some(m) = again {
                    if spawn_host().is_ok() {
                        post(&m);
                        return;
                    }
                }
            }
            CURRENT.with(|c| c.borrow_mut().take());
            notify(Update::Failed(message));
        }
    }
}

fn apply(cur: &mut Current, e: Ev) {
    match e {
        Ev::Span { span } => {
            let end = cur.last_end.entry(span.lane).or_insert(0);
            *end = (*end).max(span.end_us);
            if let Some(o) = cur.live.open.get(&span.lane) {
                if o.since_us < span.end_us {
                    cur.live.open.remove(&span.lane);
                }
            }
            cur.live.spans.push(span);
        }
        Ev::Open {
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
        Ev::Progress { lane, task, at_us } => {
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
        Ev::Outcome { id, outcome } => {
            cur.live.outcomes.insert(id, outcome);
        }
    }
}

fn post(message: &str) {
    HOST.with(|h| {
        if let Some(host) = h.borrow().as_ref() {
            if let Ok(v) = js_sys::JSON::parse(message) {
                let _ = host.worker.post_message(&v);
            }
        }
    });
}

/// Which engine path a run takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Path {
    /// Shared-memory threads (threaded engine).
    SharedMemory,
    /// One Worker per lane (plain engine).
    Workers,
}

/// The path for `params`, or why it cannot run here.
pub fn path_for(params: &Params, isolated: bool) -> Result<Path, String> {
    match params.model {
        Model::Threads { .. } if isolated => Ok(Path::SharedMemory),
        Model::Race { .. } if isolated => Ok(Path::SharedMemory),
        Model::Race { .. } => Err("The shared-counter demo needs threads that share memory, which a page only gets when it is cross-origin isolated: run `gil-lab serve` and open the lab from it.".to_owned()),
        Model::Convoy { .. } if isolated => Ok(Path::SharedMemory),
        Model::Convoy { .. } => Err("The convoy demo runs on shared-memory threads here, which a page only gets when it is cross-origin isolated: run `gil-lab serve` and open the lab from it.".to_owned()),
        _ => Ok(Path::Workers),
    }
}

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
    let need = params.model.workers() + 2;
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
    let message = serde_json::json!({
        "type": "run",
        "run": {
            "scenario": scenario,
            "params": params,
            "tasks": tasks,
            "path": if path == Path::SharedMemory { "mt" } else { "workers" },
            "images": images,
            "cores": cores,
            "browser": browser,
        }
    })
    .to_string();
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
        "Stopped after {}: the trace up to that moment is kept; unfinished tasks show as not run.",
        gil_lab::view::format_duration(report.wall_us)
    ));
    Some(report)
}

/// Whether a run is in progress.
pub fn running() -> bool {
    CURRENT.with(|c| c.borrow().is_some())
}

/// Starts the host ahead of the first run, so its module is compiled by then.
pub fn warm_up() {
    if HOST.with(|h| h.borrow().is_none()) {
        let _ = spawn_host();
    }
}
