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

// --- Issue 11: the simulator cannot eat the machine -------------------------------------------

/// `gil-lab simulate <args>` with the built-in profile, its stderr piped, in a process group
/// of its own (as a terminal's foreground job is).
fn spawn_simulate(args: &[&str], cache: &std::path::Path) -> std::process::Child {
    use std::os::unix::process::CommandExt;
    bin()
        .arg("simulate")
        .args(args)
        .env("XDG_CACHE_HOME", cache)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("gil-lab starts")
}

/// Waits (at most `limit`, else kills it and fails) and returns (exit code, stderr).
fn finish(mut child: std::process::Child, limit: std::time::Duration) -> (Option<i32>, String) {
    use std::io::Read;
    let mut err = child.stderr.take().expect("piped");
    // Read stderr beside the wait, so a chatty child never blocks on a full pipe.
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let code = crate::util::wait_exit(&mut child, limit);
    (code, reader.join().unwrap_or_default())
}

#[test]
fn a_profile_with_a_near_zero_efficiency_is_refused_at_once() {
    // It passed validation and the simulation grew by 130 MB/s, deaf to Ctrl-C.
    let dir = tempfile::tempdir().expect("tmp");
    let mut profile: serde_json::Value =
        serde_json::from_str(gil_lab::sim::Profile::builtin_json()).expect("json");
    profile["native"]["efficiency"] = serde_json::json!([1e-300]);
    let path = dir.path().join("p.json");
    std::fs::write(&path, profile.to_string()).expect("write");
    let child = spawn_simulate(
        &["cpu-threads", "--profile", path.to_str().expect("utf-8")],
        dir.path(),
    );
    let (code, err) = finish(child, std::time::Duration::from_secs(20));
    assert_eq!(code, Some(2), "{err}");
    let first = err.lines().next().unwrap_or_default();
    assert!(
        first.contains("native.efficiency = 1e-300")
            && first.contains("allowed values in (0.05, 1]"),
        "{err}"
    );
}

#[test]
fn inputs_over_the_budget_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().expect("tmp");
    let json = dir.path().join("r.json");
    let json_arg = json.to_str().expect("utf-8");
    for (args, says) in [
        // 157,000 spans (a 20 MB report the page cannot open).
        (
            vec![
                "cpu-pool",
                "--workers",
                "64",
                "--tasks",
                "256",
                "--cores",
                "16",
            ],
            "spans; the limit is 10,000; use more cores",
        ),
        // Millions of GIL waits; it ran 14 s before giving up.
        (
            vec![
                "cpu-threads",
                "--workers",
                "64",
                "--tasks",
                "64",
                "--n",
                "20000",
                "--switch-interval-ms",
                "0.01",
                "--pace",
                "cpython",
                "--cores",
                "2",
            ],
            "use a longer switch-interval-ms",
        ),
    ] {
        let mut all = args.clone();
        all.extend_from_slice(&["--json", json_arg]);
        let child = spawn_simulate(&all, dir.path());
        let (code, err) = finish(child, std::time::Duration::from_secs(60));
        assert_eq!(code, Some(2), "{args:?}: {err}");
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("error: this simulation would record about ") && first.contains(says),
            "{args:?}: {err}"
        );
        assert!(!json.exists(), "{args:?}: a report was written");
    }
}

#[test]
fn a_long_run_on_256_cores_writes_a_report_the_page_can_open() {
    // It needed ~4 GB and wrote 107 MB: core samples every 50 ms of a simulated half hour.
    let dir = tempfile::tempdir().expect("tmp");
    let json = dir.path().join("r.json");
    let child = spawn_simulate(
        &[
            "cpu-processes",
            "--workers",
            "64",
            "--tasks",
            "256",
            "--n",
            "50000",
            "--cores",
            "256",
            "--pace",
            "cpython",
            "--json",
            json.to_str().expect("utf-8"),
        ],
        dir.path(),
    );
    let (code, err) = finish(child, std::time::Duration::from_secs(120));
    assert_eq!(code, Some(0), "{err}");
    let bytes = std::fs::metadata(&json).expect("written").len();
    assert!(
        bytes <= gil_lab::view::limits::MAX_REPORT_BYTES,
        "{bytes} bytes"
    );
    let r = RunReport::from_json(&std::fs::read_to_string(&json).expect("read")).expect("report");
    assert!(
        r.notes.iter().any(|n| n.contains("core chart")),
        "{:?}",
        r.notes
    );
}

#[test]
fn ctrl_c_stops_a_simulation_and_keeps_what_ran() {
    use std::io::BufRead;
    // Seconds of the race's loads and stores, within the budget: long enough to be stopped.
    let dir = tempfile::tempdir().expect("tmp");
    let json = dir.path().join("r.json");
    let mut child = spawn_simulate(
        &[
            "race",
            "--increments",
            "7000000",
            "--switch-interval-ms",
            "1000",
            "--cores",
            "4",
            "--json",
            json.to_str().expect("utf-8"),
        ],
        dir.path(),
    );
    // It says when it starts a long simulation; Ctrl-C comes after that (so after its
    // handler is in place), or after 20 s if it never says so.
    let mut err = std::io::BufReader::new(child.stderr.take().expect("piped"));
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        let mut line = String::new();
        while err.read_line(&mut line).unwrap_or(0) > 0 {
            if line.starts_with("simulating") {
                let _ = tx.send(());
            }
            all.push_str(&line);
            line.clear();
        }
        all
    });
    let _ = rx.recv_timeout(std::time::Duration::from_secs(20));
    let t0 = std::time::Instant::now();
    crate::util::signal_group(child.id(), "INT");
    let code = crate::util::wait_exit(&mut child, std::time::Duration::from_secs(20));
    let took = t0.elapsed();
    let err = reader.join().unwrap_or_default();
    assert_eq!(code, Some(130), "exit status after Ctrl-C: {err}");
    assert!(err.contains("stopped early"), "{err}");
    // It polls every few thousand events; a loaded 2-core machine still answers in well
    // under this.
    assert!(
        took < std::time::Duration::from_secs(5),
        "stopping took {took:?}"
    );
    let r = RunReport::from_json(&std::fs::read_to_string(&json).expect("the report was written"))
        .expect("a whole report");
    assert!(
        r.notes.iter().any(|n| n.starts_with("Stopped early")),
        "{:?}",
        r.notes
    );
    assert_eq!(r.source, Source::Simulated);
}
