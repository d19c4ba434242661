//! The lesson's I/O-bound task: fetch an image, write it to a file.
//!
//! The core only describes the task; the fetch and the write are done by the platform's
//! [`crate::platform::IoPerformer`] (reqwest and the file system natively, `fetch` and OPFS in
//! the browser) while the lane has released the GIL.

use serde::{Deserialize, Serialize};

/// Sizes of the six images the lab's own image server serves, bytes (≈0.26–1.9 MB, 5.85 MB in
/// all like the lesson's photos). The simulator charges downloads of them by these sizes.
pub const LAB_IMAGE_BYTES: [u64; 6] = [412_000, 1_860_000, 735_000, 1_230_000, 263_000, 1_350_000];

/// One download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadSpec {
    /// What to fetch.
    pub url: String,
    /// The file name to write, already sanitised (see [`sanitize_file_name`]).
    pub file_name: String,
}

impl DownloadSpec {
    /// A download of `url`, written under a name derived from the URL's last segment (as the
    /// lesson does), prefixed with the task number so that repeated URLs do not collide.
    pub fn new(url: &str, task: u32) -> Self {
        let last = url.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        let last = last.split(['?', '#']).next().unwrap_or("");
        Self {
            url: url.to_owned(),
            file_name: format!("{task:03}-{}", sanitize_file_name(last)),
        }
    }
}

/// What a finished download produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadOutput {
    /// The file written (relative to the output folder).
    pub file: String,
    /// Body size in bytes.
    pub bytes: u64,
}

/// How long the lab's modelled network takes to deliver a body of `bytes`, ns: the server's
/// time to first byte, then the body at `bandwidth_kbps` per connection (0: no limit, the body
/// takes no modelled time). The image server paces its bodies by it, the page's `io.js` waits
/// it out after a fetch, and the simulator charges it.
pub fn network_ns(bytes: u64, latency_ms: u64, bandwidth_kbps: u64) -> u64 {
    let body = if bandwidth_kbps == 0 {
        0
    } else {
        // kbit/s → ns per byte: 8e6 / kbps.
        (bytes as f64 * 8e6 / bandwidth_kbps as f64).round() as u64
    };
    latency_ms.saturating_mul(1_000_000).saturating_add(body)
}

/// Turns any string into a file name that stays inside its folder: only ASCII letters, digits,
/// `-`, `_` and `.`; no leading dot (so never `.` or `..`); at most 80 characters; never empty.
pub fn sanitize_file_name(raw: &str) -> String {
    let mut name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    while name.starts_with('.') {
        name.remove(0);
    }
    if name.is_empty() {
        name.push_str("download");
    }
    if !name.contains('.') {
        name.push_str(".jpg");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_network_takes_its_latency_then_the_body_at_its_bandwidth() {
        // 1 MB at 8000 kbit/s is one second, after 100 ms to the first byte.
        assert_eq!(network_ns(1_000_000, 100, 8_000), 1_100_000_000);
        // No bandwidth limit: only the latency is modelled.
        assert_eq!(network_ns(1_000_000, 100, 0), 100_000_000);
        assert_eq!(network_ns(0, 0, 1), 0);
    }

    #[test]
    fn names_never_leave_the_folder() {
        for raw in [
            "..",
            "../../etc/passwd",
            "/abs",
            ".hidden",
            "",
            "a/b\\c",
            "..%2f..",
        ] {
            let n = sanitize_file_name(raw);
            assert!(
                !n.contains('/') && !n.contains('\\') && !n.starts_with('.'),
                "{raw} -> {n}"
            );
            assert!(!n.is_empty());
        }
    }

    #[test]
    fn name_comes_from_last_segment() {
        let d = DownloadSpec::new("http://127.0.0.1:9/img/photo-1.jpg?x=1", 7);
        assert_eq!(d.file_name, "007-photo-1.jpg");
        let d = DownloadSpec::new("https://h/photo-1509718443690-d8e2fb3474b7", 0);
        assert_eq!(d.file_name, "000-photo-1509718443690-d8e2fb3474b7.jpg");
    }
}
