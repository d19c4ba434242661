//! Checks a report before the page draws it: a file someone opens may be hand-edited, cut off
//! or written by another tool, and a picture drawn from a broken one would mislead (a bar on a
//! lane that does not exist, a span that ends before it starts) or freeze the tab (a million
//! rows). Each check fails with one line naming what is wrong, where, and what is allowed.
//!
//! The caps live in the core (`gil_lab::view::limits`, with why each is what it is), shared
//! with the simulator.

use std::collections::HashSet;

use gil_lab::trace::{GilEvent, RunReport};

pub use gil_lab::view::limits::{
    MAX_GIL_EVENTS, MAX_LANES, MAX_REPORT_BYTES, MAX_SAMPLES, MAX_SPANS, MAX_TIME_US,
};

/// Refuses text over [`MAX_REPORT_BYTES`] before reading it.
pub fn check_size(bytes: u64, source: &str) -> Result<(), String> {
    if bytes > MAX_REPORT_BYTES {
        return Err(format!(
            "{source} is too big to open here: {} MB, allowed up to {} MB (record a shorter run, or fewer tasks)",
            mb(bytes),
            mb(MAX_REPORT_BYTES)
        ));
    }
    Ok(())
}

fn mb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}

/// Reads and checks a report: the core's own parser (format version, known states, field
/// types), then [`check`]. The message starts with `source`.
pub fn parse(text: &str, source: &str) -> Result<RunReport, String> {
    check_size(text.len() as u64, source)?;
    let report =
        RunReport::from_json(text).map_err(|e| format!("{source} could not be opened: {e}"))?;
    check(&report).map_err(|e| format!("{source} could not be opened: {e}"))?;
    Ok(report)
}

/// Whether a parsed report can be drawn honestly: its sizes within the caps, every span on an
/// existing lane with `end_us >= start_us`, every time within [`MAX_TIME_US`], every task and
/// GIL event pointing at something that exists.
pub fn check(r: &RunReport) -> Result<(), String> {
    cap("lanes", r.lanes.len(), MAX_LANES)?;
    cap("spans", r.spans.len(), MAX_SPANS)?;
    cap("GIL events", r.gil_events.len(), MAX_GIL_EVENTS)?;
    cap("core samples", r.cores.len(), MAX_SAMPLES)?;
    cap("tasks", r.tasks.len(), MAX_SAMPLES)?;
    if r.lanes.is_empty() && !r.spans.is_empty() {
        return Err("it has spans but no lanes to put them on".into());
    }
    time("wall_us", r.wall_us)?;
    let mut ids = HashSet::with_capacity(r.lanes.len());
    for lane in &r.lanes {
        if !ids.insert(lane.id) {
            return Err(format!(
                "lane id {} is used twice (\"{}\"): every lane needs its own id",
                lane.id, lane.label
            ));
        }
    }
    for (k, s) in r.spans.iter().enumerate() {
        if !ids.contains(&s.lane) {
            return Err(format!(
                "span {k} is on lane {}, but the report has no lane {}",
                s.lane, s.lane
            ));
        }
        if s.end_us < s.start_us {
            return Err(format!(
                "span {k} ends before it starts: start_us = {}, end_us = {} (end_us must be >= start_us)",
                s.start_us, s.end_us
            ));
        }
        time(&format!("span {k}'s end_us"), s.end_us)?;
        if let Some(t) = s.task
            && !r.tasks.is_empty()
            && t as usize >= r.tasks.len()
        {
            return Err(format!(
                "span {k} names task {t}, but the report has {} tasks (0..={})",
                r.tasks.len(),
                r.tasks.len() - 1
            ));
        }
    }
    for (k, e) in r.gil_events.iter().enumerate() {
        time(&format!("GIL event {k}'s at_us"), e.at_us())?;
        let lanes: &[u32] = match e {
            GilEvent::Handoff { from, to, .. } => match from {
                Some(f) => &[*f, *to],
                None => &[*to],
            },
            GilEvent::DropRequest { by, holder, .. } => &[*by, *holder],
        };
        if let Some(l) = lanes.iter().find(|l| !ids.contains(l)) {
            return Err(format!(
                "GIL event {k} names lane {l}, but the report has no lane {l}"
            ));
        }
    }
    Ok(())
}

fn cap(what: &str, n: usize, max: usize) -> Result<(), String> {
    if n > max {
        return Err(format!(
            "it has {} {what}, allowed up to {} here",
            gil_lab::view::group_digits(n as u64),
            gil_lab::view::group_digits(max as u64)
        ));
    }
    Ok(())
}

fn time(what: &str, us: u64) -> Result<(), String> {
    if us > MAX_TIME_US {
        return Err(format!(
            "{what} = {us} is out of range: allowed 0..={MAX_TIME_US} (µs, one day)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gil_lab::trace::{Lane, LaneKind, Machine, Span, SpanState};

    fn report() -> RunReport {
        let sc = gil_lab::scenario::find("cpu-threads").expect("known");
        let mut r = RunReport::new(
            "cpu-threads",
            sc.defaults(),
            Machine {
                cores: 2,
                platform: "test".into(),
                core_source: String::new(),
            },
        );
        r.wall_us = 100;
        r.lanes = (0..2)
            .map(|id| Lane {
                id,
                label: format!("Thread-{}", id + 1),
                kind: LaneKind::Thread,
                group: None,
            })
            .collect();
        r.spans = vec![Span {
            lane: 1,
            task: None,
            state: SpanState::Running,
            start_us: 10,
            end_us: 20,
        }];
        r
    }

    #[test]
    fn a_sound_report_passes_and_round_trips() {
        let r = report();
        assert_eq!(check(&r), Ok(()));
        assert!(parse(&r.to_json(), "x.json").is_ok());
    }

    #[test]
    fn each_fault_is_named() {
        let mut r = report();
        r.spans[0].lane = 7;
        assert!(check(&r).expect_err("refused").contains("no lane 7"));
        let mut r = report();
        r.spans[0].end_us = 5;
        assert!(
            check(&r)
                .expect_err("refused")
                .contains("ends before it starts")
        );
        let mut r = report();
        r.lanes[1].id = 0;
        assert!(check(&r).expect_err("refused").contains("used twice"));
        let mut r = report();
        r.wall_us = MAX_TIME_US + 1;
        assert!(check(&r).expect_err("refused").starts_with("wall_us = "));
        let mut r = report();
        r.gil_events.push(GilEvent::Handoff {
            at_us: 1,
            from: None,
            to: 9,
        });
        assert!(
            check(&r)
                .expect_err("refused")
                .contains("GIL event 0 names lane 9")
        );
        let mut r = report();
        r.lanes = (0..=MAX_LANES as u32)
            .map(|id| Lane {
                id,
                label: String::new(),
                kind: LaneKind::Thread,
                group: None,
            })
            .collect();
        assert!(
            check(&r)
                .expect_err("refused")
                .contains("257 lanes, allowed up to 256")
        );
    }

    #[test]
    fn text_faults_are_named() {
        let bad_state = report().to_json().replace("\"running\"", "\"sleeping\"");
        let e = parse(&bad_state, "r.json").expect_err("refused");
        assert!(
            e.starts_with("r.json could not be opened") && e.contains("sleeping"),
            "{e}"
        );
        assert!(
            parse("{", "r.json")
                .expect_err("refused")
                .contains("not a GIL Lab report")
        );
        let e = check_size(MAX_REPORT_BYTES + 1, "big.json").expect_err("refused");
        assert!(e.contains("too big") && e.contains("3.0 MB"), "{e}");
    }
}
