//! Command-line and URL overrides of a scenario's defaults, checked against documented limits
//! before any work starts.

use serde::{Deserialize, Serialize};

use crate::scenario::GilMode;
use crate::scenario::{Model, Params, Python, Scenario, Workload};
use crate::workload::MAX_N;

/// The documented limits of every parameter (inclusive).
pub struct Limits;

impl Limits {
    /// `n` of `sum_powers`.
    pub const N: (u64, u64) = (0, MAX_N as u64);
    /// Number of tasks.
    pub const TASKS: (u64, u64) = (1, 256);
    /// Threads or processes.
    pub const WORKERS: (u64, u64) = (1, 64);
    /// Switch interval in ms (as `sys.setswitchinterval` takes seconds, we take ms).
    pub const SWITCH_INTERVAL_MS: (f64, f64) = (0.01, 1000.0);
    /// Server time to first byte, ms.
    pub const LATENCY_MS: (u64, u64) = (0, 10_000);
    /// Server bandwidth, kbit/s (0 = unlimited).
    pub const BANDWIDTH_KBPS: (u64, u64) = (0, 10_000_000);
    /// Counter increments per worker.
    pub const INCREMENTS: (u64, u64) = (1, crate::workload::MAX_INCREMENTS);
    /// Pool chunk size.
    pub const CHUNKSIZE: (u64, u64) = (1, 256);
    /// The hash demo's buffer, MiB.
    pub const MIB: (u64, u64) = (1, 1024);
    /// Bytes per `update()` of the hash demo (1 byte up to the largest buffer).
    pub const CHUNK_BYTES: (u64, u64) = (1, 1 << 30);
    /// URLs given explicitly.
    pub const URLS: (u64, u64) = (1, 64);
}

/// A parameter outside its allowed range: names the field and the range, in one line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field} = {value} is out of range: allowed {allowed}")]
pub struct InputError {
    /// The flag or URL parameter (`n`, `workers`, …).
    pub field: &'static str,
    /// What was given.
    pub value: String,
    /// What is allowed, in words (`0..=50000`).
    pub allowed: String,
}

/// Values that replace a scenario's defaults; `None` keeps the default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Overrides {
    /// `sum_powers` argument.
    pub n: Option<u64>,
    /// Number of tasks.
    pub tasks: Option<u64>,
    /// Threads or processes.
    pub workers: Option<u64>,
    /// Switch interval, ms.
    pub switch_interval_ms: Option<f64>,
    /// Classic or free-threaded (threads only).
    pub gil: Option<GilMode>,
    /// URLs to download instead of the lab's own images.
    pub urls: Vec<String>,
    /// Server latency, ms.
    pub latency_ms: Option<u64>,
    /// Server bandwidth, kbit/s.
    pub bandwidth_kbps: Option<u64>,
    /// Counter increments per worker.
    pub increments: Option<u64>,
    /// Pool chunk size.
    pub chunksize: Option<u64>,
    /// The CPython the run stands for.
    #[serde(default)]
    pub python: Option<Python>,
    /// The hash demo's buffer, MiB.
    #[serde(default)]
    pub mib: Option<u64>,
    /// Bytes per `update()` of the hash demo.
    #[serde(default)]
    pub chunk_bytes: Option<u64>,
}

fn check(
    field: &'static str,
    v: Option<u64>,
    (lo, hi): (u64, u64),
) -> Result<Option<u64>, InputError> {
    match v {
        Some(x) if x < lo || x > hi => Err(InputError {
            field,
            value: x.to_string(),
            allowed: format!("{lo}..={hi}"),
        }),
        other => Ok(other),
    }
}

impl Overrides {
    /// `scenario`'s defaults with these overrides applied, or the first value out of range.
    pub fn apply(&self, scenario: &Scenario) -> Result<Params, InputError> {
        let mut p = scenario.defaults();
        let n = check("n", self.n, Limits::N)?;
        let tasks = check("tasks", self.tasks, Limits::TASKS)?;
        let workers = check("workers", self.workers, Limits::WORKERS)?;
        let latency = check("latency-ms", self.latency_ms, Limits::LATENCY_MS)?;
        let bandwidth = check(
            "bandwidth-kbps",
            self.bandwidth_kbps,
            Limits::BANDWIDTH_KBPS,
        )?;
        let increments = check("increments", self.increments, Limits::INCREMENTS)?;
        let chunksize = check("chunksize", self.chunksize, Limits::CHUNKSIZE)?;
        let mib = check("mib", self.mib, Limits::MIB)?;
        let chunk_bytes = check("chunk-bytes", self.chunk_bytes, Limits::CHUNK_BYTES)?;
        let interval_us = match self.switch_interval_ms {
            Some(ms) => {
                let (lo, hi) = Limits::SWITCH_INTERVAL_MS;
                if !(lo..=hi).contains(&ms) {
                    return Err(InputError {
                        field: "switch-interval-ms",
                        value: ms.to_string(),
                        allowed: format!("{lo}..={hi}"),
                    });
                }
                Some((ms * 1000.0).round() as u64)
            }
            None => None,
        };
        if self.urls.len() as u64 > Limits::URLS.1 {
            return Err(InputError {
                field: "url",
                value: format!("{} URLs", self.urls.len()),
                allowed: format!("at most {} URLs", Limits::URLS.1),
            });
        }
        for u in &self.urls {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(InputError {
                    field: "url",
                    value: u.clone(),
                    allowed: "an http:// or https:// URL".into(),
                });
            }
        }

        if let Some(t) = tasks {
            p.tasks = t as u32;
        }
        match &mut p.workload {
            Workload::SumPowers { n: pn } | Workload::Convoy { n: pn, .. } => {
                if let Some(n) = n {
                    *pn = n as u32;
                }
            }
            Workload::Download {
                urls,
                latency_ms,
                bandwidth_kbps,
            } => {
                if !self.urls.is_empty() {
                    *urls = self.urls.clone();
                }
                *latency_ms = latency.unwrap_or(*latency_ms);
                *bandwidth_kbps = bandwidth.unwrap_or(*bandwidth_kbps);
            }
            Workload::Counter { increments: pi } => {
                if let Some(i) = increments {
                    *pi = i;
                }
            }
            Workload::Hash {
                mib: pm,
                chunk_bytes: pc,
            } => {
                *pm = mib.map_or(*pm, |m| m as u32);
                *pc = chunk_bytes.or(*pc);
            }
        }
        let task_count = p.tasks;
        match &mut p.model {
            Model::Sequential => {}
            Model::Threads {
                workers: w,
                gil,
                switch_interval_us,
            } => {
                *w = workers.map_or(*w, |x| x as u32);
                *gil = self.gil.unwrap_or(*gil);
                *switch_interval_us = interval_us.unwrap_or(*switch_interval_us);
            }
            Model::Processes { workers: w } | Model::Interpreters { workers: w } => {
                *w = workers.map_or(*w, |x| x as u32);
            }
            Model::Convoy {
                cpu_threads,
                gil,
                switch_interval_us,
            } => {
                *cpu_threads = workers.map_or(*cpu_threads, |x| x as u32);
                *gil = self.gil.unwrap_or(*gil);
                *switch_interval_us = interval_us.unwrap_or(*switch_interval_us);
            }
            Model::Pool {
                workers: w,
                chunksize: c,
            } => {
                *w = workers.map_or(*w, |x| x as u32);
                *c = chunksize.map_or_else(
                    || crate::exec::default_chunksize(task_count, *w),
                    |x| x as u32,
                );
            }
            Model::Race {
                workers: w,
                switch_interval_us,
            } => {
                *w = workers.map_or(*w, |x| x as u32);
                *switch_interval_us = interval_us.unwrap_or(*switch_interval_us);
            }
        }
        self.apply_python(&mut p)?;
        Ok(p)
    }

    /// Sets the version, so that it and the GIL agree: a run without a GIL is a free-threaded
    /// build's, a free-threaded build has none, and only 3.12+ gives each subinterpreter a GIL.
    fn apply_python(&self, p: &mut Params) -> Result<(), InputError> {
        let refuse = |py: Python, allowed: &str| InputError {
            field: "python",
            value: py.key().to_owned(),
            allowed: allowed.to_owned(),
        };
        if let Some(py) = self.python {
            p.python = py;
        }
        match &mut p.model {
            Model::Threads { gil, .. } | Model::Convoy { gil, .. } => {
                // A free-threaded build makes the threads free; a build with the GIL cannot
                // run a demo (or a --gil free) that has none.
                if let Some(py) = self.python {
                    match (py.gil(), self.gil) {
                        (GilMode::Free, None | Some(GilMode::Free)) => *gil = GilMode::Free,
                        (GilMode::Classic, _) if *gil == GilMode::Classic => {}
                        _ => {
                            return Err(refuse(
                                py,
                                "3.13t or 3.14t for threads without a GIL, a version with the GIL for --gil classic",
                            ));
                        }
                    }
                }
                p.python = p.python.with_gil(*gil);
            }
            Model::Interpreters { .. } if !p.python.has_own_gil_interpreters() => {
                return Err(refuse(
                    p.python,
                    "3.12 or later (a GIL per subinterpreter came with 3.12, PEP 684)",
                ));
            }
            Model::Race { .. } if p.python.gil() == GilMode::Free => {
                return Err(refuse(
                    p.python,
                    "a version with the GIL (the race runs its no-GIL case itself)",
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::find;

    fn scen(name: &str) -> &'static Scenario {
        find(name).expect("scenario exists")
    }

    #[test]
    fn out_of_range_names_field_and_range() {
        let e = Overrides {
            n: Some(1_000_000),
            ..Default::default()
        }
        .apply(scen("cpu-sequential"));
        let msg = e.expect_err("n too big").to_string();
        assert!(
            msg.contains("n = 1000000") && msg.contains("0..=50000"),
            "{msg}"
        );
        let e = Overrides {
            workers: Some(0),
            ..Default::default()
        }
        .apply(scen("cpu-threads"));
        assert_eq!(e.expect_err("0 workers").field, "workers");
    }

    #[test]
    fn pool_chunksize_follows_task_count() {
        let p = Overrides {
            tasks: Some(100),
            ..Default::default()
        }
        .apply(scen("cpu-pool"))
        .expect("valid");
        assert_eq!(
            p.model,
            Model::Pool {
                workers: 4,
                chunksize: 7
            }
        );
    }
}
