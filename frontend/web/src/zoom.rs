//! The arithmetic of a picture's zoom: which part of a run (`from_us..to_us`, µs since it
//! began) the timeline shows, and how wheel, drag, keys and the brush move it. Pure functions
//! on plain numbers, so they are tested natively; the page's event wiring is in
//! [`crate::chart_input`] and the drawing is the core's [`gil_lab::view::layout_window`].
//!
//! Every result is clamped to the whole run and to at least [`MIN_WINDOW_US`], so no sequence
//! of inputs can ask the core for an empty or inverted window.

/// The narrowest window, µs: a tenth of a millisecond still shows the shortest GIL turns the
/// lab records (the 5 ms switch interval's hand-offs take tens of µs).
pub const MIN_WINDOW_US: u64 = 100;
/// How much one press of `+` (or one button click) zooms in.
pub const KEY_FACTOR: f64 = 2.0;
/// How far one arrow press moves the window, as a share of its width.
pub const PAN_SHARE: f64 = 0.25;

/// A shown window, µs since the run began; `from_us < to_us`.
pub type Window = (u64, u64);

/// `w` moved and shrunk as little as needed to lie inside `0..whole_us` and be at least
/// [`MIN_WINDOW_US`] wide (or the whole run, when that is shorter).
pub fn clamp(w: Window, whole_us: u64) -> Window {
    let whole_us = whole_us.max(1);
    let min = MIN_WINDOW_US.min(whole_us);
    let width = w.1.saturating_sub(w.0).clamp(min, whole_us);
    let from = w.0.min(whole_us - width);
    (from, from + width)
}

/// Zooms `w` by `factor` (> 1 zooms in) keeping the instant `at_us` where it is on screen:
/// what a wheel turn over a point does. `None` means the window is the whole run again.
pub fn zoom_at(w: Window, whole_us: u64, at_us: u64, factor: f64) -> Option<Window> {
    let factor = if factor.is_finite() && factor > 0.0 {
        factor
    } else {
        1.0
    };
    let width = w.1.saturating_sub(w.0).max(1) as f64;
    let new_width = (width / factor).round().max(1.0);
    if new_width >= whole_us as f64 {
        return None;
    }
    // The pointer's place in the window, kept across the zoom.
    let at = at_us.clamp(w.0, w.1) as f64;
    let share = (at - w.0 as f64) / width;
    let from = (at - share * new_width).max(0.0).round() as u64;
    Some(clamp((from, from + new_width as u64), whole_us))
}

/// Moves `w` by `delta_us` (negative: earlier), stopping at either end of the run.
pub fn pan(w: Window, whole_us: u64, delta_us: i64) -> Window {
    let width = w.1.saturating_sub(w.0);
    let from = (w.0 as i64).saturating_add(delta_us).max(0) as u64;
    clamp((from, from + width), whole_us)
}

/// The window a brush from `a_us` to `b_us` (either order) selects.
pub fn brush(a_us: u64, b_us: u64, whole_us: u64) -> Option<Window> {
    let w = clamp((a_us.min(b_us), a_us.max(b_us)), whole_us);
    (w.1 - w.0 < whole_us).then_some(w)
}

/// `w`'s width kept, centred on `at_us`: a click on the overview strip.
pub fn centre_on(w: Window, whole_us: u64, at_us: u64) -> Window {
    let width = w.1.saturating_sub(w.0);
    let from = at_us.saturating_sub(width / 2);
    clamp((from, from + width), whole_us)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHOLE: u64 = 7_000_000;

    #[test]
    fn nine_key_presses_reach_a_20_ms_window() {
        let mut w = (0, WHOLE);
        for _ in 0..9 {
            let mid = (w.0 + w.1) / 2;
            w = zoom_at(w, WHOLE, mid, KEY_FACTOR).expect("zoomed");
        }
        assert!(w.1 - w.0 <= 20_000, "{w:?}");
        assert!(
            w.0 < WHOLE / 2 && w.1 > WHOLE / 2,
            "stays around the middle: {w:?}"
        );
    }

    #[test]
    fn the_point_under_the_pointer_stays_put() {
        let w = (1_000_000, 2_000_000);
        let z = zoom_at(w, WHOLE, 1_250_000, 4.0).expect("zoomed");
        assert_eq!(z, (1_187_500, 1_437_500));
        // Zooming out past the run gives the whole run back.
        assert_eq!(zoom_at(z, WHOLE, 1_250_000, 1.0 / 1e6), None);
    }

    #[test]
    fn windows_stay_inside_the_run_and_never_empty() {
        assert_eq!(pan((0, 1_000), WHOLE, -5_000), (0, 1_000));
        assert_eq!(pan((0, 1_000), WHOLE, i64::MAX), (WHOLE - 1_000, WHOLE));
        assert_eq!(clamp((500, 500), WHOLE), (500, 500 + MIN_WINDOW_US));
        assert_eq!(clamp((WHOLE + 9, WHOLE + 90), WHOLE).1, WHOLE);
        assert_eq!(clamp((0, 10), 50), (0, 50));
        let deep = (0..40).fold((0, WHOLE), |w, _| {
            zoom_at(w, WHOLE, 3_000_000, 2.0).unwrap_or((0, WHOLE))
        });
        assert_eq!(deep.1 - deep.0, MIN_WINDOW_US);
        assert_eq!(zoom_at((0, WHOLE), WHOLE, 0, f64::NAN), None);
    }

    #[test]
    fn brush_and_centre() {
        assert_eq!(brush(30_000, 10_000, WHOLE), Some((10_000, 30_000)));
        assert_eq!(brush(0, WHOLE, WHOLE), None);
        assert_eq!(centre_on((0, 20_000), WHOLE, 100_000), (90_000, 110_000));
        assert_eq!(
            centre_on((0, 20_000), WHOLE, WHOLE),
            (WHOLE - 20_000, WHOLE)
        );
    }
}
