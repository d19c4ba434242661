//! Who runs which task: the one implementation of the lesson's three ways of handing out work,
//! used by every path (native threads and processes, the browser's host worker, the
//! simulator).
//!
//! - a `queue.Queue` that worker threads pull one task at a time from;
//! - `multiprocessing.Process(target=...)`: each process gets its share up front;
//! - `Pool.map`: free processes pull the next chunk of the list.
//!
//! ```
//! use gil_lab::exec::{Dispatch, Dispatcher};
//! let mut d = Dispatcher::new(&Dispatch::Chunks(vec![0..2, 2..3]));
//! assert_eq!(d.next(1), vec![0, 1]);
//! assert_eq!(d.next(0), vec![2]);
//! assert!(d.next(0).is_empty());
//! ```

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::pool::{Chunk, pool_chunks, split_round_robin};
use crate::scenario::Model;

/// A plan for handing tasks (named by their position in the run's task list) to lanes
/// (named by their index among the run's workers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "plan", rename_all = "snake_case")]
pub enum Dispatch {
    /// A shared queue: each `get` takes the next task.
    Queue(Vec<u32>),
    /// Each lane gets the listed positions, once, up front.
    Fixed(Vec<Vec<u32>>),
    /// Lanes pull these chunks in order as they become free.
    Chunks(Vec<Chunk>),
}

impl Dispatch {
    /// The plan `model` uses for `tasks` tasks.
    pub fn for_model(model: &Model, tasks: u32) -> Self {
        match model {
            Model::Processes { workers } => Dispatch::Fixed(split_round_robin(tasks, *workers)),
            Model::Pool { chunksize, .. } => Dispatch::Chunks(pool_chunks(tasks, *chunksize)),
            _ => Dispatch::Queue((0..tasks).collect()),
        }
    }
}

/// A [`Dispatch`] being carried out.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    queue: VecDeque<u32>,
    shares: Vec<Option<Vec<u32>>>,
    chunks: VecDeque<Vec<u32>>,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Queue,
    Fixed,
    Chunks,
}

impl Dispatcher {
    /// Starts carrying out `plan`.
    pub fn new(plan: &Dispatch) -> Self {
        let mut d = Self {
            queue: VecDeque::new(),
            shares: Vec::new(),
            chunks: VecDeque::new(),
            kind: Kind::Queue,
        };
        match plan {
            Dispatch::Queue(q) => d.queue = q.iter().copied().collect(),
            Dispatch::Fixed(shares) => {
                d.kind = Kind::Fixed;
                d.shares = shares.iter().cloned().map(Some).collect();
            }
            Dispatch::Chunks(chunks) => {
                d.kind = Kind::Chunks;
                d.chunks = chunks.iter().map(|c| c.clone().collect()).collect();
            }
        }
        d
    }

    /// The next positions for the lane with index `lane`; empty when it has no more work.
    pub fn next(&mut self, lane: usize) -> Vec<u32> {
        match self.kind {
            Kind::Queue => self.queue.pop_front().into_iter().collect(),
            Kind::Fixed => self
                .shares
                .get_mut(lane)
                .and_then(Option::take)
                .unwrap_or_default(),
            Kind::Chunks => self.chunks.pop_front().unwrap_or_default(),
        }
    }

    /// Positions nobody has been given yet (stopped runs report them as not run).
    pub fn remaining(&self) -> Vec<u32> {
        let mut out: Vec<u32> = self.queue.iter().copied().collect();
        out.extend(self.shares.iter().flatten().flatten());
        out.extend(self.chunks.iter().flatten());
        out.sort_unstable();
        out
    }

    /// Hands nothing more to anyone (a stopped run).
    pub fn close(&mut self) {
        self.queue.clear();
        self.shares.clear();
        self.chunks.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_hands_out_one_at_a_time() {
        let mut d = Dispatcher::new(&Dispatch::Queue(vec![0, 1, 2]));
        assert_eq!(d.next(5), vec![0]);
        assert_eq!(d.next(0), vec![1]);
        assert_eq!(d.remaining(), vec![2]);
        assert_eq!(d.next(0), vec![2]);
        assert!(d.next(0).is_empty());
    }

    #[test]
    fn fixed_shares_are_given_once() {
        let plan = Dispatch::for_model(&Model::Processes { workers: 2 }, 5);
        let mut d = Dispatcher::new(&plan);
        assert_eq!(d.next(1), vec![1, 3]);
        assert!(d.next(1).is_empty());
        assert_eq!(d.remaining(), vec![0, 2, 4]);
        assert_eq!(d.next(0), vec![0, 2, 4]);
        assert!(d.next(7).is_empty());
    }

    #[test]
    fn pool_chunks_go_to_whoever_is_free() {
        let plan = Dispatch::for_model(
            &Model::Pool {
                workers: 2,
                chunksize: 2,
            },
            5,
        );
        let mut d = Dispatcher::new(&plan);
        assert_eq!(d.next(1), vec![0, 1]);
        assert_eq!(d.next(1), vec![2, 3]);
        assert_eq!(d.next(0), vec![4]);
        assert!(d.next(0).is_empty());
    }
}
