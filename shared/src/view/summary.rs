//! Every chart's words: a `%%time`-style block, what each lane spent its time on, how many
//! lanes ran at once, the GIL's counts, the convoy measurement, the race cases, the results
//! and the run's notes.
//!
//! Words never claim more than the report knows: a simulated report says so first and calls
//! its times simulated, CPU times estimated from running time say so, and only what was
//! measured reads as measured.

use std::fmt::Write as _;

use super::describe::{format_duration, group_digits, simulation_words};
use super::frame::{Row, rows};
use super::palette::state_short;
use crate::trace::{CpuSource, RunReport, Source, Span, SpanState};
use crate::workload::{Digest, TaskOutcome};

/// The most spans in `state` that overlap at one instant, across all lanes.
///
/// Spans are half-open `[start, end)`: one that ends exactly when another starts does not
/// overlap it, and empty spans count for nothing. A classic-GIL threads run gives 1 for
/// [`SpanState::Running`] (its signature); processes give up to the number of workers.
pub fn max_concurrent(report: &RunReport, state: SpanState) -> usize {
    // (time, +1 for a start / -1 for an end); ends sort before starts at the same instant.
    let mut events: Vec<(u64, i8)> = report
        .spans
        .iter()
        .filter(|s| s.state == state && s.end_us > s.start_us)
        .flat_map(|s| [(s.start_us, 1), (s.end_us, -1)])
        .collect();
    events.sort_unstable();
    let mut now: i64 = 0;
    let mut most: i64 = 0;
    for (_, delta) in events {
        now += i64::from(delta);
        most = most.max(now);
    }
    most.max(0) as usize
}

/// How busy the CPU was, in words, from total CPU time over wall time.
fn cores_busy(ratio: f64) -> String {
    if ratio < 0.25 {
        "the CPU was mostly idle: the run spent its time waiting".to_owned()
    } else if ratio < 0.75 {
        "less than one core busy".to_owned()
    } else if ratio < 1.5 {
        "about one core busy".to_owned()
    } else {
        format!("about {} cores busy", ratio.round())
    }
}

/// The text summary of a run (also the SVG's `<desc>`): a `%%time` block, per-lane totals,
/// concurrency, the GIL's counts, the convoy effect, race cases, results, errors and notes.
/// Plain text, lines end with `\n`.
pub fn text_summary(report: &RunReport) -> String {
    let mut out = String::new();
    let simulated = report.source == Source::Simulated;
    // `write!` into a String cannot fail; the results are ignored on purpose.
    if simulated {
        let _ = writeln!(
            out,
            "Simulated, not measured: nothing ran. {}",
            simulation_words(report)
        );
    }
    let cpu = match (simulated, report.cpu_source) {
        (true, _) => "CPU times (simulated)",
        (false, CpuSource::Estimated) => "CPU times (estimated from running time)",
        (false, CpuSource::Measured) => "CPU times",
    };
    let _ = writeln!(
        out,
        "{cpu}: user {}, sys {}, total {}",
        format_duration(report.cpu_user_us),
        format_duration(report.cpu_sys_us),
        format_duration(report.cpu_total_us())
    );
    let wall = if simulated {
        "Wall time (simulated)"
    } else {
        "Wall time"
    };
    let _ = writeln!(out, "{wall}: {}", format_duration(report.wall_us));
    if report.wall_us > 0 {
        let ratio = report.cpu_total_us() as f64 / report.wall_us as f64;
        let _ = writeln!(out, "CPU / wall: {ratio:.2} ({})", cores_busy(ratio));
    }
    if let (Some(speedup), Some(base)) = (report.speedup(), report.baseline_wall_us) {
        let _ = writeln!(
            out,
            "Speed-up vs sequential: {speedup:.2}× (sequential took {})",
            format_duration(base)
        );
    }

    lane_totals(&mut out, report);
    concurrency(&mut out, report);
    gil_and_convoy(&mut out, report);
    counters(&mut out, report);
    tasks(&mut out, report);

    // The GIL's counts are said above when the report has them; its older note would repeat
    // them (reports from before `gil` existed keep it as their only word on the GIL).
    let repeated = report.gil.as_ref().map(crate::runner::gil_note);
    let notes: Vec<&String> = report
        .notes
        .iter()
        .filter(|n| Some(*n) != repeated.as_ref())
        .collect();
    if !notes.is_empty() {
        out.push_str("\nNotes:\n");
        for note in notes {
            let _ = writeln!(out, "- {note}");
        }
    }
    out
}

/// The GIL's counts and the convoy measurement, one line each, when the report has them.
fn gil_and_convoy(out: &mut String, report: &RunReport) {
    if let Some(g) = &report.gil
        && g.switches > 0
    {
        let times = plural(g.switches, "time", "times");
        let interval = format_duration(g.interval_us);
        let _ = match g.drop_requests {
            // Every hand-off was the holder letting go (a blocking call, its end): say so,
            // rather than "0 drop requests, each after …".
            0 => writeln!(
                out,
                "The GIL changed hands {times}, each time because its holder let it go (a blocking call, or its work ended); no waiter had to ask for it with a drop request (after a {interval} switch interval)."
            ),
            n => writeln!(
                out,
                "The GIL changed hands {times}; {}, each after a {interval} wait without a hand-off (switch interval).",
                plural(n, "drop request", "drop requests")
            ),
        };
    }
    if let Some(c) = &report.convoy {
        let ratio = c.beside_us as f64 / c.alone_us.max(1) as f64;
        let _ = writeln!(
            out,
            "A short blocking call took {} alone and {} beside the CPU-bound thread ({ratio:.1}× longer): the convoy effect.",
            format_duration(c.alone_us),
            format_duration(c.beside_us)
        );
    }
}

/// One line per lane: time in each state; group names as headings.
fn lane_totals(out: &mut String, report: &RunReport) {
    if report.lanes.is_empty() {
        return;
    }
    out.push('\n');
    let width = report
        .lanes
        .iter()
        .map(|l| l.label.chars().count() + 1)
        .max()
        .unwrap_or(0);
    for row in rows(report, &[]) {
        match row {
            Row::Group(name) => {
                let _ = writeln!(out, "[{name}]");
            }
            Row::Gil(_) => {}
            Row::Lane(lane) => {
                let mut totals = [0u64; SpanState::COUNT];
                for s in report.lane_spans(lane.id) {
                    totals[s.state.index()] += s.duration_us();
                }
                let parts: Vec<String> = SpanState::ALL
                    .iter()
                    .zip(totals)
                    .filter(|(_, us)| *us > 0)
                    .map(|(s, us)| format!("{} {}", state_short(*s), format_duration(us)))
                    .collect();
                let words = if parts.is_empty() {
                    "idle".to_owned()
                } else {
                    parts.join(", ")
                };
                let label = format!("{}:", lane.label);
                let _ = writeln!(out, "{label:<width$} {words}");
            }
        }
    }
}

/// How many lanes ran Python code at once (and, where it happened, waited for I/O at once).
fn concurrency(out: &mut String, report: &RunReport) {
    let lanes_that_ran = report
        .lanes
        .iter()
        .filter(|l| {
            report
                .lane_spans(l.id)
                .any(|s| s.state == SpanState::Running && s.end_us > s.start_us)
        })
        .count();
    if lanes_that_ran == 0 {
        return;
    }
    let most = max_concurrent(report, SpanState::Running);
    out.push('\n');
    let time_in = |state| -> u64 {
        report
            .spans
            .iter()
            .filter(|s| s.state == state)
            .map(Span::duration_us)
            .sum()
    };
    // One lane at a time is the GIL's doing only where lanes queued for it; I/O-bound
    // threads mostly wait for their downloads, with the GIL released, and seldom overlap
    // their short runs of Python code whatever the GIL does.
    let gil_bound =
        time_in(SpanState::GilWait) > time_in(SpanState::IoWait) + time_in(SpanState::LockWait);
    let in_c = max_concurrent(report, SpanState::CCode);
    if in_c > 0 {
        // C code that released the GIL is work the GIL does not serialise: say so before the
        // Python-code count, which alone would read as the GIL's signature.
        let lanes = if in_c == 1 { "lane" } else { "lanes" };
        let _ = writeln!(
            out,
            "Up to {in_c} {lanes} ran C code at the same time with the GIL released (hashlib lets go of it for an update() of 2048 bytes or more), beside the lane holding the GIL; at most {most} ran Python code at once."
        );
    } else if most == 1 && lanes_that_ran > 1 && gil_bound {
        let _ = writeln!(
            out,
            "At most 1 lane ran at a time, although {lanes_that_ran} lanes had work: the GIL's signature."
        );
    } else if most == 1 && lanes_that_ran > 1 {
        let _ = writeln!(
            out,
            "At most 1 of {lanes_that_ran} lanes ran Python code at a time, but they spent longer blocked (on I/O or a lock, with the GIL released) than waiting for the GIL: their short turns of Python code seldom met."
        );
    } else if most == 1 {
        let _ = writeln!(out, "At most 1 lane ran at a time.");
    } else {
        let _ = writeln!(
            out,
            "Up to {most} lanes ran at the same time (of {lanes_that_ran} that had work)."
        );
    }
    let io = max_concurrent(report, SpanState::IoWait);
    if io > 1 {
        let _ = writeln!(out, "Up to {io} lanes waited for I/O at the same time.");
    }
}

/// The race demo's table: expected, observed and lost updates per case.
fn counters(out: &mut String, report: &RunReport) {
    if report.counters.is_empty() {
        return;
    }
    let header = ("case", "expected", "observed", "lost");
    let rows: Vec<(String, String, String, String)> = report
        .counters
        .iter()
        .map(|c| {
            (
                c.case.clone(),
                group_digits(c.expected),
                group_digits(c.observed),
                group_digits(c.lost),
            )
        })
        .collect();
    let w0 = rows
        .iter()
        .map(|r| r.0.chars().count())
        .chain([header.0.len()])
        .max()
        .unwrap_or(0);
    let wn = rows
        .iter()
        .flat_map(|r| [r.1.len(), r.2.len(), r.3.len()])
        .chain([header.1.len()])
        .max()
        .unwrap_or(0);
    out.push_str("\nShared counter:\n");
    let _ = writeln!(
        out,
        "  {:<w0$}  {:>wn$}  {:>wn$}  {:>wn$}",
        header.0, header.1, header.2, header.3
    );
    for (row, case) in rows.iter().zip(&report.counters) {
        let _ = writeln!(
            out,
            "  {:<w0$}  {:>wn$}  {:>wn$}  {:>wn$}",
            row.0, row.1, row.2, row.3
        );
        if !case.explanation.is_empty() {
            let _ = writeln!(out, "    {}", case.explanation);
        }
    }
}

/// Task counts, results (identical sums shown once) and every error.
fn tasks(out: &mut String, report: &RunReport) {
    if report.tasks.is_empty() {
        return;
    }
    let failed = report
        .tasks
        .iter()
        .filter(|t| matches!(t.outcome, TaskOutcome::Error { .. }))
        .count();
    // A task without an outcome was cut short by a stop if any span ran it, else it never
    // started: "4 not run" for four tasks half done misled (issue 14).
    let (mut cut_short, mut not_run) = (0, 0);
    for t in report
        .tasks
        .iter()
        .filter(|t| matches!(t.outcome, TaskOutcome::NotRun))
    {
        if report.spans.iter().any(|s| s.task == Some(t.id)) {
            cut_short += 1;
        } else {
            not_run += 1;
        }
    }
    let finished = report.tasks.len() - failed - cut_short - not_run;
    let _ = write!(out, "\nTasks: {finished} finished");
    if failed > 0 {
        let _ = write!(out, ", {failed} failed");
    }
    if cut_short > 0 {
        let _ = write!(out, ", {cut_short} stopped before the end");
    }
    if not_run > 0 {
        let _ = write!(out, ", {not_run} never started");
    }
    out.push('\n');

    // Distinct sums, in first-seen order, with how many tasks produced each.
    let mut sums: Vec<(&Digest, &str, usize)> = Vec::new();
    let mut bytes: u64 = 0;
    let mut files: usize = 0;
    for t in &report.tasks {
        match &t.outcome {
            TaskOutcome::Sum(d) => match sums.iter_mut().find(|(s, _, _)| *s == d) {
                Some(entry) => entry.2 += 1,
                None => sums.push((d, &t.label, 1)),
            },
            TaskOutcome::Downloaded(d) => {
                bytes += d.bytes;
                files += 1;
            }
            _ => {}
        }
    }
    for (d, label, n) in sums {
        let _ = writeln!(
            out,
            "- {label} = …{} ({} digits, {} bits){}",
            d.tail,
            group_digits(d.digits),
            group_digits(d.bits),
            if n > 1 {
                format!(", same result from {n} tasks")
            } else {
                String::new()
            }
        );
    }
    if files > 0 {
        let _ = writeln!(
            out,
            "- {files} files written, {} bytes in all",
            group_digits(bytes)
        );
    }
    for t in &report.tasks {
        if let TaskOutcome::Error { message } = &t.outcome {
            let _ = writeln!(out, "- task {} ({}) failed: {message}", t.id, t.label);
        }
    }
}

/// `n` and its noun, singular for one: "1 time", "3 drop requests".
fn plural(n: u64, one: &str, many: &str) -> String {
    let noun = if n == 1 { one } else { many };
    format!("{} {noun}", group_digits(n))
}
