//! # GIL Lab in the browser: what the page and the engine share
//!
//! Browsers expose neither CPU time nor per-core load, and a page without shared memory runs
//! its threads in separate workers. This crate holds the pure, platform-free pieces of the
//! browser paths, so they build and test natively:
//!
//! - [`protocol`]: every message between page, host worker and lane workers, once;
//! - [`host::HostCore`]: the host worker's side of a worker-based run — the core's GIL machine
//!   granting the GIL by messages, the core's dispatcher, the report through
//!   `gil_lab::runner::assemble`;
//! - [`lane::LaneCore`]: one lane worker running the core's thread loop for real;
//! - [`LiveRun`]: the page's growing picture of a run (kept when the learner presses Stop);
//! - [`estimate_cores`]: per-core utilisation *estimated* from what the lanes were doing.
//!
//! ```
//! use gil_lab::trace::{Span, SpanState};
//! let spans = [Span { lane: 0, task: None, state: SpanState::Running, start_us: 0, end_us: 1000 }];
//! let cores = gil_lab_browser::estimate_cores(&spans, 1000, 2);
//! assert!(cores.iter().all(|c| c.busy.len() == 2));
//! ```

mod assemble;
pub mod host;
pub mod lane;
pub mod protocol;
#[cfg(test)]
mod testkit;

pub use assemble::{LiveRun, OpenSpan, machine};

use gil_lab::runner::{Measured, Meter};
use gil_lab::scenario::{Params, Workload};
use gil_lab::trace::{CoreSample, CpuSource, Span};

/// Number of samples the estimated per-core chart is cut into.
const SAMPLES: u64 = 100;
/// Shortest sample: finer than this the estimate only shows noise.
const MIN_SAMPLE_US: u64 = 5_000;

/// Per-core load estimated from lane activity: each lane's `Running` time goes to core
/// `lane % cores` (as an OS would keep a busy thread on one core), and whatever exceeds a full
/// core spills onto the least busy ones. With a classic GIL this shows the threads' one core of
/// work shared between cores, as `/proc/stat` shows it natively.
pub fn estimate_cores(spans: &[Span], wall_us: u64, cores: u32) -> Vec<CoreSample> {
    let cores = cores.max(1) as usize;
    if wall_us == 0 {
        return Vec::new();
    }
    let width = (wall_us / SAMPLES).max(MIN_SAMPLE_US);
    let count = wall_us.div_ceil(width);
    let mut load = vec![vec![0f64; cores]; count as usize];
    for s in spans.iter().filter(|s| s.state.on_core()) {
        let end = s.end_us.min(wall_us);
        let mut t = s.start_us;
        while t < end {
            let k = t / width;
            let bucket_end = ((k + 1) * width).min(end);
            if let Some(row) = load.get_mut(k as usize) {
                row[s.lane as usize % cores] += (bucket_end - t) as f64;
            }
            t = bucket_end;
        }
    }
    load.into_iter()
        .enumerate()
        .map(|(k, row)| {
            let start = k as u64 * width;
            let end = (start + width).min(wall_us);
            let len = (end - start).max(1) as f64;
            let mut busy: Vec<f64> = row.iter().map(|x| x / len).collect();
            spill(&mut busy);
            CoreSample {
                start_us: start,
                end_us: end,
                busy: busy.iter().map(|b| b.clamp(0.0, 1.0) as f32).collect(),
            }
        })
        .collect()
}

/// Moves load above 1.0 on any core to the least busy cores.
fn spill(busy: &mut [f64]) {
    let extra: f64 = busy.iter().map(|b| (b - 1.0).max(0.0)).sum();
    if extra <= 0.0 {
        return;
    }
    for b in busy.iter_mut() {
        *b = b.min(1.0);
    }
    let mut left = extra;
    while left > 1e-9 {
        let Some((i, _)) = busy
            .iter()
            .enumerate()
            .filter(|(_, b)| **b < 1.0)
            .min_by(|a, b| a.1.total_cmp(b.1))
        else {
            break;
        };
        let room = 1.0 - busy[i];
        let put = room.min(left);
        busy[i] += put;
        left -= put;
    }
}

/// The browser's [`Meter`]: browsers expose no CPU clock or core load, so it estimates both
/// from the lanes' running spans, the same way for the plain host, the live picture and the
/// threaded engine.
///
/// Lanes that "run" at once share the machine's cores, as threads share them under an OS: a
/// lane's running span is wall time, not CPU time. So at each moment the estimate counts the
/// running lanes but never more than `cores` of them; summing the spans instead claimed 3.9
/// cores busy on a 2-core machine (issue 14). When the cores bounded the sum, a note says so.
#[derive(Debug, Clone, Copy)]
pub struct SpanMeter {
    /// The machine's cores.
    pub cores: u32,
}

impl Meter for SpanMeter {
    fn start(&mut self) {}

    fn stop(&mut self, spans: &[Span], started_us: u64, ended_us: u64) -> Measured {
        let cores = self.cores.max(1);
        let wall_us = ended_us.saturating_sub(started_us);
        // On a clock whose 0 is the first task's start, as the report's.
        let spans: Vec<Span> = spans
            .iter()
            .map(|s| Span {
                start_us: s.start_us.saturating_sub(started_us),
                end_us: s.end_us.saturating_sub(started_us),
                ..*s
            })
            .collect();
        // (time, +1 for a start / -1 for an end); ends sort before starts at the same instant.
        let mut edges: Vec<(u64, i8)> = spans
            .iter()
            .filter(|s| s.state.on_core() && s.end_us > s.start_us)
            .flat_map(|s| [(s.start_us, 1), (s.end_us, -1)])
            .collect();
        edges.sort_unstable();
        let (mut running, mut most, mut at, mut bounded) = (0i64, 0i64, 0u64, 0u64);
        for (t, delta) in edges {
            bounded += (t - at) * running.clamp(0, i64::from(cores)) as u64;
            at = t;
            running += i64::from(delta);
            most = most.max(running);
        }
        let summed = running_us(&spans);
        // A cut under 1 % (or 1 ms) is rounding, not news.
        let note = (summed > bounded + (bounded / 100).max(1000)).then(|| {
            format!(
                "Up to {most} lanes ran at once on this machine's {cores} cores, which the browser shares between them: the estimated CPU time counts at most {cores} cores at a time (the lanes' running time adds up to {}).",
                gil_lab::view::format_duration(summed)
            )
        });
        let mut samples = estimate_cores(&spans, wall_us, cores);
        // Samples are on the run clock, as a native meter's are.
        for c in &mut samples {
            c.start_us += started_us;
            c.end_us += started_us;
        }
        Measured {
            cpu_user_us: bounded,
            cpu_sys_us: 0,
            cores: samples,
            source: CpuSource::Estimated,
            notes: note.into_iter().collect(),
        }
    }
}

/// Why the race demo does not run on a page without shared memory.
pub use gil_lab::plan::NEEDS_SHARED_MEMORY as RACE_NEEDS_SHARED_MEMORY;

/// Said in the report of every thread run of a page without shared memory.
pub const MESSAGE_GIL_NOTE: &str = "This page has no shared memory, so each thread ran in its own worker and the core's GIL, in the host worker, granted the GIL by messages; every hand-off is ordered on its clock.";

/// The note on the modelled network of a run with downloads (none for other runs).
pub fn io_note(params: &Params) -> Option<String> {
    let Workload::Download {
        latency_ms,
        bandwidth_kbps,
        ..
    } = params.workload
    else {
        return None;
    };
    let bandwidth = if bandwidth_kbps == 0 {
        "unlimited bandwidth".to_owned()
    } else {
        format!("{bandwidth_kbps} kbit/s per download")
    };
    Some(format!(
        "Each download fetched one of the page's own image files, then waited out a modelled network ({latency_ms} ms to the first byte, {bandwidth}) with the GIL released."
    ))
}

pub use gil_lab::plan::lanes_of;

/// Total time on a core of every lane (running Python code, or C code without the GIL): the
/// CPU time estimate in the browser.
pub fn running_us(spans: &[Span]) -> u64 {
    spans
        .iter()
        .filter(|s| s.state.on_core())
        .map(Span::duration_us)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gil_lab::trace::SpanState;

    fn run(lane: u32, a: u64, b: u64) -> Span {
        Span {
            lane,
            task: None,
            state: SpanState::Running,
            start_us: a,
            end_us: b,
        }
    }

    /// Four processes on two cores (issue 14: "CPU / wall 3.94" on a 2-core machine): the
    /// estimate never exceeds cores × wall, and says when it was bounded.
    #[test]
    fn cpu_time_never_exceeds_cores_times_wall() {
        let wall = 1_000_000;
        let four: Vec<Span> = (0..4).map(|l| run(l, 0, wall)).collect();
        let estimate = |spans: &[Span], wall, cores| {
            let m = SpanMeter { cores }.stop(spans, 0, wall);
            let note = m.notes.first().cloned();
            (m, note)
        };
        let (m, note) = estimate(&four, wall, 2);
        assert_eq!(m.cpu_user_us, 2 * wall);
        assert_eq!(m.source, CpuSource::Estimated);
        let note = note.expect("the bound is said");
        assert!(
            note.contains("Up to 4 lanes") && note.contains("2 cores"),
            "{note}"
        );
        // On enough cores nothing is cut, and nothing is said.
        let (m, note) = estimate(&four, wall, 4);
        assert_eq!((m.cpu_user_us, note), (4 * wall, None));
        // Turns taken one after another are one core's work whatever the cores.
        let turns: Vec<Span> = (0..10)
            .map(|k| run(k % 4, k as u64 * 100, (k as u64 + 1) * 100))
            .collect();
        assert_eq!(estimate(&turns, 1000, 1).0.cpu_user_us, 1000);
        // Spans on a run clock that began before the first task count from that task's start,
        // and the core samples stay on the run clock.
        let late: Vec<Span> = (0..2).map(|l| run(l, 5_000, 5_000 + wall)).collect();
        let m = SpanMeter { cores: 2 }.stop(&late, 5_000, 5_000 + wall);
        assert_eq!(m.cpu_user_us, 2 * wall);
        assert!(
            m.cores.first().is_some_and(|c| c.start_us == 5_000),
            "{:?}",
            m.cores.first()
        );
    }

    #[test]
    fn two_parallel_lanes_fill_two_cores() {
        let c = estimate_cores(&[run(0, 0, 1_000_000), run(1, 0, 1_000_000)], 1_000_000, 2);
        assert!(c.iter().all(|s| s.busy.iter().all(|b| *b > 0.99)));
    }

    #[test]
    fn overflow_spills_to_idle_core() {
        // Lanes 0 and 2 both map to core 0 of 2.
        let c = estimate_cores(&[run(0, 0, 1_000_000), run(2, 0, 1_000_000)], 1_000_000, 2);
        assert!(c.iter().all(|s| s.busy[1] > 0.99));
    }

    #[test]
    fn alternating_lanes_share_one_core_of_work() {
        let spans: Vec<Span> = (0..100)
            .map(|k| run(k % 2, k as u64 * 10_000, (k as u64 + 1) * 10_000))
            .collect();
        let c = estimate_cores(&spans, 1_000_000, 2);
        let total: f32 = c.iter().map(|s| s.busy.iter().sum::<f32>()).sum();
        assert!((total / c.len() as f32 - 1.0).abs() < 0.05, "{total}");
    }
}
