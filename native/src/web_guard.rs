//! What every request to `gil-lab serve` must pass, and what every answer carries: the `Host`
//! check and the security headers (isolation, framing, content policy).
//!
//! **Host.** A DNS-rebinding page (a name of the attacker's that first points at the
//! attacker's server, then at this one) reads this server as its own origin: it could fetch
//! `/`, take the API token from the page and start runs. What it cannot choose is the `Host`
//! its browser sends, which is always the attacker's name. So every request, `/` (which
//! carries the token) first of all, is answered only when `Host` names this server: `localhost`,
//! an IP address (a rebinding page never has one: it needs a name to rebind), or a name given
//! with `--allow-host`. The port is not checked, for the same reason.
//!
//! **Framing.** The page served with the run API carries the token and can start runs on this
//! machine, so only a page of its own origin may frame it (`frame-ancestors 'self'` and
//! `X-Frame-Options: SAMEORIGIN`: no clickjacking of "Run natively"). A request for the page
//! *as a frame* (`Sec-Fetch-Dest: iframe`, which a page cannot forge) gets the static page
//! instead, without the token, which course pages embed like any static copy: every answer
//! but the token page has no `frame-ancestors` restriction (`*` would still refuse a course
//! page opened from a file or an opaque origin). A browser that sends no `Sec-Fetch-Dest` gets
//! the token page, which it then refuses to frame elsewhere. The rest of the policy is only what the page's own
//! loading was checked against (`index.html`, `frontend/js/*.js`, the lesson page): no
//! plugins, no `<base>` pointing elsewhere. Scripts and styles are not restricted here: the
//! page runs an inline module script, inline styles, wasm and blob: workers, and no browser
//! run of this server's pages checks a tighter policy.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The `Host` values a server answers to.
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    /// The address it listens on; when unspecified (`0.0.0.0`, `::`), any IP address is it.
    bind: IpAddr,
    /// `--allow-host` names, lower case.
    names: Vec<String>,
}

impl AllowedHosts {
    /// The hosts of a server bound to `bind`, plus `names`.
    pub fn new(bind: IpAddr, names: Vec<String>) -> Self {
        Self {
            bind,
            names: names.into_iter().map(|n| n.to_ascii_lowercase()).collect(),
        }
    }

    /// Whether a `Host` header value names this server.
    pub fn allows(&self, host: &str) -> bool {
        let Some(name) = host_name(host) else {
            return false;
        };
        if let Ok(ip) = name.parse::<IpAddr>() {
            return self.bind.is_unspecified() || ip == self.bind || ip.is_loopback();
        }
        let name = name.strip_suffix('.').unwrap_or(name);
        name.eq_ignore_ascii_case("localhost")
            || self.names.iter().any(|n| n.eq_ignore_ascii_case(name))
    }
}

/// The name of a `Host` value without its port: `[::1]:8080` → `::1`, `a.b:80` → `a.b`.
fn host_name(host: &str) -> Option<&str> {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        let (ip, after) = rest.split_once(']')?;
        return (after.is_empty() || after.starts_with(':')).then_some(ip);
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        Some(_) => return None,
        None => host,
    };
    (!name.is_empty()).then_some(name)
}

/// What every request must pass.
#[derive(Debug, Clone)]
pub struct Guard {
    /// Hosts answered.
    pub hosts: AllowedHosts,
}

/// Marks a response that carries the API token: only its own origin may frame it.
#[derive(Debug, Clone, Copy)]
pub struct CarriesToken;

/// Whether a request asks for a document to show in a frame (`Sec-Fetch-Dest`, set by the
/// browser and never by a page's script).
pub fn framed(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get("sec-fetch-dest")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|d| matches!(d, "iframe" | "frame" | "embed" | "object" | "fencedframe"))
}

/// Says that the page differs for frames, so no cache hands a frame the token page.
pub fn vary_on_frame(res: &mut Response) {
    res.headers_mut()
        .append(header::VARY, HeaderValue::from_static("sec-fetch-dest"));
}

/// Refuses a request whose `Host` is not this server (403, before anything else runs), and
/// sets the security headers on every answer (the isolation headers everywhere but under
/// `/plain/`).
pub async fn guard(State(guard): State<Arc<Guard>>, req: Request, next: Next) -> Response {
    let isolated = plain_rest(req.uri().path()).is_none();
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut res = if guard.hosts.allows(host) {
        next.run(req).await
    } else {
        refused(host)
    };
    let token = res.extensions().get::<CarriesToken>().is_some();
    security_headers(&mut res, token, isolated);
    res
}

fn refused(host: &str) -> Response {
    let suggestion = host_name(host)
        .filter(|n| !n.is_empty())
        .map(|n| format!("; start the server with --allow-host {n} if that is its name"))
        .unwrap_or_default();
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!(
            "Host {host:?} is not this server: it answers to localhost, its IP addresses and \
             --allow-host names (a guard against DNS rebinding){suggestion}\n"
        ),
    )
        .into_response()
}

/// The policy of the page that carries the token: framed only by its own origin.
pub const CSP_WITH_TOKEN: &str = "frame-ancestors 'self'; object-src 'none'; base-uri 'self'";
/// The policy of everything else: any page may embed it.
pub const CSP_FILES: &str = "object-src 'none'; base-uri 'self'";

fn security_headers(res: &mut Response, carries_token: bool, isolated: bool) {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if carries_token {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP_WITH_TOKEN),
        );
        // For browsers older than `frame-ancestors`.
        h.insert(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        );
    } else {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP_FILES),
        );
    }
    if isolated {
        h.insert(
            "cross-origin-opener-policy",
            HeaderValue::from_static("same-origin"),
        );
        h.insert(
            "cross-origin-embedder-policy",
            HeaderValue::from_static("require-corp"),
        );
        h.insert(
            "cross-origin-resource-policy",
            HeaderValue::from_static("same-origin"),
        );
    }
}

/// The prefix under which the same files are served without isolation headers.
pub const PLAIN_PREFIX: &str = "/plain";

/// The path below `/plain`, when `path` is under it.
pub fn plain_rest(path: &str) -> Option<&str> {
    match path.strip_prefix(PLAIN_PREFIX) {
        Some("") => Some("/"),
        Some(rest) if rest.starts_with('/') => Some(rest),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn hosts_that_name_this_server_and_those_that_do_not() {
        let lo = AllowedHosts::new(Ipv4Addr::LOCALHOST.into(), vec!["lab.example.org".into()]);
        for ok in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST",
            "localhost.:1",
            "[::1]:8080",
            "lab.example.org",
            "Lab.Example.Org:443",
        ] {
            assert!(lo.allows(ok), "{ok}");
        }
        for bad in [
            "",
            "evil.example:8080",
            "localhost.evil.example",
            "192.168.1.5:8080",
            "127.0.0.1:80x",
            "[::1",
            ":8080",
        ] {
            assert!(!lo.allows(bad), "{bad}");
        }
        let any = AllowedHosts::new(Ipv4Addr::UNSPECIFIED.into(), Vec::new());
        assert!(any.allows("192.168.1.5:8080") && any.allows("[fe80::1]:8080"));
        assert!(!any.allows("evil.example:8080"));
    }
}
