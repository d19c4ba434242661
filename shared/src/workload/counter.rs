//! The lesson's warning: "modifying the same data at the same time is dangerous", counted for
//! real.
//!
//! The counter is a real shared memory cell. An update is a separate relaxed load and store
//! (never `fetch_add`), which is exactly CPython's `LOAD` … `STORE` pair: no undefined behaviour,
//! and a lost update whenever another lane stores in between. Whether one can store in between
//! depends on where the GIL may change hands *inside* the update (see `exec::counter`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};

use serde::{Deserialize, Serialize};

use super::TaskOutcome;
use crate::scenario::CheckPoints;

/// Most increments per worker the lab accepts (CPython needs ~0.1 s per million).
pub const MAX_INCREMENTS: u64 = 50_000_000;

/// How the Python code performs `counter += 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CounterStyle {
    /// `for _ in range(k): counter += 1`. Since CPython 3.10 the GIL changes hands only at
    /// calls and backward jumps, so never between the load and the store.
    Plain,
    /// `for _ in range(k): counter += one()`: the call between the load and the store is a
    /// point where the GIL may change hands.
    InCall,
    /// `with lock: counter += one()`: the lock makes the update atomic whatever the GIL does.
    Locked,
    /// `v.value += 1` on a `multiprocessing.Value`: its lock is taken for the read and again
    /// for the write, never across the `+=`, so another process can store in between.
    ValueBare,
}

impl CounterStyle {
    /// Short name used in labels and on the command line.
    pub fn key(self) -> &'static str {
        match self {
            CounterStyle::Plain => "plain loop",
            CounterStyle::InCall => "call inside the update",
            CounterStyle::Locked => "with a lock",
            CounterStyle::ValueBare => "Value, bare +=",
        }
    }
}

/// One worker's share of the counter demo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterSpec {
    /// Updates this worker performs.
    pub increments: u64,
    /// How each update is written.
    pub style: CounterStyle,
    /// Where the eval loop may switch (the Python version's rule).
    #[serde(default, skip_serializing_if = "is_calls_and_jumps")]
    pub checks: CheckPoints,
}

fn is_calls_and_jumps(c: &CheckPoints) -> bool {
    *c == CheckPoints::CallsAndJumps
}

/// A counter cell threads (or processes) update: the two halves of `counter += 1` and the lock
/// of the locked style. Natively a cell in this process's memory ([`SharedCounter`]) or in a
/// mapping shared between processes (`multiprocessing.Value`).
pub trait CounterCell: Sync {
    /// The `LOAD` half of `counter += 1`.
    fn load(&self) -> u64;
    /// The `STORE` half of `counter += 1`.
    fn store(&self, v: u64);
    /// Takes the lock if it is free; `false` when another thread holds it.
    fn try_lock(&self) -> bool;
    /// Takes the lock, blocking until it is free.
    fn lock(&self);
    /// Releases the lock.
    fn unlock(&self);
}

/// The shared cell (plus the lock the `Locked` style takes), in this process's memory.
#[derive(Debug, Default)]
pub struct SharedCounter {
    value: AtomicU64,
    locked: Mutex<bool>,
    unlocked: Condvar,
}

impl SharedCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// A counter starting at `v` (a process's copy of its parent's global).
    pub fn with_value(v: u64) -> Self {
        let c = Self::default();
        c.value.store(v, Ordering::Relaxed);
        c
    }

    /// The final value.
    pub fn get(&self) -> u64 {
        self.value.load(Ordering::SeqCst)
    }

    fn flag(&self) -> std::sync::MutexGuard<'_, bool> {
        self.locked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl CounterCell for SharedCounter {
    fn load(&self) -> u64 {
        self.value.load(Ordering::Relaxed)
    }

    fn store(&self, v: u64) {
        self.value.store(v, Ordering::Relaxed);
    }

    fn try_lock(&self) -> bool {
        let mut f = self.flag();
        !std::mem::replace(&mut *f, true)
    }

    fn lock(&self) {
        let mut f = self.flag();
        while *f {
            f = self
                .unlocked
                .wait(f)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        *f = true;
    }

    fn unlock(&self) {
        *self.flag() = false;
        self.unlocked.notify_one();
    }
}

/// The outcome of one case of the race demo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterCase {
    /// What ran (`4 threads, call inside the update, classic GIL`).
    pub case: String,
    /// What the counter would read if no update were lost.
    pub expected: u64,
    /// What the counter read afterwards (in the parent, for processes).
    pub observed: u64,
    /// `expected - observed`.
    pub lost: u64,
    /// One sentence on why.
    pub explanation: String,
}

impl CounterCase {
    /// The case `name` whose workers ended with `outcomes`, the parent's counter reading
    /// `observed` afterwards.
    pub fn of(name: &str, why: &str, outcomes: &[(u32, TaskOutcome)], observed: u64) -> Self {
        let expected: u64 = outcomes
            .iter()
            .map(|(_, o)| match o {
                TaskOutcome::Counted { increments, .. } => *increments,
                _ => 0,
            })
            .sum();
        Self {
            case: name.to_owned(),
            expected,
            observed,
            lost: expected.saturating_sub(observed),
            explanation: why.to_owned(),
        }
    }
}
