//! How both HTTP servers (`gil-lab serve`, the image server) take connections: hyper's HTTP/1
//! with a deadline for every request head and for every stalled write, many cheap
//! connections, a share of them per client, and a bounded number of requests being answered
//! at once.
//!
//! Why this shape: a client that drips its request head a byte at a time holds a connection,
//! not a request. Connections are tokio tasks (thousands cost little), and each must send its
//! whole head within [`Limits::head_timeout`] or is closed, so slow clients can neither pile up
//! for long nor starve anyone; the in-flight bound only counts requests whose head has
//! arrived, which slow clients never reach. A client that asks and then never reads is the
//! same problem on the way out: a write that makes no progress for [`Limits::write_timeout`]
//! ends its connection ([`crate::write_deadline`]). And since even a short deadline lets a
//! thousand such clients fill every slot for its length, there are as many slots as the
//! open-file limit affords, and one client address may hold only half of them.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::Semaphore;

use crate::write_deadline::WriteDeadline;

/// Default `--write-timeout-s`.
pub const DEFAULT_WRITE_TIMEOUT_S: u64 = 10;
/// Allowed `--write-timeout-s`.
pub const WRITE_TIMEOUT_S: (u64, u64) = (1, 3600);
/// Open files kept for everything but connections: the lab's files, worker pipes, the
/// download client, the image server of an I/O run.
const RESERVED_FILES: u64 = 256;
/// Connections at most, however many files the system allows: each stuck one costs ~150 kB.
const MAX_CONNECTIONS: usize = 4096;

/// What the accept loop allows.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A request head (request line and headers) must arrive whole within this; also how long
    /// an idle keep-alive connection is kept.
    pub head_timeout: Duration,
    /// A connection whose writes make no progress for this long is closed: its client has
    /// stopped reading.
    pub write_timeout: Duration,
    /// Open connections at most; more wait in the kernel's listen queue.
    pub max_connections: usize,
    /// Open connections of one client address at most (an IPv6 client: its /64); more are
    /// answered 503 and closed at once. Half of `max_connections`, so one client never holds
    /// every slot, while a browser (6 connections a host) or the load test (300) is far
    /// below it.
    pub per_client: usize,
    /// Requests being answered at once; more wait for a turn (they are not refused).
    pub max_in_flight: usize,
}

impl Limits {
    /// Limits for `max_connections` slots.
    pub fn with_connections(max_connections: usize, write_timeout: Duration) -> Self {
        Self {
            head_timeout: Duration::from_secs(10),
            write_timeout,
            max_connections,
            per_client: (max_connections / 2).max(1),
            max_in_flight: 128,
        }
    }

    /// The limits of a server of this process: as many slots as the open-file limit allows
    /// (raised to its hard limit first, as Go's runtime does; a shell's 1024 leaves 768).
    pub fn for_this_process(write_timeout: Duration) -> Self {
        let files = raise_open_files(MAX_CONNECTIONS as u64 + RESERVED_FILES);
        let slots = files
            .saturating_sub(RESERVED_FILES)
            .clamp(64, MAX_CONNECTIONS as u64);
        Self::with_connections(slots as usize, write_timeout)
    }
}

/// Raises this process's soft limit of open files towards `want` (never above the hard
/// limit, never down); the soft limit after.
fn raise_open_files(want: u64) -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return 1024;
    }
    let target = want.min(lim.rlim_max);
    if target > lim.rlim_cur {
        let raised = libc::rlimit {
            rlim_cur: target,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: `raised` is a valid rlimit; a refusal leaves the limit as it was.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return target;
        }
    }
    lim.rlim_cur
}

/// How many connections each client address holds.
struct Clients {
    per_client: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection of a client, counted until dropped.
struct ClientSlot {
    clients: Arc<Clients>,
    key: IpAddr,
}

impl Clients {
    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A slot for a connection from `ip`, unless that client already holds its share.
    fn take(self: &Arc<Self>, ip: IpAddr) -> Option<ClientSlot> {
        let key = client_key(ip);
        let mut open = self.open();
        let n = open.entry(key).or_insert(0);
        if *n >= self.per_client {
            return None;
        }
        *n += 1;
        Some(ClientSlot {
            clients: self.clone(),
            key,
        })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self.clients.open();
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// Who counts as one client: an IPv4 address (IPv4-mapped IPv6 included), or an IPv6 /64 (one
/// machine may use any address of its /64).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((v6.to_bits() & !((1u128 << 64) - 1)).into()),
        },
    }
}

/// Binds `addr` for a server; a failure (port taken, address not here) is a usage error
/// naming the port.
pub fn bind(addr: SocketAddr) -> anyhow::Result<std::net::TcpListener> {
    let l = std::net::TcpListener::bind(addr).map_err(|e| {
        crate::error::UsageError(format!(
            "port = {}: cannot listen on {addr} ({e}); allowed: a free port (0 = any)",
            addr.port()
        ))
    })?;
    l.set_nonblocking(true)
        .context("cannot make the listening socket non-blocking")?;
    Ok(l)
}

/// Serves `app` on `listener` until `shutdown` completes (connections still open are then
/// dropped with the runtime).
pub async fn serve(
    listener: std::net::TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let in_flight = Arc::new(Semaphore::new(limits.max_in_flight));
    let clients = Arc::new(Clients {
        per_client: limits.per_client,
        open: Mutex::new(HashMap::new()),
    });
    tokio::pin!(shutdown);
    loop {
        // A slot first: while every slot is taken, new connections wait in the kernel's
        // listen queue rather than in this process.
        let permit = tokio::select! {
            () = &mut shutdown => return Ok(()),
            p = connections.clone().acquire_owned() => p?,
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => return Ok(()),
            r = listener.accept() => match r {
                Ok(s) => s,
                Err(_) => {
                    // Out of file descriptors or a reset before accept: try again shortly
                    // rather than spin.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let Some(client) = clients.take(peer.ip()) else {
            refuse_busy_client(&stream, limits.per_client);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let svc = TowerToHyperService::new(tower::limit::ConcurrencyLimit::with_semaphore(
            app.clone(),
            in_flight.clone(),
        ));
        tokio::spawn(async move {
            let _slots = (permit, client);
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.head_timeout)
                .max_buf_size(64 * 1024);
            let io = TokioIo::new(WriteDeadline::new(stream, limits.write_timeout));
            // A client that goes away mid-request, or stops reading, is its own business.
            let _ = builder.serve_connection(io, svc).await;
        });
    }
}

/// Answers a client over its share 503 and closes: one try, never waiting (a client that
/// opens connections in a loop must not cost a task each).
fn refuse_busy_client(stream: &tokio::net::TcpStream, per_client: usize) {
    let body = format!("too many connections from one client: at most {per_client} at once\n");
    let res = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.try_write(res.as_bytes());
}

/// Ctrl-C (SIGINT), SIGTERM and SIGHUP, watched from the moment [`StopSignals::watch`] is called: a
/// server says it is ready only after that, so a signal right after "serving …" is never lost
/// to the default action (which would kill the process instead of stopping it cleanly: a run
/// going on would leave its worker processes behind). `kill` and a closed terminal stop a
/// server the way Ctrl-C does.
pub struct StopSignals(Vec<tokio::signal::unix::Signal>);

impl StopSignals {
    /// Starts watching. Must be called inside `rt`'s context (`let _g = rt.enter();`).
    pub fn watch() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        let kinds = [
            SignalKind::interrupt(),
            SignalKind::terminate(),
            SignalKind::hangup(),
        ];
        Self(kinds.into_iter().filter_map(|k| signal(k).ok()).collect())
    }

    /// Completes on the first of those signals (never, if none could be watched).
    pub async fn wait(self) {
        if self.0.is_empty() {
            return std::future::pending::<()>().await;
        }
        let waits = self.0.into_iter().map(|mut s| {
            Box::pin(async move {
                s.recv().await;
            })
        });
        futures_util::future::select_all(waits).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{Ipv4Addr, Ipv6Addr, TcpStream};

    #[test]
    fn one_client_holds_at_most_its_share() {
        let clients = Arc::new(Clients {
            per_client: 2,
            open: Mutex::new(HashMap::new()),
        });
        let a = IpAddr::from(Ipv4Addr::new(10, 0, 0, 1));
        let (s1, s2) = (clients.take(a), clients.take(a));
        assert!(s1.is_some() && s2.is_some());
        assert!(clients.take(a).is_none(), "a third from one address");
        assert!(clients.take(Ipv4Addr::new(10, 0, 0, 2).into()).is_some());
        drop(s1);
        assert!(clients.take(a).is_some(), "a slot given back is free again");
        // One IPv6 machine is its /64; an IPv4-mapped address is its IPv4 one.
        let v6 = |last: u16| IpAddr::from(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, last));
        assert_eq!(client_key(v6(1)), client_key(v6(2)));
        assert_eq!(
            client_key(Ipv4Addr::new(10, 0, 0, 1).to_ipv6_mapped().into()),
            a
        );
    }

    /// A connection from `from` to `to` (std cannot choose the address it connects from).
    fn connect_from(from: Ipv4Addr, to: SocketAddr) -> TcpStream {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        s.bind(&SocketAddr::from((from, 0)).into()).expect("bind");
        s.connect_timeout(&to.into(), Duration::from_secs(5))
            .expect("connect");
        s.into()
    }

    #[test]
    fn a_client_over_its_share_gets_503_and_the_others_are_served() {
        let listener = bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).expect("bind");
        let addr = listener.local_addr().expect("addr");
        let limits = Limits::with_connections(8, Duration::from_secs(10));
        assert_eq!(limits.per_client, 4);
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let app = Router::new().route("/", axum::routing::get(|| async { "ok" }));
            let _ = rt.block_on(serve(listener, app, limits, std::future::pending()));
        });
        // 127.0.0.2 holds its four, silent, connections; its fifth is refused at once.
        let crowd = Ipv4Addr::new(127, 0, 0, 2);
        let held: Vec<_> = (0..4).map(|_| connect_from(crowd, addr)).collect();
        let mut fifth = connect_from(crowd, addr);
        fifth
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut res = String::new();
        let _ = fifth.read_to_string(&mut res);
        assert!(res.starts_with("HTTP/1.1 503"), "{res:?}");
        assert!(res.contains("at most 4 at once"), "{res}");
        // Another client is answered.
        let mut s = connect_from(Ipv4Addr::LOCALHOST, addr);
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("send");
        let mut res = String::new();
        let _ = s.read_to_string(&mut res);
        assert!(
            res.starts_with("HTTP/1.1 200") && res.ends_with("ok"),
            "{res}"
        );
        drop(held);
    }
}
