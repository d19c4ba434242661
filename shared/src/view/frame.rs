//! The frame every part of the picture shares: canvas geometry, the painter that collects
//! shapes, and the rows of the timeline (group headings, GIL tracks, lanes).
//!
//! It lives apart from `layout` so that what `layout` calls (the per-core chart, the summary,
//! the terminal) depends on this small module rather than on `layout` itself: no module of
//! the view imports the one that calls it.

use std::collections::BTreeMap;

use super::holders::GilGroup;
use super::scene::{Anchor, Line, Polygon, Rect, Shape, Text};
use crate::trace::{Lane, RunReport, Span, SpanState};

/// Canvas width, px.
pub const WIDTH: f64 = 960.0;
/// Outer margin, px.
pub const MARGIN: f64 = 16.0;
/// Left edge of the plot (the label column is to its left).
pub const PLOT_X0: f64 = 166.0;
/// Width of the plot.
pub const PLOT_W: f64 = WIDTH - PLOT_X0 - 24.0;
/// Height of a lane row.
pub(super) const LANE_H: f64 = 24.0;
/// Height of a track (and of a full bar) inside its row.
pub(super) const TRACK_H: f64 = 18.0;
/// Height of a waiting bar, centred on the track.
pub(super) const WAIT_H: f64 = 10.0;
/// Height of a group heading row.
pub(super) const GROUP_H: f64 = 24.0;
/// Height of a GIL row (room above its track for drop-request marks).
pub(super) const GIL_ROW_H: f64 = 26.0;
/// Height of the GIL track inside its row.
pub(super) const GIL_TRACK_H: f64 = 14.0;

/// Collects shapes in painting order.
#[derive(Debug, Default)]
pub(super) struct Painter {
    pub(super) shapes: Vec<Shape>,
}

impl Painter {
    pub(super) fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, class: &str) {
        self.shapes.push(Shape::Rect(Rect {
            x,
            y,
            w,
            h,
            fill: fill.to_owned(),
            class: class.to_owned(),
            title: None,
        }));
    }

    pub(super) fn line(&mut self, from: (f64, f64), to: (f64, f64), stroke: &str, class: &str) {
        self.shapes.push(Shape::Line(Line {
            x1: from.0,
            y1: from.1,
            x2: to.0,
            y2: to.1,
            stroke: stroke.to_owned(),
            stroke_width: 1.0,
            dashed: false,
            class: class.to_owned(),
        }));
    }

    pub(super) fn polygon(&mut self, points: Vec<[f64; 2]>, fill: &str, class: &str) {
        self.shapes.push(Shape::Polygon(Polygon {
            points,
            fill: fill.to_owned(),
            class: class.to_owned(),
            title: None,
        }));
    }

    /// Text of `size` px; `style` is (anchor, bold, colour, class).
    pub(super) fn text(
        &mut self,
        at: (f64, f64),
        text: &str,
        size: f64,
        style: (Anchor, bool, &str, &str),
    ) {
        let (anchor, bold, fill, class) = style;
        self.shapes.push(Shape::Text(Text {
            x: at.0,
            y: at.1,
            text: text.to_owned(),
            size,
            anchor,
            bold,
            fill: fill.to_owned(),
            class: class.to_owned(),
            title: None,
        }));
    }

    /// Sets the hover text of the shape added last.
    pub(super) fn hover(&mut self, title: String) {
        match self.shapes.last_mut() {
            Some(Shape::Rect(r)) => r.title = Some(title),
            Some(Shape::Polygon(p)) => p.title = Some(title),
            Some(Shape::Text(t)) => t.title = Some(title),
            Some(Shape::Line(_)) | None => {}
        }
    }
}

/// The latest instant the report mentions (run end, span end, core sample end), µs.
pub fn data_end_us(report: &RunReport) -> u64 {
    let spans = report.spans.iter().map(|s| s.end_us);
    let cores = report.cores.iter().map(|c| c.end_us);
    spans.chain(cores).fold(report.wall_us, u64::max).max(1)
}

/// One row of the timeline.
pub(super) enum Row<'a> {
    /// A group heading.
    Group(&'a str),
    /// Who held the GIL of a group of threads.
    Gil(&'a GilGroup),
    /// A lane.
    Lane(&'a Lane),
}

/// The rows in report order: a heading wherever the group changes to a named one, and each
/// GIL group's track just above its first lane.
pub(super) fn rows<'a>(report: &'a RunReport, gil: &'a [GilGroup]) -> Vec<Row<'a>> {
    let mut rows = Vec::new();
    let mut current: Option<&str> = None;
    let mut placed = vec![false; gil.len()];
    for lane in &report.lanes {
        let group = lane.group.as_deref();
        if group != current {
            if let Some(g) = group {
                rows.push(Row::Group(g));
            }
            current = group;
        }
        if let Some(k) = gil.iter().position(|g| g.lanes.contains(&lane.id))
            && !placed[k]
        {
            placed[k] = true;
            rows.push(Row::Gil(&gil[k]));
        }
        rows.push(Row::Lane(lane));
    }
    rows
}

/// Each lane's spans, sorted by start (then end, then state), keyed by lane id.
pub(super) fn spans_by_lane(report: &RunReport) -> BTreeMap<u32, Vec<&Span>> {
    let mut map: BTreeMap<u32, Vec<&Span>> = BTreeMap::new();
    for s in &report.spans {
        map.entry(s.lane).or_default().push(s);
    }
    for list in map.values_mut() {
        list.sort_by_key(|s| (s.start_us, s.end_us, s.state));
    }
    map
}

/// The states a legend lists: the four every run can show, and waiting for a core or running
/// C code when the report has it (only simulated runs wait for a core; only the hash demo
/// runs C code), so other pictures keep their legend.
pub(super) fn legend_states(report: &RunReport) -> Vec<SpanState> {
    let has = |st: SpanState| report.spans.iter().any(|s| s.state == st);
    SpanState::ALL
        .into_iter()
        // The states only some runs have are named only when they are there.
        .filter(|&st| {
            !matches!(
                st,
                SpanState::CpuWait | SpanState::LockWait | SpanState::CCode
            ) || has(st)
        })
        .collect()
}
