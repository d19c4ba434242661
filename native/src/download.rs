//! Real downloads: an HTTP GET with `reqwest` (rustls, no OpenSSL) and a real file write, into a
//! temp file renamed into place so a failed download never leaves a partial file.

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::Context;
use gil_lab::platform::IoPerformer;
use gil_lab::workload::{DownloadOutput, DownloadSpec, sanitize_file_name};

/// The native [`IoPerformer`].
pub struct NativeIo {
    dir: PathBuf,
    /// Built on first use: a blocking client starts a runtime thread, which a CPU-bound worker
    /// process should not pay for at start-up.
    client: OnceLock<reqwest::blocking::Client>,
}

impl NativeIo {
    /// Downloads into `dir` (created if missing).
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            client: OnceLock::new(),
        }
    }

    fn client(&self) -> anyhow::Result<&reqwest::blocking::Client> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(120))
            // Like `requests.get`, every download opens its own connection.
            .pool_max_idle_per_host(0)
            .build()
            .context("could not create the HTTP client")?;
        Ok(self.client.get_or_init(|| client))
    }

    fn fetch_and_write(&self, spec: &DownloadSpec) -> anyhow::Result<DownloadOutput> {
        let mut res = self.client()?.get(&spec.url).send()?.error_for_status()?;
        // Names are sanitised again here: the spec may come over a pipe.
        let name = sanitize_file_name(&spec.file_name);
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)
            .with_context(|| format!("cannot write in {}", self.dir.display()))?;
        let bytes = res.copy_to(&mut tmp)?;
        tmp.flush()?;
        tmp.persist(self.dir.join(&name))?;
        Ok(DownloadOutput { file: name, bytes })
    }
}

impl IoPerformer for NativeIo {
    fn download(&self, spec: &DownloadSpec) -> Result<DownloadOutput, String> {
        self.fetch_and_write(spec)
            .map_err(|e| format!("url {}: {:#}", spec.url, e))
    }

    fn sleep(&self, us: u64) {
        std::thread::sleep(std::time::Duration::from_micros(us));
    }
}
