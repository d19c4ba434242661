//! Remembers the wall time of sequential runs so a later parallel run of the same work can
//! show its speed-up (`$XDG_CACHE_HOME/gil-lab/baselines.json`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use gil_lab::scenario::{Model, Scenario};
use gil_lab::trace::RunReport;

fn path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("gil-lab").join("baselines.json"))
}

/// What makes two runs "the same work": the workload and the task count.
fn key(report: &RunReport) -> String {
    format!(
        "{}|{}",
        serde_json::to_string(&report.params.workload).unwrap_or_default(),
        report.params.tasks
    )
}

fn load() -> BTreeMap<String, u64> {
    path()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Stores a sequential run's wall time, or fills `baseline_wall_us` from a stored one. The
/// cache is a convenience: failing to read or write it changes nothing else.
pub fn attach(scenario: &Scenario, report: &mut RunReport) {
    let k = key(report);
    let all_ok = report.tasks.iter().all(|t| t.outcome.is_ok());
    if report.params.model == Model::Sequential {
        if all_ok {
            let mut map = load();
            map.insert(k, report.wall_us);
            if let (Some(p), Ok(text)) = (path(), serde_json::to_string_pretty(&map)) {
                let _ = p.parent().map(std::fs::create_dir_all);
                // Whole or not at all: two runs finishing together must not corrupt it.
                let _ = crate::files::write_atomic(&p, text.as_bytes());
            }
        }
    } else if scenario.baseline.is_some() {
        report.baseline_wall_us = load().get(&k).copied();
    }
}
