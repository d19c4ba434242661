//! The lab's own image server: six deterministic images of realistic sizes, served over real
//! HTTP on loopback with a configurable time-to-first-byte and bandwidth, so the I/O demos are
//! I/O-bound without any network.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

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

/// A running image server; it stops when dropped... or with the process.
pub struct ImageServer {
    addr: SocketAddr,
}

impl ImageServer {
    /// Binds `addr` (port 0 for any free port) and serves on background threads.
    pub fn start(addr: SocketAddr, config: ServerConfig) -> anyhow::Result<Self> {
        let listener =
            TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
        let addr = listener.local_addr()?;
        let images: Arc<Vec<Vec<u8>>> = Arc::new(
            IMAGE_SIZES
                .iter()
                .enumerate()
                .map(|(k, &n)| bmp(k, n as usize))
                .collect(),
        );
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let images = images.clone();
                std::thread::spawn(move || {
                    // A client that hangs up mid-response is its own business.
                    let _ = handle(stream, &images, config);
                });
            }
        });
        Ok(Self { addr })
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

fn handle(stream: TcpStream, images: &[Vec<u8>], config: ServerConfig) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    // Skip the headers.
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    let mut out = stream;
    let mut parts = request.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let image = path
        .strip_prefix("/img/photo-")
        .and_then(|r| r.strip_suffix(".bmp"))
        .and_then(|k| k.parse::<usize>().ok())
        .and_then(|k| k.checked_sub(1))
        .and_then(|k| images.get(k));
    let Some(body) = image.filter(|_| method == "GET" || method == "HEAD") else {
        let msg = b"not found: try /img/photo-1.bmp .. /img/photo-6.bmp\n";
        write!(
            out,
            "HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n",
            msg.len()
        )?;
        return out.write_all(msg);
    };
    std::thread::sleep(config.latency);
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: image/bmp\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if method == "HEAD" {
        return Ok(());
    }
    if config.bandwidth_kbps == 0 {
        return out.write_all(body);
    }
    // Pace the body: after each chunk, sleep until the bytes sent so far are "due".
    let bytes_per_sec = config.bandwidth_kbps as f64 * 1000.0 / 8.0;
    let chunk = ((bytes_per_sec / 100.0) as usize).clamp(1024, 64 * 1024);
    let start = Instant::now();
    let mut sent = 0usize;
    for piece in body.chunks(chunk) {
        out.write_all(piece)?;
        sent += piece.len();
        let due = Duration::from_secs_f64(sent as f64 / bytes_per_sec);
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
    }
    Ok(())
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
}
