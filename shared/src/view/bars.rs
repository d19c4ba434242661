//! From spans to the bars actually drawn.
//!
//! # The drawing rule
//!
//! 1. Each lane's spans are sorted by start. A span is **joined** to the bar before it when
//!    both have the same state and task and the gap between them is under a quarter pixel
//!    ([`JOIN_GAP_PX`]): at that zoom they look like one bar anyway.
//! 2. The window is cut into slices [`SLICE_PX`] wide, and every row (a lane, a GIL track) is
//!    drawn as [`stripes`](super::slices::stripes): in each slice, each state's *share* of
//!    the slice laid side by side in the order the states first appeared. A bar wider than a
//!    slice, or one state change inside a slice, comes out exactly where it was; where a
//!    slice saw more alternations than it can show (four threads taking 5 ms turns in a
//!    whole-run picture), each state still covers its true share of the slice. So a thread
//!    that ran a quarter of the time covers a quarter of its row at every zoom, and the bars
//!    stay readable without colour (running full height, waiting thinner).
//!    In a slice with more alternations than it can show, the states are laid out in legend
//!    order — except that a thread's running share sits where its turn sits on its GIL track
//!    (threads 1, 2, 3 … in turn), so threads sharing a GIL never look as if they ran at once.
//! 3. If the picture would still need more than [`MAX_BARS`] rectangles (≈ 1 MB of SVG with
//!    hover text), every row's slices get twice as wide, until it fits. Shares stay true;
//!    only the places inside a slice get coarser.
//!
//! Time totals in the text summary always come from the spans themselves, never from bars.

use super::slices::{Anchor, Piece, Slices, Stripe, stripes_with};
use super::window::Window;
use crate::trace::{Span, SpanState};

/// Spans of one lane closer than this (in px) and alike are drawn as one bar.
pub const JOIN_GAP_PX: f64 = 0.25;
/// Most rectangles a picture's rows draw before busy rows get coarser slices.
pub const MAX_BARS: usize = 4_000;
/// Width of a slice, px: alternations finer than this are drawn as shares of the slice.
pub const SLICE_PX: f64 = 8.0;

/// Spans of one lane joined where they touch and are alike.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// What it shows.
    pub state: SpanState,
    /// The task, when every span in it worked on the same one.
    pub task: Option<u32>,
    /// Start, µs.
    pub start_us: u64,
    /// End, µs.
    pub end_us: u64,
    /// How many spans were joined into it.
    pub spans: usize,
}

/// Joins alike, (nearly) touching spans of one lane. `spans` must be sorted by start.
pub fn join(spans: &[&Span], gap_us: u64) -> Vec<Bar> {
    let mut bars: Vec<Bar> = Vec::new();
    for s in spans.iter().filter(|s| s.end_us > s.start_us) {
        if let Some(last) = bars.last_mut()
            && last.state == s.state
            && last.task == s.task
            && s.start_us >= last.start_us
            && s.start_us <= last.end_us.saturating_add(gap_us)
        {
            last.end_us = last.end_us.max(s.end_us);
            last.spans += 1;
            continue;
        }
        bars.push(Bar {
            state: s.state,
            task: s.task,
            start_us: s.start_us,
            end_us: s.end_us,
            spans: 1,
        });
    }
    bars
}

/// Bars as pieces keyed by their state's index (piece `i` is bar `i`).
pub(super) fn pieces(bars: &[Bar]) -> Vec<Piece> {
    bars.iter()
        .map(|b| Piece {
            key: b.state.index(),
            start_us: b.start_us,
            end_us: b.end_us,
        })
        .collect()
}

/// The state that filled most of a cell `cell_us` long, or `None` when idle time was the
/// largest share. Ties go to the earlier state in legend order, and a state tied with idle
/// wins (so that short work still shows).
pub fn dominant(acc: &[u64; SpanState::COUNT], cell_us: u64) -> Option<SpanState> {
    let busy: u64 = acc.iter().sum();
    let idle = cell_us.saturating_sub(busy);
    let mut best: Option<(usize, u64)> = None;
    for (i, &t) in acc.iter().enumerate() {
        if t > 0 && best.is_none_or(|(_, b)| t > b) {
            best = Some((i, t));
        }
    }
    let (i, t) = best?;
    (t >= idle).then_some(SpanState::ALL[i])
}

/// One row's drawing: the slices it was cut into and its stripes.
#[derive(Debug, Clone)]
pub(super) struct RowDrawing {
    pub(super) slices: Slices,
    pub(super) stripes: Vec<Stripe>,
}

/// A row to draw: its pieces (sorted by start) and, for a lane under a GIL, the GIL track
/// (an index into the same list) and its thread's position on it.
#[derive(Debug, Clone)]
pub(super) struct RowSpec {
    pub(super) pieces: Vec<Piece>,
    pub(super) on_gil: Option<(usize, usize)>,
}

/// Stripes for every row of a plot `plot_px` wide showing `window`, within [`MAX_BARS`]
/// rectangles in all where that is possible. All rows share one slicing (so that a lane's
/// running share can sit where its turn sits on its GIL track): when the picture would be
/// too large, every row's slices get twice as wide, until it fits.
pub(super) fn fit_rows(rows: &[RowSpec], window: Window, plot_px: f64) -> Vec<RowDrawing> {
    let mut count = (plot_px / SLICE_PX).round().max(1.0) as usize;
    loop {
        let slices = Slices::new(window, count);
        let drawn = draw_rows(rows, &slices);
        let total: usize = drawn.iter().map(|d| d.stripes.len()).sum();
        if total <= MAX_BARS || count == 1 {
            return drawn;
        }
        count /= 2;
    }
}

/// Every row on `slices`: GIL tracks (rows without a GIL of their own) first, then the lanes
/// anchored to them.
fn draw_rows(rows: &[RowSpec], slices: &Slices) -> Vec<RowDrawing> {
    let mut drawn: Vec<Option<RowDrawing>> = vec![None; rows.len()];
    let mut starts: Vec<Vec<Vec<(usize, u64)>>> = vec![Vec::new(); rows.len()];
    for (k, r) in rows.iter().enumerate().filter(|(_, r)| r.on_gil.is_none()) {
        let (st, at) = stripes_with(&r.pieces, slices, None);
        drawn[k] = Some(RowDrawing {
            slices: *slices,
            stripes: st,
        });
        starts[k] = at;
    }
    for (k, r) in rows.iter().enumerate() {
        let Some((track, position)) = r.on_gil else {
            continue;
        };
        let offsets = starts
            .get(track)
            .map(|per_slice| {
                per_slice
                    .iter()
                    .map(|here| {
                        here.iter()
                            .find(|(key, _)| *key == position)
                            .map(|(_, o)| *o)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let anchor = Anchor {
            key: SpanState::Running.index(),
            offsets,
        };
        drawn[k] = Some(RowDrawing {
            slices: *slices,
            stripes: stripes_with(&r.pieces, slices, Some(&anchor)).0,
        });
    }
    drawn
        .into_iter()
        .map(|d| {
            d.unwrap_or(RowDrawing {
                slices: *slices,
                stripes: Vec::new(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(state: SpanState, start_us: u64, end_us: u64) -> Span {
        Span {
            lane: 0,
            task: Some(0),
            state,
            start_us,
            end_us,
        }
    }

    #[test]
    fn touching_alike_spans_join() {
        let a = span(SpanState::Running, 0, 10);
        let b = span(SpanState::Running, 11, 20);
        let c = span(SpanState::GilWait, 20, 30);
        let bars = join(&[&a, &b, &c], 2);
        assert_eq!(bars.len(), 2);
        assert_eq!((bars[0].end_us, bars[0].spans), (20, 2));
        assert_eq!(join(&[&a, &b, &c], 0).len(), 3);
    }

    #[test]
    fn dominant_lets_short_work_win_ties_with_idle() {
        assert_eq!(
            dominant(&[30, 20, 0, 0, 0, 0, 0], 50),
            Some(SpanState::Running)
        );
        assert_eq!(dominant(&[10, 0, 0, 0, 0, 0, 0], 50), None);
        assert_eq!(
            dominant(&[25, 0, 0, 0, 0, 0, 0], 50),
            Some(SpanState::Running)
        );
    }

    #[test]
    fn busy_rows_get_coarser_slices_until_they_fit() {
        // 40 rows alternating every µs: far more than MAX_BARS stripes at the finest slices.
        let row: Vec<Piece> = (0..20_000u64)
            .map(|i| Piece {
                key: (i % 2) as usize,
                start_us: i,
                end_us: i + 1,
            })
            .collect();
        let rows = vec![
            RowSpec {
                pieces: row,
                on_gil: None
            };
            40
        ];
        let drawn = fit_rows(&rows, Window::new(0, 20_000), 770.0);
        let total: usize = drawn.iter().map(|d| d.stripes.len()).sum();
        assert!(total <= MAX_BARS, "{total}");
        // Shares survive: key 0 still covers half of every row.
        for d in &drawn {
            let k0: u64 = d
                .stripes
                .iter()
                .filter(|s| s.key == 0)
                .map(|s| s.end_us - s.start_us)
                .sum();
            assert_eq!(k0, 10_000);
        }
    }
}
