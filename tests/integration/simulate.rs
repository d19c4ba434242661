//! `gil-lab simulate` and `gil-lab calibrate` (issue 6, parts 3-5): simulated reports say so,
//! are reproducible, bad input exits 2 with one line, a calibration is saved and used.

use gil_lab::trace::{RunReport, Source, SpanState};
use gil_lab::view::max_concurrent;

use crate::util::{bin, run, stderr};

/// `gil-lab simulate <args> --json -` with the built-in profile (never a developer's cache).
fn simulated(args: &[&str]) -> (RunReport, String) {
    let mut all = vec!["simulate"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--json", "-"]);
    let out = bin()
        .args(&all)
        .env("XDG_CACHE_HOME", tempfile::tempdir().expect("tmp").path())
        .output()
        .expect("gil-lab starts");
    assert!(out.status.success(), "{all:?}: {}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (
        RunReport::from_json(&text).expect("stdout is a report"),
        text,
    )
}

#[test]
fn the_lessons_pool_on_64_cores_is_simulated_and_reproducible() {
    let args = [
        "cpu-pool",
        "--workers",
        "64",
        "--tasks",
        "256",
        "--cores",
        "64",
        "--seed",
        "3",
    ];
    let (r, first) = simulated(&args);
    assert_eq!(r.source, Source::Simulated);
    assert_eq!(r.lanes.len(), 64);
    assert_eq!(max_concurrent(&r, SpanState::Running), 64);
    let sim = r.simulation.as_ref().expect("simulation facts");
    assert_eq!((sim.cores, sim.seed, sim.pace.as_str()), (64, 3, "native"));
    let (_, again) = simulated(&args);
    assert_eq!(first, again, "same inputs and seed, same bytes");
}

#[test]
fn threads_under_a_classic_gil_never_overlap_on_many_cores() {
    let (r, _) = simulated(&[
        "cpu-threads",
        "--n",
        "2000",
        "--workers",
        "8",
        "--tasks",
        "8",
        "--cores",
        "16",
    ]);
    assert_eq!(max_concurrent(&r, SpanState::Running), 1);
    assert!(r.gil.as_ref().is_some_and(|g| g.switches > 0));
    let (free, _) = simulated(&[
        "cpu-threads",
        "--n",
        "2000",
        "--python",
        "3.14t",
        "--cores",
        "16",
    ]);
    assert_eq!(max_concurrent(&free, SpanState::Running), 4);
    assert_eq!(
        free.simulation.as_ref().map(|s| s.start_method.as_str()),
        Some("forkserver")
    );
}

#[test]
fn bad_input_exits_2_with_one_line_naming_the_field() {
    for (args, field) in [
        (vec!["cpu-threads", "--cores", "0"], "cores = 0"),
        (vec!["cpu-threads", "--cores", "257"], "cores = 257"),
        (vec!["cpu-threads", "--python", "2.7"], "python = 2.7"),
        (
            vec!["cpu-pool", "--start-method", "vfork"],
            "start-method = vfork",
        ),
        (vec!["cpu-pool", "--pace", "fast"], "pace = fast"),
        (
            vec!["cpu-threads-free", "--python", "3.11"],
            "python = 3.11",
        ),
        (vec!["cpu-threads", "--n", "999999"], "n = 999999"),
        (
            vec!["cpu-threads", "--profile", "/no/such/profile.json"],
            "profile = /no/such",
        ),
    ] {
        let mut all = vec!["simulate"];
        all.extend_from_slice(&args);
        let out = run(&all);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        // One line says what is wrong (clap may add a hint to try --help after it).
        let first = err.lines().next().unwrap_or_default();
        assert!(first.contains(field), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    let dir = tempfile::tempdir().expect("tmp");
    let broken = dir.path().join("p.json");
    std::fs::write(&broken, r#"{"version": 1, "name": 3}"#).expect("write");
    let out = run(&[
        "simulate",
        "cpu-threads",
        "--profile",
        broken.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a GIL Lab machine profile"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_picture_and_summary_are_drawn_like_a_run() {
    let dir = tempfile::tempdir().expect("tmp");
    let svg = dir.path().join("t.svg");
    let out = run(&[
        "simulate",
        "cpu-processes",
        "--n",
        "1000",
        "--cores",
        "2",
        "--svg",
        svg.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("simulated"), "{text}");
    assert!(text.contains("Wall time"), "{text}");
    assert!(
        std::fs::read_to_string(&svg)
            .expect("svg written")
            .starts_with("<svg")
    );
}

#[test]
fn compare_runs_the_real_scenario_beside_the_simulation() {
    let out = run(&[
        "simulate",
        "cpu-threads",
        "--n",
        "600",
        "--compare",
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for word in [
        "measured (lab)",
        "simulated",
        "wall time",
        "GIL hand-offs",
        "%",
    ] {
        assert!(text.contains(word), "{word} missing: {text}");
    }
}

#[test]
fn a_calibration_is_saved_and_then_used_by_default() {
    let cache = tempfile::tempdir().expect("tmp");
    let out = bin()
        .args(["calibrate"])
        .env("XDG_CACHE_HOME", cache.path())
        .output()
        .expect("gil-lab starts");
    assert!(out.status.success(), "{}", stderr(&out));
    let saved = cache.path().join("gil-lab").join("profile.json");
    let profile =
        gil_lab::sim::Profile::from_json(&std::fs::read_to_string(&saved).expect("saved"))
            .expect("a valid profile");
    assert!(profile.native.origin.starts_with("measured"));
    let out = bin()
        .args(["simulate", "cpu-sequential", "--n", "500"])
        .env("XDG_CACHE_HOME", cache.path())
        .output()
        .expect("gil-lab starts");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&profile.name), "{text}");
}
