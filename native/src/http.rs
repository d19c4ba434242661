//! How both HTTP servers (`gil-lab serve`, the image server) take connections: hyper's HTTP/1
//! with a deadline for every request head, many cheap connections, and a bounded number of
//! requests being answered at once.
//!
//! Why this shape: a client that drips its request head a byte at a time holds a connection,
//! not a request. Connections are tokio tasks (thousands cost little), and each must send its
//! whole head within [`Limits::head_timeout`] or is closed, so slow clients can neither pile up
//! for long nor starve anyone; the in-flight bound only counts requests whose head has
//! arrived, which slow clients never reach.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::Semaphore;

/// What the accept loop allows.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A request head (request line and headers) must arrive whole within this; also how long
    /// an idle keep-alive connection is kept.
    pub head_timeout: Duration,
    /// Open connections at most; more wait in the kernel's listen queue.
    pub max_connections: usize,
    /// Requests being answered at once; more wait for a turn (they are not refused).
    pub max_in_flight: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            head_timeout: Duration::from_secs(10),
            // Well under the usual 1024 open files of a shell, which also cover the lab's
            // own files and worker pipes.
            max_connections: 768,
            max_in_flight: 128,
        }
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
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => return Ok(()),
            p = connections.clone().acquire_owned() => p?,
        };
        let stream = tokio::select! {
            () = &mut shutdown => return Ok(()),
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(_) => {
                    // Out of file descriptors or a reset before accept: try again shortly
                    // rather than spin.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let svc = TowerToHyperService::new(tower::limit::ConcurrencyLimit::with_semaphore(
            app.clone(),
            in_flight.clone(),
        ));
        tokio::spawn(async move {
            let _permit = permit;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.head_timeout)
                .max_buf_size(64 * 1024);
            // A client that goes away mid-request is its own business.
            let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
        });
    }
}

/// Ctrl-C (SIGINT), watched from the moment [`CtrlC::watch`] is called: a server says it is
/// ready only after that, so a Ctrl-C right after "serving …" is never lost to the default
/// action (which would kill the process instead of stopping it cleanly).
pub struct CtrlC(Option<tokio::signal::unix::Signal>);

impl CtrlC {
    /// Starts watching. Must be called inside `rt`'s context (`let _g = rt.enter();`).
    pub fn watch() -> Self {
        Self(tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok())
    }

    /// Completes on the first Ctrl-C (never, if Ctrl-C could not be watched).
    pub async fn wait(self) {
        match self.0 {
            Some(mut s) => {
                s.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    }
}
