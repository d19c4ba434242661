//! The GIL's rules as a sans-IO state machine: no lock, no clock, no thread inside.
//!
//! Every path of the lab drives this one machine ([`super::Gil`] behind a mutex and condition
//! variables for real threads, the host worker's message loop for a page without shared memory,
//! the simulator's event queue in virtual time), so a rule is written once and every path
//! agrees by construction. The rules are CPython's "new GIL" (`Python/ceval_gil.c`,
//! `take_gil` / `drop_gil`, with `FORCE_SWITCHING`):
//!
//! - [`take`](GilMachine::take): a free GIL is taken at once; otherwise the thread waits on a
//!   condition for one switch interval.
//! - [`wake`](GilMachine::wake): when that wait ends by timing out, and the GIL has not changed
//!   hands during it (`switch_number` unchanged), the waiter sets the *drop request*. Either way,
//!   a waiter that finds the GIL free takes it; otherwise it waits another whole interval.
//! - The holder looks at the drop request only at its check points
//!   ([`drop_requested`](GilMachine::drop_requested)) and then releases.
//! - [`release`](GilMachine::release): the GIL becomes free and one waiter is signalled. If a
//!   drop request is pending, the releaser clears it and must wait until another thread has
//!   taken the GIL ([`switched_from`](GilMachine::switched_from)), so it cannot take it straight
//!   back (forced switching). This holds for a release before blocking I/O too, as in CPython;
//!   only a thread that ends never waits.
//! - Taking the GIL clears a pending drop request (it has been served).
//! - Which waiter gets a released GIL is not FIFO: whoever wakes first and finds it free.
//!   Natively that is the OS's choice; drivers that must choose use
//!   [`choose_waiter`](GilMachine::choose_waiter), a seeded choice.
//!
//! Times are µs on whatever clock the driver runs (real or virtual); the machine only compares
//! and adds them.
//!
//! ```
//! use gil_lab::gil::{GilMachine, GilMode, Take};
//! let mut m = GilMachine::new(GilMode::Classic, 5_000);
//! assert_eq!(m.take(0, 0), Take::Granted);
//! // Thread 1 must wait one interval, then asks thread 0 to drop the GIL.
//! assert_eq!(m.take(1, 100), Take::Wait { until_us: 5_100 });
//! assert_eq!(m.wake(1, 5_100, true), Take::Wait { until_us: 10_100 });
//! assert!(m.drop_requested());
//! // Thread 0 reaches a check point and releases; it must wait for the hand-off.
//! let r = m.release(0, 5_300, false);
//! assert!(r.wake_one && r.wait_for_switch);
//! assert_eq!(m.wake(1, 5_310, false), Take::Granted);
//! assert!(m.switched_from(0) && !m.drop_requested());
//! ```

use serde::{Deserialize, Serialize};

use super::GilMode;
use crate::rng::SplitMix64;
use crate::trace::GilEvent;

/// What [`GilMachine::take`] or [`GilMachine::wake`] decided for the asking thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "take", rename_all = "snake_case")]
pub enum Take {
    /// The thread holds the GIL now.
    Granted,
    /// The thread must wait until `until_us` (or until it is signalled earlier), then call
    /// [`GilMachine::wake`].
    Wait {
        /// End of this wait: one switch interval after it began.
        until_us: u64,
    },
}

/// What [`GilMachine::release`] asks of the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// Signal one waiter (CPython's `COND_SIGNAL(gil->cond)`): there is at least one.
    pub wake_one: bool,
    /// Forced switching: the releaser may not take the GIL again until
    /// [`GilMachine::switched_from`] says another thread took it.
    pub wait_for_switch: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Waiter {
    lane: u32,
    /// `switch_number` when this wait began.
    saved_switch: u64,
    until_us: u64,
}

/// The GIL of one interpreter, as data. See the module docs for the rules.
#[derive(Debug, Clone)]
pub struct GilMachine {
    mode: GilMode,
    interval_us: u64,
    holder: Option<u32>,
    last_holder: Option<u32>,
    switch_number: u64,
    drop_request: bool,
    waiters: Vec<Waiter>,
    drop_requests: u64,
    events: Vec<GilEvent>,
}

impl GilMachine {
    /// A free GIL in `mode` with a switch interval of `interval_us` (at least 1 µs, as
    /// CPython's `INTERVAL` macro has it).
    pub fn new(mode: GilMode, interval_us: u64) -> Self {
        Self {
            mode,
            interval_us: interval_us.max(1),
            holder: None,
            last_holder: None,
            switch_number: 0,
            drop_request: false,
            waiters: Vec::new(),
            drop_requests: 0,
            events: Vec::new(),
        }
    }

    /// Classic or free.
    pub fn mode(&self) -> GilMode {
        self.mode
    }

    /// The switch interval, µs.
    pub fn interval_us(&self) -> u64 {
        self.interval_us
    }

    /// `lane` wants the GIL at `now_us` (entry of `take_gil`).
    pub fn take(&mut self, lane: u32, now_us: u64) -> Take {
        if self.mode == GilMode::Free {
            return Take::Granted;
        }
        if self.holder.is_none() {
            self.acquire(lane, now_us);
            return Take::Granted;
        }
        let until_us = now_us.saturating_add(self.interval_us);
        self.waiters.retain(|w| w.lane != lane);
        self.waiters.push(Waiter {
            lane,
            saved_switch: self.switch_number,
            until_us,
        });
        Take::Wait { until_us }
    }

    /// `lane`'s wait ended at `now_us`: by timing out (`timed_out`) or because it was
    /// signalled. Returns whether it now holds the GIL or must wait again.
    pub fn wake(&mut self, lane: u32, now_us: u64, timed_out: bool) -> Take {
        if self.mode == GilMode::Free {
            return Take::Granted;
        }
        let Some(pos) = self.waiters.iter().position(|w| w.lane == lane) else {
            // Not waiting (a stale timer): treat it as a fresh request.
            return self.take(lane, now_us);
        };
        let w = self.waiters[pos];
        if timed_out && self.holder.is_some() && self.switch_number == w.saved_switch {
            // A whole interval without a hand-off: ask the holder to drop the GIL.
            if !self.drop_request {
                self.drop_request = true;
                self.drop_requests += 1;
                if let Some(holder) = self.holder {
                    self.events.push(GilEvent::DropRequest {
                        at_us: now_us,
                        by: lane,
                        holder,
                    });
                }
            }
        }
        if self.holder.is_none() {
            self.waiters.remove(pos);
            self.acquire(lane, now_us);
            return Take::Granted;
        }
        let until_us = now_us.saturating_add(self.interval_us);
        self.waiters[pos] = Waiter {
            lane,
            saved_switch: self.switch_number,
            until_us,
        };
        Take::Wait { until_us }
    }

    fn acquire(&mut self, lane: u32, now_us: u64) {
        self.holder = Some(lane);
        if self.last_holder != Some(lane) {
            self.events.push(GilEvent::Handoff {
                at_us: now_us,
                from: self.last_holder,
                to: lane,
            });
            self.last_holder = Some(lane);
            self.switch_number += 1;
        }
        // Whoever asked for the drop has now been served (or it was a stale request).
        self.drop_request = false;
    }

    /// The holder `lane` releases the GIL at `now_us`. `ending`: the thread is exiting and
    /// will never ask again (CPython's `drop_gil(NULL)`), so it never waits for a switch.
    pub fn release(&mut self, lane: u32, _now_us: u64, ending: bool) -> Release {
        if self.mode == GilMode::Free || self.holder != Some(lane) {
            return Release {
                wake_one: false,
                wait_for_switch: false,
            };
        }
        self.holder = None;
        let wait_for_switch = !ending && self.drop_request && self.last_holder == Some(lane);
        if wait_for_switch {
            // CPython resets the request before waiting on `switch_cond`.
            self.drop_request = false;
        }
        Release {
            wake_one: !self.waiters.is_empty(),
            wait_for_switch,
        }
    }

    /// Whether another thread took the GIL after `lane` (forced switching's condition).
    pub fn switched_from(&self, lane: u32) -> bool {
        self.last_holder != Some(lane)
    }

    /// `lane` stops waiting without the GIL (its run was stopped).
    pub fn cancel(&mut self, lane: u32) {
        self.waiters.retain(|w| w.lane != lane);
    }

    /// Whether a waiter asked the holder to drop the GIL (the eval breaker).
    pub fn drop_requested(&self) -> bool {
        self.drop_request
    }

    /// The thread holding the GIL.
    pub fn holder(&self) -> Option<u32> {
        self.holder
    }

    /// Threads waiting for the GIL, in the order they started waiting.
    pub fn waiters(&self) -> impl Iterator<Item = u32> + '_ {
        self.waiters.iter().map(|w| w.lane)
    }

    /// Whether `lane` is waiting for the GIL.
    pub fn is_waiting(&self, lane: u32) -> bool {
        self.waiters.iter().any(|w| w.lane == lane)
    }

    /// The earliest end of a wait: `(lane, until_us)`.
    pub fn next_deadline(&self) -> Option<(u32, u64)> {
        self.waiters
            .iter()
            .min_by_key(|w| (w.until_us, w.lane))
            .map(|w| (w.lane, w.until_us))
    }

    /// When the holder would see a drop request if nothing else happens: the earliest end of
    /// a wait that times out with no hand-off meanwhile. A wait that began before the current
    /// holder took the GIL saw a hand-off, so when it times out it only waits another
    /// interval: its request is due one interval later. `None` when nobody waits; `Some(0)`
    /// when a drop request is already pending.
    pub fn drop_due_us(&self) -> Option<u64> {
        self.holder?;
        if self.drop_request {
            return Some(0);
        }
        self.waiters
            .iter()
            .map(|w| {
                if w.saved_switch == self.switch_number {
                    w.until_us
                } else {
                    w.until_us.saturating_add(self.interval_us)
                }
            })
            .min()
    }

    /// A waiter to signal, chosen with `rng` (CPython's choice is the OS scheduler's, not the
    /// order of arrival).
    pub fn choose_waiter(&self, rng: &mut SplitMix64) -> Option<u32> {
        if self.waiters.is_empty() {
            return None;
        }
        let k = rng.below(self.waiters.len() as u64) as usize;
        Some(self.waiters[k].lane)
    }

    /// How many times the GIL passed to a different thread.
    pub fn switches(&self) -> u64 {
        self.switch_number
    }

    /// How many drop requests waiters set.
    pub fn drop_requests(&self) -> u64 {
        self.drop_requests
    }

    /// Hand-offs and drop requests since the last call, in order.
    pub fn drain_events(&mut self) -> Vec<GilEvent> {
        std::mem::take(&mut self.events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classic() -> GilMachine {
        GilMachine::new(GilMode::Classic, 5_000)
    }

    #[test]
    fn a_free_gil_is_taken_at_once() {
        let mut m = classic();
        assert_eq!(m.take(3, 10), Take::Granted);
        assert_eq!(m.holder(), Some(3));
        assert_eq!(m.switches(), 1);
    }

    #[test]
    fn a_wait_that_sees_a_handoff_does_not_ask_for_a_drop() {
        let mut m = classic();
        m.take(0, 0);
        assert_eq!(m.take(1, 0), Take::Wait { until_us: 5_000 });
        assert_eq!(m.take(2, 1_000), Take::Wait { until_us: 6_000 });
        // 0 releases for I/O at 2 ms; 2 is signalled and takes it.
        let r = m.release(0, 2_000, false);
        assert!(r.wake_one && !r.wait_for_switch);
        assert_eq!(m.wake(2, 2_010, false), Take::Granted);
        // 1's wait times out, but the GIL changed hands meanwhile: no drop request.
        assert_eq!(m.wake(1, 5_000, true), Take::Wait { until_us: 10_000 });
        assert!(!m.drop_requested());
        // Its next interval passes with no hand-off: now it asks.
        m.wake(1, 10_000, true);
        assert!(m.drop_requested());
        assert_eq!(m.drop_requests(), 1);
    }

    #[test]
    fn forced_switching_keeps_the_releaser_out_until_another_takes() {
        let mut m = classic();
        m.take(0, 0);
        m.take(1, 0);
        m.wake(1, 5_000, true);
        let r = m.release(0, 5_100, false);
        assert!(r.wait_for_switch);
        assert!(!m.switched_from(0));
        // The drop request was reset by the releaser (CPython's drop_gil).
        assert!(!m.drop_requested());
        assert_eq!(m.wake(1, 5_120, false), Take::Granted);
        assert!(m.switched_from(0));
    }

    #[test]
    fn taking_clears_a_stale_drop_request() {
        let mut m = classic();
        m.take(0, 0);
        m.take(1, 0);
        m.wake(1, 5_000, true);
        assert!(m.drop_requested());
        // The holder ends (no forced wait), the waiter takes: the request is served.
        let r = m.release(0, 5_050, true);
        assert!(!r.wait_for_switch);
        assert_eq!(m.wake(1, 5_060, false), Take::Granted);
        assert!(!m.drop_requested());
    }

    #[test]
    fn a_released_gil_can_be_taken_by_a_newcomer_first() {
        let mut m = classic();
        m.take(0, 0);
        m.take(1, 0);
        m.release(0, 1_000, false);
        // Thread 2 comes back from I/O and takes it before 1 wakes: not FIFO.
        assert_eq!(m.take(2, 1_001), Take::Granted);
        assert_eq!(m.wake(1, 1_002, false), Take::Wait { until_us: 6_002 });
    }

    #[test]
    fn drop_is_due_one_interval_later_for_a_wait_that_saw_a_handoff() {
        let mut m = classic();
        m.take(0, 0);
        m.take(1, 1_000); // until 6_000, began under holder 0
        assert_eq!(m.drop_due_us(), Some(6_000));
        m.take(2, 2_000);
        // 0 releases for I/O at 3 ms; 2 takes it: 1's wait saw a hand-off.
        m.release(0, 3_000, false);
        assert_eq!(m.wake(2, 3_000, false), Take::Granted);
        assert_eq!(m.drop_due_us(), Some(11_000));
        // Replaying 1's timeout confirms it: no request at 6 ms, one at 11 ms.
        m.wake(1, 6_000, true);
        assert!(!m.drop_requested());
        assert_eq!(m.drop_due_us(), Some(11_000));
        m.wake(1, 11_000, true);
        assert!(m.drop_requested());
        assert_eq!(m.drop_due_us(), Some(0));
    }

    #[test]
    fn free_mode_never_waits() {
        let mut m = GilMachine::new(GilMode::Free, 5_000);
        assert_eq!(m.take(0, 0), Take::Granted);
        assert_eq!(m.take(1, 0), Take::Granted);
        assert!(!m.drop_requested());
        assert_eq!(m.switches(), 0);
    }

    #[test]
    fn events_record_handoffs_and_requests() {
        let mut m = classic();
        m.take(0, 0);
        m.take(1, 0);
        m.wake(1, 5_000, true);
        m.release(0, 5_100, false);
        m.wake(1, 5_200, false);
        let ev = m.drain_events();
        assert_eq!(
            ev,
            vec![
                GilEvent::Handoff {
                    at_us: 0,
                    from: None,
                    to: 0
                },
                GilEvent::DropRequest {
                    at_us: 5_000,
                    by: 1,
                    holder: 0
                },
                GilEvent::Handoff {
                    at_us: 5_200,
                    from: Some(0),
                    to: 1
                },
            ]
        );
    }

    #[test]
    fn seeded_choice_is_deterministic_and_covers_every_waiter() {
        let mut m = classic();
        m.take(0, 0);
        for lane in 1..5 {
            m.take(lane, 0);
        }
        let picks = |seed| {
            let mut rng = SplitMix64::new(seed);
            (0..64)
                .map(|_| m.choose_waiter(&mut rng).unwrap_or(99))
                .collect::<Vec<_>>()
        };
        assert_eq!(picks(7), picks(7));
        let p = picks(7);
        for lane in 1..5 {
            assert!(p.contains(&lane), "lane {lane} never chosen");
        }
    }
}
