//! "Be the scheduler": two threads run `counter += 1` (or `counter += one()`) bytecode by
//! bytecode, and the learner decides which thread runs the next bytecode — until an update is
//! lost. Then the GIL decides instead, switching only at the check points CPython ≥ 3.10 has
//! (`RESUME` on entering a function, `JUMP_BACKWARD` at a loop's end), which is why the plain
//! loop never loses an update under the GIL while the version with a call can.
//!
//! The bytecodes are the ones `dis` shows for these loops in CPython 3.11 (simplified: the
//! `for` loop's own `FOR_ITER`/`STORE_FAST` are left out, they touch no shared data). The check
//! points agree with [`crate::exec::ThreadProgram`]'s counter loop, which drives the real demo.
//!
//! ```
//! use gil_lab::scheduler_game::{Game, Style};
//! let mut g = Game::new(Style::Plain, 1);
//! // Thread 1 reads the counter, then thread 2 does a whole update, then thread 1 writes.
//! g.step(0).unwrap();
//! for _ in 0..4 { g.step(1).unwrap(); }
//! for _ in 0..3 { g.step(0).unwrap(); }
//! assert_eq!(g.counter(), 1);
//! assert_eq!(g.lost(), 1);
//! ```

use serde::{Deserialize, Serialize};

/// How the loop body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Style {
    /// `for _ in range(k): counter += 1`
    Plain,
    /// `for _ in range(k): counter += one()`
    Call,
}

/// One bytecode of the loop body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bytecode {
    /// `LOAD_GLOBAL counter`: push the shared counter's value.
    LoadCounter,
    /// `LOAD_CONST 1`: push 1.
    LoadOne,
    /// `CALL one` (its `RESUME` is a check point; the call returns 1).
    CallOne,
    /// `BINARY_OP +=`: add the two values on the stack.
    Add,
    /// `STORE_GLOBAL counter`: write the result to the shared counter.
    StoreCounter,
    /// `JUMP_BACKWARD`: back to the top of the loop (a check point).
    JumpBackward,
}

impl Bytecode {
    /// How `dis` shows it.
    pub fn text(self) -> &'static str {
        match self {
            Bytecode::LoadCounter => "LOAD_GLOBAL   counter",
            Bytecode::LoadOne => "LOAD_CONST    1",
            Bytecode::CallOne => "CALL          one()",
            Bytecode::Add => "BINARY_OP     +=",
            Bytecode::StoreCounter => "STORE_GLOBAL  counter",
            Bytecode::JumpBackward => "JUMP_BACKWARD (loop)",
        }
    }

    /// Whether CPython ≥ 3.10 may hand the GIL over here.
    pub fn is_check_point(self) -> bool {
        matches!(self, Bytecode::CallOne | Bytecode::JumpBackward)
    }
}

/// The loop body for `style`.
pub fn program(style: Style) -> &'static [Bytecode] {
    match style {
        Style::Plain => &[
            Bytecode::LoadCounter,
            Bytecode::LoadOne,
            Bytecode::Add,
            Bytecode::StoreCounter,
            Bytecode::JumpBackward,
        ],
        Style::Call => &[
            Bytecode::LoadCounter,
            Bytecode::CallOne,
            Bytecode::Add,
            Bytecode::StoreCounter,
            Bytecode::JumpBackward,
        ],
    }
}

/// One thread of the game.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thread {
    /// Index of the next bytecode in the loop body.
    pub pc: usize,
    /// The thread's value stack (what it has read and not yet written).
    pub stack: Vec<u64>,
    /// Loop iterations finished.
    pub done: u32,
}

/// Why a step could not be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GameError {
    /// No such thread.
    #[error("thread {0} does not exist: allowed 0 or 1")]
    NoSuchThread(usize),
    /// The thread has finished its iterations.
    #[error("thread {} has finished", .0 + 1)]
    Finished(usize),
}

/// What one step did, for the history the page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Which thread ran (0 or 1).
    pub thread: usize,
    /// The bytecode it ran.
    pub bytecode: Bytecode,
    /// The shared counter after it.
    pub counter: u64,
    /// Set when this store overwrote another thread's update: the value it replaced.
    pub overwrote: Option<u64>,
    /// Set in GIL mode when the GIL changed hands before this step.
    pub switched: bool,
}

/// Who decides which thread runs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decider {
    /// The learner picks every step.
    Learner,
    /// The GIL: the holder runs until a drop request is pending at one of its check points.
    Gil,
}

/// The whole game: two threads, one counter, the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Game {
    style: Style,
    iterations: u32,
    threads: [Thread; 2],
    counter: u64,
    /// Updates written so far by each thread (to count the lost ones).
    stores: u64,
    history: Vec<Step>,
    /// In GIL mode: the holder, and the steps until the waiting thread's interval runs out.
    holder: usize,
    until_drop: u32,
    /// Steps between drop requests in GIL mode (the switch interval, in bytecodes).
    interval: u32,
}

impl Game {
    /// A game of `iterations` loop iterations per thread, written in `style`.
    pub fn new(style: Style, iterations: u32) -> Self {
        let fresh = Thread {
            pc: 0,
            stack: Vec::new(),
            done: 0,
        };
        Self {
            style,
            iterations,
            threads: [fresh.clone(), fresh],
            counter: 0,
            stores: 0,
            history: Vec::new(),
            holder: 0,
            until_drop: 7,
            interval: 7,
        }
    }

    /// The loop body's style.
    pub fn style(&self) -> Style {
        self.style
    }

    /// The shared counter.
    pub fn counter(&self) -> u64 {
        self.counter
    }

    /// Updates lost so far: stores made minus what the counter shows.
    pub fn lost(&self) -> u64 {
        self.stores.saturating_sub(self.counter)
    }

    /// Both threads.
    pub fn threads(&self) -> &[Thread; 2] {
        &self.threads
    }

    /// Every step so far.
    pub fn history(&self) -> &[Step] {
        &self.history
    }

    /// Whether both threads have finished.
    pub fn finished(&self) -> bool {
        self.threads.iter().all(|t| t.done >= self.iterations)
    }

    /// The bytecode `thread` runs next, unless it has finished.
    pub fn next_bytecode(&self, thread: usize) -> Option<Bytecode> {
        let t = self.threads.get(thread)?;
        (t.done < self.iterations).then(|| program(self.style)[t.pc])
    }

    /// Runs one bytecode of `thread` (the learner's choice).
    pub fn step(&mut self, thread: usize) -> Result<&Step, GameError> {
        self.run(thread, false)
    }

    fn run(&mut self, thread: usize, switched: bool) -> Result<&Step, GameError> {
        let style = self.style;
        let iterations = self.iterations;
        let t = self
            .threads
            .get_mut(thread)
            .ok_or(GameError::NoSuchThread(thread))?;
        if t.done >= iterations {
            return Err(GameError::Finished(thread));
        }
        let code = program(style);
        let bytecode = code[t.pc];
        let mut overwrote = None;
        match bytecode {
            Bytecode::LoadCounter => t.stack.push(self.counter),
            Bytecode::LoadOne | Bytecode::CallOne => t.stack.push(1),
            Bytecode::Add => {
                let b = t.stack.pop().unwrap_or(0);
                let a = t.stack.pop().unwrap_or(0);
                t.stack.push(a + b);
            }
            Bytecode::StoreCounter => {
                let v = t.stack.pop().unwrap_or(0);
                // The value it replaces was not the one this thread read: an update is lost.
                if v != self.counter + 1 {
                    overwrote = Some(self.counter);
                }
                self.counter = v;
                self.stores += 1;
            }
            Bytecode::JumpBackward => t.done += 1,
        }
        t.pc = (t.pc + 1) % code.len();
        self.history.push(Step {
            thread,
            bytecode,
            counter: self.counter,
            overwrote,
            switched,
        });
        let last = self.history.len() - 1;
        Ok(&self.history[last])
    }

    /// One step chosen by the GIL: the holder keeps running; once its interval has run out a
    /// drop request is pending, and it hands the GIL over at its next check point (or when it
    /// finishes). `None` when both threads have finished.
    pub fn gil_step(&mut self) -> Option<&Step> {
        if self.finished() {
            return None;
        }
        let other = 1 - self.holder;
        let holder_done = self.threads[self.holder].done >= self.iterations;
        let other_waits = self.threads[other].done < self.iterations;
        let mut switched = false;
        if holder_done {
            self.holder = other;
            switched = true;
            self.until_drop = self.interval;
        }
        // The check point just passed (the previous bytecode) is where a pending drop request
        // is honoured.
        let at_check_point = self
            .history
            .last()
            .is_some_and(|s| s.thread == self.holder && s.bytecode.is_check_point());
        if !switched && other_waits && self.until_drop == 0 && at_check_point {
            self.holder = other;
            self.until_drop = self.interval;
            switched = true;
        }
        if other_waits {
            self.until_drop = self.until_drop.saturating_sub(1);
        }
        let holder = self.holder;
        self.run(holder, switched).ok()
    }

    /// Plays the rest of the game with the GIL deciding.
    pub fn play_out_with_gil(&mut self) {
        while self.gil_step().is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_before_the_other_threads_write_loses_its_update() {
        let mut g = Game::new(Style::Call, 1);
        g.step(0).expect("load"); // thread 1 reads 0
        for _ in 0..5 {
            g.step(1).expect("thread 2"); // thread 2: a whole update, counter = 1
        }
        for _ in 0..4 {
            g.step(0).expect("thread 1"); // thread 1 writes 0 + 1
        }
        assert!(g.finished());
        assert_eq!((g.counter(), g.lost()), (1, 1));
        assert!(g.history().iter().any(|s| s.overwrote == Some(1)));
    }

    #[test]
    fn whole_updates_in_turn_lose_nothing() {
        let mut g = Game::new(Style::Plain, 2);
        for round in 0..2 {
            for t in [0, 1] {
                for _ in 0..5 {
                    g.step(t).expect("step");
                }
            }
            assert_eq!(g.counter(), 2 * (round + 1));
        }
        assert_eq!(g.lost(), 0);
        assert_eq!(g.step(0).map(|_| ()), Err(GameError::Finished(0)));
    }

    #[test]
    fn the_gil_never_splits_a_plain_update_but_can_split_one_with_a_call() {
        let mut plain = Game::new(Style::Plain, 20);
        plain.play_out_with_gil();
        assert_eq!((plain.counter(), plain.lost()), (40, 0));
        assert!(plain.history().iter().any(|s| s.switched));
        let mut call = Game::new(Style::Call, 20);
        call.play_out_with_gil();
        assert!(
            call.lost() > 0,
            "the call's check point lets the GIL pass mid-update"
        );
        // Every hand-off happened right after a check point.
        for w in call.history().windows(2) {
            if w[1].switched {
                assert!(w[0].bytecode.is_check_point(), "{w:?}");
            }
        }
    }
}
