//! From spans to the bars actually drawn, and the time-slice binning the terminal shares.
//!
//! # The merge rule
//!
//! 1. Each lane's spans are sorted by start. A span is **joined** to the bar before it when
//!    both have the same state and task and the gap between them is under a quarter pixel
//!    ([`JOIN_GAP_PX`]): at that zoom they look like one bar anyway.
//! 2. If the whole picture would still need more than [`MAX_BARS`] bars (≈ 1 MB of SVG with
//!    hover text), every lane with more than its share (`MAX_BARS / lanes`) is **resampled**:
//!    cut into cells of 0.25, 0.5, 1, 2, 4 … px (the finest that fits the budget), each cell
//!    showing the state that filled most of its time (idle included), and runs of equal cells
//!    joined. Their hover text says so and gives the time per state inside the bar.
//!
//! So a typical run (a 4-thread `cpu-threads` run has ~2000 spans) is drawn exactly, span by
//! span; only very dense traces are simplified, and only in the lanes that are dense. Time
//! totals in the text summary always come from the spans themselves, never from bars.

use crate::trace::{Span, SpanState};

/// Spans of one lane closer than this (in px) and alike are drawn as one bar.
pub const JOIN_GAP_PX: f64 = 0.25;
/// Most bars a picture draws before dense lanes are resampled.
pub const MAX_BARS: usize = 4_000;

/// One bar of a lane.
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
    /// How many spans were joined into it (1 for an exact bar).
    pub spans: usize,
    /// For resampled bars: µs spent in each state (in [`SpanState::ALL`] order) inside it.
    pub mix: Option<[u64; SpanState::COUNT]>,
}

/// Joins alike, (nearly) touching spans of one lane. `spans` must be sorted by start.
pub fn join(spans: &[&Span], gap_us: u64) -> Vec<Bar> {
    let mut bars: Vec<Bar> = Vec::new();
    for s in spans {
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
            mix: None,
        });
    }
    bars
}

/// The index of a state in [`SpanState::ALL`].
pub fn state_index(state: SpanState) -> usize {
    state.index()
}

/// Cuts `0..end_us` into `cells` equal slices and adds up the µs each state occupies in each.
/// Cell `i` covers `[end_us·i/cells, end_us·(i+1)/cells)`.
pub fn accumulate(spans: &[&Span], end_us: u64, cells: usize) -> Vec<[u64; SpanState::COUNT]> {
    let mut acc = vec![[0u64; SpanState::COUNT]; cells];
    if cells == 0 || end_us == 0 {
        return acc;
    }
    let bound = |i: usize| -> u64 { (u128::from(end_us) * i as u128 / cells as u128) as u64 };
    let cell_of = |t: u64| -> usize {
        ((u128::from(t) * cells as u128 / u128::from(end_us)) as usize).min(cells - 1)
    };
    for s in spans {
        let (start, end) = (s.start_us.min(end_us), s.end_us.min(end_us));
        if end <= start {
            continue;
        }
        let k = state_index(s.state);
        let mut i = cell_of(start);
        while i < cells && bound(i) < end {
            let lo = start.max(bound(i));
            let hi = end.min(bound(i + 1));
            acc[i][k] += hi.saturating_sub(lo);
            i += 1;
        }
    }
    acc
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

/// Resamples one lane into cells `cell_px` wide on a plot `plot_px` wide covering
/// `0..end_us`; runs of cells with the same dominant state become one bar.
pub fn resample(spans: &[&Span], end_us: u64, plot_px: f64, cell_px: f64) -> Vec<Bar> {
    let cells = (plot_px / cell_px).ceil().max(1.0) as usize;
    let acc = accumulate(spans, end_us, cells);
    let bound = |i: usize| -> u64 { (u128::from(end_us) * i as u128 / cells as u128) as u64 };
    let mut bars: Vec<Bar> = Vec::new();
    let mut open: Option<Bar> = None;
    for (i, a) in acc.iter().enumerate() {
        let state = dominant(a, bound(i + 1) - bound(i));
        match (&mut open, state) {
            (Some(bar), Some(st)) if bar.state == st => {
                bar.end_us = bound(i + 1);
                if let Some(mix) = &mut bar.mix {
                    for (m, v) in mix.iter_mut().zip(a) {
                        *m += v;
                    }
                }
            }
            _ => {
                bars.extend(open.take());
                open = state.map(|st| Bar {
                    state: st,
                    task: None,
                    start_us: bound(i),
                    end_us: bound(i + 1),
                    spans: 0,
                    mix: Some(*a),
                });
            }
        }
    }
    bars.extend(open);
    // Tell the reader how many spans each simplified bar stands for, and keep the task when
    // they all share one. Spans of a lane follow one another, so one forward pass suffices.
    let mut first = 0;
    for bar in &mut bars {
        while first < spans.len() && spans[first].end_us <= bar.start_us {
            first += 1;
        }
        let inside: Vec<&Span> = spans[first..]
            .iter()
            .take_while(|s| s.start_us < bar.end_us)
            .filter(|s| s.end_us > bar.start_us)
            .copied()
            .collect();
        let task = inside.first().and_then(|s| s.task);
        bar.task = task.filter(|_| inside.iter().all(|s| s.task == task));
        bar.spans = inside.len();
    }
    bars
}

/// The finest cell width (0.25 px doubled until it fits) that keeps `dense_lanes` lanes on a
/// plot `plot_px` wide within `budget` bars.
pub fn cell_width(plot_px: f64, dense_lanes: usize, budget: usize) -> f64 {
    let mut cell = JOIN_GAP_PX;
    while cell < plot_px && dense_lanes as f64 * (plot_px / cell).ceil() > budget as f64 {
        cell *= 2.0;
    }
    cell
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
    fn cells_take_the_majority_state() {
        let a = span(SpanState::Running, 0, 30);
        let b = span(SpanState::GilWait, 30, 100);
        let acc = accumulate(&[&a, &b], 100, 2);
        assert_eq!(acc, vec![[30, 20, 0, 0, 0], [0, 50, 0, 0, 0]]);
        assert_eq!(dominant(&acc[0], 50), Some(SpanState::Running));
        assert_eq!(dominant(&[10, 0, 0, 0, 0], 50), None);
        assert_eq!(dominant(&[25, 0, 0, 0, 0], 50), Some(SpanState::Running));
    }

    #[test]
    fn resampling_joins_equal_cells() {
        let spans: Vec<Span> = (0..100)
            .map(|i| span(SpanState::Running, i * 10, i * 10 + 9))
            .collect();
        let refs: Vec<&Span> = spans.iter().collect();
        let bars = resample(&refs, 1000, 10.0, 1.0);
        assert_eq!(bars.len(), 1);
        assert_eq!(bars[0].spans, 100);
        assert_eq!(bars[0].task, Some(0));
    }
}
