//! How far a simulation may go, and how it is stopped: what the engine checks as it runs and
//! the budget checks before it starts.

/// Most events one simulation may take: under three seconds of work natively with 64 lanes
/// on cores (each event walks the lanes on a core; ~3 M events/s on the 2-core machine the
/// lab is developed on), about a second with a handful. The lesson's runs take thousands.
pub const MAX_EVENTS: u64 = 8_000_000;

/// Most loads and stores replayed one by one (the race's cases where lanes run at once;
/// ~70 M/s here, so at most ~3.5 s): the default race (4 × 1,000,000 increments) replays
/// about 32 M.
pub const MAX_MEM_OPS: u64 = 250_000_000;

/// Asked now and then while a simulation runs (every few thousand events, about every
/// millisecond): `true` stops it. Natively the Ctrl-C flag; `shared` has no signals, so
/// whoever runs a simulation passes its own.
pub trait Cancel {
    /// Whether to stop now.
    fn cancelled(&self) -> bool;
}

/// Never stops a simulation (the page's worker, tests).
pub struct NeverCancel;

impl Cancel for NeverCancel {
    fn cancelled(&self) -> bool {
        false
    }
}

impl Cancel for std::sync::atomic::AtomicBool {
    fn cancelled(&self) -> bool {
        self.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Why a running simulation stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Halt {
    /// Its [`Cancel`] said so.
    Cancelled,
    /// It recorded more than [`MAX_SPANS`](crate::view::limits::MAX_SPANS) spans.
    Spans,
    /// It recorded more than [`MAX_GIL_EVENTS`](crate::view::limits::MAX_GIL_EVENTS) GIL events.
    GilEvents,
    /// It took more than [`MAX_EVENTS`] events.
    Events,
    /// It replayed more than [`MAX_MEM_OPS`] loads and stores.
    MemOps,
}
