//! Listing, and bad input: one line naming the field and the range, exit status 2, no panic.

use crate::util::{run, stderr};

#[test]
fn list_shows_every_scenario() {
    let out = run(&["list"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for name in [
        "io-sequential",
        "io-threads",
        "cpu-sequential",
        "cpu-threads",
        "cpu-threads-free",
        "cpu-processes",
        "cpu-pool",
        "race",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(name)),
            "{name} missing from:\n{text}"
        );
    }
}

fn assert_usage_error(args: &[&str], needles: &[&str]) {
    let out = run(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("error"))
        .unwrap_or_default();
    for n in needles {
        assert!(line.contains(n), "{args:?}: expected {n:?} in {line:?}");
    }
}

#[test]
fn n_beyond_the_limit_is_refused() {
    assert_usage_error(
        &["run", "cpu-sequential", "--n", "99999999"],
        &["n = 99999999", "0..=50000"],
    );
}

#[test]
fn zero_workers_is_refused() {
    assert_usage_error(
        &["run", "cpu-threads", "--workers", "0"],
        &["workers = 0", "1..=64"],
    );
}

#[test]
fn unknown_scenario_is_refused() {
    assert_usage_error(
        &["run", "cpu-quantum"],
        &["unknown scenario", "cpu-threads"],
    );
}

#[test]
fn bad_switch_interval_is_refused() {
    assert_usage_error(
        &["run", "cpu-threads", "--switch-interval-ms", "0"],
        &["switch-interval-ms", "0.01..=1000"],
    );
}

#[test]
fn unwritable_out_is_refused() {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    // A path under a regular file can never be created.
    let out = file.path().join("sub");
    assert_usage_error(
        &[
            "run",
            "io-sequential",
            "--tasks",
            "1",
            "--out",
            out.to_str().expect("utf-8"),
        ],
        &["out = "],
    );
}
