//! The modelled machine's cores and its OS scheduler: lanes that want a core get a free one
//! (the lowest-numbered, so pictures are stable); when none is free they wait in a FIFO run
//! queue (the `cpu_wait` state) and the running lanes are preempted round-robin at the end of
//! their time slice. A lane holding the GIL can be preempted like any other: that is real.
//!
//! The scheduler only says who sits on which core; the engine keeps each lane's progress.

use std::collections::VecDeque;

use crate::trace::CoreSample;

/// Most busy fractions (buckets × cores) a report's core chart holds: about 0.5 MB of its
/// JSON. A 50 ms bucket over a simulated half hour on 256 cores was 9 million of them (a
/// 107 MB report, gigabytes to build); the chart cannot show more than a few hundred columns.
pub const SAMPLE_CELLS: u64 = 40_000;

/// The widest bucket when there is room for more: the native meter's 50 ms.
pub const MAX_SAMPLE_NS: u64 = 50_000_000;

/// Cores, the run queue, and a log of who was on which core when (for the per-core chart).
#[derive(Debug)]
pub struct Cpu {
    slots: Vec<Option<usize>>,
    /// The lanes on a core, in no particular order (what the engine walks at every event).
    on: Vec<usize>,
    since: Vec<u64>,
    queue: VecDeque<usize>,
    busy: usize,
    /// (core, from, to) ns: every stretch a core was busy.
    log: Vec<(usize, u64, u64)>,
}

impl Cpu {
    /// `cores` idle cores.
    pub fn new(cores: u32) -> Cpu {
        Cpu {
            slots: vec![None; cores as usize],
            on: Vec::new(),
            since: vec![0; cores as usize],
            queue: VecDeque::new(),
            busy: 0,
            log: Vec::new(),
        }
    }

    /// How many cores there are.
    pub fn cores(&self) -> u64 {
        self.slots.len() as u64
    }

    /// How many cores are busy.
    pub fn busy(&self) -> usize {
        self.busy
    }

    /// The lanes on a core.
    pub fn running(&self) -> &[usize] {
        &self.on
    }

    /// Whether lanes are waiting for a core.
    pub fn contended(&self) -> bool {
        !self.queue.is_empty()
    }

    /// Puts `lane` on a free core at `now`, if there is one; returns the core.
    pub fn place(&mut self, lane: usize, now: u64) -> Option<usize> {
        let slot = self.slots.iter().position(Option::is_none)?;
        self.slots[slot] = Some(lane);
        self.since[slot] = now;
        self.busy += 1;
        self.on.push(lane);
        Some(slot)
    }

    /// `lane` waits for a core.
    pub fn enqueue(&mut self, lane: usize) {
        if !self.queue.contains(&lane) {
            self.queue.push_back(lane);
        }
    }

    /// `lane` no longer waits for a core.
    pub fn dequeue(&mut self, lane: usize) {
        self.queue.retain(|&l| l != lane);
    }

    /// Core `slot` is freed at `now`; the first waiting lane, if any, gets it. Returns that
    /// lane.
    pub fn leave(&mut self, slot: usize, now: u64) -> Option<usize> {
        let lane = self.slots.get(slot).copied().flatten()?;
        if now > self.since[slot] {
            self.log.push((slot, self.since[slot], now));
        }
        self.slots[slot] = None;
        self.busy -= 1;
        if let Some(k) = self.on.iter().position(|&l| l == lane) {
            self.on.swap_remove(k);
        }
        let next = self.queue.pop_front()?;
        self.slots[slot] = Some(next);
        self.since[slot] = now;
        self.busy += 1;
        self.on.push(next);
        Some(next)
    }

    /// The time slice of the lane on core `slot` ended at `now`: if others wait, it goes to
    /// the back of the queue and the first waiting lane takes the core. Returns the lane now
    /// on the core, when it changed.
    pub fn preempt(&mut self, slot: usize, now: u64) -> Option<usize> {
        let current = self.slots.get(slot).copied().flatten()?;
        if self.queue.is_empty() {
            return None;
        }
        let next = self.leave(slot, now)?;
        self.queue.push_back(current);
        Some(next)
    }

    /// Per-core busy fractions over `[0, end)` in buckets of about `end / 100` (at least
    /// 100 µs, at most 50 ms like the native meter's samples), µs; wider where that would
    /// give more than [`SAMPLE_CELLS`] numbers.
    pub fn samples(&self, end_ns: u64) -> Vec<CoreSample> {
        if end_ns == 0 || self.slots.is_empty() {
            return Vec::new();
        }
        let width = self.sample_width(end_ns);
        let buckets = end_ns.div_ceil(width) as usize;
        let cores = self.slots.len();
        let mut busy = vec![vec![0u64; cores]; buckets];
        for &(core, from, to) in &self.log {
            let (from, to) = (from.min(end_ns), to.min(end_ns));
            let mut b = (from / width) as usize;
            while b < buckets && (b as u64) * width < to {
                let lo = from.max(b as u64 * width);
                let hi = to.min((b as u64 + 1) * width);
                busy[b][core] += hi.saturating_sub(lo);
                b += 1;
            }
        }
        busy.into_iter()
            .enumerate()
            .map(|(b, per_core)| {
                let start = b as u64 * width;
                let end = ((b as u64 + 1) * width).min(end_ns);
                let len = (end - start).max(1) as f64;
                CoreSample {
                    start_us: start / 1000,
                    end_us: end / 1000,
                    busy: per_core
                        .into_iter()
                        .map(|ns| (ns as f64 / len).min(1.0) as f32)
                        .collect(),
                }
            })
            .collect()
    }

    /// How wide [`Cpu::samples`]'s buckets are over `[0, end)`, ns.
    pub fn sample_width(&self, end_ns: u64) -> u64 {
        let cells = (SAMPLE_CELLS / self.slots.len().max(1) as u64).max(1);
        (end_ns / 100)
            .clamp(100_000, MAX_SAMPLE_NS)
            .max(end_ns.div_ceil(cells))
    }

    /// Frees every core at `now` (the end of a stage), so the log is complete.
    pub fn close(&mut self, now: u64) {
        for slot in 0..self.slots.len() {
            if self.slots[slot].is_some() {
                self.log.push((slot, self.since[slot], now));
                self.slots[slot] = None;
            }
        }
        self.busy = 0;
        self.on.clear();
        self.queue.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_beyond_the_cores_wait_and_rotate() {
        let mut cpu = Cpu::new(2);
        assert_eq!(cpu.place(10, 0), Some(0));
        assert_eq!(cpu.place(11, 0), Some(1));
        assert_eq!(cpu.place(12, 0), None);
        cpu.enqueue(12);
        assert!(cpu.contended());
        // Lane 10's slice ends: 12 takes core 0, 10 waits.
        assert_eq!(cpu.preempt(0, 4_000_000), Some(12));
        assert_eq!(cpu.busy(), 2);
        // Lane 11 blocks: 10 gets core 1.
        assert_eq!(cpu.leave(1, 5_000_000), Some(10));
        assert!(!cpu.contended());
        cpu.close(8_000_000);
        let s = cpu.samples(8_000_000);
        let total: f64 = s
            .iter()
            .map(|x| {
                x.busy.iter().map(|&b| f64::from(b)).sum::<f64>() * (x.end_us - x.start_us) as f64
            })
            .sum();
        // Both cores busy the whole 8 ms.
        assert!((total - 16_000.0).abs() < 1.0, "{total}");
    }

    #[test]
    fn samples_of_a_long_run_on_many_cores_stay_few() {
        // Issue 11: half an hour on 256 cores in 50 ms buckets was 9 M numbers, 107 MB.
        let mut cpu = Cpu::new(256);
        for lane in 0..256 {
            cpu.place(lane, 0);
        }
        let end = 1_800_000_000_000;
        cpu.close(end);
        let s = cpu.samples(end);
        let cells: usize = s.iter().map(|x| x.busy.len()).sum();
        assert!(cells as u64 <= SAMPLE_CELLS, "{cells}");
        assert!(s.len() >= 100, "{}", s.len());
        assert!(s.iter().all(|x| x.busy.iter().all(|&b| b > 0.99)));
        // A short run keeps its 50 ms (or finer) buckets.
        let mut two = Cpu::new(2);
        two.close(60_000_000_000);
        assert_eq!(two.sample_width(60_000_000_000), MAX_SAMPLE_NS);
    }
}
