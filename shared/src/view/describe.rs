//! Words for numbers and parameters: durations the way IPython's `%%time` prints them, and a
//! one-line description of a run's parameters.

use crate::gil::{DEFAULT_SWITCH_INTERVAL_US, GilMode};
use crate::scenario::{Model, Params, Workload};
use crate::trace::{CpuSource, RunReport, Source};

/// A duration with three significant digits and a unit, as `%%time` prints it: `6.51 s`,
/// `12.0 ms`, `845 µs`.
pub fn format_duration(us: u64) -> String {
    if us >= 999_500 {
        format!("{} s", three_digits(us as f64 / 1e6))
    } else if us >= 1_000 {
        format!("{} ms", three_digits(us as f64 / 1e3))
    } else {
        format!("{us} µs")
    }
}

/// `v` with three significant digits (`6.51`, `12.0`, `123`); larger values keep every
/// integer digit.
fn three_digits(v: f64) -> String {
    if v >= 99.95 {
        format!("{v:.0}")
    } else if v >= 9.995 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// An integer with thousands separators: `4,000,000`.
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 thread`, `4 threads`.
fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{} {many}", group_digits(n))
    }
}

/// How the tasks were run: `4 threads · classic GIL`.
pub fn describe_model(model: &Model) -> String {
    match model {
        Model::Sequential => "sequential, on the main thread".to_owned(),
        Model::Threads {
            workers,
            gil,
            switch_interval_us,
        } => {
            let threads = count(u64::from(*workers), "thread", "threads");
            match gil {
                GilMode::Classic if *switch_interval_us == DEFAULT_SWITCH_INTERVAL_US => {
                    format!("{threads} · classic GIL")
                }
                GilMode::Classic => format!(
                    "{threads} · classic GIL (switch interval {})",
                    format_duration(*switch_interval_us)
                ),
                GilMode::Free => format!("{threads} · free-threaded (no GIL)"),
            }
        }
        Model::Processes { workers } => count(u64::from(*workers), "process", "processes"),
        Model::Pool { workers, chunksize } => {
            format!("Pool({workers}) · chunksize {chunksize}")
        }
        Model::Race { workers, .. } => format!(
            "each case with {}",
            count(u64::from(*workers), "worker", "workers")
        ),
        Model::Interpreters { workers } => format!(
            "{} · a GIL each",
            count(u64::from(*workers), "subinterpreter", "subinterpreters")
        ),
        Model::Convoy {
            cpu_threads, gil, ..
        } => format!(
            "1 I/O thread beside {} · {}",
            count(
                u64::from(*cpu_threads),
                "CPU-bound thread",
                "CPU-bound threads"
            ),
            match gil {
                GilMode::Classic => "classic GIL",
                GilMode::Free => "free-threaded (no GIL)",
            }
        ),
    }
}

/// What the tasks did: `sum_powers(10000) × 4`.
pub fn describe_workload(workload: &Workload, tasks: u32) -> String {
    match workload {
        Workload::SumPowers { n } => format!("sum_powers({n}) × {tasks}"),
        Workload::Download {
            latency_ms,
            bandwidth_kbps,
            ..
        } => format!(
            "{} ({latency_ms} ms latency, {} MB/s)",
            count(u64::from(tasks), "download", "downloads"),
            // kbit/s to MB/s: / 8 / 1000, shown with one decimal.
            format_args!("{:.1}", *bandwidth_kbps as f64 / 8000.0)
        ),
        Workload::Counter { increments } => format!(
            "counter += 1, {} per worker",
            count(*increments, "time", "times")
        ),
        Workload::Hash { mib, chunk_bytes } => match chunk_bytes {
            Some(c) if u64::from(*mib) << 20 > *c => {
                format!("sha256 of {mib} MiB × {tasks}, {c} B per update()")
            }
            _ => format!("sha256 of {mib} MiB × {tasks}, one update()"),
        },
        Workload::Convoy { call_us, n } => format!(
            "{} of {} · sum_powers({n}) each",
            count(u64::from(tasks), "blocking call", "blocking calls"),
            format_duration(*call_us)
        ),
    }
}

/// One line describing a run's parameters: `4 threads · classic GIL · sum_powers(10000) × 4`.
pub fn describe_params(params: &Params) -> String {
    format!(
        "{} · {}",
        describe_model(&params.model),
        describe_workload(&params.workload, params.tasks)
    )
}

/// The picture's title: scenario name and parameters, and `simulated` for a simulated run.
pub fn title(report: &RunReport) -> String {
    let mut out = format!("{} · {}", report.scenario, describe_params(&report.params));
    if report.source == Source::Simulated {
        out.push_str(" · simulated");
    }
    out
}

/// What the simulator modelled, as one sentence: `Modelled: 16 cores, Python 3.13t, start
/// method spawn, CPython's pace, profile built-in, seed 7.`
pub fn simulation_words(report: &RunReport) -> String {
    match &report.simulation {
        Some(s) => format!(
            "Modelled: {}, Python {}, start method {}, {} pace, profile {}, seed {}.",
            count(u64::from(s.cores), "core", "cores"),
            s.python,
            s.start_method,
            s.pace,
            s.profile,
            s.seed
        ),
        None => "The report does not say what was modelled.".to_owned(),
    }
}

/// The line under the title: where it ran (or what was modelled) and how long it took.
pub fn subtitle(report: &RunReport) -> String {
    let place = match (report.source, &report.simulation) {
        (Source::Simulated, Some(s)) => format!(
            "simulated, nothing ran · modelled {} · Python {} · {} start · {} pace · profile {}",
            count(u64::from(s.cores), "core", "cores"),
            s.python,
            s.start_method,
            s.pace,
            s.profile
        ),
        (Source::Simulated, None) => "simulated, nothing ran".to_owned(),
        (Source::Measured, _) => format!(
            "{} · {}",
            report.machine.platform,
            count(
                u64::from(report.machine.cores),
                "logical core",
                "logical cores"
            )
        ),
    };
    let cpu_note = match (report.source, report.cpu_source) {
        (Source::Simulated, _) => "",
        (Source::Measured, CpuSource::Estimated) => " (estimated)",
        (Source::Measured, CpuSource::Measured) => "",
    };
    format!(
        "{place} · wall time {} · CPU time {}{cpu_note}",
        format_duration(report.wall_us),
        format_duration(report.cpu_total_us())
    )
}

/// `label` cut to at most `max` characters, with `…` at the end when cut.
pub fn shorten(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        return label.to_owned();
    }
    let mut out: String = label.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_percent_percent_time() {
        assert_eq!(format_duration(6_512_345), "6.51 s");
        assert_eq!(format_duration(12_000), "12.0 ms");
        assert_eq!(format_duration(845), "845 µs");
        assert_eq!(format_duration(999_700), "1.00 s");
        assert_eq!(format_duration(123_456_789), "123 s");
        assert_eq!(format_duration(9_999), "10.0 ms");
    }

    #[test]
    fn digits_are_grouped() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(4_000_000), "4,000,000");
        assert_eq!(group_digits(12_345), "12,345");
    }

    #[test]
    fn shorten_counts_characters() {
        assert_eq!(shorten("Thread-1", 20), "Thread-1");
        assert_eq!(shorten("αβγδε", 3), "αβ…");
    }
}
