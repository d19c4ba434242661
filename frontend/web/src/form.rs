//! The form and the URL: text fields turned into [`Overrides`], checked by the core's own
//! [`Overrides::apply`], so the page shows exactly the messages `gil-lab run` prints.

use gil_lab::gil::GilMode;
use gil_lab::scenario::{InputError, Limits, Overrides, Params, Python, SCENARIOS, Scenario, find};

/// The editable fields, as typed (empty keeps the scenario's default).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields {
    /// `sum_powers` argument.
    pub n: String,
    /// Number of tasks.
    pub tasks: String,
    /// Threads or processes.
    pub workers: String,
    /// `classic`, `free` or empty.
    pub gil: String,
    /// Switch interval in ms.
    pub interval_ms: String,
    /// Server latency, ms.
    pub latency_ms: String,
    /// Bandwidth, kbit/s.
    pub bandwidth_kbps: String,
    /// Counter increments per worker.
    pub increments: String,
    /// The CPython it stands for (`3.9` …), or empty.
    pub python: String,
    /// The hash demo's buffer, MiB.
    pub mib: String,
    /// Bytes per `update()` of the hash demo.
    pub chunk_bytes: String,
}

/// A whole number field: empty is `None`; anything else must be a whole number in `range`.
fn whole(field: &'static str, text: &str, range: (u64, u64)) -> Result<Option<u64>, String> {
    let t = text.trim().replace('_', "");
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<i128>() {
        Ok(v) if v >= 0 && v <= u64::MAX as i128 => Ok(Some(v as u64)),
        Ok(_) => Err(InputError {
            field,
            value: t,
            allowed: format!("{}..={}", range.0, range.1),
        }
        .to_string()),
        Err(_) => Err(format!(
            "{field} = {t:?} is not a whole number: allowed {}..={}",
            range.0, range.1
        )),
    }
}

impl Fields {
    /// The overrides these fields describe, or a message naming the field and its range.
    pub fn overrides(&self) -> Result<Overrides, String> {
        let interval = self.interval_ms.trim();
        let switch_interval_ms =
            if interval.is_empty() {
                None
            } else {
                let (lo, hi) = Limits::SWITCH_INTERVAL_MS;
                Some(interval.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
                format!("switch-interval-ms = {interval:?} is not a number: allowed {lo}..={hi}")
            })?)
            };
        let gil = match self.gil.trim() {
            "" => None,
            "classic" => Some(GilMode::Classic),
            "free" => Some(GilMode::Free),
            other => {
                return Err(format!(
                    "gil = {other:?} is not a GIL mode: allowed classic or free"
                ));
            }
        };
        Ok(Overrides {
            n: whole("n", &self.n, Limits::N)?,
            tasks: whole("tasks", &self.tasks, Limits::TASKS)?,
            workers: whole("workers", &self.workers, Limits::WORKERS)?,
            switch_interval_ms,
            gil,
            latency_ms: whole("latency-ms", &self.latency_ms, Limits::LATENCY_MS)?,
            bandwidth_kbps: whole(
                "bandwidth-kbps",
                &self.bandwidth_kbps,
                Limits::BANDWIDTH_KBPS,
            )?,
            increments: whole("increments", &self.increments, Limits::INCREMENTS)?,
            python: match self.python.trim() {
                "" => None,
                v => Some(Python::parse(v).map_err(|e| e.to_string())?),
            },
            mib: whole("mib", &self.mib, Limits::MIB)?,
            chunk_bytes: whole("chunk-bytes", &self.chunk_bytes, Limits::CHUNK_BYTES)?,
            ..Overrides::default()
        })
    }

    /// The parameters for `scenario`, validated by the core.
    pub fn params(&self, scenario: &Scenario) -> Result<Params, String> {
        self.overrides()?
            .apply(scenario)
            .map_err(|e: InputError| e.to_string())
    }

    /// Fields prefilled from URL query pairs (`n`, `tasks`, `workers`, `gil`,
    /// `switch-interval-ms`, `latency-ms`, `bandwidth-kbps`, `increments`, `mib`,
    /// `chunk-bytes`, `python`).
    pub fn from_query(pairs: &[(String, String)]) -> Self {
        let mut f = Fields::default();
        for (k, v) in pairs {
            let v = v.clone();
            match k.as_str() {
                "n" => f.n = v,
                "tasks" => f.tasks = v,
                "workers" => f.workers = v,
                "gil" => f.gil = v,
                "switch-interval-ms" | "interval" => f.interval_ms = v,
                "latency-ms" => f.latency_ms = v,
                "bandwidth-kbps" => f.bandwidth_kbps = v,
                "increments" => f.increments = v,
                "python" => f.python = v,
                "mib" => f.mib = v,
                "chunk-bytes" => f.chunk_bytes = v,
                _ => {}
            }
        }
        f
    }
}

/// The scenario called `name`, or a message listing the known ones.
pub fn scenario(name: &str) -> Result<&'static Scenario, String> {
    find(name).ok_or_else(|| {
        let names: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
        format!(
            "unknown scenario {name:?}: choose one of {}",
            names.join(", ")
        )
    })
}

/// The quick preset: a size that runs in a few seconds in a browser.
pub const QUICK_N: &str = "2000";
/// Increments per worker in the quick race preset.
pub const QUICK_INCREMENTS: &str = "100000";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_and_zero_inputs_name_the_field() {
        let sc = scenario("cpu-threads").expect("known");
        let f = Fields {
            n: "-5".into(),
            ..Fields::default()
        };
        let e = f.params(sc).expect_err("negative n");
        assert!(e.contains("n = -5") && e.contains("0..=50000"), "{e}");
        let f = Fields {
            workers: "0".into(),
            ..Fields::default()
        };
        let e = f.params(sc).expect_err("0 workers");
        assert!(e.starts_with("workers = 0"), "{e}");
        let f = Fields {
            n: "abc".into(),
            ..Fields::default()
        };
        assert!(
            f.params(sc)
                .expect_err("text")
                .contains("not a whole number")
        );
        assert!(
            scenario("nope")
                .expect_err("unknown")
                .contains("cpu-threads")
        );
    }
}
