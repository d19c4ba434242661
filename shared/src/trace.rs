//! The one data format both sides produce: a [`RunReport`], serialised as versioned JSON.
//!
//! Every timestamp is microseconds since the run's start on one clock shared by all lanes
//! (natively `CLOCK_MONOTONIC`, which child processes share; in the browser
//! `performance.timeOrigin + performance.now()`).

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::scenario::Params;
use crate::sync::lock;
use crate::workload::TaskOutcome;

/// Bumped whenever a field changes meaning or disappears; readers refuse other versions.
pub const REPORT_VERSION: u32 = 1;

/// Everything one run produced: what ran, where, how long, what each lane did when, and the
/// results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Format version, [`REPORT_VERSION`] when written by this build.
    pub version: u32,
    /// Scenario name (`cpu-threads`, …).
    pub scenario: String,
    /// The parameters the run used, after defaults were applied.
    pub params: Params,
    /// Facts about the machine that ran it.
    pub machine: Machine,
    /// Wall time of the whole run.
    pub wall_us: u64,
    /// CPU time in user mode, this process and its children.
    pub cpu_user_us: u64,
    /// CPU time in kernel mode, this process and its children.
    pub cpu_sys_us: u64,
    /// One row of the timeline each: the main thread, a worker thread or a process.
    pub lanes: Vec<Lane>,
    /// What each lane was doing, and when.
    pub spans: Vec<Span>,
    /// Per-core utilisation samples, in time order (empty where not measurable).
    #[serde(default)]
    pub cores: Vec<CoreSample>,
    /// One entry per task, in submission order.
    pub tasks: Vec<TaskRecord>,
    /// Wall time of the matching sequential scenario, when known, for the speed-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_wall_us: Option<u64>,
    /// The race demo's cases: expected against observed counter values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub counters: Vec<crate::workload::CounterCase>,
    /// Things the run wants a reader to know (e.g. "GIL handed over 812 times").
    #[serde(default)]
    pub notes: Vec<String>,
    /// Whether this run happened (`measured`) or was computed by the simulator
    /// (`simulated`). Reports written before the field existed were measured.
    #[serde(default)]
    pub source: Source,
    /// Whether `cpu_user_us`/`cpu_sys_us` were read from the OS (`measured`) or estimated from
    /// the lanes' running time (`estimated`: browsers have no CPU clock).
    #[serde(default)]
    pub cpu_source: CpuSource,
    /// The GIL's counts for thread runs: hand-offs, drop requests, the switch interval in
    /// effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gil: Option<GilStats>,
    /// Every hand-off of the GIL and every drop request, in time order (the GIL track).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gil_events: Vec<GilEvent>,
    /// The convoy demo's measurement: a blocking call alone and beside CPU-bound threads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub convoy: Option<Convoy>,
    /// For simulated runs: the machine and Python the simulator modelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulation: Option<Simulation>,
}

/// Where a report's numbers come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The work ran and was timed.
    #[default]
    Measured,
    /// The simulator computed it in virtual time; nothing ran.
    Simulated,
}

/// Where a report's CPU times come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CpuSource {
    /// Read from the operating system (`getrusage`).
    #[default]
    Measured,
    /// Estimated from the time lanes spent running (browsers), or modelled (simulator).
    Estimated,
}

/// The GIL's counts over one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GilStats {
    /// Times the GIL passed to a different thread.
    pub switches: u64,
    /// Drop requests waiters set after a whole interval without a hand-off.
    pub drop_requests: u64,
    /// The switch interval the rules ran with, µs.
    pub interval_us: u64,
}

/// One event of the GIL, on the run's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GilEvent {
    /// `to` took the GIL; `from` held it last (none for the first take).
    Handoff {
        /// When, µs since the run began.
        at_us: u64,
        /// The previous holder.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<u32>,
        /// The new holder.
        to: u32,
    },
    /// `by` waited a whole interval without a hand-off and asked `holder` to drop the GIL.
    DropRequest {
        /// When, µs since the run began.
        at_us: u64,
        /// The waiting lane.
        by: u32,
        /// The lane asked to drop it.
        holder: u32,
    },
}

impl GilEvent {
    /// When it happened.
    pub fn at_us(&self) -> u64 {
        match self {
            GilEvent::Handoff { at_us, .. } | GilEvent::DropRequest { at_us, .. } => *at_us,
        }
    }

    /// The same event `by` µs earlier (reports count time from their first task).
    pub fn shifted_back(mut self, by: u64) -> Self {
        match &mut self {
            GilEvent::Handoff { at_us, .. } | GilEvent::DropRequest { at_us, .. } => {
                *at_us = at_us.saturating_sub(by);
            }
        }
        self
    }
}

/// The convoy effect, measured: medians of one short blocking call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Convoy {
    /// With no other thread running, µs.
    pub alone_us: u64,
    /// Beside CPU-bound threads (waiting to get the GIL back included), µs.
    pub beside_us: u64,
}

/// What a simulated report modelled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Simulation {
    /// The machine profile's name (`built-in`, a file, `calibrated on …`).
    pub profile: String,
    /// Cores modelled.
    pub cores: u32,
    /// Python modelled (`3.11`, `3.13t`, …).
    pub python: String,
    /// Start method of processes (`fork`, `spawn`, `forkserver`).
    pub start_method: String,
    /// Whose speed the work ran at: `native` (the lab's kernel) or `cpython`.
    pub pace: String,
    /// The seed of the scheduling choices.
    pub seed: u64,
}

impl RunReport {
    /// A report of `scenario` with nothing in it yet: no lanes, spans, tasks or times.
    pub fn new(scenario: &str, params: Params, machine: Machine) -> Self {
        Self {
            version: REPORT_VERSION,
            scenario: scenario.to_owned(),
            params,
            machine,
            wall_us: 0,
            cpu_user_us: 0,
            cpu_sys_us: 0,
            lanes: Vec::new(),
            spans: Vec::new(),
            cores: Vec::new(),
            tasks: Vec::new(),
            baseline_wall_us: None,
            counters: Vec::new(),
            notes: Vec::new(),
            source: Source::Measured,
            cpu_source: CpuSource::Measured,
            gil: None,
            gil_events: Vec::new(),
            convoy: None,
            simulation: None,
        }
    }

    /// Reads a report from JSON, refusing other format versions with a clear error.
    pub fn from_json(text: &str) -> Result<Self, ReportError> {
        #[derive(Deserialize)]
        struct VersionOnly {
            version: u32,
        }
        let v: VersionOnly = serde_json::from_str(text).map_err(ReportError::Malformed)?;
        if v.version != REPORT_VERSION {
            return Err(ReportError::Version { found: v.version });
        }
        serde_json::from_str(text).map_err(ReportError::Malformed)
    }

    /// The report as pretty JSON (what `--json` writes).
    pub fn to_json(&self) -> String {
        // Serialising plain structs with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Total CPU time, user + system.
    pub fn cpu_total_us(&self) -> u64 {
        self.cpu_user_us + self.cpu_sys_us
    }

    /// Wall-time speed-up against the sequential baseline, when one is known.
    pub fn speedup(&self) -> Option<f64> {
        let base = self.baseline_wall_us?;
        (self.wall_us > 0).then(|| base as f64 / self.wall_us as f64)
    }

    /// Spans of one lane, in start order.
    pub fn lane_spans(&self, lane: u32) -> impl Iterator<Item = &Span> {
        self.spans.iter().filter(move |s| s.lane == lane)
    }
}

/// Why a report could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Not JSON, or not shaped like a report.
    #[error("not a GIL Lab report: {0}")]
    Malformed(serde_json::Error),
    /// Written by a build with another format version.
    #[error(
        "report format version {found} is not supported (this build reads version {REPORT_VERSION})"
    )]
    Version {
        /// The version the file declared.
        found: u32,
    },
}

/// Facts about the machine a run happened on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// Logical cores available to the run.
    pub cores: u32,
    /// `linux-x86_64`, `browser (Chromium 156, cross-origin isolated)`, …
    pub platform: String,
    /// Where [`RunReport::cores`] came from: `proc-stat` (measured) or `estimated` (from
    /// worker activity, in browsers).
    #[serde(default)]
    pub core_source: String,
}

/// What kind of execution context a lane is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LaneKind {
    /// The interpreter's main thread.
    Main,
    /// A `threading.Thread` inside the main process, sharing its GIL.
    Thread,
    /// A separate process with its own interpreter and GIL.
    Process,
    /// A thread running its own subinterpreter, with its own GIL (Python 3.12+).
    Interpreter,
}

/// One row of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lane {
    /// Referenced by [`Span::lane`].
    pub id: u32,
    /// Shown at the left of the row (`Thread-1`, `Process-2`, …).
    pub label: String,
    /// Thread, process or main.
    pub kind: LaneKind,
    /// Lanes of one group share a GIL (a process and its threads); shown as a heading when a
    /// report holds several groups (the race cases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// What a lane was doing during a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanState {
    /// Executing Python code (holding the GIL, where there is one).
    Running,
    /// Ready to run but waiting for the GIL.
    GilWait,
    /// Blocked on I/O (network, disk, a sleep) with the GIL released.
    IoWait,
    /// Being created: a process starting its interpreter, a worker loading its module.
    Starting,
    /// Ready to run, but every core is busy with other threads or processes (the OS
    /// scheduler's queue; drawn by the simulator).
    CpuWait,
    /// Blocked on a lock another thread or process holds (`with lock:`, a `Value`'s lock),
    /// with the GIL released. Reports older than this state drew it as `IoWait`.
    LockWait,
    /// Running C code that released the GIL (`hashlib` on a big buffer, zlib, numpy's
    /// kernels): on a core, while another thread may hold the GIL. Reports older than this
    /// state never name it, so they read as before.
    CCode,
}

impl SpanState {
    /// Whether a lane in this state keeps a core busy: running Python code, or C code without
    /// the GIL (what the CPU estimates count).
    pub fn on_core(self) -> bool {
        matches!(self, SpanState::Running | SpanState::CCode)
    }

    /// How many states there are.
    pub const COUNT: usize = 7;

    /// Every state, in legend order.
    pub const ALL: [SpanState; Self::COUNT] = [
        SpanState::Running,
        SpanState::GilWait,
        SpanState::IoWait,
        SpanState::Starting,
        SpanState::CpuWait,
        SpanState::LockWait,
        SpanState::CCode,
    ];

    /// This state's position in [`SpanState::ALL`].
    pub fn index(self) -> usize {
        match self {
            SpanState::Running => 0,
            SpanState::GilWait => 1,
            SpanState::IoWait => 2,
            SpanState::Starting => 3,
            SpanState::CpuWait => 4,
            SpanState::LockWait => 5,
            SpanState::CCode => 6,
        }
    }

    /// Words a learner reads in a legend.
    pub fn describe(self) -> &'static str {
        match self {
            SpanState::Running => "running Python code",
            SpanState::GilWait => "waiting for the GIL",
            SpanState::IoWait => "blocked on I/O (GIL released)",
            SpanState::Starting => "starting up",
            SpanState::CpuWait => "waiting for a free core",
            SpanState::LockWait => "waiting for a lock (GIL released)",
            SpanState::CCode => "running C code (GIL released)",
        }
    }

    /// The JSON name (`gil_wait`, …).
    pub fn key(self) -> &'static str {
        match self {
            SpanState::Running => "running",
            SpanState::GilWait => "gil_wait",
            SpanState::IoWait => "io_wait",
            SpanState::Starting => "starting",
            SpanState::CpuWait => "cpu_wait",
            SpanState::LockWait => "lock_wait",
            SpanState::CCode => "c_code",
        }
    }
}

/// One interval of one lane in one state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// [`Lane::id`].
    pub lane: u32,
    /// Index into [`RunReport::tasks`] of the task being worked on, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<u32>,
    /// What the lane was doing.
    pub state: SpanState,
    /// Start, µs since the run began.
    pub start_us: u64,
    /// End, µs since the run began (≥ `start_us`).
    pub end_us: u64,
}

impl Span {
    /// Length of the span.
    pub fn duration_us(&self) -> u64 {
        self.end_us.saturating_sub(self.start_us)
    }
}

/// Utilisation of every core over one sampling interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoreSample {
    /// Interval start, µs since the run began.
    pub start_us: u64,
    /// Interval end.
    pub end_us: u64,
    /// Busy fraction (0..=1) of each core, indexed by core.
    pub busy: Vec<f32>,
}

/// One task and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// Position in submission order.
    pub id: u32,
    /// What the task was (`sum_powers(10000)`, `GET /img/3.jpg`, …).
    pub label: String,
    /// The lane that ran it, once one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lane: Option<u32>,
    /// Its result, or why it has none.
    pub outcome: TaskOutcome,
}

/// Where spans go as they are recorded: a buffer for the report and, live, a progress display.
///
/// Implementations must be cheap: `span` is called from inside the GIL's hand-off path.
pub trait TraceSink: Send + Sync {
    /// A span has ended.
    fn span(&self, span: Span);
    /// A task has finished (successfully or not).
    fn task_done(&self, _task: u32, _outcome: &TaskOutcome) {}
    /// Progress inside a task: `done` of `total` steps.
    fn progress(&self, _task: u32, _done: u64, _total: u64) {}
    /// The GIL changed hands, or a waiter asked for it.
    fn gil_event(&self, _event: GilEvent) {}
}

/// A [`TraceSink`] that keeps every span and GIL event, in the order recorded.
#[derive(Debug, Default)]
pub struct SpanBuffer {
    spans: Mutex<Vec<Span>>,
    gil_events: Mutex<Vec<GilEvent>>,
}

impl SpanBuffer {
    /// Spans recorded so far.
    pub fn len(&self) -> usize {
        lock(&self.spans).len()
    }

    /// Whether none were recorded yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes the spans out, sorted by start then lane.
    pub fn take(&self) -> Vec<Span> {
        let mut spans = std::mem::take(&mut *lock(&self.spans));
        spans.sort_by_key(|s| (s.start_us, s.lane));
        spans
    }

    /// Takes the GIL events out, in time order.
    pub fn take_gil_events(&self) -> Vec<GilEvent> {
        let mut ev = std::mem::take(&mut *lock(&self.gil_events));
        ev.sort_by_key(GilEvent::at_us);
        ev
    }
}

impl TraceSink for SpanBuffer {
    fn span(&self, span: Span) {
        lock(&self.spans).push(span);
    }
    fn gil_event(&self, event: GilEvent) {
        lock(&self.gil_events).push(event);
    }
}

/// Forwards to two sinks (the report buffer and a live display).
pub struct Tee<'a>(pub &'a dyn TraceSink, pub &'a dyn TraceSink);

impl TraceSink for Tee<'_> {
    fn span(&self, span: Span) {
        self.0.span(span);
        self.1.span(span);
    }
    fn task_done(&self, task: u32, outcome: &TaskOutcome) {
        self.0.task_done(task, outcome);
        self.1.task_done(task, outcome);
    }
    fn progress(&self, task: u32, done: u64, total: u64) {
        self.0.progress(task, done, total);
        self.1.progress(task, done, total);
    }
    fn gil_event(&self, event: GilEvent) {
        self.0.gil_event(event);
        self.1.gil_event(event);
    }
}

/// A sink that drops everything (tests, and runs whose trace nobody reads).
#[derive(Debug, Default, Clone, Copy)]
pub struct NullSink;

impl TraceSink for NullSink {
    fn span(&self, _span: Span) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reports written before `c_code` existed load as before, and the new state reads back
    /// by its JSON name.
    #[test]
    fn old_reports_load_and_c_code_round_trips() {
        let old = include_str!("../../tests/golden/cpu-threads.report.json");
        assert!(!old.contains("c_code"));
        let r = RunReport::from_json(old).expect("a report from before the state loads");
        assert!(!r.spans.is_empty());
        let json = serde_json::to_string(&SpanState::CCode).expect("serialises");
        assert_eq!(json, "\"c_code\"");
        assert_eq!(SpanState::CCode.key(), "c_code");
        let back: SpanState = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, SpanState::CCode);
        assert_eq!(SpanState::ALL[SpanState::CCode.index()], SpanState::CCode);
    }
}
