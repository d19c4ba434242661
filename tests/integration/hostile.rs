//! Hostile and careless clients of `gil-lab serve` and `gil-lab images` (issue 11): clients
//! that ask and never read, an event stream nobody reads, foreign `Host`s (DNS rebinding),
//! dotfiles, framing, and the size limits that must keep holding.
//!
//! The many-connection clients connect from `127.0.0.2` (any `127.x.y.z` is this machine on
//! Linux), so they are one client of their own beside the test's ordinary requests from
//! `127.0.0.1`. They ask for small files: the kernel takes up to ~4 MB of a response into a
//! socket nobody reads before the server's writes block, and a thousand of those would pin
//! gigabytes. A small response that is never read holds its connection slot all the same
//! (keep-alive, until the head deadline); the write timeout has a test of its own, with one
//! connection and a file larger than those buffers.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::serve::{Server, raw, status};
use crate::util::{unique_tag, wait_exit};

/// The address the crowds connect from.
const CROWD: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
/// The connections in the issue's done-when.
const CROWD_SIZE: usize = 1000;
/// Larger than the socket buffers a client that never reads leaves room for (~4 MB).
const BIG: usize = 16 * 1024 * 1024;

/// A connection to `to` from `from`, whose receive buffer is about 4 kB; connecting gives up
/// after 2 s (a server whose every slot is taken may leave it in the listen queue).
pub fn connect_from(from: Ipv4Addr, to: SocketAddr) -> std::io::Result<TcpStream> {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    // Before connecting, so the window it offers stays that small.
    s.set_recv_buffer_size(4096)?;
    s.bind(&SocketAddr::from((from, 0)).into())?;
    s.connect_timeout(&to.into(), Duration::from_secs(2))?;
    Ok(s.into())
}

/// Lets this test process hold a crowd's sockets (the shell's 1024 files may not).
fn raise_open_files() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: valid rlimit pointers; a refusal changes nothing.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < 8192 {
            lim.rlim_cur = lim.rlim_max.min(8192);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// `count` connections from [`CROWD`] that each send `request` and never read. Stops opening
/// at the first connection refused or not accepted in time (a server whose slots are all
/// taken), so a failing server fails the test instead of hanging it.
fn crowd(to: SocketAddr, request: &str, count: usize) -> Vec<TcpStream> {
    raise_open_files();
    let mut held = Vec::with_capacity(count);
    for _ in 0..count {
        let Ok(mut s) = connect_from(CROWD, to) else {
            break;
        };
        if s.write_all(request.as_bytes()).is_err() {
            break;
        }
        held.push(s);
    }
    eprintln!("crowd: {} of {count} connections open", held.len());
    held
}

/// How long an ordinary client from 127.0.0.1 waits for the status line of `GET path`, and
/// the status (0: none came within 5 s).
fn time_to_status(addr: SocketAddr, path: &str) -> (Duration, u16) {
    let t0 = Instant::now();
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) else {
        return (t0.elapsed(), 0);
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return (t0.elapsed(), 0);
    }
    let mut head = [0u8; 12];
    match s.read_exact(&mut head) {
        Ok(()) => (
            t0.elapsed(),
            String::from_utf8_lossy(&head[9..])
                .trim()
                .parse()
                .unwrap_or(0),
        ),
        Err(_) => (t0.elapsed(), 0),
    }
}

/// A `gil-lab serve` whose root also holds a 16 MB wasm module.
fn serve_with_big_wasm(extra: &[&str]) -> Server {
    let srv = Server::start(&unique_tag("hostile"), extra);
    std::fs::write(srv.root().join("big.wasm"), vec![7u8; BIG]).expect("write");
    srv
}

#[test]
fn a_thousand_connections_that_never_read_do_not_stop_a_get() {
    let srv = Server::start(&unique_tag("crowd"), &[]);
    // The fixture's 64 kB wasm, as a browser asks for it.
    let ask = format!(
        "GET /app.wasm HTTP/1.1\r\nHost: {}\r\nAccept-Encoding: gzip, deflate, br\r\n\r\n",
        srv.addr
    );
    let held = crowd(srv.addr, &ask, CROWD_SIZE);
    // Let the server take in the whole crowd before the ordinary client comes.
    std::thread::sleep(Duration::from_millis(500));
    let (took, code) = time_to_status(srv.addr, "/app.wasm");
    // Before issue 11: 768 connection slots, each held by a client that never read; the
    // GET waited in the listen queue for over a minute.
    assert_eq!(
        code,
        200,
        "no answer within {took:?} beside {} open",
        held.len()
    );
    assert!(took < Duration::from_secs(1), "answered after {took:?}");
    drop(held);
}

#[test]
fn a_thousand_downloads_that_are_never_read_do_not_stop_the_image_server() {
    let mut child = crate::util::bin()
        .args([
            "images",
            "--port",
            "0",
            "--latency-ms",
            "0",
            "--bandwidth-kbps",
            "10",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("gil-lab images starts");
    let mut first = String::new();
    let mut out = child.stdout.take().expect("stdout");
    let mut b = [0u8; 1];
    while out.read(&mut b).is_ok_and(|n| n == 1) && b[0] != b'\n' {
        first.push(b[0] as char);
    }
    let addr: SocketAddr = first
        .trim_start_matches("http://")
        .split('/')
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {first:?}"));
    let ask = format!("GET /img/photo-6.bmp HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let held = crowd(addr, &ask, CROWD_SIZE);
    std::thread::sleep(Duration::from_millis(500));
    let (took, code) = time_to_status(addr, "/img/photo-1.bmp");
    assert_eq!(
        code,
        200,
        "no answer within {took:?} beside {} open",
        held.len()
    );
    assert!(took < Duration::from_secs(1), "answered after {took:?}");
    drop(held);
    crate::util::signal_group(child.id(), "INT");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(10)), Some(0));
}

#[test]
fn a_client_that_stops_reading_is_dropped_after_the_write_timeout() {
    let srv = serve_with_big_wasm(&["--write-timeout-s", "1"]);
    let mut s = connect_from(Ipv4Addr::LOCALHOST, srv.addr).expect("connect");
    s.write_all(
        raw(
            srv.addr,
            "GET",
            "/big.wasm",
            &[("Accept-Encoding", "identity")],
            "",
        )
        .as_bytes(),
    )
    .expect("send");
    // Not reading for well over the write timeout: the server gives up on this client.
    std::thread::sleep(Duration::from_secs(4));
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut got = Vec::new();
    // A reset is a way of being dropped too.
    let _ = s.read_to_end(&mut got);
    let text = String::from_utf8_lossy(&got[..got.len().min(400)]).into_owned();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        got.len() < BIG,
        "the whole body came ({} bytes): the stalled connection was kept",
        got.len()
    );
    // The server itself is fine.
    assert_eq!(time_to_status(srv.addr, "/app.wasm").1, 200);
}

#[test]
fn an_event_stream_nobody_reads_frees_the_run_slot() {
    let srv = Server::start(&unique_tag("sse-unread"), &[]);
    let token = srv.token();
    // Minutes of work at its natural pace, streaming ~4,000 events (~400 kB) a second.
    let long = r#"{"scenario": "cpu-threads", "n": 30000, "tasks": 8, "switch-interval-ms": 0.01}"#;
    let mut unread = connect_from(Ipv4Addr::LOCALHOST, srv.addr).expect("connect");
    unread
        .write_all(
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
    let quick = r#"{"scenario": "cpu-sequential", "n": 10, "tasks": 1}"#;
    let t0 = Instant::now();
    let mut answered = 0;
    // The bound: the socket buffers take ~4 MB (~10 s of events here), then the buffer of
    // live events (8192) fills in ~2 s and the run stops after its current step; ~15 s on an
    // idle machine, 60 s allowed for a loaded one. Before issue 11, the run went on unread to
    // its end (minutes) and then waited for ever to hand over its report: 429 until the
    // server restarted.
    while t0.elapsed() < Duration::from_secs(60) {
        let res = srv.request("POST", "/api/run", &[("X-GIL-Lab-Token", &token)], quick);
        answered = status(&res);
        if answered != 429 {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let took = t0.elapsed();
    eprintln!("the next run started after {took:?}");
    assert_eq!(answered, 200, "after {took:?}");
    assert!(took < Duration::from_secs(60), "{took:?}");
    drop(unread);
}

#[test]
fn foreign_hosts_get_no_page_and_no_token() {
    let srv = Server::start(&unique_tag("host"), &["--allow-host", "lab.example.org"]);
    let token = srv.token();
    for host in ["evil.example", "evil.example:80", "localhost.evil.example"] {
        let mut s = TcpStream::connect(srv.addr).expect("connect");
        s.write_all(
            format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .expect("send");
        let mut res = String::new();
        let _ = s.read_to_string(&mut res);
        assert_eq!(status(&res), 403, "{host}: {res}");
        assert!(!res.contains("gil-lab-token"), "{host}: {res}");
        // The API too, token or not.
        let mut s = TcpStream::connect(srv.addr).expect("connect");
        let body = r#"{"scenario": "cpu-sequential", "n": 10, "tasks": 1}"#;
        s.write_all(
            format!(
                "POST /api/run HTTP/1.1\r\nHost: {host}\r\nX-GIL-Lab-Token: {token}\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .expect("send");
        let mut res = String::new();
        let _ = s.read_to_string(&mut res);
        assert_eq!(status(&res), 403, "{host}: {res}");
    }
    for host in [
        format!("localhost:{}", srv.addr.port()),
        "lab.example.org".to_owned(),
        format!("LAB.example.org:{}", srv.addr.port()),
    ] {
        let mut s = TcpStream::connect(srv.addr).expect("connect");
        s.write_all(
            format!("GET /plain/ HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .expect("send");
        let mut res = String::new();
        let _ = s.read_to_string(&mut res);
        assert!(res.contains("gil-lab-token"), "{host}: {res}");
    }
}

#[test]
fn binding_beyond_loopback_keeps_the_host_check() {
    // Files only: a run API listening on every interface, even for a moment, is not for a
    // test machine. The check is the same either way (issue 11: it used to be dropped).
    let srv = Server::start(
        &unique_tag("bind-any"),
        &["--bind", "0.0.0.0", "--no-run-api"],
    );
    let mut s = TcpStream::connect(srv.addr).expect("connect");
    s.write_all(b"GET / HTTP/1.1\r\nHost: rebound.example:8080\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut res = String::new();
    let _ = s.read_to_string(&mut res);
    assert_eq!(status(&res), 403, "{res}");
    assert!(res.contains("--allow-host rebound.example"), "{res}");
    // Any IP address names it (a rebinding page never has one).
    let mut s = TcpStream::connect(srv.addr).expect("connect");
    s.write_all(b"GET / HTTP/1.1\r\nHost: 192.168.7.7:8080\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut res = String::new();
    let _ = s.read_to_string(&mut res);
    assert_eq!(status(&res), 200, "{res}");
}

#[test]
fn dotfiles_are_not_served() {
    let srv = Server::start(&unique_tag("dotfiles"), &[]);
    let root = srv.root();
    std::fs::create_dir_all(root.join(".git")).expect("mkdir");
    std::fs::write(root.join(".git/config"), "[core]\n").expect("write");
    std::fs::write(root.join(".env"), "SECRET=1\n").expect("write");
    std::fs::create_dir_all(root.join("pkg/.cache")).expect("mkdir");
    std::fs::write(root.join("pkg/.cache/x"), "x").expect("write");
    for path in [
        "/.git/config",
        "/plain/.git/config",
        "/%2egit/config",
        "/.env",
        "/pkg/.cache/x",
        "/./.env",
    ] {
        let res = srv.request("GET", path, &[], "");
        assert_eq!(status(&res), 404, "{path}: {res}");
    }
    assert_eq!(status(&srv.request("GET", "/app.wasm", &[], "")), 200);
}

fn header<'a>(res: &'a str, name: &str) -> Option<&'a str> {
    res.lines().take_while(|l| !l.is_empty()).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[test]
fn only_its_own_origin_may_frame_the_page_that_runs_natively() {
    let srv = Server::start(&unique_tag("csp"), &[]);
    for path in ["/", "/plain/", "/index.html"] {
        let res = srv.request("GET", path, &[], "");
        assert!(res.contains("gil-lab-token"), "{path}: {res}");
        let csp = header(&res, "content-security-policy").unwrap_or_else(|| panic!("{res}"));
        assert!(csp.contains("frame-ancestors 'self'"), "{path}: {csp}");
        assert!(csp.contains("object-src 'none'"), "{path}: {csp}");
        assert_eq!(
            header(&res, "x-frame-options"),
            Some("SAMEORIGIN"),
            "{path}"
        );
    }
    // Cross-origin isolation is untouched.
    let res = srv.request("GET", "/", &[], "");
    assert_eq!(
        header(&res, "cross-origin-embedder-policy"),
        Some("require-corp")
    );
    assert_eq!(
        header(&res, "cross-origin-opener-policy"),
        Some("same-origin")
    );
    let res = srv.request("GET", "/plain/", &[], "");
    assert_eq!(header(&res, "cross-origin-embedder-policy"), None);
    // Asked for as a frame (a course page's iframe), the page is the static one: no token,
    // and anyone may frame it.
    for path in ["/", "/plain/?embed=cpu-threads"] {
        let res = srv.request("GET", path, &[("Sec-Fetch-Dest", "iframe")], "");
        assert_eq!(status(&res), 200, "{res}");
        assert!(!res.contains("gil-lab-token"), "{path}: {res}");
        let csp = header(&res, "content-security-policy").unwrap_or_else(|| panic!("{res}"));
        assert!(!csp.contains("frame-ancestors"), "{path}: {csp}");
        assert_eq!(header(&res, "x-frame-options"), None, "{path}");
        assert!(header(&res, "vary").is_some_and(|v| v.contains("sec-fetch-dest")));
    }
    // The other files are what any static copy serves.
    let res = srv.request("GET", "/app.wasm", &[], "");
    let csp = header(&res, "content-security-policy").unwrap_or_else(|| panic!("{res}"));
    assert!(!csp.contains("frame-ancestors"), "{csp}");

    // The files alone too.
    let files = Server::start(&unique_tag("csp-files"), &["--no-run-api"]);
    let res = files.request("GET", "/plain/", &[], "");
    let csp = header(&res, "content-security-policy").unwrap_or_else(|| panic!("{res}"));
    assert!(!csp.contains("frame-ancestors"), "{csp}");
    assert_eq!(header(&res, "x-frame-options"), None);
}

/// Sends `req` from another thread while reading the answer here: a server that answers
/// before reading it all (413, 431) and closes must not lose its answer to our write failing.
fn send_while_reading(addr: SocketAddr, req: String) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut w = s.try_clone().expect("clone");
    let writer = std::thread::spawn(move || {
        let _ = w.write_all(req.as_bytes());
    });
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let _ = writer.join();
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn oversized_bodies_and_heads_and_other_methods_are_refused() {
    let srv = Server::start(&unique_tag("limits"), &[]);
    let token = srv.token();
    let big_body = format!(
        r#"{{"scenario": "cpu-sequential", "pad": "{}"}}"#,
        "x".repeat(3 << 20)
    );
    let req = raw(
        srv.addr,
        "POST",
        "/api/run",
        &[("X-GIL-Lab-Token", &token)],
        &big_body,
    );
    let res = send_while_reading(srv.addr, req);
    assert_eq!(status(&res), 413, "{}", &res[..res.len().min(300)]);
    let big_head = "a".repeat(512 * 1024);
    let res = send_while_reading(
        srv.addr,
        raw(srv.addr, "GET", "/", &[("X-Big", &big_head)], ""),
    );
    assert_eq!(status(&res), 431, "{}", &res[..res.len().min(300)]);
    let res = srv.request("PUT", "/app.wasm", &[], "");
    assert_eq!(status(&res), 405, "{res}");
}
