//! CPython's own runs as [`RunReport`]s: the timelines `native/python/bench.py` records (task
//! starts and ends, one stamp per loop iteration, on `CLOCK_MONOTONIC`) turned into the lab's
//! format, so the lab's picture and CPython's can be drawn the same way, side by side.

use anyhow::Context;
use gil_lab::scenario::Params;
use gil_lab::trace::{Lane, LaneKind, Machine, RunReport, Span, SpanState, TaskRecord};
use gil_lab::workload::{Digest, DownloadOutput, TaskOutcome};
use serde::Deserialize;
use serde_json::Value;

/// One lane as the harness names it (`Thread-1 (worker)`, `Process-2`, `ForkPoolWorker-3`).
#[derive(Debug, Deserialize)]
struct PyLane {
    kind: String,
    label: String,
}

#[derive(Debug, Deserialize)]
struct PyTask {
    id: u32,
    label: String,
    lane: u32,
    outcome: Value,
}

/// What the harness recorded for one scenario.
#[derive(Debug, Deserialize)]
struct PyTimeline {
    lanes: Vec<PyLane>,
    /// `[lane, task or null, state, start µs, end µs]`.
    spans: Vec<(u32, Option<u32>, String, u64, u64)>,
    tasks: Vec<PyTask>,
    wall_us: u64,
}

fn state(name: &str) -> anyhow::Result<SpanState> {
    SpanState::ALL
        .into_iter()
        .find(|s| s.key() == name)
        .with_context(|| format!("unknown span state {name:?} from bench.py"))
}

fn outcome(v: &Value) -> TaskOutcome {
    if let Some(d) = v.get("sum")
        && let Ok(d) = serde_json::from_value::<Digest>(d.clone())
    {
        return TaskOutcome::Sum(d);
    }
    if let Some(d) = v.get("downloaded")
        && let Ok(d) = serde_json::from_value::<DownloadOutput>(d.clone())
    {
        return TaskOutcome::Downloaded(d);
    }
    TaskOutcome::Error {
        message: format!("bench.py reported {v}"),
    }
}

/// The report of scenario `name` as CPython `version` ran it: `result` is bench.py's entry for
/// the scenario, `params` the lab's parameters for the same work.
pub fn report(
    name: &str,
    params: &Params,
    version: &str,
    result: &Value,
) -> anyhow::Result<RunReport> {
    let tl: PyTimeline = serde_json::from_value(
        result
            .get("timeline")
            .cloned()
            .with_context(|| format!("bench.py recorded no timeline for {name}"))?,
    )
    .with_context(|| format!("bench.py's timeline for {name} is malformed"))?;
    let machine = Machine {
        cores: crate::run::machine().cores,
        platform: format!(
            "CPython {version} ({}-{})",
            std::env::consts::OS,
            std::env::consts::ARCH
        ),
        core_source: String::new(),
    };
    let mut r = RunReport::new(name, params.clone(), machine);
    r.lanes = tl
        .lanes
        .iter()
        .enumerate()
        .map(|(k, l)| Lane {
            id: k as u32,
            label: l.label.clone(),
            kind: match l.kind.as_str() {
                "process" => LaneKind::Process,
                "main" => LaneKind::Main,
                _ => LaneKind::Thread,
            },
            // As in the lab's own reports: no groups (a process is its own lane).
            group: None,
        })
        .collect();
    r.spans = tl
        .spans
        .iter()
        .map(|(lane, task, st, start_us, end_us)| {
            Ok(Span {
                lane: *lane,
                task: *task,
                state: state(st)?,
                start_us: *start_us,
                end_us: *end_us,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    r.tasks = tl
        .tasks
        .iter()
        .map(|t| TaskRecord {
            id: t.id,
            label: t.label.clone(),
            lane: Some(t.lane),
            outcome: outcome(&t.outcome),
        })
        .collect();
    let secs = |k: &str| result.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    r.wall_us = (secs("wall_s") * 1e6) as u64;
    r.cpu_user_us = (secs("cpu_user_s") * 1e6) as u64;
    r.cpu_sys_us = (secs("cpu_sys_s") * 1e6) as u64;
    if r.wall_us == 0 {
        r.wall_us = tl.wall_us;
    }
    r.notes.push(format!(
        "Measured in CPython {version} by gil-lab bench --python: each task stamps its start and end, and \
         sum_powers one time.monotonic_ns() per loop iteration. A thread counts as running from the \
         previous stamp of its process to its own, and as waiting for the GIL otherwise while its task \
         is in progress; downloads count as waiting on I/O. No per-core samples."
    ));
    Ok(r)
}
