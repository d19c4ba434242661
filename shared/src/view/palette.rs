//! Colours and glyphs, chosen so that the picture reads for colour-blind learners and without
//! colour at all.
//!
//! The span colours are from the Okabe–Ito palette, designed to stay distinguishable under the
//! common colour-vision deficiencies. The two waiting states are also drawn as thinner bars
//! than running, and the terminal gives every state its own character, so neither view relies
//! on hue alone.
//!
//! The threads of a GIL track get colours from Paul Tol's "muted" scheme (also built for
//! colour-blind readers, and apart from the state colours), and each also carries its
//! number, so who held the GIL reads without colour too.

use crate::trace::SpanState;

/// Okabe–Ito blue: running Python code.
pub const RUNNING: &str = "#0072B2";
/// Okabe–Ito orange: waiting for the GIL.
pub const GIL_WAIT: &str = "#E69F00";
/// Okabe–Ito sky blue: waiting for I/O with the GIL released.
pub const IO_WAIT: &str = "#56B4E9";
/// Okabe–Ito reddish purple: starting up.
pub const STARTING: &str = "#CC79A7";
/// Okabe–Ito vermillion: ready to run, but no core is free.
pub const CPU_WAIT: &str = "#D55E00";
/// Okabe–Ito black: waiting for a lock (a thin bar, like the other waits).
pub const LOCK_WAIT: &str = "#000000";
/// Okabe–Ito yellow: running C code with the GIL released (drawn
/// full height, as it is work on a core).
pub const C_CODE: &str = "#F0E442";
/// Okabe–Ito bluish green: busy fraction of a core.
pub const CORE_BUSY: &str = "#009E73";

/// Titles and labels (near black: 15.9:1 on white).
pub const TEXT: &str = "#1A1A1A";
/// Secondary text (axis numbers, notes): 7.0:1 on white, above WCAG AA for small text.
pub const TEXT_MUTED: &str = "#555555";
/// Axis lines.
pub const AXIS: &str = "#444444";
/// Background grid lines.
pub const GRID: &str = "#DDDDDD";
/// A lane's or a core's empty (idle) background.
pub const TRACK: &str = "#F2F2F2";
/// The canvas.
pub const BACKGROUND: &str = "#FFFFFF";

/// Hand-off lines and drop-request marks on a GIL track.
pub const MARK: &str = "#1A1A1A";

/// Colours of the threads on a GIL track, in order (cycled beyond nine).
pub const HOLDERS: [&str; 9] = [
    "#332288", "#44AA99", "#DDCC77", "#AA4499", "#117733", "#88CCEE", "#CC6677", "#999933",
    "#882255",
];

/// The colour of the thread at `position` of a GIL group.
pub fn holder_color(position: usize) -> &'static str {
    HOLDERS[position % HOLDERS.len()]
}

/// Black or white, whichever reads better on `fill` (by relative luminance).
pub fn text_on(fill: &str) -> &'static str {
    let (r, g, b) = rgb(fill);
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    // Contrast against white (1.05 / (l + 0.05)) beats contrast against black when l < 0.18.
    if l < 0.18 { BACKGROUND } else { TEXT }
}

/// The fill of a span state.
pub fn state_color(state: SpanState) -> &'static str {
    match state {
        SpanState::Running => RUNNING,
        SpanState::GilWait => GIL_WAIT,
        SpanState::IoWait => IO_WAIT,
        SpanState::Starting => STARTING,
        SpanState::CpuWait => CPU_WAIT,
        SpanState::LockWait => LOCK_WAIT,
        SpanState::CCode => C_CODE,
    }
}

/// The same colour as `(r, g, b)`, for terminals.
pub fn rgb(hex: &str) -> (u8, u8, u8) {
    let channel = |i: usize| {
        hex.get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or(0)
    };
    (channel(1), channel(3), channel(5))
}

/// The terminal character of a span state; idle is a space.
pub fn state_glyph(state: SpanState) -> char {
    match state {
        SpanState::Running => '█',
        SpanState::GilWait => '░',
        SpanState::IoWait => '·',
        SpanState::Starting => '▒',
        SpanState::CpuWait => '~',
        SpanState::LockWait => ':',
        SpanState::CCode => '▓',
    }
}

/// Short words for a state in running text ("Thread-1: running 1.62 s, waiting for GIL …").
pub fn state_short(state: SpanState) -> &'static str {
    match state {
        SpanState::Running => "running",
        SpanState::GilWait => "waiting for GIL",
        SpanState::IoWait => "waiting for I/O",
        SpanState::Starting => "starting",
        SpanState::CpuWait => "waiting for a core",
        SpanState::LockWait => "waiting for a lock",
        SpanState::CCode => "in C code",
    }
}

/// Whether a state is drawn as a full-height bar (work) or a thinner one (waiting).
pub fn is_full_height(state: SpanState) -> bool {
    matches!(
        state,
        SpanState::Running | SpanState::Starting | SpanState::CCode
    )
}

/// The eight block heights of a utilisation cell, emptiest first.
pub const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The block for a share of a slice: `None` below an eighth (rounded), then ▁ … █.
pub fn share_block(share: f64) -> Option<char> {
    let level = (share.clamp(0.0, 1.0) * 8.0).round() as usize;
    level.checked_sub(1).map(|i| BLOCKS[i.min(7)])
}

/// The block character for a busy fraction: a space for (almost) nothing, then ▁ … █.
pub fn busy_block(busy: f64) -> char {
    share_block(busy).unwrap_or(' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_stay_readable_on_every_holder_colour() {
        assert_eq!(text_on("#332288"), BACKGROUND);
        assert_eq!(text_on("#DDCC77"), TEXT);
        assert_eq!(text_on("#FFFFFF"), TEXT);
        assert_eq!(holder_color(9), holder_color(0));
    }

    #[test]
    fn blocks_round_to_eighths() {
        assert_eq!(share_block(0.05), None);
        assert_eq!(share_block(0.25), Some('▂'));
        assert_eq!(share_block(1.0), Some('█'));
        assert_eq!(busy_block(0.0), ' ');
    }
}
