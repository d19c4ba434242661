//! The timeline as terminal text: a GIL row above each group of threads sharing a classic GIL,
//! one row per lane, a time axis, one row per core, a legend.
//!
//! Each cell is one time slice ([`super::slices`]). A lane's cell shows how much of the slice
//! it spent running as a block of that height (`▁` … `█`, rounded to eighths), so four threads
//! taking 5 ms turns under one GIL each show a quarter-high block in every cell rather than
//! vanishing behind "waiting"; a cell that ran less than a sixteenth of the slice shows the
//! state that filled most of it (`░` waiting for the GIL, `·` I/O, …, blank when idle). A GIL
//! row shows, per cell, the number of the thread that held the GIL longest. Every state has
//! its own character, so the picture reads without colour; with colour each character is
//! painted in its palette colour (ANSI 24-bit escapes), and a partly running cell's
//! background shows what the rest of it was.

use std::fmt::Write as _;

use super::axis::TimeAxis;
use super::bars::{self, dominant};
use super::cores::{self, CoreRow, core_count, source_words};
use super::describe::{format_duration, shorten, subtitle, title};
use super::frame::{Row, data_end_us, legend_states, rows, spans_by_lane};
use super::holders::{self, holder_char};
use super::palette::{self, busy_block, rgb, share_block, state_glyph};
use super::slices::{Share, Slices, shares};
use super::window::Window;
use crate::trace::{RunReport, Span, SpanState};

/// Narrowest timeline the renderer draws, in cells.
const MIN_WIDTH: usize = 10;
/// Widest label column, in characters.
const MAX_LABEL: usize = 20;
const RESET: &str = "\x1b[0m";

/// How to draw a report as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TerminalOptions {
    /// Cells of timeline (the label column comes on top); at least 10 are drawn.
    pub width: usize,
    /// Paint with ANSI 24-bit colour escapes.
    pub color: bool,
    /// Show only `from_us..to_us` (µs since the run began); `None` shows the whole run.
    pub window: Option<(u64, u64)>,
}

/// One character cell: a glyph, its colour and its background colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cell {
    ch: char,
    fg: Option<&'static str>,
    bg: Option<&'static str>,
}

impl Cell {
    fn plain(ch: char) -> Self {
        Self {
            ch,
            fg: None,
            bg: None,
        }
    }

    fn colored(ch: char, fg: &'static str) -> Self {
        Self {
            ch,
            fg: Some(fg),
            bg: None,
        }
    }
}

/// Appends `cells` with colour escapes only where the colours change.
fn push_cells(out: &mut String, cells: &[Cell], color: bool) {
    let mut current: (Option<&str>, Option<&str>) = (None, None);
    for c in cells {
        if color && (c.fg, c.bg) != current {
            out.push_str(RESET);
            if let Some(h) = c.fg {
                let (r, g, b) = rgb(h);
                let _ = write!(out, "\x1b[38;2;{r};{g};{b}m");
            }
            if let Some(h) = c.bg {
                let (r, g, b) = rgb(h);
                let _ = write!(out, "\x1b[48;2;{r};{g};{b}m");
            }
            current = (c.fg, c.bg);
        }
        out.push(c.ch);
    }
    if color && current != (None, None) {
        out.push_str(RESET);
    }
}

fn text_cells(text: &str) -> impl Iterator<Item = Cell> + '_ {
    text.chars().map(Cell::plain)
}

/// A lane's cell from its shares of one slice `len_us` long; the flag says whether it is a
/// partial running block (which the legend then explains).
fn lane_cell(list: &[Share], len_us: u64) -> (Cell, bool) {
    let mut acc = [0u64; SpanState::COUNT];
    for s in list {
        if let Some(k) = s.key {
            acc[k] += s.us;
        }
    }
    let running = SpanState::Running.index();
    let run_share = acc[running] as f64 / len_us.max(1) as f64;
    match share_block(run_share) {
        Some('█') => (Cell::colored('█', palette::RUNNING), false),
        Some(block) => {
            // Behind the block: what filled most of the rest of the slice.
            let rest = SpanState::ALL
                .iter()
                .zip(acc)
                .filter(|(s, us)| **s != SpanState::Running && *us > 0)
                .max_by_key(|(s, us)| (*us, std::cmp::Reverse(s.index())))
                .map(|(s, _)| palette::state_color(*s));
            let cell = Cell {
                ch: block,
                fg: Some(palette::RUNNING),
                bg: rest,
            };
            (cell, true)
        }
        None => match dominant(&acc, len_us) {
            Some(s) => (
                Cell::colored(state_glyph(s), palette::state_color(s)),
                false,
            ),
            None => (Cell::plain(' '), false),
        },
    }
}

/// A terminal rendering of the whole report, `width` cells of timeline wide (plus the label
/// column), with ANSI colours when `color`. Pure: returns the text, prints nothing.
pub fn terminal(report: &RunReport, width: usize, color: bool) -> String {
    terminal_with(
        report,
        &TerminalOptions {
            width,
            color,
            window: None,
        },
    )
}

/// A terminal rendering of the report with `options` (see [`TerminalOptions`]).
pub fn terminal_with(report: &RunReport, options: &TerminalOptions) -> String {
    let width = options.width.max(MIN_WIDTH);
    let color = options.color;
    let window = match options.window {
        Some((from, to)) => Window::new(from, to),
        None => Window::new(0, data_end_us(report)),
    };
    let cells = Slices::new(window, width);
    let groups = holders::gil_groups(report);
    let rows = rows(report, &groups);
    let by_lane = spans_by_lane(report);
    let n_cores = core_count(report);
    let core_rows = cores::core_rows(report, &cells);
    let label_w = report
        .lanes
        .iter()
        .map(|l| l.label.chars().count())
        .chain(core_rows.iter().map(|r| r.label().chars().count()))
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

    let mut partial = false;
    for row in &rows {
        match row {
            Row::Group(name) => {
                let _ = writeln!(out, "── {name} ──");
            }
            Row::Gil(group) => {
                let holds = holders::holds(report, group);
                let line: Vec<Cell> = shares(&holds, &cells)
                    .iter()
                    .map(|list| gil_cell(list))
                    .collect();
                out.push_str(&pad("GIL"));
                out.push('│');
                push_cells(&mut out, &line, color);
                out.push_str("│\n");
            }
            Row::Lane(lane) => {
                let spans: &[&Span] = by_lane.get(&lane.id).map_or(&[], Vec::as_slice);
                let pieces = bars::pieces(&bars::join(spans, 0));
                let line: Vec<Cell> = shares(&pieces, &cells)
                    .iter()
                    .enumerate()
                    .map(|(i, list)| {
                        let (cell, part) = lane_cell(list, cells.len_us(i));
                        partial |= part;
                        cell
                    })
                    .collect();
                out.push_str(&pad(&lane.label));
                out.push('│');
                push_cells(&mut out, &line, color);
                out.push_str("│\n");
            }
        }
    }
    axis_rows(&mut out, window, options.window.is_some(), width, label_w);

    out.push('\n');
    let mut heading = "per-core load".to_owned();
    if let Some(words) = source_words(&report.machine.core_source) {
        heading.push_str(&format!(" ({words})"));
    }
    if n_cores == 0 {
        let _ = writeln!(out, "{heading}: not measured on this platform");
    } else {
        let _ = writeln!(out, "{heading}, ▁ … █ = 0 … 100 % busy:");
        for row in &core_rows {
            let line: Vec<Cell> = match row {
                CoreRow::One(_, cols) => cols
                    .iter()
                    .map(|busy| match busy.map(busy_block) {
                        None | Some(' ') => Cell::plain(' '),
                        Some(c) => Cell::colored(c, palette::CORE_BUSY),
                    })
                    .collect(),
                CoreRow::Idle(..) => (0..cells.count).map(|_| Cell::plain(' ')).collect(),
            };
            out.push_str(&pad(&row.label()));
            out.push('│');
            push_cells(&mut out, &line, color);
            out.push_str("│\n");
        }
    }

    out.push('\n');
    let mut legend: Vec<Cell> = Vec::new();
    for (i, s) in legend_states(report).iter().enumerate() {
        if i > 0 {
            legend.extend(text_cells("  "));
        }
        legend.push(Cell::colored(state_glyph(*s), palette::state_color(*s)));
        legend.extend(text_cells(&format!(" {}", s.describe())));
    }
    legend.extend(text_cells("  (blank: idle)"));
    push_cells(&mut out, &legend, color);
    out.push('\n');
    if partial {
        let rest = if color {
            "the colour behind the block shows what filled the rest"
        } else {
            "it waited or idled for the rest"
        };
        let _ = writeln!(
            out,
            "▁▂▃▄▅▆▇ ran for ⅛ … ⅞ of a cell ({} each); {rest}",
            format_duration(cells.slice_us())
        );
    }
    if !groups.is_empty() {
        let _ = writeln!(
            out,
            "GIL row: the thread (1, 2, … as in Thread-1, Thread-2, …) that held the GIL longest in each cell; blank: nobody held it"
        );
    }
    out
}

/// A GIL row's cell: the number of the thread that held it longest, blank when it was free
/// for longer than anyone held it.
fn gil_cell(list: &[Share]) -> Cell {
    let idle = list.iter().find(|s| s.key.is_none()).map_or(0, |s| s.us);
    let best = list
        .iter()
        .filter_map(|s| s.key.map(|k| (k, s.us)))
        .max_by_key(|&(k, us)| (us, std::cmp::Reverse(k)));
    match best {
        // The number on the thread's colour reads on dark and light terminals alike.
        Some((k, us)) if us >= idle => {
            let bg = palette::holder_color(k);
            Cell {
                ch: holder_char(k),
                fg: Some(palette::text_on(bg)),
                bg: Some(bg),
            }
        }
        _ => Cell::plain(' '),
    }
}

/// The axis line with tick marks under the lanes, then the tick labels and the unit.
fn axis_rows(out: &mut String, window: Window, zoomed: bool, width: usize, label_w: usize) {
    // Leave room for labels of about six characters between ticks.
    let max_ticks = (width / 8).max(1) as u64;
    let axis = if zoomed {
        TimeAxis::window(window.from_us, window.to_us, max_ticks)
    } else {
        TimeAxis::new(window.to_us, max_ticks)
    };
    let cells = Slices::new(window, width);
    let mut line: Vec<char> = vec!['─'; width];
    let mut labels: Vec<char> = vec![' '; width + 8];
    let mut free_from = 0;
    for t in axis.ticks().filter(|&t| t <= window.to_us) {
        let c = cells.index(t);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::fixtures;

    #[test]
    fn a_quarter_of_running_is_a_quarter_block_on_the_waiting_colour() {
        let list = [
            Share {
                key: Some(SpanState::GilWait.index()),
                us: 75,
                first_src: 0,
                last_src: 0,
                srcs: 1,
            },
            Share {
                key: Some(SpanState::Running.index()),
                us: 25,
                first_src: 1,
                last_src: 1,
                srcs: 1,
            },
        ];
        let (cell, partial) = lane_cell(&list, 100);
        assert!(partial);
        assert_eq!(cell.ch, '▂');
        assert_eq!(cell.bg, Some(palette::GIL_WAIT));
        // A sliver of running shows the state that filled the cell.
        let (cell, partial) = lane_cell(&list[..1], 100);
        assert_eq!((cell.ch, partial), ('░', false));
    }

    #[test]
    fn a_window_shows_only_its_time() {
        let r = fixtures::cpu_threads();
        let opts = TerminalOptions {
            width: 50,
            color: false,
            window: Some((20_000, 40_000)),
        };
        let text = terminal_with(&r, &opts);
        // 20 ms at 0.4 ms a cell: each 5 ms turn is a run of full blocks.
        assert!(text.contains("████████████"), "{text}");
        assert!(text.contains("time (ms)"), "{text}");
        assert!(text.contains("20"), "{text}");
    }
}
