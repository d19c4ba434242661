//! The lab's own image server: six deterministic images of realistic sizes, served over real
//! HTTP on loopback with a configurable time-to-first-byte and bandwidth, so the I/O demos are
//! I/O-bound without any network.
//!
//! It runs on a small tokio runtime of its own thread (see [`crate::http`] for how connections
//! are taken: a client that stops reading is dropped after the write timeout, and one client
//! address holds at most half the connections), so `gil-lab run` can start one in the
//! background and drop it afterwards.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use gil_lab::workload::network_ns;
use tokio::time::Instant;

use crate::http;

/// Sizes of the six images, bytes (shared with the simulator, which charges downloads by them).
pub const IMAGE_SIZES: [u64; 6] = gil_lab::workload::LAB_IMAGE_BYTES;

/// How the server behaves.
#[derive(Debug, Clone, Copy)]
pub struct ServerConfig {
    /// Wait before the first byte of each response.
    pub latency: Duration,
    /// Per-connection bandwidth in kbit/s (0 = unlimited).
    pub bandwidth_kbps: u64,
}

struct Shared {
    images: Vec<Bytes>,
    config: ServerConfig,
}

/// A running image server; it stops when dropped.
pub struct ImageServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl ImageServer {
    /// Binds `addr` (port 0 for any free port) and serves on a background thread.
    pub fn start(addr: SocketAddr, config: ServerConfig) -> anyhow::Result<Self> {
        Self::start_with(
            addr,
            config,
            Duration::from_secs(http::DEFAULT_WRITE_TIMEOUT_S),
        )
    }

    /// [`ImageServer::start`], dropping a connection whose client takes no bytes for
    /// `write_timeout` (`gil-lab images --write-timeout-s`).
    pub fn start_with(
        addr: SocketAddr,
        config: ServerConfig,
        write_timeout: Duration,
    ) -> anyhow::Result<Self> {
        let limits = http::Limits::for_this_process(write_timeout);
        let listener = http::bind(addr)?;
        let addr = listener.local_addr()?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("gil-lab-images")
            .enable_all()
            .build()
            .context("could not start the image server's runtime")?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = router(config);
        std::thread::Builder::new()
            .name("gil-lab-images".into())
            .spawn(move || {
                let shutdown = async {
                    let _ = rx.await;
                };
                if let Err(e) = rt.block_on(http::serve(listener, app, limits, shutdown)) {
                    say!("image server stopped: {e:#}");
                }
            })
            .context("could not start the image server's thread")?;
        Ok(Self {
            addr,
            stop: Some(tx),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URLs of the six images.
    pub fn urls(&self) -> Vec<String> {
        (1..=IMAGE_SIZES.len())
            .map(|k| format!("http://{}/img/photo-{k}.bmp", self.addr))
            .collect()
    }
}

impl Drop for ImageServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// The image server's routes.
fn router(config: ServerConfig) -> Router {
    let shared = Arc::new(Shared {
        images: IMAGE_SIZES
            .iter()
            .enumerate()
            .map(|(k, &n)| Bytes::from(bmp(k, n as usize)))
            .collect(),
        config,
    });
    Router::new()
        .route("/img/{file}", get(image))
        .fallback(not_found)
        .with_state(shared)
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain")],
        "not found: try /img/photo-1.bmp .. /img/photo-6.bmp\n",
    )
        .into_response()
}

async fn image(State(shared): State<Arc<Shared>>, Path(file): Path<String>) -> Response {
    let body = file
        .strip_prefix("photo-")
        .and_then(|r| r.strip_suffix(".bmp"))
        .and_then(|k| k.parse::<usize>().ok())
        .and_then(|k| k.checked_sub(1))
        .and_then(|k| shared.images.get(k))
        .cloned();
    let Some(body) = body else {
        return not_found().await;
    };
    let config = shared.config;
    tokio::time::sleep(config.latency).await;
    let len = body.len();
    let body = if config.bandwidth_kbps == 0 {
        Body::from(body)
    } else {
        Body::from_stream(paced(body, config.bandwidth_kbps))
    };
    (
        [
            (header::CONTENT_TYPE, "image/bmp".to_owned()),
            (header::CONTENT_LENGTH, len.to_string()),
        ],
        body,
    )
        .into_response()
}

/// `body` in chunks, each sent when the bytes before it are "due" at `kbps`.
fn paced(
    body: Bytes,
    kbps: u64,
) -> impl futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>> {
    let bytes_per_sec = kbps as f64 * 1000.0 / 8.0;
    // About 100 chunks a second, within sensible bounds.
    let chunk = ((bytes_per_sec / 100.0) as usize).clamp(1024, 64 * 1024);
    let start = Instant::now();
    futures_util::stream::unfold(0usize, move |sent| {
        let body = body.clone();
        async move {
            if sent >= body.len() {
                return None;
            }
            let due = Duration::from_nanos(network_ns(sent as u64, 0, kbps));
            tokio::time::sleep_until(start + due).await;
            let end = (sent + chunk).min(body.len());
            Some((Ok(body.slice(sent..end)), end))
        }
    })
}

/// A real, viewable BMP image of about `size` bytes: a colour gradient that differs per image.
fn bmp(k: usize, size: usize) -> Vec<u8> {
    const HEADER: usize = 54;
    let pixels = (size.saturating_sub(HEADER)) / 3;
    let width = ((pixels as f64 * 1.5).sqrt() as usize).max(4) & !3; // rows need no padding
    let height = (pixels / width).max(1);
    let data = width * height * 3;
    let mut v = Vec::with_capacity(HEADER + data);
    let le32 = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    v.extend_from_slice(b"BM");
    le32(&mut v, (HEADER + data) as u32);
    le32(&mut v, 0);
    le32(&mut v, HEADER as u32);
    le32(&mut v, 40);
    le32(&mut v, width as u32);
    le32(&mut v, height as u32);
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&24u16.to_le_bytes());
    for x in [0u32, data as u32, 2835, 2835, 0, 0] {
        le32(&mut v, x);
    }
    for y in 0..height {
        for x in 0..width {
            let r = (x * 255 / width) as u8;
            let g = (y * 255 / height) as u8;
            let b = ((k * 40 + (x ^ y) % 64) % 256) as u8;
            v.extend_from_slice(&[b, g, r]);
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{Ipv4Addr, TcpStream};

    #[test]
    fn images_have_realistic_sizes_and_bmp_headers() {
        for (k, &n) in IMAGE_SIZES.iter().enumerate() {
            let n = n as usize;
            let img = bmp(k, n);
            assert!(img.starts_with(b"BM"));
            assert!(
                img.len() <= n && img.len() > n * 9 / 10,
                "{} vs {n}",
                img.len()
            );
        }
    }

    fn get(addr: SocketAddr, req: &str) -> (Vec<u8>, std::time::Duration) {
        let t0 = std::time::Instant::now();
        let mut s = TcpStream::connect(addr).expect("connect");
        s.write_all(req.as_bytes()).expect("send");
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        (out, t0.elapsed())
    }

    #[test]
    fn serves_whole_images_after_the_latency_and_at_the_bandwidth() {
        let config = ServerConfig {
            latency: Duration::from_millis(150),
            // 263 kB at 4000 kbit/s (500 kB/s): at least ~0.5 s.
            bandwidth_kbps: 4000,
        };
        let srv =
            ImageServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).expect("start");
        let (res, took) = get(
            srv.addr(),
            "GET /img/photo-5.bmp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        let text = String::from_utf8_lossy(&res[..200.min(res.len())]).into_owned();
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        let head_end = res.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
        assert_eq!(res.len() - head_end, bmp(4, IMAGE_SIZES[4] as usize).len());
        assert!(took >= Duration::from_millis(150 + 450), "{took:?}");
        let (res, _) = get(
            srv.addr(),
            "GET /img/photo-9.bmp HTTP/1.1\r\nHost: x\r\n\r\n",
        );
        assert!(res.starts_with(b"HTTP/1.1 404"));
    }
}
