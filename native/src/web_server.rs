//! `gil-lab serve`: the web lab's files, and the run API ([`crate::api`]) that lets the page
//! run scenarios natively.
//!
//! Responses carry the headers that make the page *cross-origin isolated* (COOP
//! `same-origin`, COEP `require-corp`, CORP `same-origin`), so the page gets
//! `SharedArrayBuffer` and runs threads on one shared wasm memory under the core's real GIL.
//! Everything below `/plain/` is the same files *without* those headers: the path a static
//! host (GitHub Pages, a course page) gives, where threads degrade to workers with a
//! message-passing GIL. Tests use both from one server.
//!
//! Static files: GET and HEAD only (405 otherwise), byte ranges, `Last-Modified` and a weak
//! `ETag` (304 on a match), gzip or brotli when the client accepts it (the wasm modules shrink
//! to about a third; the build's precompressed `.br`/`.gz` copies are sent when present); paths that would leave the root (`..`, encoded or not, symlinks out) are
//! refused with 404, and so are dotfiles (any segment starting with `.`, such as `/.git/config`).
//! `index.html` gets `<meta name="gil-lab-token">` when the API is on, unless it is asked for
//! as a frame (`Sec-Fetch-Dest: iframe`): a framed page gets the static page, as course pages
//! embed it, and only the page with the token is `frame-ancestors 'self'`. Every request passes
//! the `Host` check first and every answer gets the security headers ([`crate::web_guard`]).

use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use tower::ServiceExt;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::services::ServeFile;

use crate::api::{self, Api};
use crate::http;
use crate::web_guard::{self, AllowedHosts, Guard, plain_rest};

/// What `gil-lab serve` was asked for.
pub struct WebConfig {
    /// The built page (`dist/`).
    pub root: PathBuf,
    /// Where to listen.
    pub addr: SocketAddr,
    /// Whether `POST /api/run` is offered.
    pub run_api: bool,
    /// `--allow-host` names, answered beside loopback names and IP addresses.
    pub allow_hosts: Vec<String>,
    /// A connection whose client takes no bytes for this long is dropped.
    pub write_timeout: std::time::Duration,
}

/// The server's state: the canonical root, when on the run API, and what every request must
/// pass.
pub struct Site {
    root: PathBuf,
    api: Option<Arc<Api>>,
    guard: Arc<Guard>,
}

/// Checks that `root` holds the built page; returns its canonical path.
pub fn check_root(root: &Path) -> anyhow::Result<PathBuf> {
    let root = root.canonicalize().map_err(|_| {
        crate::error::UsageError(format!(
            "root = {}: does not exist; build the web lab first (cargo xtask build)",
            root.display()
        ))
    })?;
    if !root.join("index.html").is_file() {
        return crate::error::usage(format!(
            "root = {}: has no index.html; build the web lab first (cargo xtask build)",
            root.display()
        ));
    }
    Ok(root)
}

/// Serves until the first Ctrl-C; a run going on is stopped (its processes too) on the way
/// out.
pub fn serve(config: WebConfig) -> anyhow::Result<()> {
    let root = check_root(&config.root)?;
    let listener = http::bind(config.addr)?;
    let local = listener.local_addr()?;
    let api = if config.run_api {
        Some(Arc::new(Api::new(api::new_token()?)))
    } else {
        None
    };
    if !config.addr.ip().is_loopback() && api.is_some() {
        say!(
            "warning: listening on {local}: anyone who can reach this address can open the page \
             and run CPU work and processes on this machine (--no-run-api turns that off)"
        );
    }
    let site = Arc::new(Site {
        root: root.clone(),
        api: api.clone(),
        guard: Arc::new(Guard {
            hosts: AllowedHosts::new(config.addr.ip(), config.allow_hosts),
        }),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("gil-lab-serve")
        .enable_all()
        .build()
        .context("could not start the server's runtime")?;
    let stop_signals = {
        let _ctx = rt.enter();
        http::StopSignals::watch()
    };
    say!(
        "serving {} on http://{local}/ (cross-origin isolated; the non-isolated page is at /plain/){}; Ctrl-C stops",
        root.display(),
        if api.is_some() {
            "; the page can run scenarios natively"
        } else {
            ""
        }
    );
    let result = rt.block_on(http::serve(
        listener,
        app(site),
        http::Limits::for_this_process(config.write_timeout),
        stop_signals.wait(),
    ));
    say!("\nstopping the server…");
    if let Some(api) = api {
        api.shutdown();
    }
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    result
}

/// The whole site: API routes, static files, headers and compression.
pub fn app(site: Arc<Site>) -> Router {
    let mut router = Router::new();
    if let Some(api) = &site.api {
        let api_routes = Router::new()
            .route("/api/run", post(api::start))
            .route("/api/run/{id}", delete(api::stop))
            .with_state(api.clone());
        router = router.merge(api_routes);
    }
    // Compress what is worth it, but never a partial (range) response nor an event stream.
    let whole =
        |status: StatusCode, _: axum::http::Version, h: &HeaderMap, _: &axum::http::Extensions| {
            status == StatusCode::OK && !h.contains_key(header::CONTENT_RANGE)
        };
    let guard = site.guard.clone();
    router
        .fallback(static_file)
        .with_state(site)
        .layer(middleware::from_fn_with_state(guard, web_guard::guard))
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .br(true)
                .compress_when(DefaultPredicate::new().and(whole)),
        )
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
            // Dotfiles (`.git/`, `.env`) are a checkout's, not the page's.
            Component::Normal(p) if p.as_encoded_bytes().starts_with(b".") => return None,
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
    (real.starts_with(root) && real.is_file()).then_some(real)
}

fn text(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// A weak validator from the file's size and modification time.
fn etag(meta: &std::fs::Metadata) -> Option<String> {
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!("W/\"{:x}-{:x}\"", meta.len(), modified.as_nanos()))
}

/// `index.html` with the API token in a `<meta>` the page reads, and this machine's logical
/// cores in another (the page's "Run natively (this machine: N cores)").
fn with_token(html: &str, token: &str) -> String {
    let cores = crate::run::machine().cores;
    let meta = format!(
        "<meta name=\"gil-lab-token\" content=\"{token}\"><meta name=\"gil-lab-cores\" content=\"{cores}\">"
    );
    let lower = html.to_ascii_lowercase();
    match lower.find("<head>") {
        Some(k) => format!("{}{meta}{}", &html[..k + 6], &html[k + 6..]),
        None => format!("{meta}\n{html}"),
    }
}

async fn static_file(State(site): State<Arc<Site>>, req: Request) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let full = req.uri().path().to_owned();
    let path = plain_rest(&full).unwrap_or(&full);
    let Some(file) = resolve(&site.root, path) else {
        return text(StatusCode::NOT_FOUND, "not found\n");
    };
    let index = site.api.is_some() && file == site.root.join("index.html");
    if let Some(api) = &site.api
        && index
        && !web_guard::framed(req.headers())
    {
        let mut res = match tokio::fs::read_to_string(&file).await {
            Ok(html) => (
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                with_token(&html, api.token()),
            )
                .into_response(),
            Err(_) => return text(StatusCode::NOT_FOUND, "not found\n"),
        };
        res.extensions_mut().insert(web_guard::CarriesToken);
        web_guard::vary_on_frame(&mut res);
        return res;
    }
    let tag = std::fs::metadata(&file).ok().as_ref().and_then(etag);
    if let Some(tag) = &tag
        && req
            .headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
    {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(v) = HeaderValue::from_str(tag) {
            r.headers_mut().insert(header::ETAG, v);
        }
        return r;
    }
    // `cargo xtask build` writes `x.br` and `x.gz` beside each file at the strongest settings:
    // send those as they are when the client takes them (the compression layer then leaves the
    // response alone), and compress on the fly only what has no such copy.
    let serve = ServeFile::new(&file)
        .precompressed_br()
        .precompressed_gzip();
    let mut res = match serve.oneshot(req).await {
        Ok(r) => r.map(Body::new),
        Err(never) => match never {},
    };
    if let Some(v) = tag.and_then(|t| HeaderValue::from_str(&t).ok()) {
        res.headers_mut().insert(header::ETAG, v);
    }
    if index {
        // The page asked for as a frame: the static page, without the token.
        web_guard::vary_on_frame(&mut res);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{Ipv4Addr, TcpStream};

    fn fixture() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("index.html"),
            "<html><head></head><p>hi</p>",
        )
        .expect("write");
        std::fs::create_dir(dir.path().join("pkg")).expect("mkdir");
        std::fs::write(dir.path().join("pkg/a.wasm"), vec![7u8; 4096]).expect("write");
        dir
    }

    /// A server on a free port, on a runtime of its own thread.
    fn start(root: &Path, run_api: bool) -> SocketAddr {
        let root = check_root(root).expect("root");
        let listener = http::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).expect("bind");
        let addr = listener.local_addr().expect("addr");
        let api = run_api.then(|| Arc::new(Api::new("t0k3n".into())));
        let guard = Arc::new(Guard {
            hosts: AllowedHosts::new(addr.ip(), Vec::new()),
        });
        let site = Arc::new(Site { root, api, guard });
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let _ = rt.block_on(http::serve(
                listener,
                app(site),
                http::Limits::for_this_process(std::time::Duration::from_secs(10)),
                std::future::pending(),
            ));
        });
        addr
    }

    fn get(addr: SocketAddr, req: &str) -> String {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.write_all(req.as_bytes()).expect("send");
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    fn header_of<'a>(res: &'a str, name: &str) -> Option<&'a str> {
        res.lines().take_while(|l| !l.is_empty()).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    #[test]
    fn serves_with_isolation_headers_and_refuses_traversal() {
        let dir = fixture();
        let addr = start(dir.path(), false);
        let r = get(
            addr,
            "GET /pkg/a.wasm HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        );
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
        assert_eq!(header_of(&r, "content-type"), Some("application/wasm"));
        assert_eq!(
            header_of(&r, "cross-origin-embedder-policy"),
            Some("require-corp")
        );
        assert_eq!(
            header_of(&r, "cross-origin-opener-policy"),
            Some("same-origin")
        );
        let r = get(
            addr,
            "HEAD / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        );
        assert!(
            r.starts_with("HTTP/1.1 200") && r.contains("text/html") && !r.contains("<p>"),
            "{r}"
        );
        let r = get(
            addr,
            "GET /plain/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        );
        assert!(
            r.contains("<p>hi</p>") && header_of(&r, "cross-origin-embedder-policy").is_none(),
            "{r}"
        );
        // Without the API there is no token to hand out.
        assert!(!r.contains("gil-lab-token"));
        for bad in [
            "/../etc/passwd",
            "/%2e%2e/%2e%2e/etc/passwd",
            "/pkg/..%2f..%2fetc",
            "/a\\..\\b",
            "/plain/../../etc/passwd",
        ] {
            let r = get(
                addr,
                &format!("GET {bad} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
            );
            assert!(
                r.starts_with("HTTP/1.1 404") || r.starts_with("HTTP/1.1 400"),
                "{bad}: {r}"
            );
        }
        let r = get(
            addr,
            "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        assert!(r.starts_with("HTTP/1.1 405"), "{r}");
        assert_eq!(header_of(&r, "allow"), Some("GET, HEAD"));
        // Without the API, its path is just a missing file.
        let r = get(
            addr,
            "POST /api/run HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        assert!(r.starts_with("HTTP/1.1 405"), "{r}");
    }

    #[test]
    fn symlinks_out_of_the_root_are_refused() {
        let dir = fixture();
        let outside = tempfile::NamedTempFile::new().expect("temp file");
        std::os::unix::fs::symlink(outside.path(), dir.path().join("leak.txt")).expect("symlink");
        let addr = start(dir.path(), false);
        let r = get(
            addr,
            "GET /leak.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        );
        assert!(r.starts_with("HTTP/1.1 404"), "{r}");
    }

    #[test]
    fn ranges_etags_and_compression() {
        let dir = fixture();
        let addr = start(dir.path(), false);
        let r = get(
            addr,
            "GET /pkg/a.wasm HTTP/1.1\r\nHost: localhost\r\nRange: bytes=0-99\r\nConnection: close\r\n\r\n",
        );
        assert!(r.starts_with("HTTP/1.1 206"), "{r}");
        assert_eq!(header_of(&r, "content-length"), Some("100"));
        let r = get(
            addr,
            "GET /pkg/a.wasm HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        );
        let tag = header_of(&r, "etag").expect("etag").to_owned();
        let r = get(
            addr,
            &format!(
                "GET /pkg/a.wasm HTTP/1.1\r\nHost: localhost\r\nIf-None-Match: {tag}\r\nConnection: close\r\n\r\n"
            ),
        );
        assert!(r.starts_with("HTTP/1.1 304"), "{r}");
        for (enc, name) in [("br", "br"), ("gzip", "gzip")] {
            let r = get(
                addr,
                &format!(
                    "GET /pkg/a.wasm HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: {enc}\r\nConnection: close\r\n\r\n"
                ),
            );
            assert_eq!(header_of(&r, "content-encoding"), Some(name), "{r}");
        }
    }

    #[test]
    fn precompressed_copies_are_sent_as_they_are() {
        let dir = fixture();
        let js = dir.path().join("pkg/b.js");
        std::fs::write(&js, "export const x = 1;\n".repeat(200)).expect("write");
        // Markers, not real compressed data: the server must send the copy untouched.
        std::fs::write(dir.path().join("pkg/b.js.br"), "BR-COPY").expect("write");
        std::fs::write(dir.path().join("pkg/b.js.gz"), "GZ-COPY").expect("write");
        let addr = start(dir.path(), false);
        for (accept, encoding, body) in [
            ("br, gzip", Some("br"), "BR-COPY"),
            ("gzip", Some("gzip"), "GZ-COPY"),
            ("identity", None, "export const x = 1;"),
        ] {
            let r = get(
                addr,
                &format!(
                    "GET /pkg/b.js HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: {accept}\r\nConnection: close\r\n\r\n"
                ),
            );
            assert!(r.starts_with("HTTP/1.1 200"), "{r}");
            assert_eq!(header_of(&r, "content-encoding"), encoding, "{accept}: {r}");
            let content = r.split("\r\n\r\n").nth(1).unwrap_or_default();
            assert!(content.starts_with(body), "{accept}: {r}");
            assert_eq!(
                header_of(&r, "content-type"),
                Some("text/javascript"),
                "{accept}: {r}"
            );
        }
    }

    #[test]
    fn index_carries_the_token_when_the_api_is_on() {
        let dir = fixture();
        let addr = start(dir.path(), true);
        for path in ["/", "/index.html", "/plain/", "/plain/index.html"] {
            let r = get(
                addr,
                &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
            );
            assert!(
                r.contains("<head><meta name=\"gil-lab-token\" content=\"t0k3n\">"),
                "{path}: {r}"
            );
            let cores = crate::run::machine().cores;
            assert!(
                r.contains(&format!(
                    "<meta name=\"gil-lab-cores\" content=\"{cores}\">"
                )),
                "{path}: {r}"
            );
        }
    }
}
