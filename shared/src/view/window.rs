//! The time window a picture shows.

/// A time window `[from_us, to_us)`, µs since the run began; never empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Window {
    pub(super) from_us: u64,
    pub(super) to_us: u64,
}

impl Window {
    /// `from..to`, widened to at least 1 µs (a window cannot be empty).
    pub(super) fn new(from_us: u64, to_us: u64) -> Self {
        Self {
            from_us,
            to_us: to_us.max(from_us.saturating_add(1)),
        }
    }

    /// Length, µs (≥ 1).
    pub(super) fn len_us(self) -> u64 {
        self.to_us - self.from_us
    }
}
