//! `gil-lab serve`: a small static HTTP server for the web lab on `std::net`.
//!
//! It sends the headers that make the page *cross-origin isolated* (COOP `same-origin`, COEP
//! `require-corp`, CORP `same-origin`), so the page gets `SharedArrayBuffer` and runs threads on
//! one shared wasm memory under the core's real GIL. Everything below `/plain/` is the same
//! files *without* those headers: the path a static host (GitHub Pages, a course page) gives,
//! where threads degrade to workers with a message-passing GIL. Tests use both from one server.
//!
//! GET and HEAD only; one thread per connection (bounded); paths that would leave the root
//! (`..`, encoded or not, symlinks out) are refused.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};

/// Most connections served at once; more wait in the listen queue.
const MAX_CONNECTIONS: usize = 64;
/// Longest request head accepted.
const MAX_HEAD: usize = 16 * 1024;
/// The prefix under which the same files are served without isolation headers.
pub const PLAIN_PREFIX: &str = "/plain";

/// Whether responses carry the cross-origin isolation headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// COOP + COEP + CORP on every response except under [`PLAIN_PREFIX`].
    On,
    /// No isolation headers at all (what an ordinary static host sends).
    Off,
}

/// Serves `root` on `addr` with cross-origin isolation until the process ends.
pub fn serve(root: &Path, addr: SocketAddr) -> Result<()> {
    serve_with(root, addr, Isolation::On)
}

/// Serves `root` on `addr`; blocks until the process ends.
pub fn serve_with(root: &Path, addr: SocketAddr, isolation: Isolation) -> Result<()> {
    let (listener, root) = bind(root, addr)?;
    let local = listener.local_addr()?;
    eprintln!(
        "serving {} on http://{local}/ ({}); Ctrl-C stops",
        root.display(),
        match isolation {
            Isolation::On => "cross-origin isolated; the non-isolated page is at /plain/",
            Isolation::Off => "not isolated",
        }
    );
    run(listener, root, isolation);
    Ok(())
}

/// Binds `addr` and checks that `root` holds the built page.
pub fn bind(root: &Path, addr: SocketAddr) -> Result<(TcpListener, PathBuf)> {
    let root = root.canonicalize().with_context(|| {
        format!(
            "{} does not exist: build the web lab first (cargo xtask build)",
            root.display()
        )
    })?;
    if !root.join("index.html").is_file() {
        anyhow::bail!(
            "{} has no index.html: build the web lab first (cargo xtask build)",
            root.display()
        );
    }
    let listener = TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
    Ok((listener, root))
}

/// Accepts connections forever.
pub fn run(listener: TcpListener, root: PathBuf, isolation: Isolation) {
    let root = Arc::new(root);
    let active = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        while active.load(Ordering::Acquire) >= MAX_CONNECTIONS {
            std::thread::sleep(Duration::from_millis(2));
        }
        active.fetch_add(1, Ordering::AcqRel);
        let (root, active) = (root.clone(), active.clone());
        std::thread::spawn(move || {
            let _ = handle(stream, &root, isolation);
            active.fetch_sub(1, Ordering::AcqRel);
        });
    }
}

/// The content type for a file name.
pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "css" => "text/css; charset=utf-8",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The file a request path names inside `root`, or `None` when it would leave it.
pub fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let path = url_path.split(['?', '#']).next().unwrap_or("/");
    let decoded = percent_decode(path)?;
    if decoded.contains('\0') || decoded.contains('\\') {
        return None;
    }
    let mut out = root.to_path_buf();
    for c in Path::new(decoded.trim_start_matches('/')).components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if out.is_dir() {
        out.push("index.html");
    }
    // Symlinks must not lead out of the root either.
    let real = out.canonicalize().ok()?;
    real.starts_with(root).then_some(real)
}

fn handle(stream: TcpStream, root: &Path, isolation: Isolation) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let n = reader.by_ref().take(MAX_HEAD as u64).read_line(&mut line)?;
        if n == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        head.push_str(&line);
        if head.len() > MAX_HEAD {
            return respond(
                stream,
                431,
                "text/plain",
                b"request head too large",
                false,
                Isolation::Off,
            );
        }
    }
    let mut parts = head.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let head_only = method == "HEAD";
    if method != "GET" && !head_only {
        return respond(
            stream,
            405,
            "text/plain",
            b"only GET and HEAD",
            false,
            Isolation::Off,
        );
    }
    let (target, iso) = match target.strip_prefix(PLAIN_PREFIX) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            (if rest.is_empty() { "/" } else { rest }, Isolation::Off)
        }
        _ => (target, isolation),
    };
    let found = resolve(root, target).and_then(|f| std::fs::read(&f).ok().map(|body| (f, body)));
    match found {
        Some((file, body)) => respond(stream, 200, content_type(&file), &body, head_only, iso),
        None => respond(
            stream,
            404,
            "text/plain; charset=utf-8",
            b"not found",
            head_only,
            iso,
        ),
    }
}

fn respond(
    mut stream: TcpStream,
    status: u16,
    ctype: &str,
    body: &[u8],
    head_only: bool,
    isolation: Isolation,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\
         Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n",
        body.len()
    );
    if isolation == Isolation::On {
        head.push_str(
            "Cross-Origin-Opener-Policy: same-origin\r\nCross-Origin-Embedder-Policy: require-corp\r\n\
             Cross-Origin-Resource-Policy: same-origin\r\n",
        );
    }
    if status == 405 {
        head.push_str("Allow: GET, HEAD\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if !head_only {
        stream.write_all(body)?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn fixture() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("index.html"), "<p>hi</p>").expect("write");
        std::fs::create_dir(dir.path().join("pkg")).expect("mkdir");
        std::fs::write(dir.path().join("pkg/a.wasm"), b"\0asm").expect("write");
        dir
    }

    fn get(addr: SocketAddr, req: &str) -> String {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.write_all(req.as_bytes()).expect("send");
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }

    #[test]
    fn serves_with_isolation_headers_and_refuses_traversal() {
        let dir = fixture();
        let (l, root) = bind(dir.path(), SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).expect("bind");
        let addr = l.local_addr().expect("addr");
        std::thread::spawn(move || run(l, root, Isolation::On));
        let r = get(addr, "GET /pkg/a.wasm HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
        assert!(r.contains("Content-Type: application/wasm"));
        assert!(r.contains("Cross-Origin-Embedder-Policy: require-corp"));
        assert!(r.contains("Cross-Origin-Opener-Policy: same-origin"));
        let r = get(addr, "HEAD / HTTP/1.1\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 200") && r.contains("text/html") && !r.contains("<p>"));
        let r = get(addr, "GET /plain/ HTTP/1.1\r\n\r\n");
        assert!(r.contains("<p>hi</p>") && !r.contains("Cross-Origin-Embedder-Policy"));
        for bad in [
            "/../etc/passwd",
            "/%2e%2e/%2e%2e/etc/passwd",
            "/pkg/..%2f..%2fetc",
            "/a\\..\\b",
        ] {
            let r = get(addr, &format!("GET {bad} HTTP/1.1\r\n\r\n"));
            assert!(r.starts_with("HTTP/1.1 404"), "{bad}: {r}");
        }
        let r = get(addr, "POST / HTTP/1.1\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 405"));
    }
}
