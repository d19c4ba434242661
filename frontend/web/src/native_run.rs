//! "Run natively": when `gil-lab serve` served this page (its `index.html` carries
//! `<meta name="gil-lab-token">` and `<meta name="gil-lab-cores">`), the page can ask the
//! native companion to run the scenario on this machine's OS threads and processes, and
//! watch it live: `fetch` of `POST /api/run`, its body read chunk by chunk and parsed as
//! server-sent events ([`crate::sse`]), each span folded into the same [`LiveRun`] the
//! browser's runs use. Stop aborts the stream; the server stops the run and its processes
//! when the stream closes (and is told by `DELETE /api/run/<id>` as well).
//!
//! The parameters go to the server as typed: it checks them with the CLI's own checks, so a
//! refusal (400, and 403/429) comes back as the server's one line naming the field.

use std::cell::RefCell;

use gil_lab::exec::Numbered;
use gil_lab::gil::GilMode;
use gil_lab::scenario::{Overrides, Params, Scenario};
use gil_lab::trace::{Lane, Machine, RunReport, Span};
use gil_lab::workload::TaskOutcome;
use gil_lab_browser::LiveRun;
use serde::Deserialize;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::form::Fields;
use crate::runtime::abs_now_ms;
use crate::sse;

/// The native companion that served this page.
#[derive(Debug, Clone)]
pub struct Server {
    /// The run API's token.
    pub token: String,
    /// Logical cores of the machine it runs on.
    pub cores: Option<u32>,
}

fn meta(name: &str) -> Option<String> {
    let doc = web_sys::window()?.document()?;
    let el = doc
        .query_selector(&format!("meta[name=\"{name}\"]"))
        .ok()??;
    el.get_attribute("content").filter(|c| !c.is_empty())
}

/// The server, when `gil-lab serve` served this page with its run API on.
pub fn server() -> Option<Server> {
    Some(Server {
        token: meta("gil-lab-token")?,
        cores: meta("gil-lab-cores").and_then(|c| c.parse().ok()),
    })
}

/// What the page hears about a native run.
pub enum Update {
    /// The run so far (redraw it).
    Live(Box<RunReport>),
    /// The run's report, measured by the server.
    Finished(Box<RunReport>),
    /// Why it could not run, in one line.
    Failed(String),
}

struct Current {
    live: Option<LiveRun>,
    started_ms: f64,
    last_draw_ms: f64,
    id: Option<String>,
    abort: web_sys::AbortController,
    tasks: Vec<Numbered>,
}

thread_local! {
    static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
}

/// Whether a native run is going on.
pub fn running() -> bool {
    CURRENT.with(|c| c.borrow().is_some())
}

/// Whether one field the form holds applies to `scenario` (the server refuses one that does
/// not, as the CLI does; the form keeps text in fields it hides for this scenario).
fn applies(scenario: &Scenario, key: &str) -> bool {
    let mut o = Overrides::default();
    match key {
        "n" => o.n = Some(1),
        "tasks" => o.tasks = Some(1),
        "workers" => o.workers = Some(1),
        "gil" => o.gil = Some(GilMode::Classic),
        "switch-interval-ms" => o.switch_interval_ms = Some(5.0),
        "latency-ms" => o.latency_ms = Some(1),
        "bandwidth-kbps" => o.bandwidth_kbps = Some(1),
        "increments" => o.increments = Some(1),
        "python" => o.python = Some(gil_lab::scenario::Python::default()),
        "mib" => o.mib = Some(1),
        "chunk-bytes" => o.chunk_bytes = Some(1),
        _ => return false,
    }
    o.check_applies(scenario).is_ok()
}

/// The request body: the scenario and every field the learner filled in that applies to it,
/// as typed.
pub fn body(scenario: &Scenario, fields: &Fields) -> String {
    let mut m = serde_json::Map::new();
    m.insert("scenario".into(), scenario.name.into());
    for (key, text) in [
        ("n", &fields.n),
        ("tasks", &fields.tasks),
        ("workers", &fields.workers),
        ("gil", &fields.gil),
        ("switch-interval-ms", &fields.interval_ms),
        ("latency-ms", &fields.latency_ms),
        ("bandwidth-kbps", &fields.bandwidth_kbps),
        ("increments", &fields.increments),
        ("python", &fields.python),
        ("mib", &fields.mib),
        ("chunk-bytes", &fields.chunk_bytes),
    ] {
        let t = text.trim();
        if !t.is_empty() && applies(scenario, key) {
            m.insert(key.into(), t.into());
        }
    }
    serde_json::Value::Object(m).to_string()
}

fn js_text(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "network error".into())
}

/// Starts a native run of `scenario`; updates arrive at `on`. Refused while one is going.
pub fn start(
    server: &Server,
    scenario: &Scenario,
    fields: &Fields,
    tasks: Vec<Numbered>,
    on: impl Fn(Update) + 'static,
) -> Result<(), String> {
    if running() {
        return Err("a native run is still going: stop it first".into());
    }
    let abort = web_sys::AbortController::new().map_err(|e| js_text(&e))?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(&body(scenario, fields)));
    init.set_signal(Some(&abort.signal()));
    let headers = web_sys::Headers::new().map_err(|e| js_text(&e))?;
    let _ = headers.set("Content-Type", "application/json");
    let _ = headers.set("X-GIL-Lab-Token", &server.token);
    init.set_headers(&headers);
    let window = web_sys::window().ok_or("no window")?;
    let promise = window.fetch_with_str_and_init("api/run", &init);
    CURRENT.with(|c| {
        *c.borrow_mut() = Some(Current {
            live: None,
            started_ms: abs_now_ms(),
            last_draw_ms: 0.0,
            id: None,
            abort,
            tasks,
        })
    });
    wasm_bindgen_futures::spawn_local(async move {
        let result = read(promise, &on).await;
        // Whatever ended the stream, the run is over for this page.
        let was_current = CURRENT.with(|c| c.borrow_mut().take()).is_some();
        match result {
            Ok(Some(report)) => on(Update::Finished(Box::new(report))),
            Ok(None) if was_current => on(Update::Failed(
                "the native run's stream ended without a report (is gil-lab serve still running?)"
                    .into(),
            )),
            Err(e) if was_current => on(Update::Failed(e)),
            // Stopped by the learner: `stop` already handed the page the trace so far.
            _ => {}
        }
    });
    Ok(())
}

#[derive(Deserialize)]
struct Started {
    id: String,
    scenario: String,
    params: Params,
    lanes: Vec<Lane>,
    machine: Machine,
}

#[derive(Deserialize)]
struct TaskEnd {
    id: u32,
    outcome: TaskOutcome,
}

/// Reads the response to its end: the report, `None` when the stream ended without one.
async fn read(promise: js_sys::Promise, on: &dyn Fn(Update)) -> Result<Option<RunReport>, String> {
    let resp = JsFuture::from(promise)
        .await
        .map_err(|e| format!("gil-lab serve could not be reached: {}", js_text(&e)))?;
    let resp: web_sys::Response = resp.dyn_into().map_err(|_| "no response".to_owned())?;
    if !resp.ok() {
        let status = resp.status();
        let text = match resp.text() {
            Ok(p) => JsFuture::from(p)
                .await
                .ok()
                .and_then(|t| t.as_string())
                .unwrap_or_default(),
            Err(_) => String::new(),
        };
        let line = text.lines().next().unwrap_or("").trim().to_owned();
        return Err(format!(
            "gil-lab serve refused the run (HTTP {status}): {line}"
        ));
    }
    let body = resp.body().ok_or("the response has no body")?;
    let reader: web_sys::ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| "the response cannot be read as a stream".to_owned())?;
    let mut parser = sse::Parser::new();
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| format!("the native run's stream broke: {}", js_text(&e)))?;
        let done = js_sys::Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        if done {
            return Ok(None);
        }
        let value = js_sys::Reflect::get(&chunk, &"value".into()).unwrap_or(JsValue::UNDEFINED);
        let bytes = js_sys::Uint8Array::new(&value).to_vec();
        for ev in parser.push(&bytes) {
            if let Some(end) = apply(ev)? {
                return Ok(Some(end));
            }
        }
        redraw(on);
    }
}

/// Folds one event into the live run; the report when it is the last.
fn apply(ev: sse::Event) -> Result<Option<RunReport>, String> {
    let bad = |e: serde_json::Error| format!("gil-lab serve sent an unreadable {}: {e}", ev.name);
    match ev.name.as_str() {
        "started" => {
            let s: Started = serde_json::from_str(&ev.data).map_err(bad)?;
            CURRENT.with(|c| {
                if let Some(cur) = c.borrow_mut().as_mut() {
                    let mut live = LiveRun::new(
                        &s.scenario,
                        s.params,
                        std::mem::take(&mut cur.tasks),
                        s.machine,
                    );
                    live.lanes = s.lanes;
                    cur.live = Some(live);
                    cur.id = Some(s.id);
                    cur.started_ms = abs_now_ms();
                }
            });
        }
        "span" => {
            let span: Span = serde_json::from_str(&ev.data).map_err(bad)?;
            with_live(|live| live.spans.push(span));
        }
        "task" => {
            let t: TaskEnd = serde_json::from_str(&ev.data).map_err(bad)?;
            with_live(|live| {
                live.outcomes.insert(t.id, t.outcome);
            });
        }
        "report" => {
            let r = RunReport::from_json(&ev.data).map_err(|e| bad_report(&e.to_string()))?;
            return Ok(Some(r));
        }
        "error" => return Err(format!("the native run failed: {}", ev.data)),
        _ => {}
    }
    Ok(None)
}

fn bad_report(e: &str) -> String {
    format!("gil-lab serve sent an unreadable report: {e}")
}

fn with_live(f: impl FnOnce(&mut LiveRun)) {
    CURRENT.with(|c| {
        if let Some(live) = c.borrow_mut().as_mut().and_then(|c| c.live.as_mut()) {
            f(live);
        }
    });
}

/// The run so far, drawn up to now.
fn snapshot() -> Option<RunReport> {
    CURRENT.with(|c| {
        let c = c.borrow();
        let cur = c.as_ref()?;
        let now = ((abs_now_ms() - cur.started_ms) * 1000.0).max(0.0) as u64;
        cur.live.as_ref().map(|l| l.report(now))
    })
}

/// Hands the page the run so far, at most four times a second (drawing costs the CPU the
/// run's processes would otherwise have).
fn redraw(on: &dyn Fn(Update)) {
    let now = abs_now_ms();
    let due = CURRENT.with(|c| {
        let mut c = c.borrow_mut();
        match c.as_mut() {
            Some(cur) if now - cur.last_draw_ms >= 250.0 && cur.live.is_some() => {
                cur.last_draw_ms = now;
                true
            }
            _ => false,
        }
    });
    if due && let Some(r) = snapshot() {
        on(Update::Live(Box::new(r)));
    }
}

/// Stops the native run: the stream is aborted (the server stops the run and its processes
/// when it closes) and the server is told to stop by id as well. Returns the trace so far.
pub fn stop(server: &Server) -> Option<RunReport> {
    let mut report = snapshot();
    let cur = CURRENT.with(|c| c.borrow_mut().take())?;
    cur.abort.abort();
    if let Some(id) = cur.id {
        let init = web_sys::RequestInit::new();
        init.set_method("DELETE");
        if let Ok(h) = web_sys::Headers::new() {
            let _ = h.set("X-GIL-Lab-Token", &server.token);
            init.set_headers(&h);
        }
        if let Some(w) = web_sys::window() {
            // The run may have ended by itself meanwhile (404): nothing to do then.
            let _ = w.fetch_with_str_and_init(&format!("api/run/{id}"), &init);
        }
    }
    if let Some(r) = report.as_mut() {
        r.notes.push(format!(
            "Stopped after {}: the native run and its processes were stopped; the trace up to that moment is kept.",
            gil_lab::view::format_duration(r.wall_us)
        ));
    }
    report
}
