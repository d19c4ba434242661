//! How `multiprocessing` hands tasks to processes.

use std::ops::Range;

/// A contiguous run of task indices sent to one pool worker at once.
pub type Chunk = Range<u32>;

/// CPython's `Pool.map` default: `chunksize, extra = divmod(len(items), workers * 4)`, plus one
/// if `extra` (and at least 1 — CPython's rule gives 0 only for an empty list).
pub fn default_chunksize(items: u32, workers: u32) -> u32 {
    let div = workers.max(1) * 4;
    let (q, r) = (items / div, items % div);
    (q + u32::from(r != 0)).max(1)
}

/// The chunks `Pool.map` queues for `items` tasks, in order.
pub fn pool_chunks(items: u32, chunksize: u32) -> Vec<Chunk> {
    let size = chunksize.max(1);
    (0..items)
        .step_by(size as usize)
        .map(|s| s..(s + size).min(items))
        .collect()
}

/// Task indices for each of `workers` processes when each `Process` is given its share up front.
pub fn split_round_robin(items: u32, workers: u32) -> Vec<Vec<u32>> {
    let workers = workers.max(1);
    (0..workers)
        .map(|w| (w..items).step_by(workers as usize).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunksize_follows_cpython() {
        // Values from `multiprocessing.Pool._map_async`'s rule.
        assert_eq!(default_chunksize(8, 4), 1);
        assert_eq!(default_chunksize(16, 4), 1);
        assert_eq!(default_chunksize(17, 4), 2);
        assert_eq!(default_chunksize(100, 4), 7);
        assert_eq!(default_chunksize(0, 4), 1);
    }

    #[test]
    fn chunks_cover_every_task_once() {
        assert_eq!(pool_chunks(7, 3), vec![0..3, 3..6, 6..7]);
        assert_eq!(split_round_robin(5, 2), vec![vec![0, 2, 4], vec![1, 3]]);
    }
}
