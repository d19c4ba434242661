//! Time cut into equal slices (a terminal cell, a few pixels of SVG), and what each slice held.
//!
//! Every renderer that must show more than fits draws from [`shares`]: for each slice, how
//! long each kind of interval (a lane's state, a GIL holder) filled it, in the order each
//! first appeared, idle gaps included. Laid side by side in that order, the shares reproduce
//! the real intervals exactly when each kind occurs once per slice (a long span, a hand-off
//! between two); only where a slice held more alternations than it can show are they combined
//! into one stripe per kind ([`stripes_with`]) — so a thread that ran a quarter of the time
//! covers a quarter of its row at every zoom.

use super::window::Window;

/// A window cut into `count` equal slices; slice `i` covers `[bound(i), bound(i + 1))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Slices {
    pub(super) window: Window,
    pub(super) count: usize,
}

impl Slices {
    /// `window` in `count` slices (at least one).
    pub(super) fn new(window: Window, count: usize) -> Self {
        Self {
            window,
            count: count.max(1),
        }
    }

    /// Start of slice `i` (`bound(count)` is the window's end), µs.
    pub(super) fn bound(&self, i: usize) -> u64 {
        let len = u128::from(self.window.len_us());
        self.window.from_us + (len * i as u128 / self.count as u128) as u64
    }

    /// The slice holding `t_us` (clamped to the window): the last `i` with `bound(i) <= t`.
    pub(super) fn index(&self, t_us: u64) -> usize {
        let off = u128::from(t_us.saturating_sub(self.window.from_us));
        let len = u128::from(self.window.len_us());
        // The division can land early where `bound` rounded down (and slices of a window
        // shorter than their count can be empty).
        let mut i = ((off * self.count as u128 / len) as usize).min(self.count - 1);
        while i + 1 < self.count && self.bound(i + 1) <= t_us {
            i += 1;
        }
        i
    }

    /// Length of slice `i`, µs.
    pub(super) fn len_us(&self, i: usize) -> u64 {
        self.bound(i + 1) - self.bound(i)
    }

    /// A typical slice's length, µs (for words like "each 31 ms slice").
    pub(super) fn slice_us(&self) -> u64 {
        self.window.len_us() / self.count as u64
    }
}

/// One interval to draw: a kind (`key`) and when. Pieces are given sorted by start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Piece {
    pub(super) key: usize,
    pub(super) start_us: u64,
    pub(super) end_us: u64,
}

/// How long one kind filled one slice. `key: None` is idle time (nothing covered it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Share {
    pub(super) key: Option<usize>,
    pub(super) us: u64,
    /// Index of the first and last piece that contributed, and how many did.
    pub(super) first_src: usize,
    pub(super) last_src: usize,
    pub(super) srcs: usize,
}

/// Adds `us` of `key` (from piece `src`) to a slice's shares.
fn add(list: &mut Vec<Share>, key: Option<usize>, us: u64, src: usize) {
    if us == 0 {
        return;
    }
    match list.iter_mut().find(|s| s.key == key) {
        Some(s) => {
            s.us += us;
            if s.last_src != src {
                s.last_src = src;
                s.srcs += 1;
            }
        }
        None => list.push(Share {
            key,
            us,
            first_src: src,
            last_src: src,
            srcs: 1,
        }),
    }
}

/// Each slice's shares, in the order each kind first appears in it, idle included (so the
/// shares of a slice add up to its length unless pieces overlap).
pub(super) fn shares(pieces: &[Piece], slices: &Slices) -> Vec<Vec<Share>> {
    let n = slices.count;
    let mut out: Vec<Vec<Share>> = vec![Vec::new(); n];
    // How far each slice is covered so far; a piece starting later leaves an idle gap.
    let mut cursor: Vec<u64> = (0..n).map(|i| slices.bound(i)).collect();
    // Each idle gap counts as its own source, so that a slice knows how many it had.
    let mut gap = usize::MAX;
    let w = slices.window;
    for (src, p) in pieces.iter().enumerate() {
        let (start, end) = (p.start_us.max(w.from_us), p.end_us.min(w.to_us));
        if end <= start {
            continue;
        }
        let mut i = slices.index(start);
        while i < n && slices.bound(i) < end {
            let lo = start.max(slices.bound(i));
            let hi = end.min(slices.bound(i + 1));
            if hi > lo {
                if lo > cursor[i] {
                    add(&mut out[i], None, lo - cursor[i], gap);
                    gap -= 1;
                }
                add(&mut out[i], Some(p.key), hi - lo, src);
                cursor[i] = cursor[i].max(hi);
            }
            i += 1;
        }
    }
    for (i, list) in out.iter_mut().enumerate() {
        let end = slices.bound(i + 1);
        if cursor[i] < end {
            add(list, None, end - cursor[i], gap);
            gap -= 1;
        }
    }
    out
}

/// One drawn stripe: a kind's time laid out inside its slices, joined with the same kind in
/// the next slice when they touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stripe {
    pub(super) key: usize,
    /// Where it is drawn, µs.
    pub(super) start_us: u64,
    /// See `start_us`.
    pub(super) end_us: u64,
    /// The time it stands for (its drawn length, unless pieces overlapped), µs.
    pub(super) us: u64,
    /// The first and last piece that contributed (by index).
    pub(super) first_src: usize,
    pub(super) last_src: usize,
    /// Drawn exactly where its one piece was (not a combination).
    pub(super) exact: bool,
}

/// Where one kind must sit in each slice: `offsets[i]` is its start in slice `i`, µs after
/// the slice's start (`None`: no constraint). A lane's running share is anchored where its
/// thread's turn sits on the GIL track, so that threads sharing a GIL never look as if they
/// ran at once, however coarse the slices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Anchor {
    pub(super) key: usize,
    pub(super) offsets: Vec<Option<u64>>,
}

/// A part of a slice as laid out: a kind (`None`: idle) and its drawn width.
#[derive(Debug, Clone, Copy)]
struct Seg {
    key: Option<usize>,
    w: u64,
    us: u64,
    first_src: usize,
    last_src: usize,
}

/// Lays one slice out. Where each kind came from one piece (and idle from one gap), in order
/// of appearance: every piece lands exactly where it was. Otherwise in key order (legend
/// order, idle last), so that busy stretches read as an even texture — with the anchored kind
/// at its offset and the others flowing around it.
fn arrange(list: &mut [Share], len: u64, anchor: Option<u64>, anchor_key: usize) -> Vec<Seg> {
    let total: u64 = list.iter().map(|s| s.us).sum();
    // Overlapping pieces can hold more time than the slice: squeeze them to fit.
    let fit = |us: u64| -> u64 {
        if total <= len {
            us
        } else {
            (u128::from(us) * u128::from(len) / u128::from(total)) as u64
        }
    };
    let seg = |s: &Share| Seg {
        key: s.key,
        w: fit(s.us),
        us: s.us,
        first_src: s.first_src,
        last_src: s.last_src,
    };
    if list.iter().all(|s| s.srcs == 1) {
        return list.iter().map(seg).collect();
    }
    list.sort_by_key(|s| s.key.unwrap_or(usize::MAX));
    let anchored = list.iter().find(|s| s.key == Some(anchor_key)).map(seg);
    let (Some(a), Some(offset)) = (anchored, anchor) else {
        return list.iter().map(seg).collect();
    };
    let offset = offset.min(len.saturating_sub(a.w));
    let mut before: Vec<Seg> = Vec::new();
    let mut after: Vec<Seg> = Vec::new();
    let mut room = offset;
    for s in list.iter().filter(|s| s.key != Some(anchor_key)).map(seg) {
        if room >= s.w {
            room -= s.w;
            before.push(s);
        } else if room > 0 {
            let us_a = (u128::from(s.us) * u128::from(room) / u128::from(s.w.max(1))) as u64;
            before.push(Seg {
                w: room,
                us: us_a,
                ..s
            });
            after.push(Seg {
                w: s.w - room,
                us: s.us - us_a,
                ..s
            });
            room = 0;
        } else {
            after.push(s);
        }
    }
    if room > 0 {
        before.push(Seg {
            key: None,
            w: room,
            us: room,
            first_src: usize::MAX,
            last_src: usize::MAX,
        });
    }
    before.push(a);
    before.extend(after);
    before
}

/// The stripes of one row (see [`arrange`] for how each slice is laid out), touching
/// stripes of one kind joined; and, per slice, where each kind starts (µs after the slice's
/// start), for rows anchored to this one.
pub(super) fn stripes_with(
    pieces: &[Piece],
    slices: &Slices,
    anchor: Option<&Anchor>,
) -> (Vec<Stripe>, Vec<Vec<(usize, u64)>>) {
    let mut out: Vec<Stripe> = Vec::new();
    let mut starts: Vec<Vec<(usize, u64)>> = Vec::with_capacity(slices.count);
    for (i, list) in shares(pieces, slices).iter_mut().enumerate() {
        let offset = anchor.and_then(|a| a.offsets.get(i).copied().flatten());
        let key = anchor.map_or(usize::MAX, |a| a.key);
        let origin = slices.bound(i);
        let mut at = origin;
        let mut here: Vec<(usize, u64)> = Vec::new();
        for seg in arrange(list, slices.len_us(i), offset, key) {
            let (start_us, end_us) = (at, at + seg.w);
            at = end_us;
            let Some(key) = seg.key else { continue };
            if !here.iter().any(|(k, _)| *k == key) {
                here.push((key, start_us - origin));
            }
            if let Some(last) = out.last_mut()
                && last.key == key
                && last.end_us == start_us
            {
                last.end_us = end_us;
                last.us += seg.us;
                last.first_src = last.first_src.min(seg.first_src);
                last.last_src = last.last_src.max(seg.last_src);
                continue;
            }
            if seg.w == 0 {
                continue;
            }
            out.push(Stripe {
                key,
                start_us,
                end_us,
                us: seg.us,
                first_src: seg.first_src,
                last_src: seg.last_src,
                exact: false,
            });
        }
        starts.push(here);
    }
    let w = slices.window;
    for s in &mut out {
        if s.first_src == s.last_src
            && let Some(p) = pieces.get(s.first_src)
        {
            s.exact = (p.start_us.max(w.from_us), p.end_us.min(w.to_us)) == (s.start_us, s.end_us);
        }
    }
    (out, starts)
}

/// The stripes of one row with no anchor.
#[cfg(test)]
pub(super) fn stripes(pieces: &[Piece], slices: &Slices) -> Vec<Stripe> {
    stripes_with(pieces, slices, None).0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(key: usize, start_us: u64, end_us: u64) -> Piece {
        Piece {
            key,
            start_us,
            end_us,
        }
    }

    fn slices(from: u64, to: u64, count: usize) -> Slices {
        Slices::new(Window::new(from, to), count)
    }

    #[test]
    fn bounds_cover_the_window_exactly() {
        let s = slices(100, 200, 3);
        assert_eq!(
            (0..=3).map(|i| s.bound(i)).collect::<Vec<_>>(),
            [100, 133, 166, 200]
        );
        assert_eq!((s.index(100), s.index(133), s.index(199)), (0, 1, 2));
        assert_eq!(s.index(500), 2);
    }

    #[test]
    fn shares_keep_order_of_appearance_and_idle_gaps() {
        // Slice 0..100: idle 0-10, key 1 10-30, key 0 30-50, key 1 50-60, idle 60-100.
        let p = [piece(1, 10, 30), piece(0, 30, 50), piece(1, 50, 60)];
        let s = shares(&p, &slices(0, 100, 1));
        let keys: Vec<(Option<usize>, u64, usize)> =
            s[0].iter().map(|x| (x.key, x.us, x.srcs)).collect();
        assert_eq!(keys, [(None, 50, 2), (Some(1), 30, 2), (Some(0), 20, 1)]);
    }

    #[test]
    fn wide_pieces_are_drawn_exactly() {
        // Pieces several slices wide, with a gap: every stripe is exactly its piece.
        let p = [piece(0, 5, 47), piece(1, 47, 80), piece(0, 83, 100)];
        let st = stripes(&p, &slices(0, 100, 10));
        let got: Vec<(usize, u64, u64, bool)> = st
            .iter()
            .map(|s| (s.key, s.start_us, s.end_us, s.exact))
            .collect();
        assert_eq!(
            got,
            [(0, 5, 47, true), (1, 47, 80, true), (0, 83, 100, true)]
        );
    }

    #[test]
    fn narrow_alternations_become_shares_of_each_slice() {
        // Key 0 runs 1 µs in every 4: each 40 µs slice shows 10 µs of it, 30 of key 1.
        let p: Vec<Piece> = (0..100u64)
            .flat_map(|k| [piece(0, 4 * k, 4 * k + 1), piece(1, 4 * k + 1, 4 * k + 4)])
            .collect();
        let st = stripes(&p, &slices(0, 400, 10));
        let run: u64 = st
            .iter()
            .filter(|s| s.key == 0)
            .map(|s| s.end_us - s.start_us)
            .sum();
        assert_eq!(run, 100);
        // An even texture: every slice starts with its key-0 share.
        assert!(
            st.iter()
                .step_by(2)
                .all(|s| s.key == 0 && s.start_us % 40 == 0)
        );
        assert!(st.iter().all(|s| !s.exact));
        assert!(st.len() <= 20, "{}", st.len());
        // Each stripe counts the pieces it stands for.
        assert!(st.iter().all(|s| s.last_src - s.first_src == 18));
    }

    #[test]
    fn overlapping_pieces_are_squeezed_into_their_slice() {
        let p = [piece(0, 0, 100), piece(1, 0, 100)];
        let st = stripes(&p, &slices(0, 100, 1));
        assert_eq!(st.len(), 2);
        assert_eq!((st[0].start_us, st[0].end_us), (0, 50));
        assert_eq!((st[1].start_us, st[1].end_us, st[1].us), (50, 100, 100));
    }

    #[test]
    fn an_anchored_share_sits_at_its_offset_and_the_rest_flows_around_it() {
        // A busy slice: key 0 (running) 25 µs in three pieces, key 1 the rest.
        let p: Vec<Piece> = (0..5u64)
            .flat_map(|k| {
                [
                    piece(1, 20 * k, 20 * k + 15),
                    piece(0, 20 * k + 15, 20 * k + 20),
                ]
            })
            .collect();
        let anchor = Anchor {
            key: 0,
            offsets: vec![Some(50)],
        };
        let (st, starts) = stripes_with(&p, &slices(0, 100, 1), Some(&anchor));
        let got: Vec<(usize, u64, u64)> =
            st.iter().map(|s| (s.key, s.start_us, s.end_us)).collect();
        assert_eq!(got, [(1, 0, 50), (0, 50, 75), (1, 75, 100)]);
        assert_eq!(starts, [vec![(1, 0), (0, 50)]]);
        // An offset too late for the share is pulled back inside the slice.
        let late = Anchor {
            key: 0,
            offsets: vec![Some(95)],
        };
        let (st, _) = stripes_with(&p, &slices(0, 100, 1), Some(&late));
        assert_eq!((st[1].start_us, st[1].end_us), (75, 100));
    }
}
