//! The timeline as terminal text: one row per lane, a time axis, one row per core, a legend.
//!
//! Each cell is one time slice and shows the state that filled most of it (the same rule as
//! resampled SVG bars, [`super::bars::dominant`]). Every state has its own character, so the
//! picture reads without colour; with colour each character is also painted in its palette
//! colour (ANSI 24-bit escapes).

use std::fmt::Write as _;

use super::axis::TimeAxis;
use super::bars::{accumulate, dominant};
use super::describe::{shorten, subtitle, title};
use super::layout::{Row, data_end_us, legend_states, rows, spans_by_lane};
use super::palette::{self, busy_block, rgb, state_glyph};
use crate::trace::RunReport;

/// Narrowest timeline the renderer draws, in cells.
const MIN_WIDTH: usize = 10;
/// Widest label column, in characters.
const MAX_LABEL: usize = 20;
const RESET: &str = "\x1b[0m";

/// The ANSI escape that paints the following characters in `hex`.
fn paint(hex: &str) -> String {
    let (r, g, b) = rgb(hex);
    format!("\x1b[38;2;{r};{g};{b}m")
}

/// Appends `cells` (character, colour) with the colour escapes only where the colour changes.
fn push_cells(out: &mut String, cells: &[(char, Option<&str>)], color: bool) {
    let mut current: Option<&str> = None;
    for &(c, hex) in cells {
        if color && hex != current {
            match hex {
                Some(h) => out.push_str(&paint(h)),
                None => out.push_str(RESET),
            }
            current = hex;
        }
        out.push(c);
    }
    if color && current.is_some() {
        out.push_str(RESET);
    }
}

/// A terminal rendering of the report, `width` cells of timeline wide (plus the label column),
/// with ANSI colours when `color`. Pure: returns the text, prints nothing.
pub fn terminal(report: &RunReport, width: usize, color: bool) -> String {
    let width = width.max(MIN_WIDTH);
    let end_us = data_end_us(report);
    let cell_us = |i: usize| -> u64 {
        let b = |k: usize| (u128::from(end_us) * k as u128 / width as u128) as u64;
        b(i + 1) - b(i)
    };
    let rows = rows(report);
    let by_lane = spans_by_lane(report);
    let n_cores = report.cores.iter().map(|c| c.busy.len()).max().unwrap_or(0);
    let label_w = report
        .lanes
        .iter()
        .map(|l| l.label.chars().count())
        .chain((n_cores > 0).then(|| format!("core {}", n_cores - 1).len()))
        // Wide enough for the axis' "time (ms)".
        .chain([9])
        .max()
        .unwrap_or(9)
        .min(MAX_LABEL);
    let pad = |s: &str| format!("{:<label_w$} ", shorten(s, label_w));

    let mut out = String::new();
    // `write!` into a String cannot fail; the results are ignored on purpose.
    let _ = writeln!(out, "{}", title(report));
    let _ = writeln!(out, "{}", subtitle(report));
    out.push('\n');

    for row in &rows {
        match row {
            Row::Group(name) => {
                let _ = writeln!(out, "── {name} ──");
            }
            Row::Lane(lane) => {
                let spans = by_lane.get(&lane.id).map_or(&[][..], Vec::as_slice);
                let acc = accumulate(spans, end_us, width);
                let cells: Vec<(char, Option<&str>)> = acc
                    .iter()
                    .enumerate()
                    .map(|(i, a)| match dominant(a, cell_us(i)) {
                        Some(s) => (state_glyph(s), Some(palette::state_color(s))),
                        None => (' ', None),
                    })
                    .collect();
                out.push_str(&pad(&lane.label));
                out.push('│');
                push_cells(&mut out, &cells, color);
                out.push_str("│\n");
            }
        }
    }
    axis_rows(&mut out, end_us, width, label_w);

    out.push('\n');
    let mut heading = "per-core load".to_owned();
    if let Some(words) = super::cores::source_words(&report.machine.core_source) {
        heading.push_str(&format!(" ({words})"));
    }
    if n_cores == 0 {
        let _ = writeln!(out, "{heading}: not measured on this platform");
    } else {
        let _ = writeln!(out, "{heading}, ▁ … █ = 0 … 100 % busy:");
        for core in 0..n_cores {
            let cells: Vec<(char, Option<&str>)> = core_cells(report, core, end_us, width)
                .into_iter()
                .map(|busy| match busy_block(busy) {
                    ' ' => (' ', None),
                    c => (c, Some(palette::CORE_BUSY)),
                })
                .collect();
            out.push_str(&pad(&format!("core {core}")));
            out.push('│');
            push_cells(&mut out, &cells, color);
            out.push_str("│\n");
        }
    }

    out.push('\n');
    let mut legend: Vec<(char, Option<&str>)> = Vec::new();
    for (i, s) in legend_states(report).iter().enumerate() {
        if i > 0 {
            legend.extend("  ".chars().map(|c| (c, None)));
        }
        legend.push((state_glyph(*s), Some(palette::state_color(*s))));
        legend.extend(format!(" {}", s.describe()).chars().map(|c| (c, None)));
    }
    legend.extend("  (blank: idle)".chars().map(|c| (c, None)));
    push_cells(&mut out, &legend, color);
    out.push('\n');
    out
}

/// The axis line with tick marks under the lanes, then the tick labels and the unit.
fn axis_rows(out: &mut String, end_us: u64, width: usize, label_w: usize) {
    // Leave room for labels of about six characters between ticks.
    let axis = TimeAxis::new(end_us, (width / 8).max(1) as u64);
    let col = |t: u64| -> usize {
        ((u128::from(t) * width as u128 / u128::from(end_us.max(1))) as usize).min(width - 1)
    };
    let mut line: Vec<char> = vec!['─'; width];
    let mut labels: Vec<char> = vec![' '; width + 8];
    let mut free_from = 0;
    for t in axis.ticks().filter(|&t| t <= end_us) {
        let c = col(t);
        line[c] = '┴';
        let text = axis.label(t);
        if c >= free_from && c + text.chars().count() <= labels.len() {
            for (k, ch) in text.chars().enumerate() {
                labels[c + k] = ch;
            }
            free_from = c + text.chars().count() + 1;
        }
    }
    let line: String = line.into_iter().collect();
    let labels: String = labels.into_iter().collect();
    let unit = format!("time ({})", axis.unit.symbol());
    let _ = writeln!(out, "{:label_w$} └{line}┘", "");
    let _ = writeln!(out, "{unit:<label_w$}  {}", labels.trim_end());
}

/// Core `core`'s time-weighted busy fraction in each of `width` slices of `0..end_us`.
fn core_cells(report: &RunReport, core: usize, end_us: u64, width: usize) -> Vec<f64> {
    let bound = |i: usize| (u128::from(end_us) * i as u128 / width as u128) as u64;
    let mut busy = vec![0.0f64; width];
    for s in &report.cores {
        let (start, end) = (s.start_us.min(end_us), s.end_us.min(end_us));
        if end <= start {
            continue;
        }
        let frac = f64::from(s.busy.get(core).copied().unwrap_or(0.0)).clamp(0.0, 1.0);
        let first =
            ((u128::from(start) * width as u128 / u128::from(end_us)) as usize).min(width - 1);
        let mut i = first;
        while i < width && bound(i) < end {
            let overlap = end.min(bound(i + 1)).saturating_sub(start.max(bound(i)));
            busy[i] += frac * overlap as f64;
            i += 1;
        }
    }
    busy.iter()
        .enumerate()
        .map(|(i, b)| b / (bound(i + 1) - bound(i)).max(1) as f64)
        .collect()
}
