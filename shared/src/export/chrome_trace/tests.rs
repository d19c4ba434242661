//! The trace writer against a reference file (byte for byte) and against the Trace Event
//! format's structural rules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use super::chrome_trace;
use crate::gil::GilMode;
use crate::scenario::{Model, Params, Workload};
use crate::trace::{
    CoreSample, GilEvent, GilStats, Lane, LaneKind, Machine, RunReport, SpanState, TaskRecord,
};
use crate::view::fixtures::span;
use crate::workload::TaskOutcome;

fn machine() -> Machine {
    Machine {
        cores: 2,
        platform: "linux-x86_64".into(),
        core_source: "proc-stat".into(),
    }
}

/// Two threads taking turns on one GIL, with the hand-offs, a drop request and core samples.
fn threads_report() -> RunReport {
    use SpanState::{GilWait, Running};
    let params = Params {
        model: Model::Threads {
            workers: 2,
            gil: GilMode::Classic,
            switch_interval_us: 5000,
        },
        workload: Workload::SumPowers { n: 2000 },
        tasks: 2,
        python: Default::default(),
    };
    let mut r = RunReport::new("cpu-threads", params, machine());
    r.lanes = (0..2)
        .map(|i| Lane {
            id: i,
            label: format!("Thread-{}", i + 1),
            kind: LaneKind::Thread,
            group: None,
        })
        .collect();
    r.spans = vec![
        span(0, Some(0), Running, 0, 5_100),
        span(1, Some(1), GilWait, 40, 5_130),
        span(0, Some(0), GilWait, 5_100, 10_300),
        span(1, Some(1), Running, 5_130, 10_260),
        span(0, Some(0), Running, 10_300, 14_000),
        span(1, Some(1), GilWait, 10_260, 14_020),
        span(1, Some(1), Running, 14_020, 19_000),
    ];
    r.gil_events = vec![
        GilEvent::Handoff {
            at_us: 0,
            from: None,
            to: 0,
        },
        GilEvent::DropRequest {
            at_us: 5_040,
            by: 1,
            holder: 0,
        },
        GilEvent::Handoff {
            at_us: 5_130,
            from: Some(0),
            to: 1,
        },
        GilEvent::DropRequest {
            at_us: 10_100,
            by: 0,
            holder: 1,
        },
        GilEvent::Handoff {
            at_us: 10_300,
            from: Some(1),
            to: 0,
        },
        GilEvent::Handoff {
            at_us: 14_020,
            from: Some(0),
            to: 1,
        },
    ];
    r.gil = Some(GilStats {
        switches: 3,
        drop_requests: 2,
        interval_us: 5000,
    });
    r.cores = vec![
        CoreSample {
            start_us: 0,
            end_us: 10_000,
            busy: vec![0.62, 0.41],
        },
        CoreSample {
            start_us: 10_000,
            end_us: 19_000,
            busy: vec![0.35, 0.7],
        },
    ];
    r.tasks = (0..2)
        .map(|id| TaskRecord {
            id,
            label: "sum_powers(2000)".into(),
            lane: Some(id),
            outcome: TaskOutcome::NotRun,
        })
        .collect();
    r.wall_us = 19_000;
    r
}

/// Two processes (each with a start-up span) and a race-style group of threads, one report.
fn processes_report() -> RunReport {
    use SpanState::{Running, Starting};
    let params = Params {
        model: Model::Processes { workers: 2 },
        workload: Workload::SumPowers { n: 2000 },
        tasks: 2,
        python: Default::default(),
    };
    let mut r = RunReport::new("cpu-processes", params, machine());
    r.lanes = vec![
        Lane {
            id: 0,
            label: "Process-1".into(),
            kind: LaneKind::Process,
            group: None,
        },
        Lane {
            id: 1,
            label: "Process-2".into(),
            kind: LaneKind::Process,
            group: None,
        },
        Lane {
            id: 2,
            label: "Thread-1".into(),
            kind: LaneKind::Thread,
            group: Some("threads, plain loop, GIL".into()),
        },
    ];
    r.spans = vec![
        span(0, None, Starting, 0, 2_000),
        span(1, None, Starting, 300, 2_600),
        span(0, Some(0), Running, 2_000, 9_000),
        span(1, Some(1), Running, 2_600, 9_400),
        // A span that overlaps the one before on its lane: the writer must not pass it on as is.
        span(1, Some(1), Running, 9_000, 9_900),
        span(2, None, Running, 10_000, 11_000),
    ];
    r.tasks = (0..2)
        .map(|id| TaskRecord {
            id,
            label: "sum_powers(2000)".into(),
            lane: Some(id),
            outcome: TaskOutcome::NotRun,
        })
        .collect();
    r.wall_us = 11_000;
    r
}

/// Checks the promises the writer makes; returns the parsed events.
fn check_structure(text: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(text).expect("valid JSON");
    let events = v["traceEvents"]
        .as_array()
        .expect("traceEvents array")
        .clone();
    let mut named_pids = BTreeSet::new();
    let mut named_tids = BTreeSet::new();
    let mut used = BTreeSet::new();
    let mut by_thread: BTreeMap<(u64, u64), Vec<(u64, u64)>> = BTreeMap::new();
    let mut flows: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for e in &events {
        let ph = e["ph"].as_str().expect("ph");
        let pid = e["pid"].as_u64().expect("pid");
        let tid = e["tid"].as_u64().expect("tid");
        let ts = e["ts"].as_u64().expect("ts in µs");
        assert!(e["name"].is_string(), "{e}");
        match ph {
            "M" => match e["name"].as_str() {
                Some("process_name") => {
                    named_pids.insert(pid);
                }
                Some("thread_name") => {
                    named_tids.insert((pid, tid));
                }
                _ => {}
            },
            "X" => {
                let dur = e["dur"].as_u64().expect("dur");
                assert!(dur > 0, "{e}");
                used.insert((pid, tid));
                by_thread
                    .entry((pid, tid))
                    .or_default()
                    .push((ts, ts + dur));
            }
            "s" | "f" => {
                flows
                    .entry(e["id"].as_u64().expect("flow id"))
                    .or_default()
                    .push(ph.to_owned());
                used.insert((pid, tid));
            }
            "C" => {
                named_pids
                    .contains(&pid)
                    .then_some(())
                    .expect("counter pid named first");
                assert!(e["args"].as_object().is_some_and(|a| !a.is_empty()), "{e}");
            }
            "i" => {
                used.insert((pid, tid));
            }
            other => panic!("unexpected phase {other}"),
        }
    }
    for (pid, tid) in &used {
        assert!(named_pids.contains(pid), "pid {pid} has no process_name");
        assert!(
            named_tids.contains(&(*pid, *tid)),
            "tid {pid}/{tid} has no thread_name"
        );
    }
    for ((pid, tid), mut list) in by_thread {
        list.sort_unstable();
        for w in list.windows(2) {
            assert!(
                w[1].0 >= w[0].1,
                "events of {pid}/{tid} overlap: {:?} and {:?}",
                w[0],
                w[1]
            );
        }
    }
    for (id, phases) in flows {
        assert_eq!(phases, ["s", "f"], "flow {id}");
    }
    events
}

#[test]
fn traces_keep_the_format_promises() {
    for r in [threads_report(), processes_report()] {
        let events = check_structure(&chrome_trace(&r));
        let spans = events.iter().filter(|e| e["ph"] == "X").count();
        assert!(spans > 0);
        // Every span of the report is there (the overlapping one clipped, not dropped).
        assert_eq!(spans, r.spans.len(), "{}", r.scenario);
    }
}

#[test]
fn hand_offs_become_flows_between_threads() {
    let events = check_structure(&chrome_trace(&threads_report()));
    let starts: Vec<&Value> = events.iter().filter(|e| e["ph"] == "s").collect();
    let ends: Vec<&Value> = events.iter().filter(|e| e["ph"] == "f").collect();
    // Three hand-offs between different threads; the first take has no releaser.
    assert_eq!((starts.len(), ends.len()), (3, 3));
    // Thread-1 (tid 1) hands to Thread-2 (tid 2) first.
    assert_eq!(
        (starts[0]["tid"].as_u64(), ends[0]["tid"].as_u64()),
        (Some(1), Some(2))
    );
    // Each end lies inside a running span of the thread that took the GIL.
    for f in &ends {
        let (tid, ts) = (f["tid"].as_u64(), f["ts"].as_u64().expect("ts"));
        assert!(
            events.iter().any(|e| e["ph"] == "X"
                && e["name"] == "running"
                && e["tid"].as_u64() == tid
                && e["ts"].as_u64().is_some_and(|s| s < ts)
                && e["ts"]
                    .as_u64()
                    .zip(e["dur"].as_u64())
                    .is_some_and(|(s, d)| ts < s + d)),
            "{f}"
        );
    }
    let drops = events.iter().filter(|e| e["ph"] == "i").count();
    assert_eq!(drops, 2);
    let counters = events.iter().filter(|e| e["ph"] == "C").count();
    // Two cores, two samples each plus the closing zero.
    assert_eq!(counters, 6);
}

#[test]
fn processes_get_a_pid_each_and_threads_share_one() {
    let events = check_structure(&chrome_trace(&processes_report()));
    let names: Vec<(u64, String)> = events
        .iter()
        .filter(|e| e["name"] == "process_name")
        .map(|e| {
            (
                e["pid"].as_u64().unwrap_or(0),
                e["args"]["name"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            (1, "Process-1".to_owned()),
            (2, "Process-2".to_owned()),
            (3, "MainProcess (threads, plain loop, GIL)".to_owned()),
        ]
    );
}

const BLESS: &str = "GIL_LAB_BLESS=1 cargo test -p gil-lab export::";

/// typst's habit: the reference traces are checked in and regenerated only on purpose.
#[test]
fn golden_traces() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/trace");
    let bless = std::env::var("GIL_LAB_BLESS").is_ok_and(|v| v == "1");
    let mut failures = Vec::new();
    for (name, report) in [
        ("cpu-threads", threads_report()),
        ("cpu-processes", processes_report()),
    ] {
        let fresh = chrome_trace(&report);
        let path = dir.join(format!("{name}.trace.json"));
        if bless {
            std::fs::create_dir_all(&dir).expect("create tests/golden/trace");
            std::fs::write(&path, &fresh).expect("write golden trace");
            continue;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        if expected != fresh {
            failures.push(format!("{} differs:\n{fresh}", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\nIf the change is intended, regenerate with `{BLESS}` and review the diff.",
        failures.join("\n")
    );
}
