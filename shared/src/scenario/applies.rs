//! Which parameters mean something for which scenario: a value given where it changes nothing
//! (`--gil free` for processes, `--url` for a CPU demo) is refused rather than silently
//! ignored, so a learner never believes they changed a run they did not.

use crate::scenario::GilMode;
use crate::scenario::{Model, Overrides, Scenario, Workload};

/// A parameter given for a scenario it does not apply to: names the field and why, in one
/// line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field} does not apply to {scenario}: {why}")]
pub struct NotApplicable {
    /// The flag or URL parameter (`gil`, `url`, …).
    pub field: &'static str,
    /// The scenario's name.
    pub scenario: &'static str,
    /// Why, in words.
    pub why: &'static str,
}

impl Overrides {
    /// Refuses the first parameter that would change nothing in `scenario`.
    pub fn check_applies(&self, scenario: &Scenario) -> Result<(), NotApplicable> {
        let d = scenario.defaults();
        let fail = |field, why| {
            Err(NotApplicable {
                field,
                scenario: scenario.name,
                why,
            })
        };
        // Thread scenarios whose GIL can be chosen: threads and the convoy.
        let threads = matches!(d.model, Model::Threads { .. } | Model::Convoy { .. });
        let race = matches!(d.model, Model::Race { .. });
        let download = matches!(d.workload, Workload::Download { .. });
        if self.n.is_some()
            && !matches!(
                d.workload,
                Workload::SumPowers { .. } | Workload::Convoy { .. }
            )
        {
            return fail("n", "it runs no sum_powers tasks");
        }
        if self.tasks.is_some() && race {
            return fail("tasks", "the race gives each worker one task (use workers)");
        }
        if self.workers.is_some() && d.model == Model::Sequential {
            return fail("workers", "it runs everything on the main thread");
        }
        if self.gil.is_some() && !threads {
            return fail(
                "gil",
                "only the thread scenarios choose a GIL (the race runs both kinds)",
            );
        }
        if self.switch_interval_ms.is_some() {
            let gil = match d.model {
                Model::Threads { gil, .. } | Model::Convoy { gil, .. } => {
                    Some(self.gil.unwrap_or(gil))
                }
                Model::Race { .. } => Some(GilMode::Classic),
                _ => None,
            };
            match gil {
                Some(GilMode::Classic) => {}
                Some(GilMode::Free) => {
                    return fail(
                        "switch-interval-ms",
                        "free-threaded Python has no GIL to hand over",
                    );
                }
                None => {
                    return fail(
                        "switch-interval-ms",
                        "no thread here ever waits for another's GIL",
                    );
                }
            }
        }
        if !self.urls.is_empty() && !download {
            return fail("url", "it downloads nothing");
        }
        for (field, given) in [
            ("latency-ms", self.latency_ms.is_some()),
            ("bandwidth-kbps", self.bandwidth_kbps.is_some()),
        ] {
            if given && !download {
                return fail(field, "it downloads nothing");
            }
            if given && !self.urls.is_empty() {
                return fail(
                    field,
                    "it shapes the lab's own image server, which url replaces",
                );
            }
        }
        if self.increments.is_some() && !matches!(d.workload, Workload::Counter { .. }) {
            return fail("increments", "it updates no counter");
        }
        let hashes = matches!(d.workload, Workload::Hash { .. });
        for (field, given) in [
            ("mib", self.mib.is_some()),
            ("chunk-bytes", self.chunk_bytes.is_some()),
        ] {
            if given && !hashes {
                return fail(field, "it hashes nothing");
            }
        }
        if self.chunksize.is_some() && !matches!(d.model, Model::Pool { .. }) {
            return fail("chunksize", "only a Pool hands out tasks in chunks");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{SCENARIOS, find};

    #[test]
    fn defaults_apply_everywhere_and_strays_are_named() {
        for s in SCENARIOS {
            assert_eq!(Overrides::default().check_applies(s), Ok(()), "{}", s.name);
        }
        let free = Overrides {
            gil: Some(GilMode::Free),
            ..Default::default()
        };
        let e = free
            .check_applies(find("cpu-processes").expect("exists"))
            .expect_err("no GIL choice for processes");
        assert_eq!(e.field, "gil");
        let url = Overrides {
            urls: vec!["http://127.0.0.1/x".into()],
            ..Default::default()
        };
        let e = url
            .check_applies(find("cpu-threads").expect("exists"))
            .expect_err("no downloads");
        assert!(
            e.to_string()
                .starts_with("url does not apply to cpu-threads"),
            "{e}"
        );
        let interval = Overrides {
            switch_interval_ms: Some(1.0),
            ..Default::default()
        };
        assert!(
            interval
                .check_applies(find("cpu-threads-free").expect("exists"))
                .is_err()
        );
        assert!(
            interval
                .check_applies(find("race").expect("exists"))
                .is_ok()
        );
    }
}
