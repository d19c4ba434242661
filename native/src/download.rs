//! Real downloads: an HTTP GET with `reqwest` (rustls, no OpenSSL) and a real file write, into a
//! temp file renamed into place so a failed download never leaves a partial file.
//!
//! Redirects are followed to `http:`/`https:` only, at most [`MAX_REDIRECTS`] of them.
//!
//! Every download has a deadline (`--timeout-s`) and a size limit (`--max-bytes`), and gives up
//! within [`STOP_POLL`] of the run's stop flag being set: a stalled server must not hold a
//! Ctrl-C for minutes. That needs a request that can be abandoned half way, so downloads run on
//! a small tokio runtime of their own (the blocking client cannot be interrupted).

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{Context, bail};
use gil_lab::platform::IoPerformer;
use gil_lab::workload::{DownloadOutput, DownloadSpec, sanitize_file_name};

/// How often a download in progress looks at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(50);
/// Default `--timeout-s`.
pub const DEFAULT_TIMEOUT_S: u64 = 60;
/// Allowed `--timeout-s`.
pub const TIMEOUT_S: (u64, u64) = (1, 3600);
/// Default `--max-bytes` (the lab's own images are under 2 MB).
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Allowed `--max-bytes`.
pub const MAX_BYTES: (u64, u64) = (1, 4 * 1024 * 1024 * 1024);
/// Redirects followed at most (as many as `requests` would follow in practice; a chain longer
/// than this is a loop or a trap).
pub const MAX_REDIRECTS: usize = 10;

/// What one download may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownloadLimits {
    /// The whole download, connection to last byte.
    pub timeout: Duration,
    /// Bodies larger than this fail (nothing is kept).
    pub max_bytes: u64,
}

impl Default for DownloadLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_S),
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

impl DownloadLimits {
    /// The `__worker` flags that hand these limits to a worker process.
    pub fn worker_args(&self) -> [String; 4] {
        [
            "--timeout-s".into(),
            self.timeout.as_secs().to_string(),
            "--max-bytes".into(),
            self.max_bytes.to_string(),
        ]
    }
}

/// The native [`IoPerformer`].
pub struct NativeIo {
    dir: PathBuf,
    stop: Arc<AtomicBool>,
    limits: DownloadLimits,
    /// Built on first use: a runtime and a client cost threads and time, which a CPU-bound
    /// worker process should not pay for at start-up.
    client: OnceLock<(tokio::runtime::Runtime, reqwest::Client)>,
}

impl NativeIo {
    /// Downloads into `dir`, giving up when `stop` is set.
    pub fn new(dir: PathBuf, stop: Arc<AtomicBool>, limits: DownloadLimits) -> Self {
        Self {
            dir,
            stop,
            limits,
            client: OnceLock::new(),
        }
    }

    fn client(&self) -> anyhow::Result<&(tokio::runtime::Runtime, reqwest::Client)> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("gil-lab-http")
            .enable_all()
            .build()
            .context("could not start the HTTP runtime")?;
        let client = reqwest::Client::builder()
            // Like `requests.get`, every download opens its own connection.
            .pool_max_idle_per_host(0)
            .redirect(redirect_policy())
            .build()
            .context("could not create the HTTP client")?;
        Ok(self.client.get_or_init(|| (rt, client)))
    }

    async fn fetch_and_write(
        &self,
        client: &reqwest::Client,
        spec: &DownloadSpec,
    ) -> anyhow::Result<DownloadOutput> {
        let max = self.limits.max_bytes;
        let mut res = client.get(&spec.url).send().await?.error_for_status()?;
        // A redirect that was not followed (reqwest stops, without asking the policy, at a
        // `Location` that is not http(s), and at none) has no image in its body: it is a
        // failure, not an empty download.
        if res.status().is_redirection() {
            match res
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
            {
                Some(to) => bail!(
                    "the server answered {}, a redirect to {to}, but downloads follow only http and https",
                    res.status()
                ),
                None => bail!(
                    "the server answered {} without a Location to follow",
                    res.status()
                ),
            }
        }
        if let Some(len) = res.content_length().filter(|&l| l > max) {
            bail!("the body is {len} bytes, more than max-bytes = {max}");
        }
        // Names are sanitised again here: the spec may come over a pipe.
        let name = sanitize_file_name(&spec.file_name);
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)
            .with_context(|| format!("cannot write in {}", self.dir.display()))?;
        let mut bytes = 0u64;
        while let Some(chunk) = res.chunk().await? {
            bytes += chunk.len() as u64;
            if bytes > max {
                // `tmp` is removed when dropped: nothing partial stays behind.
                bail!("the body is more than max-bytes = {max} bytes");
            }
            tmp.write_all(&chunk)?;
        }
        tmp.flush()?;
        tmp.persist(self.dir.join(&name))?;
        Ok(DownloadOutput { file: name, bytes })
    }

    fn download_now(&self, spec: &DownloadSpec) -> anyhow::Result<DownloadOutput> {
        let (rt, client) = self.client()?;
        let timeout = self.limits.timeout;
        rt.block_on(async {
            let stopped = async {
                while !self.stop.load(Ordering::Relaxed) {
                    tokio::time::sleep(STOP_POLL).await;
                }
            };
            tokio::select! {
                r = tokio::time::timeout(timeout, self.fetch_and_write(client, spec)) => match r {
                    Ok(r) => r,
                    Err(_) => bail!("no answer within timeout-s = {} s", timeout.as_secs()),
                },
                () = stopped => bail!("stopped before it finished (Ctrl-C)"),
            }
        })
    }
}

/// Follows redirects only to `http:` and `https:` URLs, and at most [`MAX_REDIRECTS`]: a
/// redirect to `file:///etc/passwd` (or `ftp:`, `data:`…) fails the download with a message
/// naming it. (reqwest itself stops at a Location it cannot fetch and hands back the redirect
/// with its empty body, which used to count as a 0-byte download; `fetch_and_write` refuses
/// that, this refuses the rest.)
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            let msg = format!("more than {MAX_REDIRECTS} redirects");
            return attempt.error(RedirectRefused(msg));
        }
        match attempt.url().scheme() {
            "http" | "https" => attempt.follow(),
            other => {
                let msg = format!(
                    "redirected to {} ({other}: URL), but downloads follow only http and https",
                    attempt.url()
                );
                attempt.error(RedirectRefused(msg))
            }
        }
    })
}

/// Why a redirect was not followed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct RedirectRefused(String);

impl IoPerformer for NativeIo {
    fn download(&self, spec: &DownloadSpec) -> Result<DownloadOutput, String> {
        self.download_now(spec)
            .map_err(|e| format!("url {}: {:#}", spec.url, e))
    }

    fn sleep(&self, us: u64) {
        std::thread::sleep(std::time::Duration::from_micros(us));
    }
}
