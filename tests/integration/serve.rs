//! `gil-lab serve` and its run API (issue 7), against the real server: the page's token, the
//! refusals (403, 400, 429), a native cpu-processes run streamed live as process lanes, and
//! stopping a run by closing its stream or by DELETE, with no worker left behind.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};
use std::time::Duration;

use gil_lab::trace::{LaneKind, RunReport, Source, Span};

use crate::util::{signal_group, tagged, unique_tag, wait_exit, wait_for, workers_with};

/// A running `gil-lab serve` on a free port, stopped with Ctrl-C when dropped.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    _root: tempfile::TempDir,
}

impl Server {
    pub fn start(tag: &str, extra: &[&str]) -> Self {
        Self::start_bin(tagged(tag), extra)
    }

    /// [`Server::start`] with another `gil-lab` (e.g. an older build, for comparisons).
    pub fn start_bin(mut command: std::process::Command, extra: &[&str]) -> Self {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            root.path().join("index.html"),
            "<!DOCTYPE html><html><head><title>lab</title></head><body>lab</body></html>",
        )
        .expect("write index");
        std::fs::write(root.path().join("app.wasm"), vec![0u8; 64 * 1024]).expect("write");
        let mut child = command
            .args(["serve", "--port", "0", "--root"])
            .arg(root.path())
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("gil-lab serve starts");
        // A warning (`--bind` beyond loopback) may come before the line naming the address.
        let mut err = BufReader::new(child.stderr.take().expect("stderr"));
        let mut line = String::new();
        while !line.contains("http://") {
            line.clear();
            let n = err
                .read_line(&mut line)
                .expect("the server says where it listens");
            assert!(n > 0, "gil-lab serve ended before listening");
        }
        let mut addr: SocketAddr = line
            .split("http://")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        Self {
            child,
            addr,
            _root: root,
        }
    }

    /// The folder it serves (files added to it are served at once).
    pub fn root(&self) -> &std::path::Path {
        self._root.path()
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// One request on a fresh connection; the whole response as text.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> String {
        let mut s = TcpStream::connect(self.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(120)))
            .expect("timeout");
        s.write_all(raw(self.addr, method, path, headers, body).as_bytes())
            .expect("send");
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }

    pub fn token(&self) -> String {
        let page = self.request("GET", "/", &[], "");
        page.split("name=\"gil-lab-token\" content=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_else(|| panic!("no token in {page}"))
            .to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> String {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    req
}

/// Server-sent events of a response body: `(event, data)` in order.
pub fn events(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let (mut ev, mut data) = (String::new(), String::new());
    for line in text.lines() {
        if let Some(e) = line.strip_prefix("event: ") {
            ev = e.to_owned();
        } else if let Some(d) = line.strip_prefix("data: ") {
            data.push_str(d);
        } else if line.is_empty() && !ev.is_empty() {
            out.push((std::mem::take(&mut ev), std::mem::take(&mut data)));
        }
    }
    out
}

pub fn status(res: &str) -> u16 {
    res.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn the_api_runs_processes_natively_and_streams_them_live() {
    let tag = unique_tag("api");
    let srv = Server::start(&tag, &[]);
    let token = srv.token();
    let origin = srv.origin();
    let body = r#"{"scenario": "cpu-processes", "n": 2500, "workers": 2, "tasks": 2}"#;

    // Refusals first.
    let no_token = srv.request("POST", "/api/run", &[("Origin", &origin)], body);
    assert_eq!(status(&no_token), 403, "{no_token}");
    let foreign = srv.request(
        "POST",
        "/api/run",
        &[
            ("Origin", "http://evil.example"),
            ("X-GIL-Lab-Token", &token),
        ],
        body,
    );
    assert_eq!(status(&foreign), 403, "{foreign}");
    let wrong = srv.request("POST", "/api/run", &[("X-GIL-Lab-Token", "0000")], body);
    assert_eq!(status(&wrong), 403);
    let zero = srv.request(
        "POST",
        "/api/run",
        &[("Origin", &origin), ("X-GIL-Lab-Token", &token)],
        r#"{"scenario": "cpu-processes", "workers": 0}"#,
    );
    assert_eq!(status(&zero), 400, "{zero}");
    assert!(
        zero.contains("workers = 0 is out of range: allowed 1..=64"),
        "{zero}"
    );
    let stray = srv.request(
        "POST",
        "/api/run",
        &[("X-GIL-Lab-Token", &token)],
        r#"{"scenario": "cpu-processes", "gil": "free"}"#,
    );
    assert_eq!(status(&stray), 400, "{stray}");

    // A real run.
    let res = srv.request(
        "POST",
        "/api/run",
        &[("Origin", &origin), ("X-GIL-Lab-Token", &token)],
        body,
    );
    assert_eq!(status(&res), 200, "{res}");
    assert!(
        res.to_ascii_lowercase()
            .contains("content-type: text/event-stream")
    );
    let evs = events(&res);
    let names: Vec<&str> = evs.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(names.first(), Some(&"started"), "{names:?}");
    assert_eq!(names.last(), Some(&"report"), "{names:?}");
    let spans: Vec<Span> = evs
        .iter()
        .filter(|(e, _)| e == "span")
        .map(|(_, d)| serde_json::from_str(d).expect("a span"))
        .collect();
    assert!(!spans.is_empty(), "spans stream before the report");
    let report = RunReport::from_json(&evs.last().expect("report").1).expect("a report");
    assert_eq!(report.source, Source::Measured);
    assert!(
        report.machine.platform.starts_with("linux"),
        "{}",
        report.machine.platform
    );
    assert_eq!(report.lanes.len(), 2);
    assert!(report.lanes.iter().all(|l| l.kind == LaneKind::Process));
    assert!(report.tasks.iter().all(|t| t.outcome.is_ok()));
    // The streamed spans are the processes' own lanes.
    assert!(spans.iter().all(|s| s.lane < 2));
    assert_eq!(workers_with(&tag), 0);

    signal_group(srv.child.id(), "INT");
    let mut srv = srv;
    assert_eq!(wait_exit(&mut srv.child, Duration::from_secs(10)), Some(0));
}

#[test]
fn closing_the_stream_or_delete_stops_the_run_and_its_processes() {
    let tag = unique_tag("api-stop");
    let srv = Server::start(&tag, &[]);
    let token = srv.token();
    let long = r#"{"scenario": "cpu-processes", "n": 30000, "workers": 2, "tasks": 2}"#;

    // 1. The client goes away.
    let mut s = TcpStream::connect(srv.addr).expect("connect");
    s.write_all(
        raw(
            srv.addr,
            "POST",
            "/api/run",
            &[("X-GIL-Lab-Token", &token)],
            long,
        )
        .as_bytes(),
    )
    .expect("send");
    let mut r = BufReader::new(s.try_clone().expect("clone"));
    let mut line = String::new();
    while r.read_line(&mut line).expect("read") > 0 && !line.contains("event: started") {
        line.clear();
    }
    assert!(wait_for(Duration::from_secs(20), || workers_with(&tag) == 2));
    let busy = srv.request("POST", "/api/run", &[("X-GIL-Lab-Token", &token)], long);
    assert_eq!(status(&busy), 429, "{busy}");
    drop(r);
    drop(s);
    assert!(
        wait_for(Duration::from_secs(10), || workers_with(&tag) == 0),
        "workers outlived the closed stream"
    );

    // 2. DELETE /api/run/<id>, named by the X-GIL-Lab-Run header.
    assert!(wait_for(Duration::from_secs(10), || {
        let mut s = TcpStream::connect(srv.addr).expect("connect");
        s.write_all(
            raw(
                srv.addr,
                "POST",
                "/api/run",
                &[("X-GIL-Lab-Token", &token)],
                long,
            )
            .as_bytes(),
        )
        .expect("send");
        let mut head = [0u8; 12];
        if s.read_exact(&mut head).is_err() || &head != b"HTTP/1.1 200" {
            return false;
        }
        let mut r = BufReader::new(s);
        let mut id = String::new();
        let mut line = String::new();
        while r.read_line(&mut line).expect("read") > 0 && line != "\r\n" {
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("x-gil-lab-run:") {
                id = v.trim().to_owned();
            }
            line.clear();
        }
        assert!(wait_for(Duration::from_secs(20), || workers_with(&tag) == 2));
        let del = srv.request(
            "DELETE",
            &format!("/api/run/{id}"),
            &[("X-GIL-Lab-Token", &token)],
            "",
        );
        assert_eq!(status(&del), 202, "{del}");
        let mut rest = String::new();
        let _ = r.read_to_string(&mut rest);
        let evs = events(&rest);
        let report = RunReport::from_json(&evs.last().expect("an event").1).expect("report");
        assert!(
            report.notes.iter().any(|n| n.starts_with("Stopped early")),
            "{:?}",
            report.notes
        );
        true
    }));
    assert!(wait_for(Duration::from_secs(10), || workers_with(&tag) == 0));
}

#[test]
fn no_run_api_serves_files_only() {
    let tag = unique_tag("no-api");
    let srv = Server::start(&tag, &["--no-run-api"]);
    let page = srv.request("GET", "/", &[], "");
    assert!(
        page.starts_with("HTTP/1.1 200") && !page.contains("gil-lab-token"),
        "{page}"
    );
    let res = srv.request("POST", "/api/run", &[("X-GIL-Lab-Token", "x")], "{}");
    assert_eq!(status(&res), 405, "{res}");
}
