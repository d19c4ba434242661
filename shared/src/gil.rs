//! A real Global Interpreter Lock with CPython's "new GIL" rules (`Python/ceval_gil.c`).
//!
//! - A thread must hold the GIL to run a step.
//! - A thread that wants it waits on a condition for one *switch interval*; if it timed out and
//!   no switch happened meanwhile, it sets a *drop request*.
//! - The holder looks at the drop request only at its check points (calls and loop ends in
//!   CPython ≥ 3.10, step boundaries here) and then releases.
//! - Forced switching: a holder that released on request waits until another thread has really
//!   taken the GIL, so it cannot grab it straight back.
//! - Blocking I/O releases the GIL without that wait and takes it back afterwards.
//!
//! [`GilMode::Free`] (free-threaded CPython 3.13t) runs the same code with the lock disabled.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::trace::lock;

/// CPython's default `sys.getswitchinterval()`: 5 ms.
pub const DEFAULT_SWITCH_INTERVAL_US: u64 = 5_000;

/// Whether threads of one process share a GIL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GilMode {
    /// CPython's default build: one thread runs Python code at a time.
    Classic,
    /// Free-threaded CPython (3.13t and later): no GIL, threads run in parallel.
    Free,
}

impl GilMode {
    /// `classic` / `free`.
    pub fn key(self) -> &'static str {
        match self {
            GilMode::Classic => "classic",
            GilMode::Free => "free",
        }
    }
}

#[derive(Debug, Default)]
struct State {
    locked: bool,
    /// The lane that took the GIL last (CPython's `last_holder`).
    last_holder: Option<u32>,
    /// Bumped each time the GIL passes to a different lane (CPython's `switch_number`).
    switch_number: u64,
}

/// The lock itself: shared by every thread of one simulated interpreter.
#[derive(Debug)]
pub struct Gil {
    mode: GilMode,
    interval: Duration,
    state: Mutex<State>,
    /// Signalled when the GIL is released.
    released: Condvar,
    /// Signalled when a thread takes the GIL (forced switching waits on it).
    switched: Condvar,
    /// CPython's `gil_drop_request`, read lock-free at every check point.
    drop_request: AtomicBool,
    drop_requests: AtomicU64,
}

impl Gil {
    /// A GIL in `mode` with the given switch interval.
    pub fn new(mode: GilMode, interval: Duration) -> Self {
        Self {
            mode,
            interval,
            state: Mutex::new(State::default()),
            released: Condvar::new(),
            switched: Condvar::new(),
            drop_request: AtomicBool::new(false),
            drop_requests: AtomicU64::new(0),
        }
    }

    /// Classic or free.
    pub fn mode(&self) -> GilMode {
        self.mode
    }

    /// How many times the GIL changed hands between different lanes.
    pub fn switches(&self) -> u64 {
        lock(&self.state).switch_number
    }

    /// How many drop requests waiters set.
    pub fn drop_requests(&self) -> u64 {
        self.drop_requests.load(Ordering::Relaxed)
    }

    /// Blocks until `lane` holds the GIL. Returns whether it had to wait.
    pub fn take(&self, lane: u32) -> bool {
        if self.mode == GilMode::Free {
            return false;
        }
        let mut st = lock(&self.state);
        let waited = st.locked;
        while st.locked {
            let saved = st.switch_number;
            let (guard, res) = self
                .released
                .wait_timeout(st, self.interval)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            st = guard;
            // Nobody released it for a whole interval: ask the holder to drop it.
            if res.timed_out() && st.locked && st.switch_number == saved {
                self.drop_request.store(true, Ordering::Relaxed);
                self.drop_requests.fetch_add(1, Ordering::Relaxed);
            }
        }
        st.locked = true;
        if st.last_holder != Some(lane) {
            st.last_holder = Some(lane);
            st.switch_number += 1;
        }
        // Whoever asked for the drop has now been served (or was us).
        self.drop_request.store(false, Ordering::Relaxed);
        drop(st);
        self.switched.notify_all();
        waited
    }

    /// Releases the GIL held by `lane`. With `forced`, and a drop request pending, waits until
    /// another lane has taken it (CPython's FORCE_SWITCHING).
    pub fn release(&self, lane: u32, forced: bool) {
        if self.mode == GilMode::Free {
            return;
        }
        let requested = self.drop_request.load(Ordering::Relaxed);
        let mut st = lock(&self.state);
        st.locked = false;
        self.released.notify_one();
        if forced && requested {
            while st.last_holder == Some(lane) {
                st = self
                    .switched
                    .wait(st)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        }
    }

    /// Whether a waiter asked the holder to drop the GIL (the eval breaker).
    pub fn drop_requested(&self) -> bool {
        self.mode == GilMode::Classic && self.drop_request.load(Ordering::Relaxed)
    }
}
