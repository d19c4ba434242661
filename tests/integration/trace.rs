//! `gil-lab run --trace` (issue 7): a Chrome Trace Event file Perfetto opens, checked against
//! the format's structure on real runs.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::util::run;

/// Runs `gil-lab run <args> --trace FILE`; the trace's events and the report.
fn traced(args: &[&str]) -> (Vec<Value>, gil_lab::trace::RunReport) {
    let dir = tempfile::tempdir().expect("temp dir");
    let trace = dir.path().join("t.json");
    let json = dir.path().join("r.json");
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    let (t, j) = (
        trace.to_str().expect("utf-8"),
        json.to_str().expect("utf-8"),
    );
    all.extend_from_slice(&["--quiet", "--trace", t, "--json", j]);
    let out = run(&all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&trace).expect("trace written"))
        .expect("JSON");
    let report =
        gil_lab::trace::RunReport::from_json(&std::fs::read_to_string(&json).expect("report"))
            .expect("report");
    (
        v["traceEvents"].as_array().expect("traceEvents").clone(),
        report,
    )
}

/// The format's rules as Perfetto applies them: named pids/tids, µs integers, complete events
/// that never partially overlap on one thread, flows in pairs.
fn check(events: &[Value]) {
    let mut names = BTreeSet::new();
    let mut threads: BTreeMap<(u64, u64), Vec<(u64, u64)>> = BTreeMap::new();
    let mut flows: BTreeMap<u64, usize> = BTreeMap::new();
    for e in events {
        let (pid, tid) = (
            e["pid"].as_u64().expect("pid"),
            e["tid"].as_u64().expect("tid"),
        );
        let ts = e["ts"].as_u64().expect("ts");
        match e["ph"].as_str().expect("ph") {
            "M" => {
                names.insert((e["name"].as_str().expect("name").to_owned(), pid, tid));
            }
            "X" => {
                assert!(names.contains(&("thread_name".into(), pid, tid)), "{e}");
                threads
                    .entry((pid, tid))
                    .or_default()
                    .push((ts, ts + e["dur"].as_u64().expect("dur")));
            }
            "s" | "f" => *flows.entry(e["id"].as_u64().expect("id")).or_default() += 1,
            "C" | "i" => assert!(names.contains(&("process_name".into(), pid, 0)), "{e}"),
            other => panic!("phase {other}"),
        }
    }
    for ((pid, tid), mut spans) in threads {
        assert!(names.contains(&("process_name".into(), pid, 0)));
        spans.sort_unstable();
        for w in spans.windows(2) {
            assert!(
                w[1].0 >= w[0].1,
                "{pid}/{tid}: {:?} overlaps {:?}",
                w[0],
                w[1]
            );
        }
    }
    assert!(flows.values().all(|&n| n == 2), "{flows:?}");
}

#[test]
fn thread_runs_trace_spans_cores_and_gil_hand_offs() {
    let (events, report) = traced(&["cpu-threads", "--n", "1500", "--switch-interval-ms", "1"]);
    check(&events);
    let spans = events.iter().filter(|e| e["ph"] == "X").count();
    assert_eq!(spans, report.spans.len());
    let handoffs = report
        .gil_events
        .iter()
        .filter(
            |e| matches!(e, gil_lab::trace::GilEvent::Handoff { from: Some(f), to, .. } if f != to),
        )
        .count();
    assert!(handoffs > 0, "a 1 ms interval hands the GIL over");
    assert_eq!(events.iter().filter(|e| e["ph"] == "s").count(), handoffs);
    if !report.cores.is_empty() {
        assert!(events.iter().any(|e| e["ph"] == "C"));
    }
}

#[test]
fn process_runs_get_a_pid_per_process() {
    let (events, _) = traced(&[
        "cpu-processes",
        "--n",
        "800",
        "--workers",
        "3",
        "--tasks",
        "3",
    ]);
    check(&events);
    let pids: BTreeSet<u64> = events
        .iter()
        .filter(|e| e["ph"] == "X")
        .filter_map(|e| e["pid"].as_u64())
        .collect();
    assert_eq!(pids.len(), 3);
}
