//! Running the binary and reading its report.

use std::process::{Command, Output};

use gil_lab::trace::RunReport;

/// The `gil-lab` binary cargo built for these tests.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gil-lab"));
    // Keep the sequential-baseline cache out of the developer's home.
    c.env(
        "XDG_CACHE_HOME",
        std::env::temp_dir().join("gil-lab-tests-cache"),
    );
    c
}

/// Runs `gil-lab <args>`.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("gil-lab starts")
}

/// Runs `gil-lab run <args> --json - --quiet` and parses the report from stdout.
pub fn report(args: &[&str]) -> RunReport {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--json", "-", "--quiet"]);
    let out = run(&all);
    assert!(
        out.status.success(),
        "gil-lab {all:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    RunReport::from_json(&String::from_utf8_lossy(&out.stdout)).expect("stdout is a report")
}

/// Logical cores here.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
