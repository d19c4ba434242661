//! A lane's thread program driven in virtual time: each op is carried out by charging its cost
//! or by asking the interpreter's [`GilMachine`](crate::gil::GilMachine), the same rules the
//! real threads obey. Runs of identical units (steps, counter updates) become one job.

use super::engine::{After, Block, Engine, Feed, JobKind, Role, Status};
use super::queue::Wake;
use crate::exec::{Blocking, Op, RunAhead};
use crate::gil::Take;
use crate::trace::GilEvent;
use crate::workload::TaskOutcome;

impl Engine<'_> {
    /// Carries out lane `l`'s ops from now until it has CPU work to do, waits or exits.
    pub(super) fn drive(&mut self, l: usize) {
        loop {
            if self.plan_run(l) {
                return;
            }
            let op = self.lanes[l].prog.next_op();
            match op {
                Op::Take => {
                    if !self.take(l) || self.back_from_call(l) {
                        return;
                    }
                }
                Op::Release | Op::ReleaseForC => {
                    if self.release(l, false) {
                        self.park_for_switch(l, After::Continue);
                        return;
                    }
                }
                Op::Checkpoint => {
                    let gil = &self.interps[self.lanes[l].interp].gil;
                    if gil.drop_requested() && gil.holder() == Some(l as u32) {
                        if self.release(l, false) {
                            self.park_for_switch(l, After::Take);
                            return;
                        }
                        if !self.take(l) {
                            return;
                        }
                    }
                }
                Op::Next => {
                    if self.next_tasks(l) {
                        return;
                    }
                }
                Op::Begin(id) => {
                    let now_us = self.now / 1000;
                    self.lanes[l].rec.set_task(Some(id), now_us, &self.sink);
                }
                Op::PowStep { .. }
                | Op::Bytecodes(_)
                | Op::Load
                | Op::Store
                | Op::TryLock
                | Op::Unlock
                | Op::CCall { .. } => {
                    let mut work = self.t.op(&op);
                    if matches!(op, Op::PowStep { i: 0 }) {
                        work += self.warm_up(l);
                    }
                    self.begin_job(l, JobKind::Op(op), work);
                    return;
                }
                Op::Block(b) => {
                    if self.block_on(l, b) {
                        return;
                    }
                }
                Op::End(id) => {
                    self.outcomes.push((id, TaskOutcome::Simulated));
                    let now_us = self.now / 1000;
                    self.lanes[l].rec.set_task(None, now_us, &self.sink);
                    if self.lanes[l].role == Role::Process && self.t.result > 0 {
                        self.begin_job(l, JobKind::Overhead, self.t.result);
                        return;
                    }
                }
                Op::Exit => {
                    self.release(l, true);
                    self.lane_exited(l);
                    return;
                }
            }
        }
    }

    /// Back from a blocking call and holding the GIL again: the call's own cost comes now
    /// (`true` when that job started). It also keeps a thread that makes call after call
    /// from looking blocked throughout.
    fn back_from_call(&mut self, l: usize) -> bool {
        if !std::mem::take(&mut self.lanes[l].returning) || self.t.call == 0 {
            return false;
        }
        self.begin_job(l, JobKind::Overhead, self.t.call);
        true
    }

    /// The extra cost of a fresh worker process's first `sum_powers` (its heap and caches are
    /// cold; measured by `gil-lab calibrate`), once per process lane, ns; 0 after that and
    /// for threads, whose process is already warm.
    fn warm_up(&mut self, l: usize) -> u64 {
        let lane = &mut self.lanes[l];
        if lane.role != Role::Process || std::mem::replace(&mut lane.warm, true) {
            return 0;
        }
        self.t.first_task
    }

    /// When the lane stands before a run of identical units, starts them as one job up to
    /// the first check point at which it could lose the GIL; `true` if it did.
    fn plan_run(&mut self, l: usize) -> bool {
        if !self.bulk {
            return false;
        }
        let Some(run) = self.lanes[l].prog.run_ahead() else {
            return false;
        };
        let gil = &self.interps[self.lanes[l].interp].gil;
        // A drop request already pending is seen at the very next check point.
        let drop_now = gil.drop_requested() && gil.holder() == Some(l as u32);
        match run {
            RunAhead::Pow { i, n } => {
                if i == 0 {
                    let extra = self.warm_up(l);
                    if extra > 0 {
                        self.begin_job(l, JobKind::Overhead, extra);
                        return true;
                    }
                }
                let steps = if drop_now { 1 } else { n - i };
                let work = self.t.steps(i, i + steps);
                self.begin_job(
                    l,
                    JobKind::Steps {
                        i0: i,
                        full: steps - 1,
                    },
                    work,
                );
                true
            }
            RunAhead::Units { unit, left } => {
                let shape = self.shape_for(&unit);
                if self.shapes[shape].locks {
                    // A run of locked updates holds the lock throughout (free only in its
                    // gaps, see `counter.rs`); with the lock taken, updates go op by op.
                    let cell = self.lanes[l].counter;
                    if self.cells[cell].holder.is_some() {
                        return false;
                    }
                    self.cells[cell].holder = Some(l);
                }
                let sh = &self.shapes[shape];
                let (full, tail) = if drop_now {
                    (0, sh.checks[0])
                } else {
                    (left - 1, sh.ops.len() - 1)
                };
                let work = sh.work(full, tail);
                let mem_total = sh.mem_ops(full, tail);
                self.begin_job(
                    l,
                    JobKind::Units {
                        shape,
                        full,
                        tail,
                        mem_next: 0,
                        mem_total,
                    },
                    work,
                );
                true
            }
        }
    }

    /// A drop request is pending in interpreter `g`: the holder's job now ends at its next
    /// check point, where it will see the request.
    pub(super) fn cut_at_next_check(&mut self, g: usize) {
        let Some(h) = self.interps[g].gil.holder() else {
            return;
        };
        let h = h as usize;
        let done = self.job_done_now(h);
        let Some(job) = &mut self.lanes[h].job else {
            return;
        };
        let changed = match &mut job.kind {
            JobKind::Steps { i0, full } => {
                let k = self.t.steps_covering(*i0, *full + 1, done);
                let cut = k < *full + 1;
                if cut {
                    *full = k - 1;
                    job.work = self.t.steps(*i0, *i0 + k);
                }
                cut
            }
            JobKind::Units {
                shape,
                full,
                tail,
                mem_total,
                ..
            } => {
                let sh = &self.shapes[*shape];
                let (f, t) = sh.next_check(done);
                let cut = (f, t) < (*full, *tail);
                if cut {
                    (*full, *tail) = (f, t);
                    *mem_total = sh.mem_ops(f, t);
                    job.work = sh.work(f, t);
                }
                cut
            }
            _ => false,
        };
        if changed {
            self.job_changed(h);
            self.move_lock_retry(h);
        }
    }

    /// Lane `l` asks for its interpreter's GIL; `true` when it holds it now.
    pub(super) fn take(&mut self, l: usize) -> bool {
        let g = self.lanes[l].interp;
        let decision = self.interps[g].gil.take(l as u32, self.now / 1000);
        self.after_gil(g);
        match decision {
            Take::Granted => {
                self.show(l);
                true
            }
            Take::Wait { until_us } => {
                self.lanes[l].status = Status::Gil;
                self.leave_core(l);
                self.show(l);
                let at = until_us * 1000 + self.t.timer_slack;
                self.wake_at(l, at, Wake::GilTimeout);
                false
            }
        }
    }

    /// Lane `l`'s GIL wait ended (timed out, or signalled).
    pub(super) fn gil_wake(&mut self, l: usize, timed_out: bool) {
        if self.lanes[l].status != Status::Gil {
            return;
        }
        let g = self.lanes[l].interp;
        let decision = self.interps[g]
            .gil
            .wake(l as u32, self.now / 1000, timed_out);
        self.after_gil(g);
        match decision {
            Take::Granted => {
                self.lanes[l].status = Status::Run;
                self.show(l);
                if !self.back_from_call(l) {
                    self.drive(l);
                }
            }
            Take::Wait { until_us } => {
                let at = until_us * 1000 + self.t.timer_slack;
                self.wake_at(l, at, Wake::GilTimeout);
            }
        }
    }

    /// Lane `l` releases the GIL (`ending`: for good). Returns whether forced switching keeps
    /// it out until another lane has taken the GIL.
    pub(super) fn release(&mut self, l: usize, ending: bool) -> bool {
        let g = self.lanes[l].interp;
        let r = self.interps[g]
            .gil
            .release(l as u32, self.now / 1000, ending);
        if r.wake_one
            && let Some(w) = self.interps[g].gil.choose_waiter(&mut self.rng)
        {
            let w = w as usize;
            if !self.lanes[w].signalled {
                self.lanes[w].signalled = true;
                let at = self.now + self.t.handoff;
                self.wake_at(w, at, Wake::GilSignal);
            }
        }
        self.after_gil(g);
        r.wait_for_switch
    }

    fn park_for_switch(&mut self, l: usize, after: After) {
        let g = self.lanes[l].interp;
        self.lanes[l].status = Status::Switch(after);
        self.leave_core(l);
        self.show(l);
        self.interps[g].switch_waiters.push(l);
    }

    /// After any call into interpreter `g`'s GIL: record its events, wake releasers whose
    /// switch happened, cut the holder's job if a drop request appeared.
    fn after_gil(&mut self, g: usize) {
        let events = self.interps[g].gil.drain_events();
        let handed_off = events.iter().any(|e| matches!(e, GilEvent::Handoff { .. }));
        self.gil_events.extend(events);
        if handed_off && !self.interps[g].switch_waiters.is_empty() {
            let waiters = std::mem::take(&mut self.interps[g].switch_waiters);
            let mut keep = Vec::new();
            for w in waiters {
                if self.interps[g].gil.switched_from(w as u32) {
                    let at = self.now + self.t.handoff;
                    self.wake_at(w, at, Wake::Switched);
                } else {
                    keep.push(w);
                }
            }
            self.interps[g].switch_waiters = keep;
        }
        if self.interps[g].gil.drop_requested() {
            self.cut_at_next_check(g);
        }
    }

    /// `Op::Next`: hands lane `l` its next tasks; `true` when that takes time.
    fn next_tasks(&mut self, l: usize) -> bool {
        let role = self.lanes[l].role;
        let (tasks, first) = match &mut self.lanes[l].feed {
            Feed::Once(all) => (all.take().unwrap_or_default(), true),
            Feed::Dispatch { d, index, first } => {
                let (disp, list) = &mut self.dispatchers[*d];
                let tasks = disp
                    .next(*index)
                    .into_iter()
                    .filter_map(|pos| list.get(pos as usize).cloned())
                    .collect();
                (tasks, std::mem::replace(first, false))
            }
        };
        self.lanes[l].prog.give(tasks);
        match role {
            Role::Main => false,
            Role::Thread => {
                self.begin_job(l, JobKind::Overhead, self.t.queue_get);
                true
            }
            Role::Process if first => false,
            Role::Process => {
                // The parent answers over a pipe; the child waits without using a core.
                self.lanes[l].status = Status::Blocked(Block::Batch);
                self.leave_core(l);
                self.show(l);
                let at = self.now + self.t.batch;
                self.wake_at(l, at, Wake::Unblock);
                true
            }
        }
    }

    /// A blocking call; `true` when the lane now waits.
    fn block_on(&mut self, l: usize, b: Blocking) -> bool {
        let dur = match b {
            Blocking::Download(spec) => {
                let task = self.lanes[l].prog.current_task().unwrap_or(0);
                let bytes = self.t.download_bytes(&spec, task);
                self.t.download(bytes, self.io.0, self.io.1)
            }
            Blocking::Sleep { us } => us * 1000 + self.t.timer_slack,
            Blocking::Lock => {
                if !self.block_on_lock(l) {
                    return false;
                }
                self.lanes[l].status = Status::Blocked(Block::Lock);
                self.leave_core(l);
                self.show(l);
                self.await_lock(l);
                return true;
            }
        };
        self.lanes[l].status = Status::Blocked(Block::Io);
        self.leave_core(l);
        self.show(l);
        let at = self.now + dur;
        self.wake_at(l, at, Wake::Unblock);
        true
    }

    /// Lane `l`'s event came: what it waited for happened.
    pub(super) fn on_wake(&mut self, l: usize, what: Wake) {
        match what {
            Wake::Start => {
                self.lanes[l].status = Status::Run;
                let work = self.lanes[l].start_work;
                if work > 0 {
                    self.begin_job(l, JobKind::Start, work);
                } else {
                    self.drive(l);
                }
            }
            Wake::Job => {
                self.complete_job(l);
                self.drive(l);
            }
            Wake::GilTimeout => self.gil_wake(l, true),
            Wake::GilSignal => {
                self.lanes[l].signalled = false;
                self.gil_wake(l, false);
            }
            Wake::Switched => {
                let after = match self.lanes[l].status {
                    Status::Switch(a) => a,
                    _ => return,
                };
                self.lanes[l].status = Status::Run;
                // Straight back to waiting for the GIL: one span, not two.
                if after == After::Take {
                    if self.take(l) {
                        self.drive(l);
                    }
                } else {
                    self.show(l);
                    self.drive(l);
                }
            }
            Wake::Unblock => {
                let lane = &mut self.lanes[l];
                lane.returning = lane.status == Status::Blocked(Block::Io);
                lane.status = Status::Run;
                self.show(l);
                self.drive(l);
            }
            Wake::Lock => self.lock_wake(l),
        }
    }

    /// Lane `l`'s job is done: the program catches up with it.
    fn complete_job(&mut self, l: usize) {
        let Some(job) = self.lanes[l].job.take() else {
            return;
        };
        match job.kind {
            JobKind::Steps { full, .. } => {
                let lane = &mut self.lanes[l];
                lane.prog.skip_units(u64::from(full));
                lane.prog.next_op();
            }
            JobKind::Units {
                shape, full, tail, ..
            } => {
                // The lane's memory ops are applied while the job is still its own.
                self.lanes[l].job = Some(job);
                self.flush_units(l);
                self.lanes[l].job = None;
                let lane = &mut self.lanes[l];
                lane.prog.skip_units(full);
                for _ in 0..tail {
                    lane.prog.next_op();
                }
                self.units_ended(l, shape, tail);
            }
            JobKind::Op(op) => self.apply_op(l, &op),
            JobKind::Start | JobKind::Overhead => {}
        }
    }
}
