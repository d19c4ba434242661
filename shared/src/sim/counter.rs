//! The race demo's shared counter in virtual time: a cell, its lock, and the exact order of
//! every load and store.
//!
//! A run of counter updates is one job, but its loads and stores still happen one by one, at
//! the instants their work offsets fall on. Before each event the engine replays, in time
//! order across every lane on a core, the loads and stores due by then ([`Engine::settle`]).
//! So two free-threaded lanes interleave their updates exactly as their timing says, and a
//! lane descheduled between its load and its store overwrites everything stored meanwhile:
//! updates are lost where, and only where, the real ones are.

use super::cell::{Mem, Shape};
use super::costs::{time_for, work_in};
use super::engine::{Block, Engine, Job, JobKind, POLL, Status};
use super::queue::Wake;
use crate::exec::Op;

/// A lane's place in its run of updates while [`Engine::settle`] walks several lanes.
struct Cursor {
    /// When its next memory op happens.
    t: u64,
    lane: usize,
    /// That op's number in the run, and how many the run has.
    m: u64,
    total: u64,
    /// Work at the start of its update, and the op's index in it.
    base: u64,
    j: usize,
    per: usize,
    unit: u64,
    offsets: Vec<u64>,
}

impl Engine<'_> {
    /// The shape for `unit`, built once per run.
    pub(super) fn shape_for(&mut self, unit: &[Op]) -> usize {
        if let Some(k) = self.shapes.iter().position(|s| s.ops == unit) {
            return k;
        }
        self.shapes.push(Shape::new(unit, self.t));
        self.shapes.len() - 1
    }

    /// When lane `l`'s next memory op happens, if it has one in its current run.
    fn mem_time(&self, l: usize, speed: u64) -> Option<u64> {
        let Some(Job {
            kind:
                JobKind::Units {
                    shape,
                    mem_next,
                    mem_total,
                    ..
                },
            done,
            since,
            ..
        }) = &self.lanes[l].job
        else {
            return None;
        };
        if mem_next >= mem_total {
            return None;
        }
        let off = self.shapes[*shape].offset(*mem_next);
        Some(since + time_for(off.saturating_sub(*done), speed))
    }

    /// Applies lane `l`'s next memory op.
    fn apply_mem(&mut self, l: usize) {
        let lane = &mut self.lanes[l];
        let Some(Job {
            kind: JobKind::Units {
                shape, mem_next, ..
            },
            ..
        }) = &mut lane.job
        else {
            return;
        };
        let sh = &self.shapes[*shape];
        let what = sh.mem[(*mem_next % sh.mem.len() as u64) as usize].2;
        *mem_next += 1;
        let cell = &mut self.cells[lane.counter];
        match what {
            Mem::Load => lane.register = cell.value,
            Mem::Store => cell.value = lane.register + 1,
        }
    }

    /// Replays, in time order, the loads and stores due by `to` of every lane on a core.
    pub(super) fn settle(&mut self, to: u64) {
        let speed = self.t.speed(self.cpu.busy());
        let active: Vec<(u64, usize)> = self
            .cpu
            .running()
            .iter()
            .filter_map(|&l| self.mem_time(l, speed).map(|t| (t, l)))
            .collect();
        if active.len() == 1 {
            // Alone: no interleaving to get right, just everything done by then.
            let l = active[0].1;
            if let Some(Job {
                kind: JobKind::Units { shape, .. },
                done,
                since,
                ..
            }) = &self.lanes[l].job
            {
                let reach = done + work_in(to.saturating_sub(*since), speed);
                let upto = self.shapes[*shape].mem_done_by(reach);
                self.apply_mem_until(l, upto);
            }
            return;
        }
        // Several lanes: every load and store in time order (ties by lane), each lane's next
        // one found from where its last one was.
        let mut cursors: Vec<Cursor> = active
            .iter()
            .filter_map(|&(t, l)| self.cursor(l, t))
            .collect();
        while let Some(k) = (0..cursors.len()).min_by_key(|&k| (cursors[k].t, cursors[k].lane)) {
            let c = &mut cursors[k];
            if c.t > to {
                break;
            }
            let l = c.lane;
            self.mem_ops += 1;
            // One event can replay millions of these: the limits and Ctrl-C are watched here
            // too.
            if self.mem_ops.is_multiple_of(16 * POLL) && self.poll() {
                break;
            }
            self.apply_mem(l);
            c.m += 1;
            c.j += 1;
            if c.j == c.per {
                c.j = 0;
                c.base += c.unit;
            }
            if c.m >= c.total {
                cursors.swap_remove(k);
                continue;
            }
            let (done, since) = match &self.lanes[l].job {
                Some(j) => (j.done, j.since),
                None => (0, self.now),
            };
            let off = c.base + c.offsets[c.j];
            c.t = since + time_for(off.saturating_sub(done), speed);
        }
    }

    /// Where lane `l`'s next memory op is, to walk on from there.
    fn cursor(&self, l: usize, t: u64) -> Option<Cursor> {
        let Some(Job {
            kind:
                JobKind::Units {
                    shape,
                    mem_next,
                    mem_total,
                    ..
                },
            ..
        }) = &self.lanes[l].job
        else {
            return None;
        };
        let sh = &self.shapes[*shape];
        let per = sh.mem.len();
        Some(Cursor {
            t,
            lane: l,
            m: *mem_next,
            total: *mem_total,
            base: (*mem_next / per as u64) * sh.unit,
            j: (*mem_next % per as u64) as usize,
            per,
            unit: sh.unit,
            offsets: sh.mem.iter().map(|m| m.1).collect(),
        })
    }

    /// A run of updates ended: whatever memory ops it still owes happen now. (The job is
    /// still the lane's.)
    pub(super) fn flush_units(&mut self, l: usize) {
        self.apply_mem_until(l, u64::MAX);
    }

    /// Applies lane `l`'s memory ops up to number `upto` (exclusive, at most the run's), whole
    /// updates at once where it can: alone, `count` updates of one load and one store add
    /// `count` to the value.
    fn apply_mem_until(&mut self, l: usize, upto: u64) {
        let lane = &mut self.lanes[l];
        let Some(Job {
            kind:
                JobKind::Units {
                    shape,
                    mem_next,
                    mem_total,
                    ..
                },
            ..
        }) = &mut lane.job
        else {
            return;
        };
        let sh = &self.shapes[*shape];
        let per = sh.mem.len() as u64;
        let end = upto.min(*mem_total);
        let cell = &mut self.cells[lane.counter];
        let apply = |m: u64, value: &mut u64, reg: &mut u64| match sh.mem[(m % per) as usize].2 {
            Mem::Load => *reg = *value,
            Mem::Store => *value = *reg + 1,
        };
        let mut m = *mem_next;
        while m < end && (m % per != 0 || !sh.pair) {
            apply(m, &mut cell.value, &mut lane.register);
            m += 1;
        }
        let whole = (end - m.min(end)) / per.max(1);
        if whole > 0 {
            cell.value += whole;
            lane.register = cell.value - 1;
            m += whole * per;
        }
        while m < end {
            apply(m, &mut cell.value, &mut lane.register);
            m += 1;
        }
        *mem_next = m.max(*mem_next);
    }

    /// After a run of updates: the lock is held if the run stopped inside `with lock:`
    /// (unless a waiter took it in a gap between two updates, see [`Engine::lock_wake`]).
    pub(super) fn units_ended(&mut self, l: usize, shape: usize, tail: usize) {
        let sh = &self.shapes[shape];
        if !sh.locks || self.cells[self.lanes[l].counter].holder != Some(l) {
            return;
        }
        let taken = sh.ops[..tail].iter().filter(|o| **o == Op::TryLock).count();
        let released = sh.ops[..tail].iter().filter(|o| **o == Op::Unlock).count();
        let cell = self.lanes[l].counter;
        if taken > released {
            self.cells[cell].holder = Some(l);
        } else {
            self.cells[cell].holder = None;
            self.lock_released(cell);
        }
    }

    /// One op's effect on the counter, at the end of its cost.
    pub(super) fn apply_op(&mut self, l: usize, op: &Op) {
        let c = self.lanes[l].counter;
        match op {
            Op::Load => self.lanes[l].register = self.cells[c].value,
            Op::Store => self.cells[c].value = self.lanes[l].register + 1,
            Op::TryLock => {
                if self.lock_free_for(c, l) {
                    self.cells[c].holder = Some(l);
                } else {
                    self.lanes[l].prog.lock_result(false);
                }
            }
            Op::Unlock if self.cells[c].holder == Some(l) => {
                self.cells[c].holder = None;
                self.lock_released(c);
            }
            _ => {}
        }
    }

    /// The lock of cell `c` was released: its longest waiter is woken after the hand-off
    /// latency (a futex wakes in arrival order), and may find the lock taken again by then,
    /// as a real one often does.
    fn lock_released(&mut self, c: usize) {
        let cell = &self.cells[c];
        if cell.wake_pending {
            return;
        }
        let Some(&w) = cell.waiters.first() else {
            return;
        };
        self.cells[c].wake_pending = true;
        let at = self.now + self.t.handoff;
        self.wake_at(w, at, Wake::Lock);
    }

    /// A lock waiter woke: it takes the lock if it is free, or waits for the next release.
    pub(super) fn lock_wake(&mut self, l: usize) {
        let c = self.lanes[l].counter;
        self.cells[c].wake_pending = false;
        if self.cells[c].retry.is_some_and(|(w, _)| w == l) {
            self.cells[c].retry = None;
        }
        if self.lanes[l].status != Status::Blocked(Block::Lock) {
            return;
        }
        if !self.lock_free_for(c, l) {
            self.retry_after_unlock(c, l);
            return;
        }
        self.cells[c].holder = Some(l);
        self.cells[c].waiters.retain(|&w| w != l);
        self.lanes[l].status = Status::Run;
        self.show(l);
        self.drive(l);
    }

    /// Lane `l` blocks on cell `c`'s lock (`Blocking::Lock`); `false` when it got it at once.
    pub(super) fn block_on_lock(&mut self, l: usize) -> bool {
        let c = self.lanes[l].counter;
        if self.lock_free_for(c, l) {
            self.cells[c].holder = Some(l);
            return false;
        }
        self.cells[c].waiters.push(l);
        true
    }

    /// Lane `l` now waits for its cell's lock: if a run of locked updates holds it, `l` will
    /// look again after that run's next `Unlock` (a plain holder signals at its `Unlock`).
    pub(super) fn await_lock(&mut self, l: usize) {
        let c = self.lanes[l].counter;
        if !self.cells[c].wake_pending {
            self.retry_after_unlock(c, l);
        }
    }

    /// Whether lane `w` finds cell `c`'s lock free now. A run of locked updates holds it
    /// except in the gaps between its `Unlock` and its next `TryLock`: found in a gap, the run
    /// ends before that `TryLock` (which will fail) and the lock is `w`'s to take.
    fn lock_free_for(&mut self, c: usize, w: usize) -> bool {
        let h = match self.cells[c].holder {
            None => return true,
            Some(h) if h == w => return true,
            Some(h) => h,
        };
        let Some((q, pos, lock_at, unlock_at)) = self.run_position(h) else {
            return false;
        };
        if pos >= lock_at && pos < unlock_at {
            return false;
        }
        let Some(Job {
            kind:
                JobKind::Units {
                    shape,
                    full,
                    tail,
                    mem_total,
                    ..
                },
            work,
            done,
            ..
        }) = &mut self.lanes[h].job
        else {
            return false;
        };
        let sh = &self.shapes[*shape];
        let last = sh.ops.len() - 1;
        let (f, t) = if pos >= unlock_at {
            (q, last)
        } else if q >= 1 {
            (q - 1, last)
        } else {
            (0, 0)
        };
        (*full, *tail, *mem_total) = (f, t, sh.mem_ops(f, t));
        *work = sh.work(f, t);
        *done = (*done).min(*work);
        self.job_changed(h);
        self.cells[c].holder = None;
        true
    }

    /// Where lane `h`'s run of locked updates stands: (whole updates done, work into the
    /// current one, where its `TryLock` ends, where its `Unlock` ends); `None` for anything
    /// else.
    fn run_position(&self, h: usize) -> Option<(u64, u64, u64, u64)> {
        let Some(Job {
            kind: JobKind::Units { shape, .. },
            done,
            ..
        }) = &self.lanes[h].job
        else {
            return None;
        };
        let sh = &self.shapes[*shape];
        if !sh.locks {
            return None;
        }
        let (lock_at, unlock_at) = sh.lock_span?;
        let unit = sh.unit.max(1);
        Some((done / unit, done % unit, lock_at, unlock_at))
    }

    /// Lane `w` found cell `c`'s lock held by a run of locked updates: it looks again after
    /// that run's next `Unlock` (as it would be signalled then).
    fn retry_after_unlock(&mut self, c: usize, w: usize) {
        let Some(h) = self.cells[c].holder else {
            return;
        };
        let Some((q, _, _, unlock_at)) = self.run_position(h) else {
            return;
        };
        let (done, work) = match &self.lanes[h].job {
            Some(j) => (j.done, j.work),
            None => return,
        };
        let unit = self.lanes[h]
            .job
            .as_ref()
            .and_then(|j| match j.kind {
                JobKind::Units { shape, .. } => Some(self.shapes[shape].unit),
                _ => None,
            })
            .unwrap_or(0);
        let next_unlock = q * unit + unlock_at;
        if next_unlock > work || next_unlock < done {
            return;
        }
        let speed = self.t.speed(self.cpu.busy());
        let at = self.now + time_for(next_unlock - done, speed) + self.t.handoff;
        self.cells[c].wake_pending = true;
        self.cells[c].retry = Some((w, next_unlock));
        self.wake_at(w, at, Wake::Lock);
    }

    /// Lane `h`'s run of locked updates was cut: a waiter's look after an `Unlock` that is no
    /// longer in the run is called off.
    pub(super) fn move_lock_retry(&mut self, h: usize) {
        let c = self.lanes[h].counter;
        let Some((w, unlock)) = self.cells[c].retry else {
            return;
        };
        let still = matches!(&self.lanes[h].job, Some(j) if unlock <= j.work);
        if !still {
            self.lanes[w].epoch += 1;
            self.cells[c].wake_pending = false;
            self.cells[c].retry = None;
        }
    }
}
