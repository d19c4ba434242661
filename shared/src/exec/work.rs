//! The real work behind a thread program's ops: the `sum_powers` arithmetic, the counter's
//! progress, a download's result, and each task's outcome. Drivers that run tasks for real
//! (native threads and processes, browser workers) share it; the simulator does not do the
//! work and reports simulated outcomes instead.

use std::collections::BTreeMap;
use std::hint::black_box;

use super::program::Op;
use crate::workload::{BufferHash, CounterCell, DownloadOutput, SumPowers, Task, TaskOutcome};

/// Rough cost of one bytecode in CPython, as units of `interpreter_work`. Without it a Rust
/// increment takes ~2 ns and a whole demo would fit inside one 5 ms switch interval, so the GIL
/// would never change hands; with it the lanes hand over about as often per update as CPython's
/// (~0.1 µs per `counter += one()`).
const WORK_PER_BYTECODE: u32 = 24;

/// The work `ops` bytecodes stand for: a short dependent chain the optimiser cannot remove.
pub fn interpreter_work(ops: u32) -> u64 {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..ops * WORK_PER_BYTECODE {
        x = black_box(x.rotate_left(5) ^ 0x2545_F491);
    }
    x
}

#[derive(Debug)]
enum State {
    Pow(SumPowers),
    Count { done: u64, total: u64 },
    Sleeps { done: u32, count: u32 },
    Download(Option<Result<DownloadOutput, String>>),
    Hash { hash: BufferHash, total: u64 },
}

/// The tasks a thread was given and the one it is working on.
#[derive(Debug, Default)]
pub struct Work {
    given: BTreeMap<u32, Task>,
    current: Option<(u32, State)>,
}

impl Work {
    /// Remembers tasks handed to the thread (their ids come back in `Op::Begin`).
    pub fn give(&mut self, tasks: &[(u32, Task)]) {
        for (id, t) in tasks {
            self.given.insert(*id, t.clone());
        }
    }

    /// Task `id` begins.
    pub fn begin(&mut self, id: u32) {
        let state = match self.given.get(&id) {
            Some(Task::SumPowers { n }) => State::Pow(SumPowers::new(*n)),
            Some(Task::Counter(spec)) => State::Count {
                done: 0,
                total: spec.increments,
            },
            Some(Task::Sleeps { count, .. }) => State::Sleeps {
                done: 0,
                count: *count,
            },
            Some(Task::Hash(spec)) => State::Hash {
                hash: BufferHash::default(),
                total: spec.bytes,
            },
            Some(Task::Download(_)) | None => State::Download(None),
        };
        self.current = Some((id, state));
    }

    /// One `i**i` + add; returns `(task, steps done, steps in all)` for progress.
    pub fn pow_step(&mut self) -> Option<(u32, u64, u64)> {
        if let Some((id, State::Pow(sp))) = &mut self.current {
            sp.step();
            let n = match self.given.get(id) {
                Some(Task::SumPowers { n }) => u64::from(*n),
                _ => 0,
            };
            return Some((*id, u64::from(sp.done()), n));
        }
        None
    }

    /// Carries out one of the counter loop's ops that need no GIL decision — a run of
    /// bytecodes, a load or store of the shared `counter` (the thread's `register` holds what
    /// it loaded), taking or releasing the lock — for every driver alike. Returns whether the
    /// lock was taken for `Op::TryLock`, `None` otherwise (other ops are the driver's).
    pub fn counter_op(
        &mut self,
        op: &Op,
        counter: &dyn CounterCell,
        register: &mut u64,
    ) -> Option<bool> {
        match op {
            Op::Bytecodes(n) => {
                black_box(interpreter_work(*n));
            }
            Op::Load => *register = counter.load(),
            Op::Store => {
                counter.store(*register + 1);
                self.counted();
            }
            Op::TryLock => return Some(counter.try_lock()),
            Op::Unlock => counter.unlock(),
            _ => {}
        }
        None
    }

    /// One counter update stored.
    pub fn counted(&mut self) {
        if let Some((_, State::Count { done, .. })) = &mut self.current {
            *done += 1;
        }
    }

    /// One `update()` of the hash task: the real SHA-256 over the buffer's next `bytes`.
    pub fn c_call(&mut self, bytes: u64) {
        if let Some((_, State::Hash { hash, .. })) = &mut self.current {
            hash.update(bytes);
        }
    }

    /// One blocking sleep done.
    pub fn slept(&mut self) {
        if let Some((_, State::Sleeps { done, .. })) = &mut self.current {
            *done += 1;
        }
    }

    /// The download of the current task ended.
    pub fn downloaded(&mut self, result: Result<DownloadOutput, String>) {
        if let Some((_, State::Download(r))) = &mut self.current {
            *r = Some(result);
        }
    }

    /// Task `id` ended; its outcome (an error when it was cut short).
    pub fn end(&mut self, id: u32) -> TaskOutcome {
        let state = match self.current.take() {
            Some((cur, s)) if cur == id => s,
            other => {
                self.current = other;
                return TaskOutcome::NotRun;
            }
        };
        self.given.remove(&id);
        match state {
            State::Pow(sp) => {
                if sp.finished() {
                    TaskOutcome::Sum(sp.finish())
                } else {
                    TaskOutcome::Error {
                        message: "stopped before it finished".into(),
                    }
                }
            }
            State::Count { done, total } if done == total => TaskOutcome::Counted {
                increments: done,
                seen: None,
            },
            State::Count { done, .. } => TaskOutcome::Error {
                message: format!("stopped after {done} increments"),
            },
            State::Sleeps { done, count } if done == count => TaskOutcome::Slept { count },
            State::Sleeps { done, .. } => TaskOutcome::Error {
                message: format!("stopped after {done} blocking calls"),
            },
            State::Hash { hash, total } if hash.done() == total => match hash.hexdigest() {
                Some(sha256) => TaskOutcome::Hashed { sha256 },
                None => TaskOutcome::Error {
                    message: "this build of the lab has no SHA-256".into(),
                },
            },
            State::Hash { hash, .. } => TaskOutcome::Error {
                message: format!("stopped after {} bytes", hash.done()),
            },
            State::Download(Some(Ok(out))) => TaskOutcome::Downloaded(out),
            State::Download(Some(Err(message))) => TaskOutcome::Error { message },
            State::Download(None) => TaskOutcome::NotRun,
        }
    }
}
