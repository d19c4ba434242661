//! Who held the GIL, when: the data behind the GIL track drawn above each group of threads
//! that shares a classic GIL.
//!
//! A thread runs Python code only while it holds its interpreter's GIL, so the holder at each
//! moment is the lane whose span is `Running` — that is true for every report, old or new,
//! measured or simulated, and it shows the GIL free while its last holder blocks on I/O.
//! The moments the GIL changed hands and the drop requests come from `report.gil_events`
//! when the report has them (the GIL's own record); older and browser-assembled reports
//! without events get the hand-offs derived from consecutive running spans.

use super::slices::Piece;
use crate::gil::GilMode;
use crate::scenario::Model;
use crate::trace::{GilEvent, LaneKind, RunReport, SpanState};

/// Threads that share one classic GIL, in report order. A thread's number in the track is its
/// position here plus one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct GilGroup {
    /// The lane group's name, if the report names it.
    pub(super) name: Option<String>,
    /// Lane ids.
    pub(super) lanes: Vec<u32>,
}

impl GilGroup {
    /// The position of `lane` in the group.
    pub(super) fn position(&self, lane: u32) -> Option<usize> {
        self.lanes.iter().position(|&l| l == lane)
    }
}

/// Does the model say this group of threads runs under a classic GIL? Only used for reports
/// without GIL events.
fn model_says_classic(model: &Model, group: Option<&str>) -> bool {
    match model {
        Model::Threads { gil, .. } => *gil == GilMode::Classic,
        // The race cases name their regime: "…, GIL" or "…, no GIL".
        Model::Race { .. } => group.is_some_and(|g| g.ends_with(", GIL")),
        _ => false,
    }
}

/// The groups that get a GIL track: two or more threads of one lane group that shared a
/// classic GIL (the GIL's events name them, or, without events, the model says so).
pub(super) fn gil_groups(report: &RunReport) -> Vec<GilGroup> {
    let mut groups: Vec<GilGroup> = Vec::new();
    for lane in &report.lanes {
        if !matches!(lane.kind, LaneKind::Thread | LaneKind::Main) {
            continue;
        }
        match groups.iter_mut().find(|g| g.name == lane.group) {
            Some(g) => g.lanes.push(lane.id),
            None => groups.push(GilGroup {
                name: lane.group.clone(),
                lanes: vec![lane.id],
            }),
        }
    }
    let has_events = !report.gil_events.is_empty();
    groups.retain(|g| {
        g.lanes.len() >= 2
            && if has_events {
                report
                    .gil_events
                    .iter()
                    .any(|e| matches!(e, GilEvent::Handoff { to, .. } if g.lanes.contains(to)))
            } else {
                model_says_classic(&report.params.model, g.name.as_deref())
            }
    });
    groups
}

/// The group's running spans as pieces keyed by the holder's position, sorted by start.
pub(super) fn holds(report: &RunReport, group: &GilGroup) -> Vec<Piece> {
    let mut out: Vec<Piece> = report
        .spans
        .iter()
        .filter(|s| s.state == SpanState::Running && s.end_us > s.start_us)
        .filter_map(|s| {
            group.position(s.lane).map(|key| Piece {
                key,
                start_us: s.start_us,
                end_us: s.end_us,
            })
        })
        .collect();
    out.sort_by_key(|p| (p.start_us, p.end_us, p.key));
    out
}

/// A moment in the GIL's life, lanes given as positions in the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mark {
    /// `to` took the GIL last held by `from`.
    Handoff {
        at_us: u64,
        from: Option<usize>,
        to: usize,
    },
    /// `by` waited a whole switch interval and asked `holder` to drop the GIL.
    DropRequest {
        at_us: u64,
        by: usize,
        holder: usize,
    },
}

impl Mark {
    /// When it happened.
    pub(super) fn at_us(&self) -> u64 {
        match self {
            Mark::Handoff { at_us, .. } | Mark::DropRequest { at_us, .. } => *at_us,
        }
    }
}

/// The group's hand-offs and drop requests in time order: the GIL's own events when the report
/// has them, else hand-offs derived from `holds` (a running span of another thread than the
/// last one to run).
pub(super) fn marks(report: &RunReport, group: &GilGroup, holds: &[Piece]) -> Vec<Mark> {
    let mut out: Vec<Mark> = Vec::new();
    if report.gil_events.is_empty() {
        let mut last: Option<usize> = None;
        for p in holds {
            if last != Some(p.key) {
                // The first take is no hand-off (nobody had it before), as in the GIL's events.
                if last.is_some() {
                    out.push(Mark::Handoff {
                        at_us: p.start_us,
                        from: last,
                        to: p.key,
                    });
                }
                last = Some(p.key);
            }
        }
        return out;
    }
    for e in &report.gil_events {
        match *e {
            GilEvent::Handoff { at_us, from, to } => {
                if let Some(to) = group.position(to) {
                    let from = from.and_then(|f| group.position(f));
                    if from.is_some() {
                        out.push(Mark::Handoff { at_us, from, to });
                    }
                }
            }
            GilEvent::DropRequest { at_us, by, holder } => {
                if let (Some(by), Some(holder)) = (group.position(by), group.position(holder)) {
                    out.push(Mark::DropRequest { at_us, by, holder });
                }
            }
        }
    }
    out.sort_by_key(Mark::at_us);
    out
}

/// The character that names a thread in terminal GIL rows: `1`–`9`, then `A`–`Z`, then `+`.
pub(super) fn holder_char(position: usize) -> char {
    match position {
        0..=8 => char::from(b'1' + position as u8),
        9..=34 => char::from(b'A' + (position - 9) as u8),
        _ => '+',
    }
}

/// The number that names a thread in the SVG's GIL track (its position plus one).
pub(super) fn holder_number(position: usize) -> String {
    (position + 1).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::fixtures;

    #[test]
    fn thread_runs_have_one_gil_group_and_processes_none() {
        let r = fixtures::cpu_threads();
        let g = gil_groups(&r);
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].lanes, [0, 1, 2, 3]);
        let race = gil_groups(&fixtures::race());
        // Two GIL cases with turns, the lock case (also under a GIL); not the processes.
        let names: Vec<&str> = race.iter().filter_map(|g| g.name.as_deref()).collect();
        assert_eq!(
            names,
            [
                "threads, plain loop, GIL",
                "threads, call inside the update, GIL",
                "threads, with a lock, GIL"
            ]
        );
    }

    #[test]
    fn derived_handoffs_follow_the_running_spans() {
        let r = fixtures::cpu_threads();
        let g = &gil_groups(&r)[0];
        let h = holds(&r, g);
        let m = marks(&r, g, &h);
        assert!(m.iter().all(|m| matches!(m, Mark::Handoff { .. })));
        // The fixture hands over after every slice but the last.
        let slices = r
            .spans
            .iter()
            .filter(|s| s.state == SpanState::Running)
            .count();
        assert_eq!(m.len(), slices - 1);
    }

    #[test]
    fn recorded_events_win_over_derived_ones() {
        let r = fixtures::cpu_threads_lesson();
        let g = &gil_groups(&r)[0];
        let m = marks(&r, g, &holds(&r, g));
        let drops = m
            .iter()
            .filter(|m| matches!(m, Mark::DropRequest { .. }))
            .count();
        assert_eq!(drops as u64, r.gil.as_ref().map_or(0, |s| s.drop_requests));
    }

    #[test]
    fn holder_names() {
        assert_eq!(holder_char(0), '1');
        assert_eq!(holder_char(8), '9');
        assert_eq!(holder_char(9), 'A');
        assert_eq!(holder_char(40), '+');
        assert_eq!(holder_number(3), "4");
    }
}
