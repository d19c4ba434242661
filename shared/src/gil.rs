//! The GIL: its rules as a sans-IO [`GilMachine`] (the one copy every path drives), and
//! [`Gil`], the driver for real threads: the machine behind a mutex and two condition
//! variables, as CPython's `ceval_gil.c` keeps its state behind `gil->mutex`, `gil->cond` and
//! `switch_cond`.
//!
//! Natively the threads are OS threads; in a cross-origin-isolated page they are the threads of
//! one shared wasm memory, where std's `Mutex` and `Condvar` are built on wasm atomics.
//! [`GilMode::Free`] (free-threaded CPython 3.13t) runs the same code with the lock disabled.

mod machine;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

pub use machine::{GilMachine, Release, Take};

use crate::platform::Clock;
use crate::sync::lock;
use crate::trace::{GilEvent, TraceSink};

pub use crate::scenario::{DEFAULT_SWITCH_INTERVAL_US, GilMode};

/// The GIL of one interpreter shared by real threads: a [`GilMachine`] behind a mutex.
#[derive(Debug)]
pub struct Gil {
    machine: Mutex<GilMachine>,
    /// Signalled when the GIL is released (`gil->cond`).
    released: Condvar,
    /// Signalled when a thread takes the GIL (`gil->switch_cond`, forced switching).
    switched: Condvar,
    /// The machine's drop request, mirrored for a lock-free look at every check point
    /// (CPython's eval breaker).
    drop_request: AtomicBool,
}

impl Gil {
    /// A GIL in `mode` with the given switch interval.
    pub fn new(mode: GilMode, interval: Duration) -> Self {
        Self {
            machine: Mutex::new(GilMachine::new(mode, interval.as_micros() as u64)),
            released: Condvar::new(),
            switched: Condvar::new(),
            drop_request: AtomicBool::new(false),
        }
    }

    /// Classic or free.
    pub fn mode(&self) -> GilMode {
        lock(&self.machine).mode()
    }

    /// How many times the GIL changed hands between different lanes.
    pub fn switches(&self) -> u64 {
        lock(&self.machine).switches()
    }

    /// How many drop requests waiters set.
    pub fn drop_requests(&self) -> u64 {
        lock(&self.machine).drop_requests()
    }

    /// Whether a waiter asked the holder to drop the GIL (the eval breaker).
    pub fn drop_requested(&self) -> bool {
        self.drop_request.load(Ordering::Relaxed)
    }

    fn publish(&self, m: &mut GilMachine) -> Vec<GilEvent> {
        self.drop_request
            .store(m.drop_requested(), Ordering::Relaxed);
        m.drain_events()
    }

    /// Blocks until `lane` holds the GIL; returns when (on `clock`) and whether it had to
    /// wait. Hand-offs and drop requests go to `sink`.
    pub fn take(&self, lane: u32, clock: &dyn Clock, sink: &dyn TraceSink) -> (u64, bool) {
        let mut m = lock(&self.machine);
        let mut decision = m.take(lane, clock.now_us());
        let waited = decision != Take::Granted;
        while let Take::Wait { until_us } = decision {
            let wait = Duration::from_micros(until_us.saturating_sub(clock.now_us()).max(1));
            let (guard, res) = self
                .released
                .wait_timeout(m, wait)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            m = guard;
            decision = m.wake(lane, clock.now_us(), res.timed_out());
            // A drop request set while waiting must reach the holder now.
            self.drop_request
                .store(m.drop_requested(), Ordering::Relaxed);
        }
        let at = clock.now_us();
        let events = self.publish(&mut m);
        drop(m);
        self.switched.notify_all();
        for e in events {
            sink.gil_event(e);
        }
        (at, waited)
    }

    /// `lane` releases the GIL. Unless `ending`, and if a drop request is pending, it then
    /// waits until another lane has taken it (forced switching).
    pub fn release(&self, lane: u32, clock: &dyn Clock, ending: bool, sink: &dyn TraceSink) {
        let mut m = lock(&self.machine);
        let r = m.release(lane, clock.now_us(), ending);
        let events = self.publish(&mut m);
        if r.wake_one {
            self.released.notify_one();
        }
        if r.wait_for_switch {
            while !m.switched_from(lane) {
                m = self
                    .switched
                    .wait(m)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        }
        drop(m);
        for e in events {
            sink.gil_event(e);
        }
    }
}
