//! Reports: JSON round trip, and the SVG / HTML files the CLI writes are the shared renderer's.

use gil_lab::trace::RunReport;

use crate::util::run;

#[test]
fn svg_file_is_the_layout_of_the_json_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("r.json");
    let svg = dir.path().join("r.svg");
    let html = dir.path().join("r.html");
    let out = run(&[
        "run",
        "cpu-threads",
        "--n",
        "300",
        "--quiet",
        "--json",
        json.to_str().expect("utf-8"),
        "--svg",
        svg.to_str().expect("utf-8"),
        "--html",
        html.to_str().expect("utf-8"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&json).expect("json written");
    let report = RunReport::from_json(&text).expect("valid report");
    assert_eq!(report.to_json(), text, "JSON round-trips unchanged");
    let expected = gil_lab::view::layout(&report).to_svg();
    assert_eq!(
        std::fs::read_to_string(&svg).expect("svg written"),
        expected
    );
    let page = std::fs::read_to_string(&html).expect("html written");
    assert!(page.contains("<svg") && page.contains("def sum_powers"));
    // The chart and summary went to stdout.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Wall time"), "{stdout}");
}

#[test]
fn json_to_stdout_is_the_report_alone() {
    let out = run(&[
        "run",
        "cpu-sequential",
        "--n",
        "10",
        "--tasks",
        "1",
        "--json",
        "-",
    ]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    RunReport::from_json(&stdout).expect("stdout is exactly one report");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Wall time"));
}
