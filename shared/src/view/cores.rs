//! The per-core utilisation chart under the timeline: one small row per core, its busy
//! fraction over time drawn as a filled step area on the timeline's time scale.
//!
//! Samples are averaged, weighted by the time they cover, into columns as wide as the lanes'
//! slices (4 px; 8 with many cores). Several samples inside one column become their average:
//! two cores that take turns at one thread's work every 12 ms read as two half-busy cores —
//! one core of work — rather than as spikes of two full ones side by side. Samples wider than
//! a column (a zoomed window) are drawn as they are. The terminal averages into its cells
//! with the same [`columns`]. Unmeasured time stays blank.

use super::axis::TimeAxis;
use super::bars::SLICE_PX;
use super::frame::{MARGIN, PLOT_W, PLOT_X0, Painter};
use super::palette;
use super::scene::{Anchor, Polygon, Shape, TimeMap};
use super::slices::Slices;
use super::window::Window;
use crate::trace::RunReport;

/// What the chart's heading says about where the numbers came from.
pub(super) fn source_words(core_source: &str) -> Option<&'static str> {
    match core_source {
        "estimated" => Some("estimated from worker activity"),
        "proc-stat" => Some("measured by the operating system"),
        "simulated" => Some("simulated"),
        _ => None,
    }
}

/// The number of cores the report has samples for.
pub(super) fn core_count(report: &RunReport) -> usize {
    report.cores.iter().map(|c| c.busy.len()).max().unwrap_or(0)
}

/// Core `core`'s busy fraction in each slice: the time-weighted average of the samples that
/// overlap it, over the part of the slice they cover (`None` where no sample does). Rounded
/// to 0.1 %, so that slices inside one sample read exactly alike.
pub(super) fn columns(report: &RunReport, core: usize, slices: &Slices) -> Vec<Option<f64>> {
    let n = slices.count;
    let mut busy_us = vec![0.0f64; n];
    let mut covered_us = vec![0u64; n];
    let w = slices.window;
    for s in &report.cores {
        let (start, end) = (s.start_us.max(w.from_us), s.end_us.min(w.to_us));
        if end <= start {
            continue;
        }
        let frac = f64::from(s.busy.get(core).copied().unwrap_or(0.0)).clamp(0.0, 1.0);
        let mut i = slices.index(start);
        while i < n && slices.bound(i) < end {
            let overlap = end.min(slices.bound(i + 1)) - start.max(slices.bound(i));
            busy_us[i] += frac * overlap as f64;
            covered_us[i] += overlap;
            i += 1;
        }
    }
    busy_us
        .iter()
        .zip(&covered_us)
        .map(|(&b, &c)| (c > 0).then(|| (b / c as f64 * 1000.0).round() / 1000.0))
        .collect()
}

/// A core is idle in the shown window when no column of it reaches this busy fraction (the
/// sampler's own noise on an idle core is well under it).
const IDLE_BELOW: f64 = 0.01;

/// Above this many cores, idle neighbours share one row: a 64-core run of 4 processes is four
/// busy rows and a line, not 60 empty rows (issue 14).
const GROUP_IDLE_ABOVE: usize = 8;

/// One row of the per-core chart.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum CoreRow {
    /// Core `core`, with its columns.
    One(usize, Vec<Option<f64>>),
    /// Cores `from..=to`, idle all through the window.
    Idle(usize, usize),
}

impl CoreRow {
    /// The row's label: `core 3`, `cores 4–63 idle`.
    pub(super) fn label(&self) -> String {
        match self {
            CoreRow::One(core, _) => format!("core {core}"),
            CoreRow::Idle(from, to) if from == to => format!("core {from} idle"),
            CoreRow::Idle(from, to) => format!("cores {from}–{to} idle"),
        }
    }
}

/// The chart's rows over `slices`: every core, except that with more than
/// [`GROUP_IDLE_ABOVE`] cores a run of two or more idle ones becomes one row.
pub(super) fn core_rows(report: &RunReport, slices: &Slices) -> Vec<CoreRow> {
    let n = core_count(report);
    let all: Vec<Vec<Option<f64>>> = (0..n).map(|c| columns(report, c, slices)).collect();
    let idle = |cols: &[Option<f64>]| cols.iter().all(|c| c.is_none_or(|b| b < IDLE_BELOW));
    let mut rows = Vec::new();
    let mut k = 0;
    while k < n {
        let mut end = k;
        while n > GROUP_IDLE_ABOVE && end < n && idle(&all[end]) {
            end += 1;
        }
        if end - k >= 2 {
            rows.push(CoreRow::Idle(k, end - 1));
            k = end;
        } else {
            rows.push(CoreRow::One(k, all[k].clone()));
            k += 1;
        }
    }
    rows
}

/// One averaged stretch of a core's samples.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bucket {
    start_us: u64,
    end_us: u64,
    busy: f64,
}

/// Runs of equal columns as buckets; unmeasured columns close a bucket.
fn buckets(columns: &[Option<f64>], slices: &Slices) -> Vec<Bucket> {
    let mut out: Vec<Bucket> = Vec::new();
    for (i, c) in columns.iter().enumerate() {
        let Some(busy) = *c else { continue };
        let (start_us, end_us) = (slices.bound(i), slices.bound(i + 1));
        match out.last_mut() {
            Some(b) if b.end_us == start_us && b.busy == busy => b.end_us = end_us,
            _ => out.push(Bucket {
                start_us,
                end_us,
                busy,
            }),
        }
    }
    out
}

/// The outline of a step area over `row_bottom`, `row_h` tall at 100 %.
fn outline(buckets: &[Bucket], time: TimeMap, row_bottom: f64, row_h: f64) -> Vec<[f64; 2]> {
    let mut points: Vec<[f64; 2]> = Vec::new();
    let mut last_end: Option<u64> = None;
    for b in buckets {
        let top = row_bottom - b.busy * row_h;
        if last_end != Some(b.start_us) {
            // A gap (or the first bucket): come down to the baseline and up again.
            if let Some(end) = last_end {
                points.push([time.x(end), row_bottom]);
            }
            points.push([time.x(b.start_us), row_bottom]);
        }
        let x0 = time.x(b.start_us);
        let x1 = time.x(b.end_us);
        // Consecutive buckets at the same height need no corner between them.
        if points.last() == Some(&[x0, top]) {
            points.pop();
        } else {
            points.push([x0, top]);
        }
        points.push([x1, top]);
        last_end = Some(b.end_us);
    }
    if let Some(end) = last_end {
        points.push([time.x(end), row_bottom]);
    }
    points
}

/// The chart from `top`: heading, then a row per core (or a line saying there are no
/// measurements). Returns the bottom.
pub(super) fn core_chart(
    p: &mut Painter,
    report: &RunReport,
    axis: &TimeAxis,
    time: TimeMap,
    window: Window,
    top: f64,
) -> f64 {
    let mut heading = "Per-core load (each row: 0–100 % busy)".to_owned();
    if let Some(words) = source_words(&report.machine.core_source) {
        heading.push_str(" · ");
        heading.push_str(words);
    }
    p.text(
        (MARGIN, top),
        &heading,
        13.0,
        (Anchor::Start, true, palette::TEXT, "cores-heading"),
    );
    let n = core_count(report);
    if n == 0 {
        p.text(
            (MARGIN, top + 20.0),
            "Per-core load was not measured on this platform.",
            12.0,
            (Anchor::Start, false, palette::TEXT_MUTED, "cores-missing"),
        );
        return top + 24.0;
    }
    // Many cores get wider columns, and many rows thinner ones, so that the picture stays
    // small (idle cores already share rows).
    let column_px = if n > 32 { 2.0 * SLICE_PX } else { SLICE_PX };
    let slices = Slices::new(window, (PLOT_W / column_px).round() as usize);
    let rows = core_rows(report, &slices);
    let (row_h, gap, font) = match rows.len() {
        0..=8 => (20.0, 4.0, 11.0),
        9..=32 => (12.0, 3.0, 10.0),
        _ => (11.0, 2.0, 9.0),
    };
    let rows_top = top + 10.0;
    let rows_bottom = rows_top + rows.len() as f64 * (row_h + gap) - gap;
    let mut y = rows_top;
    for row in &rows {
        let (fill, class) = match row {
            CoreRow::One(..) => (palette::TRACK, "core-track"),
            CoreRow::Idle(..) => (palette::TRACK, "core-track idle"),
        };
        p.rect(PLOT_X0, y, PLOT_W, row_h, fill, class);
        p.text(
            (PLOT_X0 - 8.0, y + row_h / 2.0 + font * 0.35),
            &row.label(),
            font,
            (Anchor::End, false, palette::TEXT, "core-label"),
        );
        y += row_h + gap;
    }
    for t in axis.ticks() {
        let x = time.x(t);
        p.line((x, rows_top), (x, rows_bottom), palette::GRID, "grid");
    }
    let mut y = rows_top;
    for row in &rows {
        let CoreRow::One(core, cols) = row else {
            y += row_h + gap;
            continue;
        };
        let b = buckets(cols, &slices);
        let sampled: u64 = b.iter().map(|b| b.end_us - b.start_us).sum();
        let busy: f64 = b
            .iter()
            .map(|b| b.busy * (b.end_us - b.start_us) as f64)
            .sum();
        let average = if sampled > 0 {
            busy / sampled as f64
        } else {
            0.0
        };
        let points = outline(&b, time, y + row_h, row_h);
        if !points.is_empty() {
            p.shapes.push(Shape::Polygon(Polygon {
                points,
                fill: palette::CORE_BUSY.to_owned(),
                class: "core-area".to_owned(),
                title: Some(format!(
                    "core {core} · busy {:.0} % of the sampled time shown",
                    average * 100.0
                )),
            }));
        }
        y += row_h + gap;
    }
    rows_bottom
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::trace::CoreSample;
    use crate::view::fixtures;

    #[test]
    fn adjacent_equal_buckets_share_corners() {
        let time = TimeMap {
            x0: 0.0,
            width: 100.0,
            start_us: 0,
            end_us: 100,
        };
        let b = [
            Bucket {
                start_us: 0,
                end_us: 10,
                busy: 1.0,
            },
            Bucket {
                start_us: 10,
                end_us: 20,
                busy: 1.0,
            },
            Bucket {
                start_us: 30,
                end_us: 40,
                busy: 0.5,
            },
        ];
        let pts = outline(&b, time, 20.0, 20.0);
        assert_eq!(
            pts,
            vec![
                [0.0, 20.0],
                [0.0, 0.0],
                [20.0, 0.0],
                [20.0, 20.0],
                [30.0, 20.0],
                [30.0, 10.0],
                [40.0, 10.0],
                [40.0, 20.0]
            ]
        );
    }

    /// Two cores taking turns at one thread's work in samples narrower than a column: each
    /// column shows both half busy (one core of work), not both full.
    #[test]
    fn alternating_samples_narrower_than_a_column_average_to_one_core() {
        let mut r = fixtures::cpu_threads();
        r.cores = (0..600u64)
            .map(|k| CoreSample {
                start_us: k * 2_000,
                end_us: (k + 1) * 2_000,
                busy: if k % 2 == 0 {
                    vec![1.0, 0.0]
                } else {
                    vec![0.0, 1.0]
                },
            })
            .collect();
        // 1.2 s on 100 columns: 12 ms, six samples, per column.
        let slices = Slices::new(Window::new(0, 1_200_000), 100);
        let a = columns(&r, 0, &slices);
        let b = columns(&r, 1, &slices);
        for (x, y) in a.iter().zip(&b) {
            let (x, y) = (x.unwrap_or(0.0), y.unwrap_or(0.0));
            assert!((x - 0.5).abs() < 1e-9 && (y - 0.5).abs() < 1e-9, "{x} {y}");
        }
        // Wider than a column, the same samples are drawn as they are.
        let fine = Slices::new(Window::new(0, 12_000), 12);
        assert_eq!(columns(&r, 0, &fine)[0], Some(1.0));
        assert_eq!(columns(&r, 0, &fine)[2], Some(0.0));
        // Unmeasured time stays blank.
        let after = Slices::new(Window::new(1_200_000, 1_300_000), 4);
        assert!(columns(&r, 0, &after).iter().all(Option::is_none));
    }

    /// A 64-core run of four busy cores: four rows and one for the 60 idle ones, in the
    /// picture and in the terminal alike.
    #[test]
    fn idle_cores_of_a_big_machine_share_a_row() {
        let mut r = fixtures::cpu_threads();
        r.machine.cores = 64;
        r.cores = (0..100u64)
            .map(|k| CoreSample {
                start_us: k * 10_000,
                end_us: (k + 1) * 10_000,
                busy: (0..64)
                    .map(|c| if c % 16 == 0 { 1.0 } else { 0.0 })
                    .collect(),
            })
            .collect();
        let slices = Slices::new(Window::new(0, 1_000_000), 100);
        let labels: Vec<String> = core_rows(&r, &slices).iter().map(CoreRow::label).collect();
        assert_eq!(
            labels,
            [
                "core 0",
                "cores 1–15 idle",
                "core 16",
                "cores 17–31 idle",
                "core 32",
                "cores 33–47 idle",
                "core 48",
                "cores 49–63 idle"
            ]
        );
        let text = crate::view::terminal(&r, 100, false);
        assert!(text.contains("cores 49–63 idle"), "{text}");
        assert!(!text.contains("core 63 "), "{text}");
        // A small machine keeps a row per core, idle or not.
        r.cores.iter_mut().for_each(|s| s.busy.truncate(4));
        assert_eq!(core_rows(&r, &slices).len(), 4);
    }
}
