//! `POST /api/run` of `gil-lab serve`: the page asks the native companion to run a scenario on
//! OS threads and processes and watches it live as server-sent events.
//!
//! ```text
//! POST /api/run            {"scenario": "cpu-processes", "n": 3000, "workers": 4}
//! X-GIL-Lab-Token: <the token in index.html's <meta name="gil-lab-token">>
//! Origin: <this server's own origin, or none>
//!
//! 200 text/event-stream, header X-GIL-Lab-Run: <id>
//! event: started   data: {"id": "3", "scenario": …, "params": …, "lanes": […], "machine": …}
//! event: span      data: <Span>            (as each span ends; times on the run's clock)
//! event: progress  data: {"task": 0, "done": 120, "total": 3000}
//! event: task      data: {"id": 0, "outcome": …}
//! event: report    data: <RunReport>       (source "measured"; times from the first task)
//! ```
//!
//! Closing the stream, or `DELETE /api/run/<id>`, stops the run and its processes (the same
//! way as Ctrl-C stops `gil-lab run`); so does a stream left unread, once [`LIVE_BUFFER`]
//! events wait for it or its connection has taken no bytes for the write timeout. The run
//! slot is then free within [`REPORT_WAIT`] of the run's end. Refusals: a foreign `Origin` or
//! a missing/wrong token → 403 (a `Host` that is not this server, DNS rebinding, is refused
//! before any route, [`crate::web_guard`]); a bad parameter → 400 with the CLI's one-line
//! message; a second run while one is going → 429.
//!
//! Why a token as well as the origin check: the API starts CPU work and processes, so only the
//! page this server served may use it; the token is new at every start and only readable by a
//! page of this origin.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use gil_lab::gil::GilMode;
use gil_lab::scenario::{Limits, Overrides};
use gil_lab::trace::{Span, TraceSink};
use gil_lab::workload::TaskOutcome;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::download::DownloadLimits;
use crate::run;

/// The request header carrying the token.
pub const TOKEN_HEADER: &str = "x-gil-lab-token";
/// The response header naming the run.
pub const RUN_HEADER: &str = "x-gil-lab-run";
/// Live events waiting for a reader at most. When they are all still waiting, the reader has
/// stopped reading (the connection's own socket buffers are full before this fills): the run
/// is stopped, so a stream nobody reads cannot hold the one run slot for the run's length.
const LIVE_BUFFER: usize = 8192;
/// How long the end of a run waits for room for its report in a stream that is not being
/// read, before it gives up on it and frees the run slot.
const REPORT_WAIT: Duration = Duration::from_secs(5);
/// How long shutting down waits for a stopped run to wind down.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The run API's state: its token and the run going on. (Which hosts it answers to is
/// checked for every request of the server, [`crate::web_guard`].)
pub struct Api {
    token: String,
    next_id: AtomicU64,
    active: Mutex<Option<ActiveRun>>,
}

struct ActiveRun {
    id: u64,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// A fresh random token (128 bits from the system's random source, as hex).
pub fn new_token() -> anyhow::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| anyhow::anyhow!("cannot read /dev/urandom for the API token: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl Api {
    /// The API of a server, guarded by `token`.
    pub fn new(token: String) -> Self {
        Self {
            token,
            next_id: AtomicU64::new(1),
            active: Mutex::new(None),
        }
    }

    /// The token pages must send.
    pub fn token(&self) -> &str {
        &self.token
    }

    fn active(&self) -> std::sync::MutexGuard<'_, Option<ActiveRun>> {
        self.active
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Why a request may not use the API, if it may not.
    fn refuse(&self, headers: &HeaderMap) -> Option<Response> {
        let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
        // The server answers only Hosts that name it; the page's own origin is that Host.
        let host = text(header::HOST).unwrap_or("");
        if let Some(origin) = text(header::ORIGIN)
            && !origin.eq_ignore_ascii_case(&format!("http://{host}"))
        {
            return Some(forbidden(format!(
                "Origin {origin} is not this server's: only its own page may run scenarios"
            )));
        }
        if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
            && !matches!(site, "same-origin" | "none")
        {
            return Some(forbidden(format!(
                "Sec-Fetch-Site {site} is not same-origin"
            )));
        }
        let given = headers
            .get(TOKEN_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !same_bytes(given, self.token.as_bytes()) {
            return Some(forbidden(format!(
                "missing or wrong {TOKEN_HEADER} header (the page's <meta name=\"gil-lab-token\">)"
            )));
        }
        None
    }

    /// Stops the run going on (server shutdown) and waits a little for it to wind down.
    pub fn shutdown(&self) {
        let run = self.active().take();
        if let Some(mut run) = run {
            run.stop.store(true, Ordering::Relaxed);
            if let Some(t) = run.thread.take() {
                let t0 = std::time::Instant::now();
                while !t.is_finished() && t0.elapsed() < SHUTDOWN_GRACE {
                    std::thread::sleep(Duration::from_millis(20));
                }
                if t.is_finished() {
                    let _ = t.join();
                }
            }
            crate::stop::kill_children();
        }
    }
}

/// Compares without stopping at the first difference (the token is a secret).
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn plain(status: StatusCode, msg: impl Into<String>) -> Response {
    let mut text = msg.into();
    text.push('\n');
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

fn forbidden(msg: String) -> Response {
    plain(StatusCode::FORBIDDEN, msg)
}

fn bad_request(msg: impl Into<String>) -> Response {
    plain(StatusCode::BAD_REQUEST, msg)
}

/// A JSON value as the text a command line would hold.
fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The parameters the body names, checked exactly as the command line checks its flags.
fn overrides(body: &BTreeMap<String, Value>) -> Result<Overrides, String> {
    let mut o = Overrides::default();
    for (key, v) in body {
        if key == "scenario" || v.is_null() {
            continue;
        }
        let text = as_text(v);
        let whole = |field: &'static str, range| crate::cli::ranged(field, range)(&text);
        match key.as_str() {
            "n" => o.n = Some(whole("n", Limits::N)?),
            "tasks" => o.tasks = Some(whole("tasks", Limits::TASKS)?),
            "workers" => o.workers = Some(whole("workers", Limits::WORKERS)?),
            "latency-ms" => o.latency_ms = Some(whole("latency-ms", Limits::LATENCY_MS)?),
            "bandwidth-kbps" => {
                o.bandwidth_kbps = Some(whole("bandwidth-kbps", Limits::BANDWIDTH_KBPS)?);
            }
            "increments" => o.increments = Some(whole("increments", Limits::INCREMENTS)?),
            "chunksize" => o.chunksize = Some(whole("chunksize", Limits::CHUNKSIZE)?),
            "mib" => o.mib = Some(whole("mib", Limits::MIB)?),
            "chunk-bytes" => o.chunk_bytes = Some(whole("chunk-bytes", Limits::CHUNK_BYTES)?),
            "switch-interval-ms" => {
                o.switch_interval_ms = Some(crate::cli::ranged_f64(
                    "switch-interval-ms",
                    Limits::SWITCH_INTERVAL_MS,
                )(&text)?);
            }
            "gil" => {
                o.gil = Some(match text.as_str() {
                    "classic" => GilMode::Classic,
                    "free" => GilMode::Free,
                    _ => {
                        return Err(format!(
                            "gil = {text:?} is not allowed: allowed classic, free"
                        ));
                    }
                });
            }
            "python" => {
                o.python =
                    Some(gil_lab::scenario::Python::parse(&text).map_err(|e| e.to_string())?);
            }
            other => {
                return Err(format!(
                    "unknown parameter {other:?}: allowed scenario, n, tasks, workers, gil, \
                     switch-interval-ms, latency-ms, bandwidth-kbps, increments, chunksize, mib, \
                     chunk-bytes, python"
                ));
            }
        }
    }
    Ok(o)
}

/// Sends spans, progress and task ends to the event stream as they happen. Never blocks a
/// lane: when [`LIVE_BUFFER`] events wait unread, the run is stopped and later live events
/// are dropped (the report has them all).
struct LiveSink {
    tx: mpsc::Sender<Event>,
    stop: Arc<AtomicBool>,
    dropped: AtomicU64,
    /// The buffer filled up: the reader stopped reading.
    overflowed: AtomicBool,
}

impl LiveSink {
    fn send(&self, name: &str, data: &impl serde::Serialize) {
        if self.overflowed.load(Ordering::Relaxed) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let Ok(text) = serde_json::to_string(data) else {
            return;
        };
        let ev = Event::default().event(name).data(text);
        match self.tx.try_send(ev) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                self.overflowed.store(true, Ordering::Relaxed);
                self.stop.store(true, Ordering::Relaxed);
            }
            // The stream is gone: `StopOnDrop` has stopped the run already.
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Hands the report (or error) to the stream, waiting at most [`REPORT_WAIT`] for room: a
/// reader that is reading gets it whole, one that is not does not keep the run slot.
fn send_last(tx: &mpsc::Sender<Event>, mut ev: Event) {
    let t0 = std::time::Instant::now();
    loop {
        match tx.try_send(ev) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => return,
            Err(mpsc::error::TrySendError::Full(back)) => {
                if t0.elapsed() >= REPORT_WAIT {
                    return;
                }
                ev = back;
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

impl TraceSink for LiveSink {
    fn span(&self, span: Span) {
        self.send("span", &span);
    }
    fn progress(&self, task: u32, done: u64, total: u64) {
        self.send(
            "progress",
            &json!({ "task": task, "done": done, "total": total }),
        );
    }
    fn task_done(&self, id: u32, outcome: &TaskOutcome) {
        self.send("task", &json!({ "id": id, "outcome": outcome }));
    }
}

/// Sets a run's stop flag when the event stream is dropped: the client went away.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// `POST /api/run`.
pub async fn start(State(api): State<Arc<Api>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = api.refuse(&headers) {
        return r;
    }
    let body: BTreeMap<String, Value> = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return bad_request(format!(
                "the body must be a JSON object of parameters ({e})"
            ));
        }
    };
    let Some(name) = body.get("scenario").and_then(Value::as_str) else {
        return bad_request("scenario is missing: a scenario name (see gil-lab list)");
    };
    let o = match overrides(&body) {
        Ok(o) => o,
        Err(msg) => return bad_request(msg),
    };
    let (scenario, params) = match run::prepare_overrides(name, &o) {
        Ok(p) => p,
        Err(e) => return bad_request(e.to_string()),
    };

    let mut active = api.active();
    if let Some(run) = active.as_ref() {
        return plain(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "run {} is still going: stop it (DELETE /api/run/{}) or wait for its report",
                run.id, run.id
            ),
        );
    }
    let id = api.next_id.fetch_add(1, Ordering::Relaxed);
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<Event>(LIVE_BUFFER);
    let started = json!({
        "id": id.to_string(),
        "scenario": scenario.name,
        "params": params,
        "lanes": gil_lab::plan::lanes_of(&params),
        "machine": run::machine(),
    });
    let _ = tx.try_send(Event::default().event("started").data(started.to_string()));
    let thread = {
        let (api, stop) = (api.clone(), stop.clone());
        std::thread::Builder::new()
            .name(format!("gil-lab-run-{id}"))
            .spawn(move || {
                let sink = LiveSink {
                    tx: tx.clone(),
                    stop: stop.clone(),
                    dropped: AtomicU64::new(0),
                    overflowed: AtomicBool::new(false),
                };
                let opts = run::ExecOptions {
                    out: None,
                    live: &sink,
                    stop: stop.clone(),
                    limits: DownloadLimits::default(),
                };
                let ev = match run::execute(scenario, &params, &opts) {
                    Ok(mut report) => {
                        let dropped = sink.dropped.load(Ordering::Relaxed);
                        if sink.overflowed.load(Ordering::Relaxed) {
                            report.notes.push(format!(
                                "The event stream was not read ({LIVE_BUFFER} events waited), so the run was stopped."
                            ));
                        } else if dropped > 0 {
                            report.notes.push(format!(
                                "{dropped} live events were not streamed (the reader was slow); the report holds them all."
                            ));
                        }
                        Event::default().event("report").data(report_line(&report))
                    }
                    Err(e) => Event::default().event("error").data(format!("{e:#}")),
                };
                // The run is over: free its slot before the report goes out, so a client that
                // posts the next run as soon as it reads this report is never told 429.
                {
                    let mut active = api.active();
                    if active.as_ref().is_some_and(|r| r.id == id) {
                        *active = None;
                    }
                }
                send_last(&tx, ev);
            })
    };
    let thread = match thread {
        Ok(t) => t,
        Err(e) => {
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot start the run: {e}"),
            );
        }
    };
    *active = Some(ActiveRun {
        id,
        stop: stop.clone(),
        thread: Some(thread),
    });
    drop(active);

    let guard = StopOnDrop(stop);
    let stream = futures_util::stream::unfold((rx, guard), |(mut rx, guard)| async move {
        let ev = rx.recv().await?;
        Some((Ok::<_, Infallible>(ev), (rx, guard)))
    });
    (
        [(RUN_HEADER, id.to_string())],
        Sse::new(stream).keep_alive(KeepAlive::default()),
    )
        .into_response()
}

fn report_line(report: &gil_lab::trace::RunReport) -> String {
    // Compact: one `data:` line.
    serde_json::to_string(report).unwrap_or_default()
}

/// `DELETE /api/run/{id}`.
pub async fn stop(
    State(api): State<Arc<Api>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = api.refuse(&headers) {
        return r;
    }
    let active = api.active();
    match active.as_ref() {
        Some(run) if run.id.to_string() == id => {
            run.stop.store(true, Ordering::Relaxed);
            plain(StatusCode::ACCEPTED, format!("stopping run {id}"))
        }
        _ => plain(StatusCode::NOT_FOUND, format!("no run {id} is going")),
    }
}
