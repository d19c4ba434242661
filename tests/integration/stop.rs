//! Every demo stops (issue 11): natively on Ctrl-C, SIGTERM and SIGHUP, and through the run
//! API on DELETE, at several moments of each scenario, the race's locked case among them. After
//! a stop the report of what ran is written with "Stopped early", no worker process is left,
//! and (through the API) the next run starts at once instead of getting 429.
//!
//! The bounds are generous (a loaded 2-core machine): what is asserted is that a stop ends the
//! run, not how fast. Stopping takes well under a second here (see the closing notes of issue
//! 11 for the measured figures).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use gil_lab::trace::{RunReport, Span, SpanState};

use crate::serve::{Server, raw};
use crate::util::{signal_group, tagged, unique_tag, wait_exit, workers_with};

/// Every scenario with parameters that make it last many seconds.
const LONG: &[(&str, &[&str])] = &[
    ("io-sequential", &["--latency-ms", "1000"]),
    ("io-threads", &["--latency-ms", "1000"]),
    ("cpu-sequential", &["--n", "30000"]),
    ("cpu-threads", &["--n", "30000"]),
    ("cpu-threads-free", &["--n", "30000"]),
    ("cpu-processes", &["--n", "30000"]),
    ("cpu-pool", &["--n", "30000"]),
    ("cpu-interpreters", &["--n", "30000"]),
    ("convoy", &["--n", "30000"]),
    ("race", &["--increments", "10000000"]),
];

/// How long a stopped run may take to end on a loaded machine before the test calls it hung.
const ENDS_WITHIN: Duration = Duration::from_secs(20);

fn stopped(report: &RunReport, what: &str) {
    assert!(
        report.notes.iter().any(|n| n.starts_with("Stopped early")),
        "{what}: no 'Stopped early' note in {:?}",
        report.notes
    );
}

/// Starts `gil-lab run` in a process group of its own (a terminal's foreground job), lets it
/// work for `after`, sends `signal` to the group and checks the exit status, the report and
/// that no worker process is left.
fn signal_run(scenario: &str, args: &[&str], after: Duration, signal: &str, code: i32) {
    signal_run_or_end(scenario, args, after, signal, code, false);
}

/// [`signal_run`]; with `may_end`, a run that ended on its own before the signal came (a fast
/// machine) is accepted too, as long as its report is whole and nothing is left behind.
fn signal_run_or_end(
    scenario: &str,
    args: &[&str],
    after: Duration,
    signal: &str,
    code: i32,
    may_end: bool,
) {
    let what = format!("{scenario} {args:?}, {signal} after {after:?}");
    let tag = unique_tag("stop");
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("r.json");
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).expect("tmp");
    let mut child = tagged(&tag)
        .arg("run")
        .arg(scenario)
        .args(args)
        .arg("--json")
        .arg(&json)
        .arg("--quiet")
        // Downloads go to a temporary folder: it must be gone after the stop.
        .env("TMPDIR", &tmp)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("gil-lab starts");
    std::thread::sleep(after);
    let t0 = Instant::now();
    signal_group(child.id(), signal);
    let got = wait_exit(&mut child, ENDS_WITHIN);
    let took = t0.elapsed();
    let mut err = String::new();
    let _ = child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err);
    assert!(!err.contains("panicked"), "{what}: {err}");
    assert_eq!(
        workers_with(&tag),
        0,
        "{what}: worker processes left behind"
    );
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| panic!("{what}: no report: {e}"));
    let report = RunReport::from_json(&text).expect("a whole report");
    if may_end && got == Some(0) {
        eprintln!("{what}: the run had ended before the signal");
        return;
    }
    assert_eq!(got, Some(code), "{what}: exit status; stderr: {err}");
    stopped(&report, &what);
    let left: Vec<_> = std::fs::read_dir(&tmp).expect("tmp").collect();
    assert!(left.is_empty(), "{what}: temporary files left: {left:?}");
    eprintln!("{what}: ended {took:?} after the signal");
}

#[test]
fn ctrl_c_stops_every_scenario_at_several_moments() {
    std::thread::scope(|s| {
        for &(scenario, args) in LONG {
            s.spawn(move || {
                for ms in [300, 1500] {
                    signal_run(scenario, args, Duration::from_millis(ms), "INT", 130);
                }
            });
        }
    });
}

/// The race runs its cases one after another; stopping it late lands in the later cases (the
/// locked one among them on this machine's pace; the unit test
/// `stopping_threads_inside_the_lock_never_hangs` stops inside the lock by what happened).
#[test]
fn the_race_stops_in_each_of_its_cases() {
    for ms in [3000, 5000, 8000] {
        signal_run_or_end(
            "race",
            &["--increments", "3000000"],
            Duration::from_millis(ms),
            "INT",
            130,
            true,
        );
    }
}

/// SIGTERM (a service manager, `timeout`, `kill`) and SIGHUP (a closed terminal) are a
/// Ctrl-C: stop, write the report, remove temporary files, exit 143 / 129.
#[test]
fn sigterm_and_sighup_write_the_report() {
    let after = Duration::from_millis(700);
    signal_run("io-threads", &["--latency-ms", "1000"], after, "TERM", 143);
    signal_run("cpu-processes", &["--n", "30000"], after, "TERM", 143);
    signal_run("race", &["--increments", "3000000"], after, "HUP", 129);
}

/// One `POST /api/run`: the response head's status, the run's id, and the open stream.
fn post_run(srv: &Server, token: &str, body: &str) -> (u16, String, BufReader<TcpStream>) {
    let mut s = TcpStream::connect(srv.addr).expect("connect");
    s.set_read_timeout(Some(ENDS_WITHIN)).expect("timeout");
    s.write_all(
        raw(
            srv.addr,
            "POST",
            "/api/run",
            &[("X-GIL-Lab-Token", token)],
            body,
        )
        .as_bytes(),
    )
    .expect("send");
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).expect("status line");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let mut id = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).expect("head") == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("x-gil-lab-run:") {
            id = v.trim().to_owned();
        }
    }
    (status, id, r)
}

/// Reads the stream's events until `until` accepts one (`(event, data)`); false at its end.
fn read_until(r: &mut BufReader<TcpStream>, mut until: impl FnMut(&str, &str) -> bool) -> bool {
    let mut event = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        match r.read_line(&mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) => {}
        }
        if let Some(e) = line.trim_end().strip_prefix("event: ") {
            event = e.to_owned();
        } else if let Some(d) = line.trim_end().strip_prefix("data: ")
            && until(&event, d)
        {
            return true;
        }
    }
}

/// Stops one API run with DELETE `later` after `moment` accepts a span, and checks that the
/// stream ends with a stopped report and the next run starts.
fn delete_run(
    srv: &Server,
    token: &str,
    body: &str,
    (moment, later): (&dyn Fn(&Span) -> bool, Duration),
    what: &str,
) {
    let (status, id, mut r) = post_run(srv, token, body);
    assert_eq!(status, 200, "{what}: POST");
    let reached = read_until(&mut r, |event, data| {
        event == "span" && serde_json::from_str::<Span>(data).is_ok_and(|s| moment(&s))
    });
    assert!(
        reached,
        "{what}: the stream ended before the moment to stop"
    );
    // The stream is left unread meanwhile, as a busy page might.
    std::thread::sleep(later);
    let t0 = Instant::now();
    let del = srv.request(
        "DELETE",
        &format!("/api/run/{id}"),
        &[("X-GIL-Lab-Token", token)],
        "",
    );
    assert!(del.starts_with("HTTP/1.1 202"), "{what}: DELETE: {del}");
    let mut report = None;
    let ended = read_until(&mut r, |event, data| {
        if event == "report" {
            report = RunReport::from_json(data).ok();
            true
        } else {
            false
        }
    });
    assert!(ended, "{what}: the stream ended without a report");
    stopped(&report.expect("a whole report"), what);
    eprintln!("{what}: report {:?} after DELETE", t0.elapsed());
    drop(r);
    // The slot is free: the next run starts at once (and is read to its end, so that it
    // frees the slot for the next case in turn).
    let (next, _, mut r2) = post_run(srv, token, r#"{"scenario": "cpu-threads", "n": 200}"#);
    assert_eq!(next, 200, "{what}: the next POST after the stop");
    assert!(
        read_until(&mut r2, |event, _| event == "report"),
        "{what}: the next run's report"
    );
}

#[test]
fn delete_stops_every_scenario_and_frees_the_slot() {
    let tag = unique_tag("api-stop-all");
    let srv = Server::start(&tag, &[]);
    let token = srv.token();
    let json_args = |args: &[&str]| -> String {
        args.chunks(2)
            .map(|kv| format!(", \"{}\": {}", kv[0].trim_start_matches("--"), kv[1]))
            .collect()
    };
    for &(scenario, args) in LONG {
        let body = format!("{{\"scenario\": \"{scenario}\"{}}}", json_args(args));
        // At the first span, and a second and a half later.
        for later in [Duration::ZERO, Duration::from_millis(1500)] {
            let what = format!("{scenario}, {later:?} after the first span");
            delete_run(&srv, &token, &body, (&|_| true, later), &what);
        }
    }
    // The race's locked case: lanes 8..12 with 4 workers (cases run in order, 4 lanes each),
    // once a thread has waited for the lock.
    let body = r#"{"scenario": "race", "increments": 3000000, "workers": 4}"#;
    let in_lock = |s: &Span| (8..12).contains(&s.lane) && s.state == SpanState::LockWait;
    let what = "race, inside the locked case";
    delete_run(&srv, &token, body, (&in_lock, Duration::ZERO), what);
    assert!(
        crate::util::wait_for(Duration::from_secs(10), || workers_with(&tag) == 0),
        "worker processes left behind"
    );
}
