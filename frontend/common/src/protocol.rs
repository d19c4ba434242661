//! Every message of the browser lab, written once: page ↔ host worker ↔ lane workers, and what
//! the engine asks its JavaScript driver to do.
//!
//! The messages travel as JSON text made and read by Rust on both ends (`serde_json`), so the
//! JavaScript in between only carries strings: it never writes a message's fields itself, and
//! no field is defined twice. Messages Rust reads back are externally tagged
//! (`{"granted":{...}}`): an internally tagged enum makes serde buffer every message and
//! doubles the deserialising code of everything inside it (a report, a task list), which
//! costs the engine hundreds of KB. The requests JavaScript reads ([`HostAction`],
//! [`LaneStep`]) carry their tag inside (`{"do":"spawn",...}`); Rust only writes those.
//!
//! ```text
//! page ──ToHost──▶ host worker ──ToLane──▶ lane worker
//!      ◀─FromHost─             ◀─FromLane─
//! ```
//!
//! [`HostAction`] and [`LaneStep`] are the engine's requests to its JavaScript driver (create
//! a worker, post a message, fetch, set a timer).

use gil_lab::exec::{Dispatch, Numbered};
use gil_lab::gil::GilMode;
use gil_lab::plan::CounterShare;
use gil_lab::scenario::{Params, Workload};
use gil_lab::trace::{GilEvent, RunReport, Span, SpanState};
use gil_lab::workload::TaskOutcome;
use serde::{Deserialize, Serialize};

/// Which engine runs a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnginePath {
    /// The threaded engine: threads on one shared wasm memory (cross-origin isolated pages).
    SharedMemory,
    /// The host worker's plain engine and one lane worker per thread or process.
    Workers,
}

/// A run the page asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRequest {
    /// Scenario name.
    pub scenario: String,
    /// Its parameters, validated.
    pub params: Params,
    /// Every task (`gil_lab::plan::build_tasks`).
    pub tasks: Vec<Numbered>,
    /// Which engine runs it.
    pub path: EnginePath,
    /// The page's own image files, for downloads.
    pub images: Vec<String>,
    /// `navigator.hardwareConcurrency`.
    pub cores: u32,
    /// The browser's name and version, for the report.
    pub browser: String,
    /// Whether the page is cross-origin isolated.
    pub isolated: bool,
    /// Threads the shared-memory pool needs for this run (the threaded engine only).
    pub pool_threads: u32,
}

/// Page → host worker (`{"run":{...}}`: the host's JavaScript reads `run.path`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToHost {
    /// Run this.
    Run(Box<RunRequest>),
    /// Get ready for the first run before it is asked for (`{"prepare":{"pool_threads":N}}`):
    /// on a shared-memory page, start the threaded engine's pool with this many threads, so
    /// that a first Run on a slow link does not wait for its workers to start one by one.
    Prepare {
        /// [`pool_threads`] of the page's default demo.
        pool_threads: u32,
    },
}

/// The run a [`ToHost`] message asks for (both engines start from the page's text).
pub fn parse_run(text: &str) -> Result<RunRequest, String> {
    match serde_json::from_str::<ToHost>(text) {
        Ok(ToHost::Run(run)) => Ok(*run),
        Ok(ToHost::Prepare { .. }) => Err("a prepare message asks for no run".to_owned()),
        Err(e) => Err(format!("not a run request: {e}")),
    }
}

/// Threads the shared-memory pool needs for a run of `workers` threads on `cores`: one per
/// Python thread, the run's own two (its driver and the race's watcher), and never fewer than
/// the cores plus those two, so one pool serves every demo of the usual sizes.
pub fn pool_threads(workers: u32, cores: u32) -> u32 {
    (workers + 2).max(cores + 2)
}

/// Something that happened during a run, streamed to the page for the live picture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LiveEvent {
    /// A span ended.
    Span {
        /// The span.
        span: Span,
    },
    /// A lane is in `state` since `since_us` (drawn up to "now" until its span ends).
    Open {
        /// Lane id.
        lane: u32,
        /// Task it works on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        task: Option<u32>,
        /// What it does.
        state: SpanState,
        /// Since when, µs on the run clock.
        since_us: u64,
    },
    /// Progress inside a task.
    Progress {
        /// The lane, where known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lane: Option<u32>,
        /// Task id.
        task: u32,
        /// Steps done.
        done: u64,
        /// Steps in all.
        total: u64,
        /// When, µs on the run clock.
        at_us: u64,
    },
    /// A task ended.
    Outcome {
        /// Task id.
        id: u32,
        /// How.
        outcome: TaskOutcome,
    },
}

/// Host worker → page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FromHost {
    /// The run's clock started: its epoch on `performance.timeOrigin + now()`, ms.
    Started {
        /// The epoch.
        epoch_ms: f64,
    },
    /// What happened since the last batch.
    Events {
        /// In order.
        events: Vec<LiveEvent>,
    },
    /// The run finished.
    Done {
        /// Its report.
        report: Box<RunReport>,
        /// Threads in the shared-memory pool now (the threaded engine only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pool: Option<u32>,
    },
    /// The run failed. (`restart-needed`: the shared-memory pool is too small; start a fresh
    /// host.)
    Error {
        /// One line for the learner.
        message: String,
    },
}

/// Where a lane's GIL lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LaneGil {
    /// Shared with other lanes: the host worker's `GilMachine` grants it by messages.
    Host,
    /// The lane's own (a process, a subinterpreter, a script's main thread, a thread alone,
    /// or no GIL at all in `Free` mode): a `GilMachine` inside the lane.
    Own {
        /// Classic or free.
        mode: GilMode,
    },
}

/// What a lane's counter tasks update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LaneCounter {
    /// Its own copy, starting at `value` (a process's copy of the parent's global).
    Copy {
        /// Starting value.
        value: u64,
    },
    /// The `multiprocessing.Value` in a `SharedArrayBuffer` every lane of the run maps
    /// (sent beside the `Init` message).
    Shared,
}

/// The modelled network of downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IoModel {
    /// Server time to first byte, ms.
    pub latency_ms: u64,
    /// Bandwidth per connection, kbit/s; 0 is unlimited.
    pub bandwidth_kbps: u64,
}

impl IoModel {
    /// The network `params` model (none for runs without downloads).
    pub fn of(params: &Params) -> Self {
        match params.workload {
            Workload::Download {
                latency_ms,
                bandwidth_kbps,
                ..
            } => Self {
                latency_ms,
                bandwidth_kbps,
            },
            _ => Self::default(),
        }
    }
}

/// How a lane's Python thread starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Program {
    /// A worker thread pulling tasks (or a process fed batches).
    Worker,
    /// A script's main thread running its tasks in order.
    MainThread,
}

/// Everything a lane worker needs to know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaneConfig {
    /// The lane its spans go on.
    pub lane: u32,
    /// Its thread loop.
    pub program: Program,
    /// Where its GIL lives.
    pub gil: LaneGil,
    /// What its counter tasks update.
    pub counter: LaneCounter,
    /// Counter outcomes carry the value the lane saw at their end (processes).
    pub report_counter: bool,
    /// The run's epoch, when known at start (processes start working at once); threads
    /// started ahead of the clock get it with [`ToLane::Start`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch_ms: Option<f64>,
    /// The modelled network.
    pub io: IoModel,
    /// Longest stretch of work between two looks at the lane's messages, µs.
    pub slice_us: u64,
}

/// Host worker → lane worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToLane {
    /// Who the lane is (the engine module, and the shared counter if any, travel beside).
    Init {
        /// Its configuration.
        config: LaneConfig,
    },
    /// Start the thread now: the run's clock has started.
    Start {
        /// The run's epoch.
        epoch_ms: f64,
    },
    /// The lane holds the GIL from `at_us` (machine order: never before the last release).
    Granted {
        /// When, µs on the run clock.
        at_us: u64,
        /// Whether the lane had to wait (a free GIL is granted with `waited: false`).
        waited: bool,
        /// When a drop request would be due if nothing else happens.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        drop_due_us: Option<u64>,
    },
    /// A new waiter changed when a drop request is due (the holder looks at it at its check
    /// points).
    DropDue {
        /// When, µs on the run clock (0: now).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at_us: Option<u64>,
    },
    /// The answer to [`FromLane::Next`]: tasks to run, none when there is no more work.
    Work {
        /// The tasks.
        tasks: Vec<Numbered>,
    },
}

/// Lane worker → host worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FromLane {
    /// The lane's engine instance is up, at `at_ms` on `timeOrigin + now()` (its start cost
    /// ends here).
    Ready {
        /// When.
        at_ms: f64,
    },
    /// The lane wants the shared GIL.
    Take {
        /// When, µs.
        at_us: u64,
    },
    /// The lane released the shared GIL (before a blocking call, or for good when `ending`).
    Release {
        /// When, µs.
        at_us: u64,
        /// The thread ends.
        ending: bool,
    },
    /// At a check point past the drop request's due time: the lane released the GIL, waits
    /// for another to take it (forced switching) and then asks for it again.
    Yield {
        /// When, µs.
        at_us: u64,
    },
    /// `q.get()` (or a process's request for its next batch).
    Next,
    /// A span ended.
    Span {
        /// The span.
        span: Span,
    },
    /// The lane is in `state` since `since_us`.
    Open {
        /// Task.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        task: Option<u32>,
        /// State.
        state: SpanState,
        /// Since, µs.
        since_us: u64,
    },
    /// Progress inside a task.
    Progress {
        /// Task id.
        task: u32,
        /// Steps done.
        done: u64,
        /// Steps in all.
        total: u64,
        /// When, µs.
        at_us: u64,
    },
    /// A task ended.
    TaskDone {
        /// Task id.
        id: u32,
        /// How.
        outcome: TaskOutcome,
    },
    /// The lane's own GIL changed hands.
    Gil {
        /// The event.
        event: GilEvent,
    },
    /// The thread ended.
    Exited {
        /// When, µs.
        at_us: u64,
    },
}

/// What a lane's driver does after [`crate::lane::LaneCore::run`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum LaneStep {
    /// Give the event loop a turn (messages may be waiting), then run again.
    Yield,
    /// Wait for a message from the host; run again when it says so.
    Wait,
    /// Download with the GIL released, report with `downloaded`, then run again.
    Download {
        /// What to fetch.
        url: String,
        /// Where to write it.
        file_name: String,
        /// The modelled network.
        io: IoModel,
    },
    /// `time.sleep`: a timer of `us` µs with the GIL released; report with `slept`.
    Sleep {
        /// How long.
        us: u64,
    },
    /// The thread has ended.
    Exit,
}

/// Processes the threaded engine asks the host worker to run as real lane workers (the race
/// demo's process cases on an isolated page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessJob {
    /// One lane per process.
    pub lanes: Vec<u32>,
    /// Every task, by position.
    pub tasks: Vec<Numbered>,
    /// Who runs which.
    pub dispatch: Dispatch,
    /// What their counter tasks update.
    pub counter: CounterShare,
    /// The modelled network.
    pub io: IoModel,
}

/// What the processes of a [`ProcessJob`] produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessResult {
    /// Every task's outcome.
    pub outcomes: Vec<(u32, TaskOutcome)>,
    /// The shared `Value` at the end (with [`CounterShare::SharedValue`]).
    #[serde(default)]
    pub shared_value: Option<u64>,
}

/// What the host worker's engine asks its JavaScript to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum HostAction {
    /// Create a lane worker and post it `init` (a [`ToLane::Init`]) with the engine module
    /// (and the shared counter when `shared_counter`).
    Spawn {
        /// Lane id.
        lane: u32,
        /// The init message.
        init: String,
        /// Whether the lane maps the run's shared counter.
        shared_counter: bool,
    },
    /// Post `msg` (a [`ToLane`]) to a lane.
    Send {
        /// Lane id.
        lane: u32,
        /// The message.
        msg: String,
    },
    /// The lane's thread ended: terminate its worker.
    Terminate {
        /// Lane id.
        lane: u32,
    },
    /// Post `msg` (a [`FromHost`]) to the page.
    Page {
        /// The message.
        msg: String,
    },
    /// The run is over (its last message, if any, came just before).
    Finished,
}

/// JSON text of a message (serialising these plain types cannot fail).
pub fn to_text<T: Serialize>(msg: &T) -> String {
    serde_json::to_string(msg).unwrap_or_default()
}

#[cfg(test)]
mod tests;
