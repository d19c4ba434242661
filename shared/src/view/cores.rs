//! The per-core utilisation chart under the timeline: one small row per core, its busy
//! fraction over time drawn as a filled step area on the timeline's time scale.
//!
//! Samples narrower than a pixel are averaged (weighted by time) into buckets at least one
//! pixel wide, so a long run sampled every few milliseconds stays a small polygon per core.

use super::axis::TimeAxis;
use super::layout::{MARGIN, PLOT_W, PLOT_X0, Painter};
use super::palette;
use super::scene::{Anchor, Polygon, Shape, TimeMap};
use crate::trace::RunReport;

/// What the chart's heading says about where the numbers came from.
pub(super) fn source_words(core_source: &str) -> Option<&'static str> {
    match core_source {
        "estimated" => Some("estimated from worker activity"),
        "proc-stat" => Some("measured by the operating system"),
        _ => None,
    }
}

/// One averaged stretch of a core's samples.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bucket {
    start_us: u64,
    end_us: u64,
    busy: f64,
}

/// Core `core`'s samples averaged into buckets at least `min_us` long; a gap between samples
/// closes a bucket so that unmeasured time is not painted as busy.
fn buckets(report: &RunReport, core: usize, min_us: u64) -> Vec<Bucket> {
    let mut out: Vec<Bucket> = Vec::new();
    let mut open: Option<(u64, u64, f64)> = None; // start, end, busy·µs
    for s in &report.cores {
        if s.end_us <= s.start_us {
            continue;
        }
        let busy = f64::from(s.busy.get(core).copied().unwrap_or(0.0)).clamp(0.0, 1.0);
        let weight = busy * (s.end_us - s.start_us) as f64;
        open = match open {
            Some((start, end, sum)) if s.start_us == end && end - start < min_us => {
                Some((start, s.end_us, sum + weight))
            }
            Some((start, end, sum)) => {
                out.push(Bucket {
                    start_us: start,
                    end_us: end,
                    busy: sum / (end - start) as f64,
                });
                Some((s.start_us, s.end_us, weight))
            }
            None => Some((s.start_us, s.end_us, weight)),
        };
    }
    if let Some((start, end, sum)) = open {
        out.push(Bucket {
            start_us: start,
            end_us: end,
            busy: sum / (end - start) as f64,
        });
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
    let n = report.cores.iter().map(|c| c.busy.len()).max().unwrap_or(0);
    if n == 0 {
        p.text(
            (MARGIN, top + 20.0),
            "Per-core load was not measured on this platform.",
            12.0,
            (Anchor::Start, false, palette::TEXT_MUTED, "cores-missing"),
        );
        return top + 24.0;
    }
    let (row_h, gap, font, label_every) = match n {
        0..=8 => (20.0, 4.0, 11.0, 1),
        9..=32 => (12.0, 3.0, 10.0, 1),
        _ => (8.0, 2.0, 9.0, 4),
    };
    let rows_top = top + 10.0;
    let rows_bottom = rows_top + n as f64 * (row_h + gap) - gap;
    let min_us = time.us_per_px().ceil() as u64;
    let mut y = rows_top;
    for core in 0..n {
        p.rect(PLOT_X0, y, PLOT_W, row_h, palette::TRACK, "core-track");
        if core % label_every == 0 {
            p.text(
                (PLOT_X0 - 8.0, y + row_h / 2.0 + font * 0.35),
                &format!("core {core}"),
                font,
                (Anchor::End, false, palette::TEXT, "core-label"),
            );
        }
        y += row_h + gap;
    }
    for t in axis.ticks() {
        let x = time.x(t);
        p.line((x, rows_top), (x, rows_bottom), palette::GRID, "grid");
    }
    let mut y = rows_top;
    for core in 0..n {
        let b = buckets(report, core, min_us);
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
                    "core {core} · busy {:.0} % of the sampled time",
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

    #[test]
    fn adjacent_equal_buckets_share_corners() {
        let time = TimeMap {
            x0: 0.0,
            width: 100.0,
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
}
