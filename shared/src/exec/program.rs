//! The thread loop of a Python thread, as a sans-IO program: what it does next, step by step,
//! with the GIL's check points exactly where CPython ≥ 3.10 has them.
//!
//! A [`ThreadProgram`] never touches a lock, a clock or a counter: it hands out [`Op`]s and a
//! driver carries them out — natively with a real GIL and real arithmetic (`pythread`), in a
//! page without shared memory with the GIL granted by messages, and in the simulator by
//! charging each op's cost in virtual time. So *where* a thread can lose the GIL is written
//! once:
//!
//! - after each `i**i` + add of `sum_powers` (the loop's backward jump);
//! - before each `q.get()` of the task queue (a call);
//! - in `counter += 1` only after the store (the loop's jump); with `counter += one()` also
//!   between the load and the store (the call); with a lock around the update, the same, but
//!   nobody else can store meanwhile;
//! - blocking calls (a download, `time.sleep`, waiting for a contended lock) release the GIL
//!   and take it back afterwards;
//! - C code that releases the GIL (`hashlib`'s `update()` of 2048 bytes or more) does so too,
//!   but keeps a core busy: [`Op::ReleaseForC`], [`Op::CCall`], [`Op::Take`]. A smaller
//!   update is a [`Op::CCall`] holding the GIL; each `update()` is a call, so a check point
//!   comes before it.
//!
//! ```
//! use gil_lab::exec::{Op, ThreadProgram};
//! use gil_lab::workload::Task;
//! let mut p = ThreadProgram::worker();
//! assert_eq!(p.next_op(), Op::Take);
//! assert_eq!(p.next_op(), Op::Checkpoint); // q.get() is a call
//! assert_eq!(p.next_op(), Op::Next);
//! p.give(vec![(0, Task::SumPowers { n: 2 })]);
//! let ops: Vec<Op> = std::iter::from_fn(|| Some(p.next_op())).take(7).collect();
//! assert_eq!(ops, vec![Op::Begin(0), Op::PowStep { i: 0 }, Op::Checkpoint,
//!     Op::PowStep { i: 1 }, Op::Checkpoint, Op::End(0), Op::Checkpoint]);
//! ```

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::scenario::CheckPoints;
use crate::workload::{CounterSpec, CounterStyle, DownloadSpec, HashSpec, Task};

/// Bytecodes of interpreter work in one `counter += 1` besides the load and the store.
pub const COUNTER_BYTECODES: u32 = 4;

/// One thing a Python thread does next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Take the GIL (the thread starts, or comes back from a blocking call).
    Take,
    /// Release the GIL before a blocking call.
    Release,
    /// Release the GIL before C code that runs without it (`Py_BEGIN_ALLOW_THREADS`).
    ReleaseForC,
    /// C code hashes the next `bytes` of the task's buffer: with the GIL released when a
    /// [`Op::ReleaseForC`] came before it, holding it otherwise. CPU work either way.
    CCall {
        /// Bytes this `update()` hashes.
        bytes: u64,
    },
    /// A check point (a call or a backward jump): if a drop request is pending, release the
    /// GIL (forced switching applies) and take it again.
    Checkpoint,
    /// Ask for work: `q.get()` for a thread, the next batch for a process. Answer with
    /// [`ThreadProgram::give`]; until then this op repeats.
    Next,
    /// Task `id` begins: spans are attributed to it from here.
    Begin(u32),
    /// One uninterruptible step of `sum_powers`: `total = total + i**i`.
    PowStep {
        /// The `i` of this step.
        i: u32,
    },
    /// This many bytecodes of interpreter work, with no check point inside.
    Bytecodes(u32),
    /// Read the shared counter into the thread's register.
    Load,
    /// Write the register + 1 to the shared counter.
    Store,
    /// Try to take the counter's lock without blocking; answer with
    /// [`ThreadProgram::lock_result`] (no answer means it was free).
    TryLock,
    /// Release the counter's lock.
    Unlock,
    /// A blocking call; the GIL was released just before and is taken again just after.
    Block(Blocking),
    /// Task `id` ended (its outcome is the driver's to tell).
    End(u32),
    /// The thread exits and releases the GIL for good. Repeats once reached.
    Exit,
}

/// What a blocking call waits for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Blocking {
    /// `requests.get(url)` and writing the body to a file.
    Download(DownloadSpec),
    /// `time.sleep(us / 1e6)` or any short blocking system call.
    Sleep {
        /// How long, µs.
        us: u64,
    },
    /// Waiting for a lock another thread holds, until it is ours.
    Lock,
}

/// Identical units of work ahead of a thread; see [`ThreadProgram::run_ahead`]. Every unit
/// ends with the loop's backward jump, an [`Op::Checkpoint`].
#[derive(Debug, Clone, PartialEq)]
pub enum RunAhead {
    /// Steps `i..n` of `sum_powers`; unit `j` is `[PowStep { i: j }, Checkpoint]`.
    Pow {
        /// The next step.
        i: u32,
        /// One past the last step.
        n: u32,
    },
    /// `left` more counter updates, each exactly the ops of `unit`.
    Units {
        /// One update's ops, its final check point included.
        unit: Vec<Op>,
        /// Updates still to do.
        left: u64,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Cursor {
    Pow {
        id: u32,
        i: u32,
        n: u32,
    },
    Count {
        id: u32,
        k: u64,
        total: u64,
        spec: CounterSpec,
    },
    Sleeps {
        id: u32,
        k: u32,
        count: u32,
        us: u64,
    },
    Hash {
        id: u32,
        done: u64,
        spec: HashSpec,
    },
    /// A one-op task (a download) whose ops are already queued.
    Single {
        id: u32,
    },
}

impl Cursor {
    fn id(&self) -> u32 {
        match self {
            Cursor::Pow { id, .. }
            | Cursor::Count { id, .. }
            | Cursor::Sleeps { id, .. }
            | Cursor::Hash { id, .. }
            | Cursor::Single { id } => *id,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Start,
    Get,
    AwaitTasks,
    Run,
    Exit,
}

/// A Python thread's loop as data: call [`next_op`](Self::next_op) for each op, carry it out, and
/// answer [`Op::Next`] with [`give`](Self::give).
#[derive(Debug, Clone)]
pub struct ThreadProgram {
    phase: Phase,
    ops: VecDeque<Op>,
    tasks: VecDeque<(u32, Task)>,
    cursor: Option<Cursor>,
    /// Threads call `q.get()` before each task: a check point.
    check_at_get: bool,
    /// Whether the ops handed out so far leave the thread holding the GIL, and the counter's
    /// lock: [`stop`](Self::stop) must give back what it holds, or the other threads wait for
    /// it forever.
    holds: Holds,
}

/// What a thread holds after the ops handed out so far.
#[derive(Debug, Clone, Copy, Default)]
struct Holds {
    gil: bool,
    lock: bool,
}

impl ThreadProgram {
    /// A worker thread pulling tasks from a queue (`while True: q.get()`), or a process's
    /// main thread fed batches by its parent.
    pub fn worker() -> Self {
        Self {
            phase: Phase::Start,
            ops: VecDeque::new(),
            tasks: VecDeque::new(),
            cursor: None,
            check_at_get: true,
            holds: Holds::default(),
        }
    }

    /// The main thread of a script: it asks once for the tasks it runs in order (no queue, so
    /// no `q.get()` check point), then once more to learn there are no more.
    pub fn main_thread() -> Self {
        let mut p = Self::worker();
        p.check_at_get = false;
        p
    }

    /// The answer to [`Op::Next`]: the tasks to run, or none when there is no more work.
    pub fn give(&mut self, tasks: Vec<(u32, Task)>) {
        if self.phase != Phase::AwaitTasks {
            return;
        }
        if tasks.is_empty() {
            self.phase = Phase::Exit;
        } else {
            self.tasks.extend(tasks);
            self.phase = Phase::Run;
        }
    }

    /// The answer to [`Op::TryLock`]: `false` when another thread holds the lock, so this one
    /// blocks for it with the GIL released.
    pub fn lock_result(&mut self, acquired: bool) {
        if !acquired {
            self.holds.lock = false;
            for op in [Op::Take, Op::Block(Blocking::Lock), Op::Release] {
                self.ops.push_front(op);
            }
        }
    }

    /// Winds the thread up: the task in progress ends now (its driver reports it unfinished),
    /// nothing else starts, and the thread exits. What it holds is given back first, the way
    /// an exception unwinds a `with lock:` block: the counter's lock (other threads may be
    /// blocked on it), and the GIL is taken back if a blocking call had released it, since
    /// [`Op::Exit`] releases it. Calling it again changes nothing.
    pub fn stop(&mut self) {
        if self.phase == Phase::Exit && self.cursor.is_none() {
            return;
        }
        self.ops.clear();
        self.tasks.clear();
        if self.holds.lock {
            self.ops.push_back(Op::Unlock);
        }
        if !self.holds.gil {
            self.ops.push_back(Op::Take);
        }
        if let Some(c) = self.cursor.take() {
            self.ops.push_back(Op::End(c.id()));
        }
        self.phase = Phase::Exit;
    }

    /// The task being run, if any.
    pub fn current_task(&self) -> Option<u32> {
        self.cursor.as_ref().map(Cursor::id)
    }

    /// The identical units of work straight ahead, when the thread stands at the start of one
    /// (between two units of a task's loop, nothing else queued): what a driver that does not
    /// do the work (the simulator) may fast-forward with [`skip_units`](Self::skip_units).
    /// `None` anywhere else (a task beginning or ending, a lock answer pending, a blocking
    /// call in progress).
    pub fn run_ahead(&self) -> Option<RunAhead> {
        if !self.ops.is_empty() || self.phase != Phase::Run {
            return None;
        }
        match self.cursor.as_ref()? {
            Cursor::Pow { i, n, .. } if i < n => Some(RunAhead::Pow { i: *i, n: *n }),
            Cursor::Count { k, total, spec, .. } if k < total => Some(RunAhead::Units {
                unit: counter_unit(spec),
                left: total - k,
            }),
            _ => None,
        }
    }

    /// Skips up to `max` whole units of [`run_ahead`](Self::run_ahead), each with the check
    /// point that ends it, exactly as if their ops had been taken one by one with
    /// [`next_op`](Self::next_op); returns how many it skipped (0 when not at a unit's start).
    /// The driver is responsible for what those ops would have done (their time, their
    /// counter updates) and for the check points inside them: it may only skip units during
    /// which no drop request could have been seen.
    pub fn skip_units(&mut self, max: u64) -> u64 {
        if !self.ops.is_empty() || self.phase != Phase::Run {
            return 0;
        }
        match self.cursor.as_mut() {
            Some(Cursor::Pow { i, n, .. }) => {
                let k = max.min(u64::from(n.saturating_sub(*i)));
                *i += k as u32;
                k
            }
            Some(Cursor::Count { k, total, .. }) => {
                let skip = max.min(total.saturating_sub(*k));
                *k += skip;
                skip
            }
            _ => 0,
        }
    }

    /// The next op.
    pub fn next_op(&mut self) -> Op {
        let op = self.plan_op();
        match op {
            Op::Take => self.holds.gil = true,
            Op::Release | Op::ReleaseForC | Op::Exit => self.holds.gil = false,
            // An uncontended `TryLock` takes the lock (a contended one is answered with
            // `lock_result(false)`); a `Block(Lock)` returns holding it.
            Op::TryLock | Op::Block(Blocking::Lock) => self.holds.lock = true,
            Op::Unlock => self.holds.lock = false,
            _ => {}
        }
        op
    }

    fn plan_op(&mut self) -> Op {
        loop {
            if let Some(op) = self.ops.pop_front() {
                return op;
            }
            match self.phase {
                Phase::Start => {
                    // A Python thread starts by taking the GIL.
                    self.ops.push_back(Op::Take);
                    self.phase = Phase::Get;
                }
                Phase::Get => {
                    if self.check_at_get {
                        self.ops.push_back(Op::Checkpoint);
                    }
                    self.ops.push_back(Op::Next);
                    self.phase = Phase::AwaitTasks;
                }
                Phase::AwaitTasks => return Op::Next,
                Phase::Run => self.advance(),
                Phase::Exit => return Op::Exit,
            }
        }
    }

    /// Queues the next unit of work of the current task, starts the next task, or goes back
    /// for more.
    fn advance(&mut self) {
        let Some(cursor) = self.cursor.as_mut() else {
            match self.tasks.pop_front() {
                Some((id, task)) => self.begin(id, task),
                None => self.phase = Phase::Get,
            }
            return;
        };
        let finished = match cursor {
            Cursor::Pow { i, n, .. } => {
                if *i < *n {
                    self.ops.push_back(Op::PowStep { i: *i });
                    // The `for` loop's backward jump.
                    self.ops.push_back(Op::Checkpoint);
                    *i += 1;
                    false
                } else {
                    true
                }
            }
            Cursor::Count { k, total, spec, .. } => {
                if *k < *total {
                    *k += 1;
                    let unit = counter_unit(spec);
                    self.ops.extend(unit);
                    false
                } else {
                    true
                }
            }
            Cursor::Sleeps { k, count, us, .. } => {
                if *k < *count {
                    *k += 1;
                    let us = *us;
                    self.ops.extend([
                        Op::Release,
                        Op::Block(Blocking::Sleep { us }),
                        Op::Take,
                        // The loop's backward jump.
                        Op::Checkpoint,
                    ]);
                    false
                } else {
                    true
                }
            }
            Cursor::Hash { done, spec, .. } => {
                if *done < spec.bytes {
                    let bytes = spec.chunk.max(1).min(spec.bytes - *done);
                    *done += bytes;
                    // `h.update(...)` is a call: a check point before it.
                    self.ops.push_back(Op::Checkpoint);
                    if HashSpec::releases_gil(bytes) {
                        self.ops
                            .extend([Op::ReleaseForC, Op::CCall { bytes }, Op::Take]);
                    } else {
                        self.ops.push_back(Op::CCall { bytes });
                    }
                    false
                } else {
                    true
                }
            }
            Cursor::Single { .. } => true,
        };
        if finished {
            let id = cursor.id();
            self.cursor = None;
            self.ops.push_back(Op::End(id));
        }
    }

    fn begin(&mut self, id: u32, task: Task) {
        self.ops.push_back(Op::Begin(id));
        self.cursor = Some(match task {
            Task::SumPowers { n } => Cursor::Pow { id, i: 0, n },
            Task::Counter(spec) => Cursor::Count {
                id,
                k: 0,
                total: spec.increments,
                spec,
            },
            Task::Sleeps { count, us } => Cursor::Sleeps {
                id,
                k: 0,
                count,
                us,
            },
            Task::Hash(spec) => Cursor::Hash { id, done: 0, spec },
            Task::Download(spec) => {
                // `requests.get` and `f.write` block in C with the GIL released.
                self.ops
                    .extend([Op::Release, Op::Block(Blocking::Download(spec)), Op::Take]);
                Cursor::Single { id }
            }
        });
    }
}

/// The ops of one `counter += 1` of `spec`, the loop's jump included.
pub(crate) fn counter_unit(spec: &CounterSpec) -> Vec<Op> {
    let half = COUNTER_BYTECODES / 2;
    // A check point between the read and the write, where another thread's updates fall in.
    let split = || {
        vec![
            Op::Bytecodes(half),
            Op::Load,
            Op::Checkpoint,
            Op::Bytecodes(half),
            Op::Store,
            Op::Checkpoint,
        ]
    };
    match spec.style {
        // Before 3.10 the eval loop also looked for a drop request before STORE_GLOBAL (most
        // opcodes end with a full dispatch), so the GIL could pass between the read and the
        // write of a plain `+=`.
        CounterStyle::Plain if spec.checks == CheckPoints::MostBytecodes => split(),
        // LOAD_GLOBAL, LOAD_CONST, BINARY_OP, STORE_GLOBAL: no check point until the jump.
        CounterStyle::Plain => vec![
            Op::Bytecodes(COUNTER_BYTECODES),
            Op::Load,
            Op::Store,
            Op::Checkpoint,
        ],
        // The loop's bytecodes and loading `one`, the read, then the call: on every version a
        // check point between the read and the write.
        CounterStyle::InCall => split(),
        // `v.value += 1`: the Value's getter and setter each take its lock, so the read and
        // the write are each atomic but the update is not. (Each process has its own GIL, so
        // the check point between matters only to threads.)
        CounterStyle::ValueBare => vec![
            Op::TryLock,
            Op::Load,
            Op::Unlock,
            Op::Bytecodes(COUNTER_BYTECODES),
            Op::Checkpoint,
            Op::TryLock,
            Op::Store,
            Op::Unlock,
            Op::Checkpoint,
        ],
        // `with lock:` around the same update.
        CounterStyle::Locked => vec![
            Op::TryLock,
            Op::Bytecodes(half),
            Op::Load,
            Op::Checkpoint,
            Op::Bytecodes(half),
            Op::Store,
            Op::Unlock,
            Op::Checkpoint,
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::CounterSpec;

    /// A main thread that has been handed `tasks`.
    fn given(tasks: Vec<(u32, Task)>) -> ThreadProgram {
        let mut p = ThreadProgram::main_thread();
        assert_eq!(p.next_op(), Op::Take);
        assert_eq!(p.next_op(), Op::Next);
        p.give(tasks);
        p
    }

    fn run_until_next(p: &mut ThreadProgram) -> Vec<Op> {
        let mut out = Vec::new();
        loop {
            let op = p.next_op();
            if matches!(op, Op::Next | Op::Exit) {
                out.push(op);
                return out;
            }
            out.push(op);
        }
    }

    #[test]
    fn worker_checks_before_each_get_and_exits_on_empty() {
        let mut p = ThreadProgram::worker();
        assert_eq!(
            run_until_next(&mut p),
            vec![Op::Take, Op::Checkpoint, Op::Next]
        );
        // Asking again without an answer repeats the question.
        assert_eq!(p.next_op(), Op::Next);
        p.give(Vec::new());
        assert_eq!(p.next_op(), Op::Exit);
        assert_eq!(p.next_op(), Op::Exit);
    }

    #[test]
    fn plain_counter_has_no_check_point_inside_the_update() {
        let mut p = given(vec![(
            0,
            Task::Counter(CounterSpec {
                increments: 2,
                style: CounterStyle::Plain,
                checks: Default::default(),
            }),
        )]);
        let ops = run_until_next(&mut p);
        let load = ops.iter().position(|o| *o == Op::Load).unwrap_or(0);
        assert_eq!(ops[load + 1], Op::Store, "{ops:?}");
        assert_eq!(ops.iter().filter(|o| **o == Op::Store).count(), 2);
        assert_eq!(ops.last(), Some(&Op::Next));
    }

    #[test]
    fn call_inside_the_update_checks_between_load_and_store() {
        let mut p = given(vec![(
            0,
            Task::Counter(CounterSpec {
                increments: 1,
                style: CounterStyle::InCall,
                checks: Default::default(),
            }),
        )]);
        let ops = run_until_next(&mut p);
        let load = ops.iter().position(|o| *o == Op::Load).unwrap_or(0);
        let store = ops.iter().position(|o| *o == Op::Store).unwrap_or(0);
        assert!(ops[load..store].contains(&Op::Checkpoint), "{ops:?}");
    }

    #[test]
    fn before_3_10_a_plain_update_checks_between_load_and_store() {
        let mut p = given(vec![(
            0,
            Task::Counter(CounterSpec {
                increments: 1,
                style: CounterStyle::Plain,
                checks: CheckPoints::MostBytecodes,
            }),
        )]);
        let ops = run_until_next(&mut p);
        let load = ops.iter().position(|o| *o == Op::Load).unwrap_or(0);
        let store = ops.iter().position(|o| *o == Op::Store).unwrap_or(0);
        assert!(ops[load..store].contains(&Op::Checkpoint), "{ops:?}");
        // The same work as from 3.10 on: only where it may switch differs.
        let work = |c| {
            counter_unit(&CounterSpec {
                increments: 1,
                style: CounterStyle::Plain,
                checks: c,
            })
            .iter()
            .map(|o| match o {
                Op::Bytecodes(b) => *b,
                _ => 0,
            })
            .sum::<u32>()
        };
        assert_eq!(
            work(CheckPoints::MostBytecodes),
            work(CheckPoints::CallsAndJumps)
        );
    }

    #[test]
    fn a_contended_lock_blocks_with_the_gil_released() {
        let mut p = given(vec![(
            0,
            Task::Counter(CounterSpec {
                increments: 1,
                style: CounterStyle::Locked,
                checks: Default::default(),
            }),
        )]);
        assert_eq!(p.next_op(), Op::Begin(0));
        assert_eq!(p.next_op(), Op::TryLock);
        p.lock_result(false);
        assert_eq!(p.next_op(), Op::Release);
        assert_eq!(p.next_op(), Op::Block(Blocking::Lock));
        assert_eq!(p.next_op(), Op::Take);
        assert_eq!(p.next_op(), Op::Bytecodes(COUNTER_BYTECODES / 2));
    }

    #[test]
    fn downloads_release_the_gil_around_the_call() {
        let spec = DownloadSpec::new("http://h/a.jpg", 0);
        let mut p = given(vec![(0, Task::Download(spec.clone()))]);
        let ops = run_until_next(&mut p);
        assert_eq!(
            ops,
            vec![
                Op::Begin(0),
                Op::Release,
                Op::Block(Blocking::Download(spec)),
                Op::Take,
                Op::End(0),
                Op::Next
            ]
        );
    }

    /// hashlib releases the GIL for updates of 2048 bytes or more, and only for those.
    #[test]
    fn big_updates_release_the_gil_and_small_ones_hold_it() {
        let hash = |bytes, chunk| {
            let mut p = given(vec![(0, Task::Hash(HashSpec { bytes, chunk }))]);
            run_until_next(&mut p)
        };
        assert_eq!(
            hash(5000, 2048),
            vec![
                Op::Begin(0),
                Op::Checkpoint,
                Op::ReleaseForC,
                Op::CCall { bytes: 2048 },
                Op::Take,
                Op::Checkpoint,
                Op::ReleaseForC,
                Op::CCall { bytes: 2048 },
                Op::Take,
                // The last 904 bytes are too few to be worth dropping the GIL.
                Op::Checkpoint,
                Op::CCall { bytes: 904 },
                Op::End(0),
                Op::Next
            ]
        );
        let small = hash(4096, 1024);
        assert!(!small.contains(&Op::ReleaseForC), "{small:?}");
        assert_eq!(small.iter().filter(|o| **o == Op::Checkpoint).count(), 4);
        // Stopped inside the C call, the thread takes the GIL back before it exits.
        let mut p = given(vec![(
            0,
            Task::Hash(HashSpec {
                bytes: 1 << 20,
                chunk: 1 << 20,
            }),
        )]);
        while p.next_op() != Op::ReleaseForC {}
        p.stop();
        assert_eq!(p.next_op(), Op::Take);
        assert_eq!(p.next_op(), Op::End(0));
    }

    /// Every op until the thread asks for work again, with `skip` whole units skipped
    /// whenever it stands at a unit's start (and the ops those units stand for).
    fn with_skips(mut p: ThreadProgram, skip: u64) -> (Vec<Op>, Vec<Op>) {
        let (mut ops, mut skipped) = (Vec::new(), Vec::new());
        loop {
            if let Some(run) = p.run_ahead() {
                let unit = |j: u64| match &run {
                    RunAhead::Pow { i, .. } => {
                        vec![Op::PowStep { i: i + j as u32 }, Op::Checkpoint]
                    }
                    RunAhead::Units { unit, .. } => unit.clone(),
                };
                let k = p.skip_units(skip);
                for j in 0..k {
                    skipped.extend(unit(j));
                    ops.extend(unit(j));
                }
            }
            let op = p.next_op();
            let last = matches!(op, Op::Next | Op::Exit);
            ops.push(op);
            if last {
                return (ops, skipped);
            }
        }
    }

    #[test]
    fn skipping_units_gives_the_same_ops_as_stepping() {
        for style in [
            CounterStyle::Plain,
            CounterStyle::InCall,
            CounterStyle::Locked,
        ] {
            let tasks = vec![
                (0, Task::SumPowers { n: 7 }),
                (
                    1,
                    Task::Counter(CounterSpec {
                        increments: 5,
                        style,
                        checks: Default::default(),
                    }),
                ),
                (2, Task::SumPowers { n: 0 }),
                (3, Task::Sleeps { count: 2, us: 10 }),
            ];
            let (stepped, none) = with_skips(given(tasks.clone()), 0);
            assert!(none.is_empty());
            for skip in [1, 2, 3, 100] {
                let (ops, skipped) = with_skips(given(tasks.clone()), skip);
                assert_eq!(ops, stepped, "skip {skip}, {style:?}");
                assert!(!skipped.is_empty());
            }
        }
        // Nowhere but at a unit's start.
        let mut p = given(vec![(0, Task::SumPowers { n: 3 })]);
        assert_eq!(p.run_ahead(), None); // Begin is next
        assert_eq!(p.next_op(), Op::Begin(0));
        assert_eq!(p.run_ahead(), Some(RunAhead::Pow { i: 0, n: 3 }));
        assert_eq!(p.next_op(), Op::PowStep { i: 0 });
        assert_eq!(p.run_ahead(), None); // its check point is still queued
        assert_eq!(p.skip_units(5), 0);
        assert_eq!(p.next_op(), Op::Checkpoint);
        assert_eq!(p.skip_units(5), 2);
        assert_eq!(p.next_op(), Op::End(0));
    }

    #[test]
    fn stop_ends_the_current_task_and_exits() {
        let mut p = given(vec![
            (0, Task::SumPowers { n: 100 }),
            (1, Task::SumPowers { n: 100 }),
        ]);
        for _ in 0..3 {
            p.next_op();
        }
        assert_eq!(p.current_task(), Some(0));
        p.stop();
        assert_eq!(p.next_op(), Op::End(0));
        assert_eq!(p.next_op(), Op::Exit);
        p.stop();
        assert_eq!(p.next_op(), Op::Exit);
    }

    /// The race demo's locked case hung for good when stopped inside `with lock:` (issue 11):
    /// the pending `Unlock` was dropped with the rest of the ops, and every other thread
    /// stayed blocked on the lock.
    #[test]
    fn stop_inside_the_lock_releases_it() {
        let task = Task::Counter(crate::workload::CounterSpec {
            increments: 10,
            style: CounterStyle::Locked,
            checks: Default::default(),
        });
        let mut p = given(vec![(0, task.clone())]);
        while p.next_op() != Op::TryLock {}
        assert_eq!(p.next_op(), Op::Bytecodes(COUNTER_BYTECODES / 2));
        p.stop();
        assert_eq!(p.next_op(), Op::Unlock);
        assert_eq!(p.next_op(), Op::End(0));
        assert_eq!(p.next_op(), Op::Exit);

        // Blocked on the contended lock: the wait ends holding it, so stopping then gives it
        // back, and takes the GIL back first, since exiting releases it.
        let mut p = given(vec![(0, task.clone())]);
        while p.next_op() != Op::TryLock {}
        p.lock_result(false);
        assert_eq!(p.next_op(), Op::Release);
        assert_eq!(p.next_op(), Op::Block(Blocking::Lock));
        p.stop();
        assert_eq!(p.next_op(), Op::Unlock);
        assert_eq!(p.next_op(), Op::Take);
        assert_eq!(p.next_op(), Op::End(0));
        assert_eq!(p.next_op(), Op::Exit);

        // Between the updates nothing is held but the GIL.
        let mut p = given(vec![(0, task)]);
        while p.next_op() != Op::Unlock {}
        p.stop();
        assert_eq!(p.next_op(), Op::End(0));
        assert_eq!(p.next_op(), Op::Exit);
    }

    /// A thread stopped during a blocking call (the GIL released) takes it back before it
    /// exits, so the exit's release is of a GIL it holds.
    #[test]
    fn stop_while_blocked_takes_the_gil_back_before_exiting() {
        let mut p = given(vec![(0, Task::Sleeps { count: 3, us: 10 })]);
        while p.next_op() != Op::Release {}
        p.stop();
        assert_eq!(p.next_op(), Op::Take);
        assert_eq!(p.next_op(), Op::End(0));
        assert_eq!(p.next_op(), Op::Exit);
        let mut fresh = ThreadProgram::worker();
        fresh.stop();
        assert_eq!(fresh.next_op(), Op::Take);
        assert_eq!(fresh.next_op(), Op::Exit);
    }
}
