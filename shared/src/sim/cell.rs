//! The race demo's counter cell and the shape of one update: what the engine, the counter's
//! replay and the budget all read, kept apart from each of them.

use super::costs::Tables;
use crate::exec::Op;

/// One shared counter (a module global of one interpreter) and the lock the locked style
/// takes.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    /// The value.
    pub value: u64,
    /// Who holds the lock (a run of locked updates holds it throughout).
    pub holder: Option<usize>,
    /// Lanes blocked on the lock.
    pub waiters: Vec<usize>,
    /// A waiter has been woken and has not looked yet.
    pub wake_pending: bool,
    /// A waiter that will look again after an `Unlock` of a run of locked updates, and that
    /// `Unlock`'s work offset in the run (see [`Engine::lock_wake`]).
    pub retry: Option<(usize, u64)>,
}

/// What an op does to the cell (lock ops are not memory ops here: see [`Shape::locks`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mem {
    /// Reads the value into the lane's register.
    Load,
    /// Writes the register + 1.
    Store,
}

/// One counter update's ops with their costs: where its memory ops and check points fall.
#[derive(Debug, Clone)]
pub struct Shape {
    /// The ops, as the thread program hands them out.
    pub ops: Vec<Op>,
    /// Work after each op, cumulative, ns.
    pub(super) ends: Vec<u64>,
    /// Work of one update.
    pub unit: u64,
    /// (op index, work at its end, what it does) for the loads and stores.
    pub mem: Vec<(usize, u64, Mem)>,
    /// Work at the end of the update's first `TryLock` and first `Unlock`, when it
    /// [`locks`](Self::locks).
    pub(super) lock_span: Option<(u64, u64)>,
    /// Op indices of the check points (the last op is one: the loop's jump).
    pub checks: Vec<usize>,
    /// Whether the update holds the lock across more than one op (`with lock:` around the
    /// update). A lock held around a single load or store (a `multiprocessing.Value`'s getter
    /// and setter) only makes that op atomic, which one op already is here: such a shape is
    /// charged the lock's cost and nothing more.
    pub locks: bool,
    /// Whether its loads and stores are exactly one load then one store (every style's are):
    /// then a lane alone can apply whole updates at once.
    pub(super) pair: bool,
}

impl Shape {
    /// The shape of `ops` at the costs of `t`.
    pub fn new(ops: &[Op], t: &Tables) -> Shape {
        let mut ends = Vec::with_capacity(ops.len());
        let mut mem = Vec::new();
        let mut checks = Vec::new();
        let (mut lock_at, mut unlock_at) = (None, None);
        let mut sum = 0;
        for (k, op) in ops.iter().enumerate() {
            sum += t.op(op);
            ends.push(sum);
            match op {
                Op::TryLock if lock_at.is_none() => lock_at = Some(sum),
                Op::Unlock if unlock_at.is_none() => unlock_at = Some(sum),
                _ => {}
            }
            let m = match op {
                Op::Load => Some(Mem::Load),
                Op::Store => Some(Mem::Store),
                Op::Checkpoint => {
                    checks.push(k);
                    None
                }
                _ => None,
            };
            if let Some(m) = m {
                mem.push((k, sum, m));
            }
        }
        if checks.is_empty() {
            // Not a loop unit: treat its end as the only place to stop.
            checks.push(ops.len().saturating_sub(1));
        }
        let rw: Vec<Mem> = mem.iter().map(|m| m.2).collect();
        // Each `TryLock` followed by exactly one load or store, then its `Unlock`?
        let brief = ops
            .windows(3)
            .filter(|w| w[0] == Op::TryLock)
            .all(|w| matches!(w[1], Op::Load | Op::Store) && w[2] == Op::Unlock)
            && ops.iter().filter(|o| **o == Op::TryLock).count() * 3 <= ops.len();
        let locks = !brief && lock_at.is_some();
        Shape {
            ops: ops.to_vec(),
            unit: sum,
            locks,
            lock_span: if locks { lock_at.zip(unlock_at) } else { None },
            pair: rw == [Mem::Load, Mem::Store],
            ends,
            mem,
            checks,
        }
    }

    /// Work of the first `tail` ops.
    fn prefix(&self, tail: usize) -> u64 {
        if tail == 0 { 0 } else { self.ends[tail - 1] }
    }

    /// Work of `full` updates and `tail` ops of the next.
    pub fn work(&self, full: u64, tail: usize) -> u64 {
        full * self.unit + self.prefix(tail)
    }

    /// Memory ops in `full` updates and `tail` ops of the next.
    pub fn mem_ops(&self, full: u64, tail: usize) -> u64 {
        full * self.mem.len() as u64 + self.mem.iter().filter(|m| m.0 < tail).count() as u64
    }

    /// The first check point after `done` ns of work from an update's start (never the one
    /// at 0, already passed), as (whole updates, ops of the next).
    pub fn next_check(&self, done: u64) -> (u64, usize) {
        let target = done.max(1);
        let last = self.ops.len().saturating_sub(1);
        if self.unit == 0 {
            return (0, self.checks[0]);
        }
        let q = (target - 1) / self.unit;
        for &c in &self.checks {
            if q * self.unit + self.prefix(c) >= target {
                return (q, c);
            }
        }
        (q, last)
    }

    /// How many memory ops of a run have happened after `reach` ns of its work.
    pub(super) fn mem_done_by(&self, reach: u64) -> u64 {
        let per = self.mem.len() as u64;
        if per == 0 || self.unit == 0 {
            return u64::MAX;
        }
        let (q, r) = (reach / self.unit, reach % self.unit);
        q * per + self.mem.iter().filter(|m| m.1 <= r).count() as u64
    }

    /// Work offset of memory op number `m` of a run.
    pub(super) fn offset(&self, m: u64) -> u64 {
        let per = self.mem.len() as u64;
        (m / per) * self.unit + self.mem[(m % per) as usize].1
    }
}
