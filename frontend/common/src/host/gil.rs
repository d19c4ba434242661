//! A shared GIL driven by messages: the core's [`GilMachine`] on a clock the host keeps in
//! order, grants stamped no earlier than the last release, and the holder told when a drop
//! request becomes due (see the parent module's docs).

use gil_lab::gil::{GilMachine, GilMode, Take};
use gil_lab::trace::GilStats;

use super::{HostCore, HostOut};
use crate::protocol::ToLane;

/// One shared GIL and the bookkeeping that orders it.
pub(super) struct Group {
    pub(super) machine: GilMachine,
    /// The latest instant the machine has seen.
    pub(super) clock_us: u64,
    /// The latest release: no grant is stamped before it.
    pub(super) last_release_us: u64,
    /// A grant not yet sent: (lane, at, waited).
    pub(super) pending: Option<(u32, u64, bool)>,
    /// What the holder was last told: (holder, drop due).
    pub(super) told: Option<(u32, Option<u64>)>,
}

impl HostCore {
    /// Brings group `g`'s machine to `at_us` (or to where it already is, if later): every
    /// wait that ended meanwhile times out, in order. Returns the machine's time.
    pub(super) fn advance(&mut self, g: usize, at_us: u64, out: &mut Vec<HostOut>) -> u64 {
        let t = at_us.max(self.groups[g].clock_us);
        while let Some((lane, until)) = self.groups[g].machine.next_deadline() {
            if until > t {
                break;
            }
            let m = &mut self.groups[g].machine;
            if m.wake(lane, until, true) == Take::Granted {
                // Only when the GIL was free with a waiter left waiting, which grants do
                // not leave behind; handled all the same.
                self.grant(g, lane, until, true, out);
            }
        }
        self.groups[g].clock_us = t;
        t
    }

    /// `lane` releases group `g`'s GIL at `t`; a waiter, chosen as the machine chooses, takes
    /// it at once. Returns the hand-off's time.
    pub(super) fn release(
        &mut self,
        g: usize,
        lane: u32,
        t: u64,
        ending: bool,
        out: &mut Vec<HostOut>,
    ) -> u64 {
        let grp = &mut self.groups[g];
        let r = grp.machine.release(lane, t, ending);
        grp.last_release_us = grp.last_release_us.max(t);
        if grp.told.is_some_and(|(h, _)| h == lane) {
            grp.told = None;
        }
        if !r.wake_one {
            return t;
        }
        let Some(next) = grp.machine.choose_waiter(&mut self.rng) else {
            return t;
        };
        if grp.machine.wake(next, t, false) == Take::Granted {
            self.grant(g, next, t, true, out);
        }
        t
    }

    /// The machine gave `lane` the GIL at `at`: the message goes out once the group has
    /// settled (so that it carries the drop due time of every waiter).
    pub(super) fn grant(
        &mut self,
        g: usize,
        lane: u32,
        at: u64,
        waited: bool,
        out: &mut Vec<HostOut>,
    ) {
        if self.groups[g].pending.is_some() {
            self.settle(g, out);
        }
        let grp = &mut self.groups[g];
        let at = if grp.machine.mode() == GilMode::Classic {
            at.max(grp.last_release_us)
        } else {
            at
        };
        grp.clock_us = grp.clock_us.max(at);
        grp.pending = Some((lane, at, waited));
    }

    /// Sends the pending grant, or tells the holder a new drop due time.
    pub(super) fn settle(&mut self, g: usize, out: &mut Vec<HostOut>) {
        let grp = &mut self.groups[g];
        for e in grp.machine.drain_events() {
            self.gil_events.push(e);
        }
        let due = grp.machine.drop_due_us();
        if let Some((lane, at_us, waited)) = grp.pending.take() {
            grp.told = Some((lane, due));
            out.push(HostOut::Send {
                lane,
                msg: ToLane::Granted {
                    at_us,
                    waited,
                    drop_due_us: due,
                },
            });
            return;
        }
        if let Some(holder) = grp.machine.holder()
            && grp.told != Some((holder, due))
        {
            grp.told = Some((holder, due));
            out.push(HostOut::Send {
                lane: holder,
                msg: ToLane::DropDue { at_us: due },
            });
        }
    }

    /// The GIL's counts for a thread run, with the note about them. A GIL the host does not
    /// grant (none at all, free-threaded) was never handed over.
    pub(super) fn gil_stats(&self) -> Option<(GilStats, Option<String>)> {
        let g = self.plan.report.gil_stats?;
        let (switches, drops) = match self.host_groups.get(g).copied().flatten() {
            Some(h) => {
                let m = &self.groups[h].machine;
                (m.switches(), m.drop_requests())
            }
            None => (0, 0),
        };
        self.plan.gil_report(switches, drops)
    }

    /// Whether the reported GIL was granted by messages (the host's groups).
    pub(super) fn messaged_gil(&self) -> bool {
        self.plan
            .report
            .gil_stats
            .is_some_and(|g| self.host_groups.get(g).copied().flatten().is_some())
    }
}
