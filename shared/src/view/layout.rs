//! `layout(&RunReport) -> Scene`: where every bar, label, tick and legend entry goes.
//!
//! From top to bottom: title and machine line, legend, one row per lane (with a heading row
//! where a lane group starts), the time axis, then the per-core chart ([`super::cores`]).
//! Time maps to x linearly from 0 at the plot's left edge to the axis' last tick at its right
//! edge ([`TimeMap`]); nothing depends on anything but the report, so the same report always
//! gives the same scene.

use std::collections::BTreeMap;

use super::axis::TimeAxis;
use super::bars::{self, Bar};
use super::describe::{format_duration, shorten, subtitle, title};
use super::palette;
use super::scene::{Anchor, Line, Rect, Scene, Shape, Text, TimeMap};
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
const LANE_H: f64 = 24.0;
/// Height of a track (and of a full bar) inside its row.
const TRACK_H: f64 = 18.0;
/// Height of a waiting bar, centred on the track.
const WAIT_H: f64 = 10.0;
/// Height of a group heading row.
const GROUP_H: f64 = 24.0;
/// Lane labels longer than this many characters are shortened (full text on hover).
const LABEL_CHARS: usize = 22;
/// Most intervals on the time axis.
const MAX_TICKS: u64 = 10;

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
pub(super) fn data_end_us(report: &RunReport) -> u64 {
    let spans = report.spans.iter().map(|s| s.end_us);
    let cores = report.cores.iter().map(|c| c.end_us);
    spans.chain(cores).fold(report.wall_us, u64::max).max(1)
}

/// One row of the timeline.
pub(super) enum Row<'a> {
    /// A group heading.
    Group(&'a str),
    /// A lane.
    Lane(&'a Lane),
}

/// The rows in report order, with a heading wherever the group changes to a named one.
pub(super) fn rows(report: &RunReport) -> Vec<Row<'_>> {
    let mut rows = Vec::new();
    let mut current: Option<&str> = None;
    for lane in &report.lanes {
        let group = lane.group.as_deref();
        if group != current {
            if let Some(g) = group {
                rows.push(Row::Group(g));
            }
            current = group;
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

/// Lays a report out as a [`Scene`]: pure geometry, no I/O, deterministic.
pub fn layout(report: &RunReport) -> Scene {
    let axis = TimeAxis::new(data_end_us(report), MAX_TICKS);
    let time = TimeMap {
        x0: PLOT_X0,
        width: PLOT_W,
        end_us: axis.end_us,
    };
    let mut p = Painter::default();
    let heading = title(report);

    p.text(
        (MARGIN, 28.0),
        &heading,
        18.0,
        (Anchor::Start, true, palette::TEXT, "title"),
    );
    p.text(
        (MARGIN, 48.0),
        &subtitle(report),
        12.0,
        (Anchor::Start, false, palette::TEXT_MUTED, "subtitle"),
    );
    let legend_bottom = legend(&mut p, report, 62.0);
    let lanes_top = legend_bottom + 22.0;
    let lanes_bottom = timeline(&mut p, report, &axis, time, lanes_top);
    let axis_bottom = time_axis(&mut p, &axis, time, lanes_bottom + 6.0);
    let bottom = super::cores::core_chart(&mut p, report, &axis, time, axis_bottom + 26.0);

    Scene {
        width: WIDTH,
        height: (bottom + MARGIN).ceil(),
        title: heading,
        description: super::summary::text_summary(report),
        time,
        shapes: p.shapes,
    }
}

/// The states a legend lists: the four every run can show, and waiting for a core when the
/// report has it (only simulated runs do).
pub(super) fn legend_states(report: &RunReport) -> Vec<SpanState> {
    let has = |st: SpanState| report.spans.iter().any(|s| s.state == st);
    SpanState::ALL
        .into_iter()
        .filter(|&st| st != SpanState::CpuWait || has(st))
        .collect()
}

/// The legend row at `top`: one swatch per state plus idle. Returns its bottom.
fn legend(p: &mut Painter, report: &RunReport, top: f64) -> f64 {
    let mut x = MARGIN;
    let mut y = top;
    let entry_width = |words: &str| 20.0 + words.chars().count() as f64 * 6.4 + 18.0;
    let entries = legend_states(report)
        .into_iter()
        .map(|s| (Some(s), s.describe()))
        .chain([(None, "idle (nothing to run)")]);
    for (state, words) in entries {
        if x + entry_width(words) > WIDTH - MARGIN {
            x = MARGIN;
            y += 20.0;
        }
        match state {
            Some(s) => {
                let (h, dy) = if palette::is_full_height(s) {
                    (12.0, 0.0)
                } else {
                    (7.0, 2.5)
                };
                p.rect(x, y + dy, 14.0, h, palette::state_color(s), "legend-swatch");
            }
            None => {
                p.rect(x, y, 14.0, 12.0, palette::GRID, "legend-swatch");
                p.rect(
                    x + 1.0,
                    y + 1.0,
                    12.0,
                    10.0,
                    palette::TRACK,
                    "legend-swatch",
                );
            }
        }
        p.text(
            (x + 20.0, y + 10.5),
            words,
            12.0,
            (Anchor::Start, false, palette::TEXT, "legend"),
        );
        x += entry_width(words);
    }
    y + 12.0
}

/// Lane rows from `top`: tracks, grid, bars, labels, the end-of-run marker. Returns the bottom.
fn timeline(p: &mut Painter, report: &RunReport, axis: &TimeAxis, time: TimeMap, top: f64) -> f64 {
    let rows = rows(report);
    let by_lane = spans_by_lane(report);
    let lane_bars = lane_bars(report, &by_lane, time);

    // Tracks and labels, row by row.
    let mut y = top;
    let mut tracks: Vec<(&Lane, f64)> = Vec::new();
    for row in &rows {
        match row {
            Row::Group(name) => {
                // A rule across the whole width above the heading separates the groups.
                p.line(
                    (MARGIN, y + 4.0),
                    (PLOT_X0 + PLOT_W, y + 4.0),
                    palette::GRID,
                    "group-rule",
                );
                p.text(
                    (MARGIN, y + 19.0),
                    name,
                    12.0,
                    (Anchor::Start, true, palette::TEXT, "group-label"),
                );
                y += GROUP_H;
            }
            Row::Lane(lane) => {
                let track_y = y + (LANE_H - TRACK_H) / 2.0;
                p.rect(PLOT_X0, track_y, PLOT_W, TRACK_H, palette::TRACK, "track");
                p.text(
                    (PLOT_X0 - 8.0, track_y + 13.0),
                    &shorten(&lane.label, LABEL_CHARS),
                    12.0,
                    (Anchor::End, false, palette::TEXT, "lane-label"),
                );
                if lane.label.chars().count() > LABEL_CHARS {
                    p.hover(lane.label.clone());
                }
                tracks.push((lane, track_y));
                y += LANE_H;
            }
        }
    }
    let bottom = y;

    // Grid lines on the tracks only, so that they never cross a group heading.
    for (_, track_y) in &tracks {
        for t in axis.ticks() {
            let x = time.x(t);
            p.line((x, *track_y), (x, track_y + TRACK_H), palette::GRID, "grid");
        }
    }

    for (lane, track_y) in &tracks {
        for bar in lane_bars.get(&lane.id).map_or(&[][..], Vec::as_slice) {
            let (x0, x1) = (time.x(bar.start_us), time.x(bar.end_us));
            let (h, dy) = if palette::is_full_height(bar.state) {
                (TRACK_H, 0.0)
            } else {
                (WAIT_H, (TRACK_H - WAIT_H) / 2.0)
            };
            p.rect(
                x0,
                track_y + dy,
                x1 - x0,
                h,
                palette::state_color(bar.state),
                &format!("bar {}", bar.state.key()),
            );
            p.hover(bar_title(report, lane, bar, axis));
        }
    }

    if report.wall_us > 0 {
        let x = time.x(report.wall_us);
        p.shapes.push(Shape::Line(Line {
            x1: x,
            y1: top - 4.0,
            x2: x,
            y2: bottom,
            stroke: palette::AXIS.to_owned(),
            stroke_width: 1.0,
            dashed: true,
            class: "run-end".to_owned(),
        }));
        let anchor = if x > PLOT_X0 + 120.0 {
            Anchor::End
        } else {
            Anchor::Start
        };
        p.text(
            (x, top - 7.0),
            &format!("end of run: {}", format_duration(report.wall_us)),
            11.0,
            (anchor, false, palette::TEXT_MUTED, "run-end-label"),
        );
    }
    bottom
}

/// The bars of every lane, joined and, where the picture would be too large, resampled (the
/// rule is in [`super::bars`]).
fn lane_bars(
    report: &RunReport,
    by_lane: &BTreeMap<u32, Vec<&Span>>,
    time: TimeMap,
) -> BTreeMap<u32, Vec<Bar>> {
    let gap_us = (bars::JOIN_GAP_PX * time.us_per_px()) as u64;
    let shown: Vec<u32> = report.lanes.iter().map(|l| l.id).collect();
    let mut out: BTreeMap<u32, Vec<Bar>> = BTreeMap::new();
    for (&lane, spans) in by_lane {
        if shown.contains(&lane) {
            let drawn: Vec<&Span> = spans
                .iter()
                .copied()
                .filter(|s| s.end_us > s.start_us)
                .collect();
            out.insert(lane, bars::join(&drawn, gap_us));
        }
    }
    let total: usize = out.values().map(Vec::len).sum();
    if total <= bars::MAX_BARS || out.is_empty() {
        return out;
    }
    let share = bars::MAX_BARS / out.len();
    let dense: Vec<u32> = out
        .iter()
        .filter(|(_, b)| b.len() > share)
        .map(|(&l, _)| l)
        .collect();
    let sparse_total: usize = out
        .iter()
        .filter(|(l, _)| !dense.contains(l))
        .map(|(_, b)| b.len())
        .sum();
    let budget = bars::MAX_BARS.saturating_sub(sparse_total).max(dense.len());
    let cell = bars::cell_width(PLOT_W, dense.len(), budget);
    for lane in dense {
        if let Some(spans) = by_lane.get(&lane) {
            out.insert(lane, bars::resample(spans, time.end_us, PLOT_W, cell));
        }
    }
    out
}

/// Hover text of a bar: lane, state, task, start → end (duration).
fn bar_title(report: &RunReport, lane: &Lane, bar: &Bar, axis: &TimeAxis) -> String {
    let task = bar.task.map(|id| {
        report
            .tasks
            .iter()
            .find(|t| t.id == id)
            .map_or_else(|| format!("task {id}"), |t| t.label.clone())
    });
    let mut out = lane.label.clone();
    if let Some(g) = &lane.group {
        out.push_str(&format!(" ({g})"));
    }
    out.push_str(" · ");
    if bar.mix.is_some() {
        out.push_str("mostly ");
    }
    out.push_str(bar.state.describe());
    if let Some(t) = task {
        out.push_str(&format!(" · {t}"));
    }
    out.push_str(&format!(
        " · {} → {} ({})",
        axis.instant(bar.start_us),
        axis.instant(bar.end_us),
        format_duration(bar.end_us - bar.start_us)
    ));
    match bar.mix {
        Some(mix) => {
            let parts: Vec<String> = SpanState::ALL
                .iter()
                .zip(mix)
                .filter(|(_, us)| *us > 0)
                .map(|(s, us)| format!("{} {}", palette::state_short(*s), format_duration(us)))
                .collect();
            out.push_str(&format!(
                " · {} spans simplified at this zoom: {}",
                bar.spans,
                parts.join(", ")
            ));
        }
        None if bar.spans > 1 => out.push_str(&format!(" · {} spans", bar.spans)),
        None => {}
    }
    out
}

/// The axis line, ticks, labels and axis title from `y`. Returns the bottom.
fn time_axis(p: &mut Painter, axis: &TimeAxis, time: TimeMap, y: f64) -> f64 {
    p.line((PLOT_X0, y), (PLOT_X0 + PLOT_W, y), palette::AXIS, "axis");
    for t in axis.ticks() {
        let x = time.x(t);
        p.line((x, y), (x, y + 5.0), palette::AXIS, "tick");
        p.text(
            (x, y + 18.0),
            &axis.label(t),
            11.0,
            (Anchor::Middle, false, palette::TEXT_MUTED, "tick-label"),
        );
    }
    p.text(
        (PLOT_X0 + PLOT_W / 2.0, y + 36.0),
        &format!("time since the run started ({})", axis.unit.symbol()),
        12.0,
        (Anchor::Middle, false, palette::TEXT, "axis-title"),
    );
    y + 36.0
}
