//! The timeline's rows: a GIL track above each group of threads that shares a classic GIL,
//! then one row per lane, all drawn from the stripes of [`super::bars`].
//!
//! A GIL track shows who held the GIL at each moment (one colour and number per thread, the
//! same colour as a tab beside that thread's label), hand-offs as thin dark lines and drop
//! requests as small triangles above the track. Where marks would crowd closer than
//! [`MARK_GAP_PX`] apart they are left out and the track's hover text counts them instead.

use std::collections::BTreeMap;

use super::axis::TimeAxis;
use super::bars::{self, Bar, RowDrawing, RowSpec};
use super::describe::{format_duration, shorten};
use super::frame::{
    GIL_ROW_H, GIL_TRACK_H, GROUP_H, LANE_H, MARGIN, PLOT_W, PLOT_X0, Painter, Row, TRACK_H,
    WAIT_H, rows, spans_by_lane,
};
use super::holders::{self, GilGroup, Mark};
use super::palette;
use super::scene::{Anchor, Line, Shape, TimeMap};
use super::slices::{Piece, Slices, Stripe};
use super::window::Window;
use crate::trace::{Lane, RunReport, Span, SpanState};

/// Lane labels longer than this many characters are shortened (full text on hover).
const LABEL_CHARS: usize = 22;
/// Marks on a GIL track are drawn only when they are at least this far apart on average, px.
pub(super) const MARK_GAP_PX: f64 = 6.0;

/// One GIL group's track: its holds, how they are drawn, and its marks in the window.
struct GilTrack {
    group: GilGroup,
    holds: Vec<Piece>,
    drawing: RowDrawing,
    marks: Vec<Mark>,
}

/// Everything the timeline draws, computed before anything is painted (the legend needs to
/// know whether there are GIL tracks and shares to explain).
pub(super) struct Timeline<'a> {
    report: &'a RunReport,
    window: Window,
    groups: Vec<GilGroup>,
    lanes: BTreeMap<u32, (Vec<Bar>, RowDrawing)>,
    gil: Vec<GilTrack>,
}

impl<'a> Timeline<'a> {
    /// Joins, slices and fits every row of `report` shown in `window` on `time`.
    pub(super) fn new(report: &'a RunReport, window: Window, time: TimeMap) -> Self {
        let gap_us = (bars::JOIN_GAP_PX * time.us_per_px()) as u64;
        let by_lane = spans_by_lane(report);
        let mut lane_bars: Vec<(u32, Vec<Bar>)> = Vec::new();
        for lane in &report.lanes {
            let spans: &[&Span] = by_lane.get(&lane.id).map_or(&[], Vec::as_slice);
            lane_bars.push((lane.id, bars::join(spans, gap_us)));
        }
        let groups = holders::gil_groups(report);
        let holds: Vec<Vec<Piece>> = groups.iter().map(|g| holders::holds(report, g)).collect();
        // Lanes first, then the GIL tracks; a lane under a GIL points at its track.
        let n_lanes = lane_bars.len();
        let rows: Vec<RowSpec> = lane_bars
            .iter()
            .map(|(id, b)| RowSpec {
                pieces: bars::pieces(b),
                on_gil: groups
                    .iter()
                    .enumerate()
                    .find_map(|(k, g)| g.position(*id).map(|pos| (n_lanes + k, pos))),
            })
            .chain(holds.iter().map(|h| RowSpec {
                pieces: h.clone(),
                on_gil: None,
            }))
            .collect();
        let mut drawn = bars::fit_rows(&rows, window, time.width).into_iter();
        let lanes = lane_bars
            .into_iter()
            .zip(drawn.by_ref())
            .map(|((id, b), d)| (id, (b, d)))
            .collect();
        let gil = groups
            .iter()
            .zip(holds)
            .zip(drawn)
            .map(|((g, h), d)| {
                let marks = holders::marks(report, g, &h)
                    .into_iter()
                    .filter(|m| (window.from_us..window.to_us).contains(&m.at_us()))
                    .collect();
                GilTrack {
                    group: g.clone(),
                    holds: h,
                    drawing: d,
                    marks,
                }
            })
            .collect();
        Self {
            report,
            window,
            groups,
            lanes,
            gil,
        }
    }

    /// The stripes of lane `id` (empty for a lane the report does not list).
    pub(super) fn lane_stripes(&self, id: u32) -> &[Stripe] {
        self.lanes
            .get(&id)
            .map_or(&[], |(_, d)| d.stripes.as_slice())
    }

    /// Whether any group has a GIL track.
    pub(super) fn has_gil(&self) -> bool {
        !self.gil.is_empty()
    }

    /// The finest slice (µs) of the rows where some stripe stands for several spans: what the
    /// legend's note on shares must explain. `None` when everything is drawn exactly.
    pub(super) fn shared_slice_us(&self) -> Option<u64> {
        let lanes = self.lanes.values().map(|(_, d)| d);
        let gil = self.gil.iter().map(|g| &g.drawing);
        lanes
            .chain(gil)
            .filter(|d| d.stripes.iter().any(|s| !s.exact))
            .map(|d| d.slices.slice_us())
            .min()
    }

    /// Paints the rows from `top`: tracks, grid, stripes, labels, marks, the end-of-run
    /// marker. Returns the bottom.
    pub(super) fn draw(&self, p: &mut Painter, axis: &TimeAxis, time: TimeMap, top: f64) -> f64 {
        let report = self.report;
        let rows = rows(report, &self.groups);
        let mut y = top;
        let mut lane_tracks: Vec<(&Lane, f64)> = Vec::new();
        let mut gil_tracks: Vec<(&GilTrack, f64)> = Vec::new();
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
                Row::Gil(group) => {
                    let track_y = y + GIL_ROW_H - GIL_TRACK_H - 2.0;
                    if let Some(t) = self.gil.iter().find(|t| &&t.group == group) {
                        p.rect(
                            PLOT_X0,
                            track_y,
                            PLOT_W,
                            GIL_TRACK_H,
                            palette::TRACK,
                            "gil-track",
                        );
                        p.hover(self.gil_summary(t, axis));
                        p.text(
                            (PLOT_X0 - 8.0, track_y + 11.0),
                            "GIL held by",
                            11.0,
                            (Anchor::End, true, palette::TEXT, "gil-label"),
                        );
                        gil_tracks.push((t, track_y));
                    }
                    y += GIL_ROW_H;
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
                    // A tab in the thread's GIL colour ties the lane to the GIL track.
                    if let Some(pos) = self.groups.iter().find_map(|g| g.position(lane.id)) {
                        p.rect(
                            PLOT_X0 - 5.0,
                            track_y,
                            3.0,
                            TRACK_H,
                            palette::holder_color(pos),
                            "lane-key",
                        );
                    }
                    lane_tracks.push((lane, track_y));
                    y += LANE_H;
                }
            }
        }
        let bottom = y;

        // Grid lines on the tracks only, so that they never cross a group heading.
        let tracks = lane_tracks.iter().map(|(_, ty)| (*ty, TRACK_H));
        let gil = gil_tracks.iter().map(|(_, ty)| (*ty, GIL_TRACK_H));
        for (track_y, h) in tracks.chain(gil) {
            for t in axis.ticks() {
                let x = time.x(t);
                p.line((x, track_y), (x, track_y + h), palette::GRID, "grid");
            }
        }

        for (lane, track_y) in &lane_tracks {
            if let Some((bars, drawing)) = self.lanes.get(&lane.id) {
                for s in &drawing.stripes {
                    self.lane_stripe(p, (lane, *track_y), bars, drawing, s, axis, time);
                }
            }
        }
        for (t, track_y) in &gil_tracks {
            self.gil_stripes(p, t, *track_y, axis, time);
        }

        let w = self.window;
        if report.wall_us > 0 && (w.from_us..=w.to_us).contains(&report.wall_us) {
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

    /// One stripe of a lane: full height for work, thinner for waiting.
    #[allow(clippy::too_many_arguments)]
    fn lane_stripe(
        &self,
        p: &mut Painter,
        (lane, track_y): (&Lane, f64),
        bars: &[Bar],
        drawing: &RowDrawing,
        s: &Stripe,
        axis: &TimeAxis,
        time: TimeMap,
    ) {
        let state = SpanState::ALL[s.key];
        let (h, dy) = if palette::is_full_height(state) {
            (TRACK_H, 0.0)
        } else {
            (WAIT_H, (TRACK_H - WAIT_H) / 2.0)
        };
        let (x0, x1) = (time.x(s.start_us), time.x(s.end_us));
        let class = if s.exact {
            format!("bar {}", state.key())
        } else {
            format!("bar {} share", state.key())
        };
        p.rect(
            x0,
            track_y + dy,
            x1 - x0,
            h,
            palette::state_color(state),
            &class,
        );
        let mut title = lane.label.clone();
        if let Some(g) = &lane.group {
            title.push_str(&format!(" ({g})"));
        }
        title.push_str(" · ");
        title.push_str(state.describe());
        match bars.get(s.first_src) {
            Some(bar) if s.exact => {
                if let Some(t) = self.task_label(bar.task) {
                    title.push_str(&format!(" · {t}"));
                }
                title.push_str(&format!(
                    " · {} → {} ({})",
                    axis.instant(bar.start_us),
                    axis.instant(bar.end_us),
                    format_duration(bar.end_us - bar.start_us)
                ));
                if bar.spans > 1 {
                    title.push_str(&format!(" · {} spans", bar.spans));
                }
            }
            _ => {
                let inside = bars
                    .get(s.first_src..=s.last_src.min(bars.len().saturating_sub(1)))
                    .unwrap_or(&[]);
                let mut tasks = inside.iter().filter(|b| b.state == state).map(|b| b.task);
                let first = tasks.next().flatten();
                if first.is_some()
                    && tasks.all(|t| t == first)
                    && let Some(t) = self.task_label(first)
                {
                    title.push_str(&format!(" · {t}"));
                }
                let n: usize = inside
                    .iter()
                    .filter(|b| b.state == state)
                    .map(|b| b.spans)
                    .sum();
                title.push_str(&shared_words(
                    s,
                    n,
                    ("span", "spans"),
                    &drawing.slices,
                    axis,
                ));
            }
        }
        p.hover(title);
    }

    /// A GIL track's stripes, numbers and marks.
    fn gil_stripes(
        &self,
        p: &mut Painter,
        t: &GilTrack,
        track_y: f64,
        axis: &TimeAxis,
        time: TimeMap,
    ) {
        let label = |pos: usize| -> String {
            t.group
                .lanes
                .get(pos)
                .and_then(|id| self.report.lanes.iter().find(|l| l.id == *id))
                .map_or_else(|| format!("thread {}", pos + 1), |l| l.label.clone())
        };
        for s in &t.drawing.stripes {
            let (x0, x1) = (time.x(s.start_us), time.x(s.end_us));
            let fill = palette::holder_color(s.key);
            let class = if s.exact {
                "gil-hold"
            } else {
                "gil-hold share"
            };
            p.rect(x0, track_y, x1 - x0, GIL_TRACK_H, fill, class);
            let mut title = format!("GIL held by {}", label(s.key));
            match t.holds.get(s.first_src) {
                Some(h) if s.exact => title.push_str(&format!(
                    " · {} → {} ({})",
                    axis.instant(h.start_us),
                    axis.instant(h.end_us),
                    format_duration(h.end_us - h.start_us)
                )),
                _ => title.push_str(&shared_words(
                    s,
                    t.holds
                        .get(s.first_src..=s.last_src.min(t.holds.len().saturating_sub(1)))
                        .map_or(0, |h| h.iter().filter(|h| h.key == s.key).count()),
                    ("turn", "turns"),
                    &t.drawing.slices,
                    axis,
                )),
            }
            p.hover(title);
            if x1 - x0 >= 12.0 {
                p.text(
                    ((x0 + x1) / 2.0, track_y + 10.5),
                    &holders::holder_number(s.key),
                    10.0,
                    (Anchor::Middle, true, palette::text_on(fill), "gil-number"),
                );
            }
        }
        if !marks_fit(t.marks.len(), time.width) {
            return;
        }
        for m in &t.marks {
            let x = time.x(m.at_us());
            match *m {
                Mark::Handoff { at_us, from, to } => {
                    p.rect(
                        x - 0.5,
                        track_y,
                        1.0,
                        GIL_TRACK_H,
                        palette::MARK,
                        "gil-handoff",
                    );
                    let from = from.map_or_else(String::new, |f| format!("{} → ", label(f)));
                    p.hover(format!(
                        "hand-off at {}: {from}{}",
                        axis.instant(at_us),
                        label(to)
                    ));
                }
                Mark::DropRequest { at_us, by, holder } => {
                    p.polygon(
                        vec![
                            [x - 3.5, track_y - 8.0],
                            [x + 3.5, track_y - 8.0],
                            [x, track_y - 2.0],
                        ],
                        palette::MARK,
                        "gil-drop",
                    );
                    p.hover(format!(
                        "drop request at {}: {} had waited a whole switch interval and asked {} to drop the GIL",
                        axis.instant(at_us),
                        label(by),
                        label(holder)
                    ));
                }
            }
        }
    }

    /// A GIL track's hover text: who held it how long in the window, how often it changed
    /// hands, and whether the marks are drawn.
    fn gil_summary(&self, t: &GilTrack, axis: &TimeAxis) -> String {
        let w = self.window;
        let mut held = vec![0u64; t.group.lanes.len()];
        for h in &t.holds {
            let (a, b) = (h.start_us.max(w.from_us), h.end_us.min(w.to_us));
            if let Some(slot) = held.get_mut(h.key) {
                *slot += b.saturating_sub(a);
            }
        }
        let names: Vec<String> = t
            .group
            .lanes
            .iter()
            .zip(&held)
            .map(|(id, us)| {
                let name = self
                    .report
                    .lanes
                    .iter()
                    .find(|l| l.id == *id)
                    .map_or("?", |l| l.label.as_str());
                format!("{name} {}", format_duration(*us))
            })
            .collect();
        let free = w.len_us().saturating_sub(held.iter().sum());
        let handoffs = t
            .marks
            .iter()
            .filter(|m| matches!(m, Mark::Handoff { .. }))
            .count();
        let drops = t.marks.len() - handoffs;
        let mut out = String::from("GIL");
        if let Some(g) = &t.group.name {
            out.push_str(&format!(" ({g})"));
        }
        out.push_str(&format!(
            " · {} → {}: held by {}; free {} · {handoffs} hand-offs, {drops} drop requests",
            axis.instant(w.from_us),
            axis.instant(w.to_us),
            names.join(", "),
            format_duration(free)
        ));
        if !marks_fit(t.marks.len(), PLOT_W) {
            out.push_str(" (too many to mark at this zoom; zoom in to see each)");
        }
        out
    }

    fn task_label(&self, task: Option<u32>) -> Option<String> {
        let id = task?;
        Some(
            self.report
                .tasks
                .iter()
                .find(|t| t.id == id)
                .map_or_else(|| format!("task {id}"), |t| t.label.clone()),
        )
    }
}

/// Whether `n` marks fit on a plot `width` px wide at least [`MARK_GAP_PX`] apart on average.
pub(super) fn marks_fit(n: usize, width: f64) -> bool {
    n as f64 * MARK_GAP_PX <= width
}

/// Hover words for a stripe that stands for several pieces: where, how many, how much.
fn shared_words(
    s: &Stripe,
    n: usize,
    (one, many): (&str, &str),
    slices: &Slices,
    axis: &TimeAxis,
) -> String {
    let what = if n == 1 { one } else { many };
    let from = slices.bound(slices.index(s.start_us));
    let to = slices.bound(slices.index(s.end_us.saturating_sub(1)) + 1);
    let pct = 100.0 * s.us as f64 / (to - from).max(1) as f64;
    format!(
        " · {} → {}: {n} {what}, {} in all ({pct:.0} %) · zoom in to see each",
        axis.instant(from),
        axis.instant(to),
        format_duration(s.us),
    )
}
