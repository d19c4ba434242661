//! The I/O-bound demos against the built-in image server: waits overlap on threads, files land
//! in the output folder under safe names, a failing URL is reported without losing the rest.

use gil_lab::trace::SpanState;
use gil_lab::view::max_concurrent;
use gil_lab::workload::TaskOutcome;

use crate::util::{report, run, stderr};

#[test]
fn threads_wait_for_io_at_the_same_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().to_str().expect("utf-8");
    let r = report(&[
        "io-threads",
        "--tasks",
        "10",
        "--latency-ms",
        "100",
        "--bandwidth-kbps",
        "400000",
        "--out",
        out,
    ]);
    assert_eq!(r.lanes.len(), 5);
    assert!(max_concurrent(&r, SpanState::IoWait) >= 2);
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .expect("out exists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files.len(), 10, "{files:?}");
    assert!(
        files
            .iter()
            .all(|f| f.ends_with(".bmp") && !f.starts_with('.')),
        "{files:?}"
    );
    for t in &r.tasks {
        let TaskOutcome::Downloaded(d) = &t.outcome else {
            panic!("{:?}", t.outcome)
        };
        let on_disk = std::fs::metadata(dir.path().join(&d.file))
            .expect("file written")
            .len();
        assert_eq!(on_disk, d.bytes);
    }
}

#[test]
fn sequential_downloads_never_overlap() {
    let r = report(&[
        "io-sequential",
        "--tasks",
        "4",
        "--latency-ms",
        "20",
        "--bandwidth-kbps",
        "0",
    ]);
    assert_eq!(max_concurrent(&r, SpanState::IoWait), 1);
}

/// `gil-lab images` on a free port: the child and its first image's URL.
fn image_server() -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = crate::util::bin()
        .args([
            "images",
            "--port",
            "0",
            "--latency-ms",
            "0",
            "--bandwidth-kbps",
            "0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("gil-lab images starts");
    let mut url = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut url)
        .expect("a URL");
    (child, url.trim().to_owned())
}

#[test]
fn a_failing_url_is_reported_and_the_rest_kept() {
    let (mut images, good) = image_server();
    // A listener that is closed at once: connecting to its port is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let bad = format!("http://127.0.0.1:{port}/nothing.jpg");
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(&[
        "run",
        "io-sequential",
        "--tasks",
        "4",
        "--url",
        &good,
        "--url",
        &bad,
        "--out",
        dir.path().to_str().expect("utf-8"),
        "--json",
        "-",
        "--quiet",
    ]);
    let _ = images.kill();
    let _ = images.wait();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.lines().any(|l| l.starts_with("error:")
            && l.contains("2 of 4 tasks failed")
            && l.contains(&bad)),
        "{err}"
    );
    let r = gil_lab::trace::RunReport::from_json(&String::from_utf8_lossy(&out.stdout))
        .expect("report still written");
    assert_eq!(r.tasks.len(), 4);
    // Tasks alternate between the URLs: the good ones are kept, whole, the bad ones reported.
    let mut files = Vec::new();
    for t in &r.tasks {
        match (&t.outcome, t.id % 2) {
            (TaskOutcome::Downloaded(d), 0) => {
                let len = std::fs::metadata(dir.path().join(&d.file))
                    .expect("file")
                    .len();
                assert_eq!(len, d.bytes);
                files.push(d.file.clone());
            }
            (TaskOutcome::Error { message }, 1) => assert!(message.contains(&bad), "{message}"),
            other => panic!("task {}: {other:?}", t.id),
        }
    }
    // Nothing partial is left behind: only the good downloads.
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        files.len()
    );
}
