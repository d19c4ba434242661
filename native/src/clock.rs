//! The run's clock: `CLOCK_MONOTONIC`, which every process on the machine shares, so a child
//! process given the parent's epoch stamps its spans on the parent's timeline.

use gil_lab::platform::Clock;

/// Nanoseconds on `CLOCK_MONOTONIC`.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// A [`Clock`] whose zero is `epoch_ns` on `CLOCK_MONOTONIC`.
#[derive(Debug, Clone, Copy)]
pub struct MonoClock {
    /// The run's start, in `CLOCK_MONOTONIC` nanoseconds.
    pub epoch_ns: u64,
}

impl MonoClock {
    /// A clock starting now.
    pub fn start() -> Self {
        Self {
            epoch_ns: monotonic_ns(),
        }
    }
}

impl Clock for MonoClock {
    fn now_us(&self) -> u64 {
        monotonic_ns().saturating_sub(self.epoch_ns) / 1000
    }
}
