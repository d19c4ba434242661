//! The seams through which the outside world enters the core (Ruffle's backend traits): a
//! clock, a way to run closures on real threads, and an I/O performer. `native` and `frontend`
//! implement them; tests use the small implementations at the bottom.

use crate::workload::{DownloadOutput, DownloadSpec};

/// Microseconds since the run began, on a clock every lane of the run shares.
pub trait Clock: Send + Sync {
    /// Now, in µs since the run's epoch.
    fn now_us(&self) -> u64;
}

/// Runs closures concurrently on real threads and returns when all have finished.
///
/// Natively `std::thread::scope`; in a cross-origin-isolated page, threads of the shared wasm
/// memory. It must give every job its own thread (not a pool smaller than the job count): a
/// GIL waiter that never gets a thread would never ask for the GIL.
pub trait Spawner: Sync {
    /// Runs every job on its own thread; returns once all have returned.
    fn run_all<'a>(&self, jobs: Vec<Box<dyn FnOnce() + Send + 'a>>);
}

/// Performs a download: the blocking part of the I/O task, run with the GIL released.
pub trait IoPerformer: Send + Sync {
    /// Fetches `spec.url` and writes the body to `spec.file_name` in the run's output folder,
    /// never leaving a partial file behind. Returns a one-line error message on failure.
    fn download(&self, spec: &DownloadSpec) -> Result<DownloadOutput, String>;

    /// Blocks the calling thread for `us` µs (`time.sleep`): only the platform has a way to
    /// wait (wasm has no `std::thread::sleep` outside shared-memory workers).
    fn sleep(&self, us: u64);
}

/// An [`IoPerformer`] for runs without I/O: every download fails with a clear message.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoIo;

impl IoPerformer for NoIo {
    fn download(&self, spec: &DownloadSpec) -> Result<DownloadOutput, String> {
        Err(format!("downloads are not available here ({})", spec.url))
    }

    fn sleep(&self, us: u64) {
        // When compiling natively (tests): a real sleep. On wasm a run without I/O never
        // sleeps.
        #[cfg(not(target_arch = "wasm32"))]
        std::thread::sleep(std::time::Duration::from_micros(us));
        #[cfg(target_arch = "wasm32")]
        let _ = us;
    }
}

/// A [`Clock`] built on `std::time::Instant`, for native code and tests (not for wasm32, whose
/// std has no clock).
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Clone, Copy)]
pub struct InstantClock(pub std::time::Instant);

#[cfg(not(target_arch = "wasm32"))]
impl InstantClock {
    /// A clock whose epoch is now.
    pub fn start() -> Self {
        Self(std::time::Instant::now())
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Clock for InstantClock {
    fn now_us(&self) -> u64 {
        self.0.elapsed().as_micros() as u64
    }
}

/// A [`Spawner`] on `std::thread::scope` (native code and tests).
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Default, Clone, Copy)]
pub struct StdSpawner;

#[cfg(not(target_arch = "wasm32"))]
impl Spawner for StdSpawner {
    fn run_all<'a>(&self, jobs: Vec<Box<dyn FnOnce() + Send + 'a>>) {
        std::thread::scope(|s| {
            for job in jobs {
                s.spawn(job);
            }
        });
    }
}
