//! A worker-based run without a browser: a [`HostCore`] and its [`LaneCore`]s exchanging their
//! real messages (as JSON text, like the page's workers) on one thread, each lane on its own
//! skewed reading of one clock that advances as work is done. Sleeps and downloads end when
//! the clock reaches them.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};

use gil_lab::platform::Clock;
use gil_lab::trace::RunReport;
use gil_lab::workload::{CounterCell, DownloadOutput, SharedCounter};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::host::{HostCore, HostOut};
use crate::lane::LaneCore;
use crate::protocol::{FromLane, LaneStep, ToLane};

/// One clock every reading of which costs `tick` µs of "work".
pub struct Base {
    now: AtomicU64,
    tick: u64,
}

impl Base {
    pub fn new(tick: u64) -> Self {
        Self {
            now: AtomicU64::new(1_000),
            tick,
        }
    }
    pub fn read(&self) -> u64 {
        self.now.fetch_add(self.tick, Ordering::Relaxed)
    }
    pub fn peek(&self) -> u64 {
        self.now.load(Ordering::Relaxed)
    }
    pub fn jump_to(&self, t: u64) {
        self.now.fetch_max(t, Ordering::Relaxed);
    }
}

/// A lane's reading: the base, shifted by its skew, counted from the run's epoch.
struct LaneClock<'a> {
    base: &'a Base,
    skew: i64,
    epoch_us: u64,
}

impl Clock for LaneClock<'_> {
    fn now_us(&self) -> u64 {
        (self.base.read() as i64 + self.skew - self.epoch_us as i64).max(0) as u64
    }
}

/// Round-trips a message through its JSON text, as postMessage of a string does.
fn wire<T: Serialize + DeserializeOwned>(m: &T) -> T {
    let text = crate::protocol::to_text(m);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

struct Lane {
    core: LaneCore,
    skew: i64,
    step: Option<LaneStep>,
    /// A blocking call in progress, ending at this base time.
    until: Option<u64>,
    gone: bool,
}

/// Options of a simulated browser run.
pub struct Rig {
    pub tick: u64,
    /// Each lane's clock is off by `lane * skew_us` (alternating sign).
    pub skew_us: i64,
    /// A download takes this long.
    pub download_us: u64,
    /// A lane worker's start.
    pub start_us: u64,
    pub shared: Option<&'static SharedCounter>,
}

impl Default for Rig {
    fn default() -> Self {
        Self {
            tick: 2,
            skew_us: 0,
            download_us: 3_000,
            start_us: 300,
            shared: None,
        }
    }
}

/// A shared counter the lanes all update (stands in for the `SharedArrayBuffer`).
pub struct SharedRef(pub &'static SharedCounter);

impl CounterCell for SharedRef {
    fn load(&self) -> u64 {
        self.0.load()
    }
    fn store(&self, v: u64) {
        self.0.store(v);
    }
    fn try_lock(&self) -> bool {
        self.0.try_lock()
    }
    fn lock(&self) {
        self.0.lock();
    }
    fn unlock(&self) {
        self.0.unlock();
    }
}

impl Rig {
    /// Runs `host` to its end; returns the host (for its report) and the messages it sent.
    pub fn run(&self, mut host: HostCore, epoch_us: Option<u64>) -> (HostCore, usize) {
        let base = Base::new(self.tick);
        let mut epoch = epoch_us;
        let mut lanes: BTreeMap<u32, Lane> = BTreeMap::new();
        let mut to_host: VecDeque<(u32, Vec<FromLane>)> = VecDeque::new();
        let mut to_lane: VecDeque<(u32, ToLane)> = VecDeque::new();
        let mut outs: VecDeque<HostOut> = host.begin(base.peek() as f64 / 1000.0).into();
        let mut sent = 0usize;
        let mut finished = false;
        for _round in 0..5_000_000 {
            // The host's JavaScript carries out what the host asked.
            while let Some(o) = outs.pop_front() {
                match o {
                    HostOut::Spawn { config } => {
                        let config = wire(&config);
                        let lane = config.lane;
                        if let Some(e) = config.epoch_ms {
                            epoch = Some((e * 1000.0) as u64);
                        }
                        let shared = self
                            .shared
                            .map(|c| Box::new(SharedRef(c)) as Box<dyn CounterCell>);
                        let sign = if lane % 2 == 0 { 1 } else { -1 };
                        // Making a worker and its engine instance takes a while.
                        base.jump_to(base.peek() + self.start_us);
                        lanes.insert(
                            lane,
                            Lane {
                                core: LaneCore::new(config, shared, base.peek() as f64 / 1000.0),
                                skew: sign * lane as i64 * self.skew_us,
                                step: None,
                                until: None,
                                gone: false,
                            },
                        );
                    }
                    HostOut::Send { lane, msg } => {
                        sent += 1;
                        to_lane.push_back((lane, wire(&msg)));
                    }
                    HostOut::Terminate { lane } => {
                        if let Some(l) = lanes.get_mut(&lane) {
                            l.gone = true;
                        }
                    }
                    HostOut::Started { epoch_ms } => epoch = Some((epoch_ms * 1000.0) as u64),
                    HostOut::Finished => finished = true,
                }
            }
            if finished {
                return (host, sent);
            }
            let epoch_us = epoch.unwrap_or(0);
            // Lanes hear from the host.
            while let Some((lane, msg)) = to_lane.pop_front() {
                if let Some(l) = lanes.get_mut(&lane) {
                    let clock = LaneClock {
                        base: &base,
                        skew: l.skew,
                        epoch_us,
                    };
                    l.core.on_message(msg, &clock);
                }
            }
            // Blocking calls that are over.
            for l in lanes.values_mut() {
                if let Some(until) = l.until
                    && base.peek() >= until
                {
                    l.until = None;
                    match l.step.take() {
                        Some(LaneStep::Sleep { .. }) => l.core.slept(),
                        Some(LaneStep::Download { file_name, .. }) => {
                            l.core.downloaded(Ok(DownloadOutput {
                                file: file_name,
                                bytes: 1,
                            }))
                        }
                        _ => {}
                    }
                }
            }
            // Each runnable lane runs one slice, in turn.
            let mut ran = false;
            for (&id, l) in lanes.iter_mut() {
                if l.gone || !l.core.runnable() {
                    continue;
                }
                ran = true;
                let clock = LaneClock {
                    base: &base,
                    skew: l.skew,
                    epoch_us,
                };
                let slice = 500;
                let step = l.core.run(&clock, slice);
                match &step {
                    LaneStep::Sleep { us } => l.until = Some(base.peek() + us),
                    LaneStep::Download { .. } => l.until = Some(base.peek() + self.download_us),
                    _ => {}
                }
                l.step = Some(step);
                let _ = id;
            }
            for (&id, l) in lanes.iter_mut() {
                let out = l.core.take_outbox();
                if !out.is_empty() {
                    to_host.push_back((id, wire(&out)));
                }
            }
            if !ran && to_host.is_empty() && to_lane.is_empty() {
                // Everyone waits: time passes until the next blocking call ends.
                if let Some(next) = lanes.values().filter_map(|l| l.until).min() {
                    base.jump_to(next);
                }
            }
            while let Some((lane, msgs)) = to_host.pop_front() {
                let now_ms = base.read() as f64 / 1000.0;
                outs.extend(host.on_lane(lane, msgs, now_ms));
            }
        }
        panic!("the run did not finish");
    }

    /// Runs and returns the report.
    pub fn report(&self, host: HostCore) -> RunReport {
        let (host, _) = self.run(host, None);
        host.report().unwrap_or_else(|| panic!("no report"))
    }
}
