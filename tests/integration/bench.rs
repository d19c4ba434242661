//! `gil-lab bench --python --trace DIR --html PATH` (issue 7): CPython's own runs recorded as
//! reports beside the lab's, drawn on one page. Skipped where there is no `python3`.

use gil_lab::trace::{LaneKind, RunReport, SpanState};
use gil_lab::view::max_concurrent;
use gil_lab::workload::TaskOutcome;

use crate::util::run;

#[test]
fn cpython_runs_become_reports_beside_the_labs() {
    if std::process::Command::new("python3")
        .arg("-V")
        .output()
        .is_err()
    {
        eprintln!("no python3: skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let traces = dir.path().join("traces");
    let page = dir.path().join("bench.html");
    let out = run(&[
        "bench",
        "--python",
        "--quick",
        "--n",
        "700",
        "--latency-ms",
        "0",
        "--bandwidth-kbps",
        "0",
        "--trace",
        traces.to_str().expect("utf-8"),
        "--html",
        page.to_str().expect("utf-8"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |name: &str| {
        let text =
            std::fs::read_to_string(traces.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        RunReport::from_json(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    for scenario in [
        "cpu-sequential",
        "cpu-threads",
        "cpu-processes",
        "cpu-pool",
        "io-sequential",
        "io-threads",
    ] {
        let lab = read(&format!("{scenario}.lab.json"));
        let py = read(&format!("{scenario}.cpython.json"));
        assert!(
            py.machine.platform.starts_with("CPython 3"),
            "{}",
            py.machine.platform
        );
        assert_eq!(py.tasks.len(), lab.tasks.len(), "{scenario}");
        assert!(
            py.tasks.iter().all(|t| t.outcome.is_ok()),
            "{scenario}: {:?}",
            py.tasks
        );
        // The same work: CPython's sums are the lab's, bit for bit.
        for (a, b) in lab.tasks.iter().zip(&py.tasks) {
            if let (TaskOutcome::Sum(x), TaskOutcome::Sum(y)) = (&a.outcome, &b.outcome) {
                assert_eq!(x, y, "{scenario} task {}", a.id);
            }
        }
        assert!(
            traces
                .join(format!("{scenario}.cpython.trace.json"))
                .is_file()
        );
    }
    // CPython's threads, named as CPython names them, took turns on its GIL.
    let threads = read("cpu-threads.cpython.json");
    assert!(
        threads
            .lanes
            .iter()
            .all(|l| l.kind == LaneKind::Thread && l.label.starts_with("Thread-"))
    );
    assert_eq!(max_concurrent(&threads, SpanState::Running), 1);
    let procs = read("cpu-processes.cpython.json");
    assert!(procs.lanes.iter().all(|l| l.kind == LaneKind::Process));
    assert!(procs.spans.iter().any(|s| s.state == SpanState::Starting));
    let html = std::fs::read_to_string(&page).expect("page written");
    assert!(html.contains("measured in CPython 3") && html.contains("GIL Lab (native)"));
}
