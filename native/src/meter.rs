//! CPU time from `getrusage` (this process and its waited-for children) and per-core load from
//! `/proc/stat`, sampled on a background thread while a run goes on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use gil_lab::platform::Clock;
use gil_lab::runner::{Measured, Meter};
use gil_lab::trace::{CoreSample, Span};

use crate::clock::MonoClock;

/// How often `/proc/stat` is read (CPYTHON-FACTS used 50 ms too).
const SAMPLE_EVERY: Duration = Duration::from_millis(50);
/// Shortest sample worth keeping, µs.
const MIN_SAMPLE_US: u64 = 20_000;

/// User and system CPU µs of this process plus its children.
fn cpu_times() -> (u64, u64) {
    let mut total = (0, 0);
    for who in [libc::RUSAGE_SELF, libc::RUSAGE_CHILDREN] {
        // SAFETY: an all-zero rusage is a valid value to be overwritten by getrusage.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `ru` is valid and writable; `who` is one of the two documented constants.
        if unsafe { libc::getrusage(who, &mut ru) } == 0 {
            let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
            total.0 += us(ru.ru_utime);
            total.1 += us(ru.ru_stime);
        }
    }
    total
}

/// Busy and total jiffies per core, from the `cpuN` lines of `/proc/stat`.
fn read_proc_stat() -> Option<Vec<(u64, u64)>> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let cores: Vec<(u64, u64)> = text
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .map(|l| {
            let f: Vec<u64> = l
                .split_whitespace()
                .skip(1)
                .filter_map(|x| x.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal: idle + iowait are not busy.
            let total: u64 = f.iter().take(8).sum();
            let idle = f.get(3).copied().unwrap_or(0) + f.get(4).copied().unwrap_or(0);
            (total - idle, total)
        })
        .collect();
    (!cores.is_empty()).then_some(cores)
}

/// The native [`Meter`].
pub struct NativeMeter {
    clock: MonoClock,
    cpu_at_start: (u64, u64),
    stop: Arc<AtomicBool>,
    sampler: Option<JoinHandle<Vec<CoreSample>>>,
}

impl NativeMeter {
    /// A meter stamping core samples on `clock`.
    pub fn new(clock: MonoClock) -> Self {
        Self {
            clock,
            cpu_at_start: (0, 0),
            stop: Arc::new(AtomicBool::new(false)),
            sampler: None,
        }
    }

    /// Whether per-core load can be read here.
    pub fn available() -> bool {
        read_proc_stat().is_some()
    }
}

impl Meter for NativeMeter {
    fn start(&mut self) {
        self.cpu_at_start = cpu_times();
        let (stop, clock) = (self.stop.clone(), self.clock);
        self.sampler = Some(std::thread::spawn(move || {
            let mut samples = Vec::new();
            let Some(mut prev) = read_proc_stat() else {
                return samples;
            };
            let mut prev_t = clock.now_us();
            while !stop.load(Ordering::Relaxed) {
                // `stop` unparks us, so the last sample ends when the run does.
                std::thread::park_timeout(SAMPLE_EVERY);
                let Some(now) = read_proc_stat() else { break };
                let t = clock.now_us();
                // /proc/stat counts in 10 ms ticks: a much shorter tail sample is noise.
                if t.saturating_sub(prev_t) < MIN_SAMPLE_US {
                    break;
                }
                let busy = now
                    .iter()
                    .zip(&prev)
                    .map(|(&(b1, t1), &(b0, t0))| {
                        let dt = t1.saturating_sub(t0);
                        if dt == 0 {
                            0.0
                        } else {
                            (b1.saturating_sub(b0) as f32 / dt as f32).min(1.0)
                        }
                    })
                    .collect();
                samples.push(CoreSample {
                    start_us: prev_t,
                    end_us: t,
                    busy,
                });
                (prev, prev_t) = (now, t);
            }
            samples
        }));
    }

    fn stop(&mut self, _spans: &[Span], _started_us: u64, _ended_us: u64) -> Measured {
        self.stop.store(true, Ordering::Relaxed);
        let cores = self
            .sampler
            .take()
            .and_then(|h| {
                h.thread().unpark();
                h.join().ok()
            })
            .unwrap_or_default();
        let (u1, s1) = cpu_times();
        Measured {
            cpu_user_us: u1.saturating_sub(self.cpu_at_start.0),
            cpu_sys_us: s1.saturating_sub(self.cpu_at_start.1),
            cores,
            ..Measured::default()
        }
    }
}
