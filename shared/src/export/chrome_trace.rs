//! The Chrome Trace Event format (JSON object form), which Perfetto, `chrome://tracing` and
//! Speedscope open.
//!
//! The mapping, chosen so that Perfetto shows what the lab's own picture shows:
//! - every OS process of the run is a `pid`: each process lane is one, and the lanes that share
//!   an interpreter (the main thread and its threads; one per race case) are another; every
//!   lane is a `tid` (its lane id + 1) with `process_name` / `thread_name` metadata;
//! - every span is a complete event (`"ph": "X"`) named after its state (`running`,
//!   `gil_wait`, …), `ts`/`dur` in µs since the run's start, its task in `args`; spans of one
//!   lane are made disjoint (a later span's start is moved to the end of the one before), so no
//!   two events of a thread partially overlap;
//! - per-core load becomes one counter track per core (`"ph": "C"`, percent busy) in a process
//!   of its own, named for where the numbers came from (measured or estimated);
//! - every GIL hand-off between two threads is a flow (`"s"` on the releasing thread, `"f"` on
//!   the acquiring one); a drop request is an instant event on the thread that asked.
//!
//! Flow ends are placed 1 µs inside the running spans they join (the end of the releaser's,
//! the start of the taker's): at the exact boundary a viewer cannot tell which of two touching
//! slices the arrow belongs to, and Perfetto drops arrows it cannot bind.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::trace::{GilEvent, LaneKind, RunReport, Source, Span, SpanState};

/// One event of the Trace Event format. Field names are the format's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceEvent {
    /// What the event is: a span's state, `process_name`, `core 0`, `GIL`, …
    pub name: String,
    /// Category: `span`, `gil`, `cores`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cat: Option<&'static str>,
    /// Phase: `X` complete, `M` metadata, `C` counter, `s`/`f` flow, `i` instant.
    pub ph: &'static str,
    /// Process.
    pub pid: u32,
    /// Thread.
    pub tid: u32,
    /// Timestamp, µs since the run's start.
    pub ts: u64,
    /// Duration of a complete event, µs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dur: Option<u64>,
    /// Flow id (pairs an `s` with its `f`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// Flow binding point: `e` binds the end to the enclosing slice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bp: Option<&'static str>,
    /// Scope of an instant event (`t`: thread).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s: Option<&'static str>,
    /// Extra data shown in the viewer's details panel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Value>,
}

impl TraceEvent {
    fn new(name: impl Into<String>, ph: &'static str, pid: u32, tid: u32, ts: u64) -> Self {
        Self {
            name: name.into(),
            cat: None,
            ph,
            pid,
            tid,
            ts,
            dur: None,
            id: None,
            bp: None,
            s: None,
            args: None,
        }
    }

    fn meta(name: &str, pid: u32, tid: u32, args: Value) -> Self {
        Self {
            args: Some(args),
            ..Self::new(name, "M", pid, tid, 0)
        }
    }
}

/// Where each lane goes: its pid and tid.
struct Placement {
    lanes: BTreeMap<u32, (u32, u32)>,
    /// `(pid, name)` in first-seen order.
    processes: Vec<(u32, String)>,
}

fn place(report: &RunReport) -> Placement {
    let mut lanes = BTreeMap::new();
    let mut processes: Vec<(u32, String)> = Vec::new();
    // Lanes sharing an interpreter share a pid: keyed by their group.
    let mut interpreters: BTreeMap<Option<String>, u32> = BTreeMap::new();
    for lane in &report.lanes {
        let tid = lane.id + 1;
        let pid = match lane.kind {
            LaneKind::Process => {
                let pid = processes.len() as u32 + 1;
                let name = match &lane.group {
                    Some(g) => format!("{} ({g})", lane.label),
                    None => lane.label.clone(),
                };
                processes.push((pid, name));
                pid
            }
            LaneKind::Main | LaneKind::Thread | LaneKind::Interpreter => {
                *interpreters.entry(lane.group.clone()).or_insert_with(|| {
                    let pid = processes.len() as u32 + 1;
                    let name = match &lane.group {
                        Some(g) => format!("MainProcess ({g})"),
                        None => "MainProcess".to_owned(),
                    };
                    processes.push((pid, name));
                    pid
                })
            }
        };
        lanes.insert(lane.id, (pid, tid));
    }
    Placement { lanes, processes }
}

/// Each lane's spans in start order, made disjoint: a span that starts before the previous one
/// ended starts at that end instead (and disappears if nothing is left of it).
fn disjoint_spans(report: &RunReport) -> BTreeMap<u32, Vec<Span>> {
    let mut by_lane: BTreeMap<u32, Vec<Span>> = BTreeMap::new();
    for s in &report.spans {
        by_lane.entry(s.lane).or_default().push(*s);
    }
    for spans in by_lane.values_mut() {
        spans.sort_by_key(|s| (s.start_us, s.end_us));
        let mut end = 0;
        spans.retain_mut(|s| {
            s.start_us = s.start_us.max(end);
            if s.end_us <= s.start_us {
                return false;
            }
            end = s.end_us;
            true
        });
    }
    by_lane
}

/// Every event of `report`'s trace, in the order they are written.
pub fn trace_events(report: &RunReport) -> Vec<TraceEvent> {
    let placement = place(report);
    let spans = disjoint_spans(report);
    let mut out = Vec::new();

    for (pid, name) in &placement.processes {
        out.push(TraceEvent::meta(
            "process_name",
            *pid,
            0,
            json!({ "name": name }),
        ));
        out.push(TraceEvent::meta(
            "process_sort_index",
            *pid,
            0,
            json!({ "sort_index": pid }),
        ));
    }
    for (k, lane) in report.lanes.iter().enumerate() {
        let Some(&(pid, tid)) = placement.lanes.get(&lane.id) else {
            continue;
        };
        out.push(TraceEvent::meta(
            "thread_name",
            pid,
            tid,
            json!({ "name": lane.label }),
        ));
        out.push(TraceEvent::meta(
            "thread_sort_index",
            pid,
            tid,
            json!({ "sort_index": k }),
        ));
    }

    let label = |task: u32| {
        report
            .tasks
            .iter()
            .find(|t| t.id == task)
            .map(|t| t.label.clone())
    };
    for (lane, list) in &spans {
        let Some(&(pid, tid)) = placement.lanes.get(lane) else {
            continue;
        };
        for s in list {
            let args = s.task.map(|t| match label(t) {
                Some(l) => json!({ "task": t, "label": l }),
                None => json!({ "task": t }),
            });
            // A category of its own too, so Perfetto's search for `c_code` finds the work
            // that ran beside the GIL's holder.
            let cat = if s.state == SpanState::CCode {
                "span,c_code"
            } else {
                "span"
            };
            out.push(TraceEvent {
                cat: Some(cat),
                dur: Some(s.duration_us()),
                args,
                ..TraceEvent::new(s.state.key(), "X", pid, tid, s.start_us)
            });
        }
    }

    gil_events(report, &placement, &spans, &mut out);
    core_counters(report, &placement, &mut out);
    out
}

fn gil_events(
    report: &RunReport,
    placement: &Placement,
    spans: &BTreeMap<u32, Vec<Span>>,
    out: &mut Vec<TraceEvent>,
) {
    let running = |lane: u32| {
        spans
            .get(&lane)
            .into_iter()
            .flatten()
            .filter(|s| s.state == SpanState::Running)
    };
    let lane_name = |lane: u32| {
        report
            .lanes
            .iter()
            .find(|l| l.id == lane)
            .map_or_else(|| lane.to_string(), |l| l.label.clone())
    };
    let mut flow_id = 0u64;
    for ev in &report.gil_events {
        match *ev {
            GilEvent::Handoff {
                at_us,
                from: Some(from),
                to,
            } if from != to => {
                let (Some(&(fpid, ftid)), Some(&(tpid, ttid))) =
                    (placement.lanes.get(&from), placement.lanes.get(&to))
                else {
                    continue;
                };
                // The releaser's last running span before the hand-off, the taker's first
                // one after it.
                let released =
                    running(from)
                        .rev()
                        .find(|s| s.start_us < at_us)
                        .map_or(at_us, |s| {
                            let t = s.end_us.min(at_us);
                            if t > s.start_us + 1 {
                                t - 1
                            } else {
                                s.start_us
                            }
                        });
                let taken = running(to).find(|s| s.end_us > at_us).map_or(at_us, |s| {
                    let t = s.start_us.max(at_us);
                    if t + 1 < s.end_us { t + 1 } else { t }
                });
                flow_id += 1;
                out.push(TraceEvent {
                    cat: Some("gil"),
                    id: Some(flow_id),
                    ..TraceEvent::new("GIL", "s", fpid, ftid, released)
                });
                out.push(TraceEvent {
                    cat: Some("gil"),
                    id: Some(flow_id),
                    bp: Some("e"),
                    ..TraceEvent::new("GIL", "f", tpid, ttid, taken.max(released))
                });
            }
            GilEvent::DropRequest { at_us, by, holder } => {
                let Some(&(pid, tid)) = placement.lanes.get(&by) else {
                    continue;
                };
                out.push(TraceEvent {
                    cat: Some("gil"),
                    s: Some("t"),
                    args: Some(json!({ "holder": lane_name(holder) })),
                    ..TraceEvent::new("drop request", "i", pid, tid, at_us)
                });
            }
            GilEvent::Handoff { .. } => {}
        }
    }
}

fn core_counters(report: &RunReport, placement: &Placement, out: &mut Vec<TraceEvent>) {
    let Some(last) = report.cores.last() else {
        return;
    };
    let pid = placement.processes.len() as u32 + 1;
    let how = match report.machine.core_source.as_str() {
        "" | "proc-stat" => "measured",
        other => other,
    };
    let how = if report.source == Source::Simulated {
        "simulated"
    } else {
        how
    };
    out.push(TraceEvent::meta(
        "process_name",
        pid,
        0,
        json!({ "name": format!("CPU cores ({how})") }),
    ));
    out.push(TraceEvent::meta(
        "process_sort_index",
        pid,
        0,
        json!({ "sort_index": pid }),
    ));
    let cores = report.cores.iter().map(|c| c.busy.len()).max().unwrap_or(0);
    for core in 0..cores {
        let name = format!("core {core}");
        for sample in &report.cores {
            let busy = sample.busy.get(core).copied().unwrap_or(0.0);
            // One decimal of a percent: the samples are not more precise than that.
            let pct = (f64::from(busy) * 1000.0).round() / 10.0;
            out.push(TraceEvent {
                cat: Some("cores"),
                args: Some(json!({ "busy %": pct })),
                ..TraceEvent::new(name.clone(), "C", pid, 0, sample.start_us)
            });
        }
        // Nothing was measured after the last sample.
        out.push(TraceEvent {
            cat: Some("cores"),
            args: Some(json!({ "busy %": 0.0 })),
            ..TraceEvent::new(name, "C", pid, 0, last.end_us)
        });
    }
}

/// `report` as Chrome Trace Event JSON (`{"traceEvents": [...], ...}`), one event per line,
/// ready to open in Perfetto (ui.perfetto.dev) or `chrome://tracing`.
pub fn chrome_trace(report: &RunReport) -> String {
    let events = trace_events(report);
    let mut text = String::from("{\"traceEvents\":[\n");
    for (k, e) in events.iter().enumerate() {
        // Plain structs of strings and numbers always serialise.
        text.push_str(&serde_json::to_string(e).unwrap_or_default());
        text.push_str(if k + 1 < events.len() { ",\n" } else { "\n" });
    }
    let source = match report.source {
        Source::Measured => "measured",
        Source::Simulated => "simulated",
    };
    let other = json!({
        "scenario": report.scenario,
        "source": source,
        "platform": report.machine.platform,
        "cores": report.machine.cores,
        "wall_us": report.wall_us,
        "generator": "GIL Lab",
    });
    text.push_str("],\"displayTimeUnit\":\"ms\",\"otherData\":");
    text.push_str(&other.to_string());
    text.push_str("}\n");
    text
}

#[cfg(test)]
mod tests;
