//! The page's picture of a run while it grows: what the host worker streamed so far, as a
//! [`RunReport`] assembled like every other (`gil_lab::runner::assemble`). It is drawn live
//! and kept when the learner presses Stop (the finished report itself comes from the engine).

use std::collections::BTreeMap;

use gil_lab::exec::Numbered;
use gil_lab::runner::Meter;
use gil_lab::runner::RunParts;
use gil_lab::scenario::Params;
use gil_lab::trace::{Lane, LaneKind, Machine, RunReport, Span, SpanState};

use crate::SpanMeter;
use gil_lab::workload::TaskOutcome;
use serde::{Deserialize, Serialize};

/// A span that has begun and not yet ended (drawn up to "now" while live; closed at Stop).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OpenSpan {
    /// Lane id.
    pub lane: u32,
    /// Task being worked on.
    #[serde(default)]
    pub task: Option<u32>,
    /// What the lane is doing.
    pub state: SpanState,
    /// Since when, µs on the run clock.
    pub since_us: u64,
}

/// A run as it grows: everything received so far.
#[derive(Debug, Clone)]
pub struct LiveRun {
    /// Scenario name.
    pub scenario: String,
    /// Its parameters.
    pub params: Params,
    /// The tasks, for their labels.
    pub tasks: Vec<Numbered>,
    /// The lanes, when known up front (grown from the spans otherwise).
    pub lanes: Vec<Lane>,
    /// Closed spans.
    pub spans: Vec<Span>,
    /// Spans still open, by lane.
    pub open: BTreeMap<u32, OpenSpan>,
    /// Outcomes so far.
    pub outcomes: BTreeMap<u32, TaskOutcome>,
    /// Notes so far.
    pub notes: Vec<String>,
    /// The machine facts.
    pub machine: Machine,
}

impl LiveRun {
    /// A run with nothing received yet.
    pub fn new(scenario: &str, params: Params, tasks: Vec<Numbered>, machine: Machine) -> Self {
        let lanes = crate::lanes_of(&params);
        Self {
            scenario: scenario.to_owned(),
            params,
            tasks,
            lanes,
            spans: Vec::new(),
            open: BTreeMap::new(),
            outcomes: BTreeMap::new(),
            notes: Vec::new(),
            machine,
        }
    }

    /// The report as of `now_us`: open spans drawn up to now.
    pub fn report(&self, now_us: u64) -> RunReport {
        let mut spans = self.spans.clone();
        for o in self.open.values() {
            if now_us > o.since_us {
                spans.push(Span {
                    lane: o.lane,
                    task: o.task,
                    state: o.state,
                    start_us: o.since_us,
                    end_us: now_us,
                });
            }
        }
        let wall = spans
            .iter()
            .map(|s| s.end_us)
            .max()
            .unwrap_or(0)
            .max(now_us);
        let outcomes: Vec<(u32, TaskOutcome)> =
            self.outcomes.iter().map(|(k, v)| (*k, v.clone())).collect();
        let mut lanes = self.lanes.clone();
        for s in &spans {
            if !lanes.iter().any(|l| l.id == s.lane) {
                lanes.push(Lane {
                    id: s.lane,
                    label: format!("lane {}", s.lane + 1),
                    kind: LaneKind::Thread,
                    group: None,
                });
            }
        }
        lanes.sort_by_key(|l| l.id);
        let labels: Vec<(u32, String)> =
            self.tasks.iter().map(|(id, t)| (*id, t.label())).collect();
        let measured = SpanMeter {
            cores: self.machine.cores,
        }
        .stop(&spans, 0, wall);
        gil_lab::runner::assemble(RunParts {
            scenario: &self.scenario,
            params: &self.params,
            tasks: &labels,
            lanes,
            spans,
            gil_events: Vec::new(),
            outcomes,
            started_us: 0,
            ended_us: wall,
            measured,
            gil: None,
            counters: Vec::new(),
            notes: self.notes.clone(),
            machine: self.machine.clone(),
        })
    }
}

/// Machine facts for a browser run.
pub fn machine(cores: u32, browser: &str, isolated: bool) -> Machine {
    let mode = if isolated {
        "cross-origin isolated"
    } else {
        "not isolated"
    };
    Machine {
        cores: cores.max(1),
        platform: format!("browser ({browser}, {mode})"),
        core_source: "estimated".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gil_lab::plan::build_tasks;
    use gil_lab::scenario::{Overrides, find};

    #[test]
    fn partial_report_closes_open_spans_and_keeps_unrun_tasks() {
        let sc = find("cpu-processes").expect("scenario");
        let params = Overrides::default().apply(sc).expect("defaults");
        let tasks = build_tasks(&params, &[]);
        let mut live = LiveRun::new(sc.name, params, tasks, machine(2, "test", false));
        live.open.insert(
            1,
            OpenSpan {
                lane: 1,
                task: Some(1),
                state: SpanState::Running,
                since_us: 100,
            },
        );
        let r = live.report(500);
        assert_eq!(r.lanes.len(), 4);
        assert_eq!(r.spans.len(), 1);
        assert_eq!(r.spans[0].end_us, 500);
        assert_eq!(r.tasks.len(), 4);
        assert!(r.tasks.iter().all(|t| t.outcome == TaskOutcome::NotRun));
        // Round-trips through the report format the native side reads.
        let back = RunReport::from_json(&r.to_json()).expect("valid report");
        assert_eq!(back, r);
    }
}
