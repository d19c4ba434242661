//! `layout(&RunReport) -> Scene`: where every bar, label, tick and legend entry goes.
//!
//! From top to bottom: title and machine line, legend, the timeline ([`super::timeline`]: a
//! GIL track above each group of threads sharing a classic GIL, one row per lane, a heading
//! row where a lane group starts), the time axis, then the per-core chart
//! ([`super::cores`]). Time maps to x linearly over the shown window ([`TimeMap`]): a whole
//! run from 0 to the axis' last tick, or any window a reader zooms into
//! ([`LayoutOptions::window`]). Nothing depends on anything but the report and the options,
//! so the same input always gives the same scene.

use super::axis::TimeAxis;
use super::bars::SLICE_PX;
use super::describe::{format_duration, subtitle, title};
use super::frame::{MARGIN, PLOT_W, PLOT_X0, Painter, WIDTH, data_end_us, legend_states};
use super::palette;
use super::scene::{Anchor, Scene, TimeMap};
use super::timeline::Timeline;
use super::window::Window;
use crate::trace::RunReport;

/// Most intervals on the time axis.
const MAX_TICKS: u64 = 10;

/// What to draw beyond the report itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LayoutOptions {
    /// Show only `from_us..to_us` (µs since the run began), stretched over the whole plot;
    /// `None` shows the whole run. The words (title, summary) still describe the whole run.
    pub window: Option<(u64, u64)>,
    /// Draw the whole run on an axis at least this long, µs: runs compared side by side then
    /// share one time scale, and a shorter run ends part-way across. Ignored with a window.
    pub span_us: Option<u64>,
}

/// Lays a report out as a [`Scene`]: the whole run; pure geometry, no I/O, deterministic.
pub fn layout(report: &RunReport) -> Scene {
    layout_with(report, &LayoutOptions::default())
}

/// The picture of `from_us..to_us` only (µs since the run began): what a reader who zooms in
/// sees. The scene's [`TimeMap`] maps that window onto the plot.
pub fn layout_window(report: &RunReport, from_us: u64, to_us: u64) -> Scene {
    layout_with(
        report,
        &LayoutOptions {
            window: Some((from_us, to_us)),
            span_us: None,
        },
    )
}

/// The axis and window a picture shows: the whole run from 0 to the axis' last tick, or
/// exactly the asked-for window.
fn frame_time(
    report: &RunReport,
    window: Option<(u64, u64)>,
    span_us: Option<u64>,
) -> (TimeAxis, Window, TimeMap) {
    let (axis, window) = match window {
        None => {
            let end = data_end_us(report).max(span_us.unwrap_or(0));
            let axis = TimeAxis::new(end, MAX_TICKS);
            (axis, Window::new(0, axis.end_us))
        }
        Some((from, to)) => {
            let w = Window::new(from, to);
            (TimeAxis::window(w.from_us, w.to_us, MAX_TICKS), w)
        }
    };
    let time = TimeMap {
        x0: PLOT_X0,
        width: PLOT_W,
        start_us: window.from_us,
        end_us: window.to_us,
    };
    (axis, window, time)
}

/// Lays a report out as a [`Scene`] with `options`: pure geometry, no I/O, deterministic.
pub fn layout_with(report: &RunReport, options: &LayoutOptions) -> Scene {
    let (axis, window, time) = frame_time(report, options.window, options.span_us);
    let timeline = Timeline::new(report, window, time);
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
    let legend_bottom = legend(&mut p, report, &timeline, time, 62.0);
    let lanes_top = legend_bottom + 22.0;
    let lanes_bottom = timeline.draw(&mut p, &axis, time, lanes_top);
    let axis_bottom = time_axis(
        &mut p,
        report,
        &axis,
        time,
        options.window.is_some(),
        lanes_bottom + 6.0,
    );
    let bottom = super::cores::core_chart(&mut p, report, &axis, time, window, axis_bottom + 26.0);

    Scene {
        width: WIDTH,
        height: (bottom + MARGIN).ceil(),
        title: heading,
        description: super::summary::text_summary(report),
        time,
        shapes: p.shapes,
    }
}

/// A thin miniature of the whole run (a row a few pixels tall per lane, with the run's time
/// axis), on the same x scale as [`layout`]: the strip a zoom brush is drawn over. Its
/// [`TimeMap`] turns a brushed x range into the window for [`layout_window`].
pub fn overview(report: &RunReport) -> Scene {
    overview_spanning(report, None)
}

/// [`overview`] on an axis at least `span_us` long (see [`LayoutOptions::span_us`]).
pub fn overview_spanning(report: &RunReport, span_us: Option<u64>) -> Scene {
    const TOP: f64 = 4.0;
    // Thin rows, thinner with many lanes: the strip stays under ~50 px tall.
    let row_h = (48.0 / report.lanes.len().max(1) as f64).clamp(1.0, 5.0);
    let (axis, window, time) = frame_time(report, None, span_us);
    let mut p = Painter::default();
    // The same stripes as the full picture's lanes, only thinner.
    let timeline = Timeline::new(report, window, time);
    let bottom = TOP + report.lanes.len() as f64 * row_h;
    p.rect(
        PLOT_X0,
        TOP,
        PLOT_W,
        bottom - TOP,
        palette::TRACK,
        "overview-track",
    );
    p.text(
        (PLOT_X0 - 8.0, TOP + (bottom - TOP) / 2.0 + 4.0),
        "whole run",
        11.0,
        (Anchor::End, false, palette::TEXT_MUTED, "overview-label"),
    );
    for (k, lane) in report.lanes.iter().enumerate() {
        let y = TOP + k as f64 * row_h;
        for s in timeline.lane_stripes(lane.id) {
            let state = crate::trace::SpanState::ALL[s.key];
            let (h, dy) = if palette::is_full_height(state) {
                (row_h, 0.0)
            } else {
                (row_h / 2.0, row_h / 4.0)
            };
            let (x0, x1) = (time.x(s.start_us), time.x(s.end_us));
            p.rect(
                x0,
                y + dy,
                x1 - x0,
                h,
                palette::state_color(state),
                &format!("overview-bar {}", state.key()),
            );
        }
    }
    for t in axis.ticks() {
        let x = time.x(t);
        p.line((x, bottom), (x, bottom + 3.0), palette::AXIS, "tick");
        p.text(
            (x, bottom + 13.0),
            &axis.label(t),
            9.0,
            (Anchor::Middle, false, palette::TEXT_MUTED, "tick-label"),
        );
    }
    Scene {
        width: WIDTH,
        height: (bottom + 16.0).ceil(),
        title: format!("{} (whole run)", title(report)),
        description: format!(
            "A miniature of the whole run ({}), one thin row per lane, for choosing a time window to look at closely.",
            format_duration(report.wall_us)
        ),
        time,
        shapes: p.shapes,
    }
}

/// The legend from `top`: one swatch per state plus idle, the GIL track's marks when there is
/// one, and a note on shares when some slices show them. Returns its bottom.
fn legend(
    p: &mut Painter,
    report: &RunReport,
    timeline: &Timeline<'_>,
    time: TimeMap,
    top: f64,
) -> f64 {
    /// What a legend entry shows.
    enum Key {
        State(crate::trace::SpanState),
        Idle,
        Gil,
        Handoff,
        Drop,
    }
    let mut x = MARGIN;
    let mut y = top;
    let entry_width = |words: &str| 20.0 + words.chars().count() as f64 * 6.4 + 18.0;
    let mut entries: Vec<(Key, &str)> = legend_states(report)
        .into_iter()
        .map(|s| (Key::State(s), s.describe()))
        .collect();
    entries.push((Key::Idle, "idle (nothing to run)"));
    if timeline.has_gil() {
        entries.push((Key::Gil, "GIL held by thread 1, 2, … (colour and number)"));
        entries.push((Key::Handoff, "hand-off"));
        entries.push((Key::Drop, "drop request"));
    }
    for (key, words) in entries {
        if x + entry_width(words) > WIDTH - MARGIN {
            x = MARGIN;
            y += 20.0;
        }
        match key {
            Key::State(s) => {
                let (h, dy) = if palette::is_full_height(s) {
                    (12.0, 0.0)
                } else {
                    (7.0, 2.5)
                };
                p.rect(x, y + dy, 14.0, h, palette::state_color(s), "legend-swatch");
            }
            Key::Idle => {
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
            Key::Gil => {
                for k in 0..3 {
                    let fill = palette::holder_color(k);
                    p.rect(x + 5.0 * k as f64, y, 5.0, 12.0, fill, "legend-swatch");
                }
            }
            Key::Handoff => {
                p.rect(x + 6.5, y, 1.0, 12.0, palette::MARK, "legend-swatch");
            }
            Key::Drop => {
                p.polygon(
                    vec![[x + 3.5, y + 2.0], [x + 10.5, y + 2.0], [x + 7.0, y + 8.0]],
                    palette::MARK,
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
    let mut bottom = y + 12.0;
    if let Some(slice_us) = timeline.shared_slice_us() {
        let note = format!(
            "Rows changing faster than 1 px ({}) show, in each {} slice ({} px), each state's share of it side by side; zoom in to see every turn.",
            px_words(time.us_per_px()),
            format_duration(slice_us),
            SLICE_PX
        );
        p.text(
            (MARGIN, bottom + 16.0),
            &note,
            11.0,
            (Anchor::Start, false, palette::TEXT_MUTED, "legend-note"),
        );
        bottom += 18.0;
    }
    bottom
}

/// How long one pixel is, in words (`9.09 ms`, `under 1 µs`).
fn px_words(us: f64) -> String {
    if us < 1.0 {
        "under 1 µs".to_owned()
    } else {
        format_duration(us.round() as u64)
    }
}

/// The axis line, ticks, labels and axis title from `y`. Returns the bottom.
fn time_axis(
    p: &mut Painter,
    report: &RunReport,
    axis: &TimeAxis,
    time: TimeMap,
    zoomed: bool,
    y: f64,
) -> f64 {
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
    let mut words = format!("time since the run started ({})", axis.unit.symbol());
    if zoomed {
        words.push_str(&format!(
            " · showing {} → {} of {}",
            axis.instant(time.start_us),
            axis.instant(time.end_us),
            format_duration(report.wall_us)
        ));
    }
    p.text(
        (PLOT_X0 + PLOT_W / 2.0, y + 36.0),
        &words,
        12.0,
        (Anchor::Middle, false, palette::TEXT, "axis-title"),
    );
    y + 36.0
}
