//! The event queue: a min-heap on (time, sequence number), so that events at the same instant
//! come out in the order they were scheduled, every time. Stale events are not removed; each
//! carries the epoch of what it is about and is skipped when that has moved on.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Why a lane is woken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Wake {
    /// Its start time came (a thread spawned, a process's parent share done).
    Start,
    /// The CPU work it was doing is done.
    Job,
    /// Its GIL wait timed out.
    GilTimeout,
    /// A release of the GIL signalled it.
    GilSignal,
    /// Forced switching: another thread took the GIL after it released.
    Switched,
    /// A blocking call (download, sleep, the parent's answer) returned.
    Unblock,
    /// The lock it waits for was released.
    Lock,
}

/// One event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Event {
    /// Something for lane `lane` (an index into the engine's lanes), valid while its
    /// epoch is still `epoch`.
    Lane {
        /// Lane index.
        lane: usize,
        /// The lane's event epoch when scheduled.
        epoch: u64,
        /// What happened.
        what: Wake,
    },
    /// Lane `lane`'s time slice ends (if others are waiting for a core), valid while its core
    /// epoch is still `epoch`.
    Slice {
        /// Lane index.
        lane: usize,
        /// The lane's core epoch when scheduled.
        epoch: u64,
    },
    /// Stage `stage` begins (the race demo's cases run one after another).
    Stage(usize),
}

/// Events in time order.
#[derive(Debug, Default)]
pub struct Queue {
    heap: BinaryHeap<Reverse<(u64, u64, Event)>>,
    seq: u64,
}

impl Queue {
    /// Schedules `event` at `at` ns.
    pub fn push(&mut self, at: u64, event: Event) {
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq, event)));
    }

    /// The earliest event, with its time.
    pub fn pop(&mut self) -> Option<(u64, Event)> {
        self.heap.pop().map(|Reverse((t, _, e))| (t, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_instant_keeps_scheduling_order() {
        let mut q = Queue::default();
        q.push(5, Event::Stage(2));
        q.push(3, Event::Stage(9));
        q.push(5, Event::Stage(1));
        let order: Vec<(u64, Event)> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            vec![
                (3, Event::Stage(9)),
                (5, Event::Stage(2)),
                (5, Event::Stage(1))
            ]
        );
    }
}
