//! The time axis: "nice" tick steps (1, 2 or 5 × a power of ten µs) and labels in µs, ms or s.
//!
//! A whole-run axis starts at zero and ends at the first tick at or after the data's end; a
//! window's axis ([`TimeAxis::window`]) covers exactly the window, with ticks at the multiples
//! of the step inside it, labelled with as many decimals as the step needs (a 20 ms window at
//! 2.345 s reads `2.346`, `2.348`, … s). Everything is integer arithmetic on µs, so the same
//! report always gives the same ticks and the same label strings on every platform.

/// The unit tick labels are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Microseconds.
    Micros,
    /// Milliseconds.
    Millis,
    /// Seconds.
    Seconds,
}

impl Unit {
    /// µs per unit.
    fn us(self) -> u64 {
        match self {
            Unit::Micros => 1,
            Unit::Millis => 1_000,
            Unit::Seconds => 1_000_000,
        }
    }

    /// The unit's symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Micros => "µs",
            Unit::Millis => "ms",
            Unit::Seconds => "s",
        }
    }
}

/// Ticks for a time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeAxis {
    /// Distance between ticks, µs.
    pub step_us: u64,
    /// The range's start (0 for a whole run), µs.
    pub start_us: u64,
    /// The range's end: for a whole run the smallest multiple of the step at or after the
    /// data's end; for a window, the window's end.
    pub end_us: u64,
    /// The unit labels use.
    pub unit: Unit,
    /// Decimals labels need so that every tick reads differently.
    decimals: u32,
}

impl TimeAxis {
    /// An axis covering `0..=data_end_us` with at most `max_ticks` intervals.
    pub fn new(data_end_us: u64, max_ticks: u64) -> Self {
        let data_end_us = data_end_us.max(1);
        let step_us = nice_step(data_end_us, max_ticks);
        Self::with_step(0, data_end_us.div_ceil(step_us) * step_us, step_us)
    }

    /// An axis covering exactly `from_us..=to_us` (at least 1 µs), with ticks at the multiples
    /// of a nice step inside it, at most `max_ticks` intervals apart in all.
    pub fn window(from_us: u64, to_us: u64, max_ticks: u64) -> Self {
        let to_us = to_us.max(from_us.saturating_add(1));
        let step_us = nice_step(to_us - from_us, max_ticks);
        Self::with_step(from_us, to_us, step_us)
    }

    fn with_step(start_us: u64, end_us: u64, step_us: u64) -> Self {
        let unit = if end_us >= 2_000_000 {
            Unit::Seconds
        } else if end_us >= 2_000 {
            Unit::Millis
        } else {
            Unit::Micros
        };
        let mut decimals = 0;
        while decimals < 6 && !(step_us * 10u64.pow(decimals)).is_multiple_of(unit.us()) {
            decimals += 1;
        }
        Self {
            step_us,
            start_us,
            end_us,
            unit,
            decimals,
        }
    }

    /// Every tick from `start_us` to `end_us` (the multiples of the step in that range), µs.
    pub fn ticks(&self) -> impl Iterator<Item = u64> + '_ {
        let first = self.start_us.div_ceil(self.step_us);
        (first..=self.end_us / self.step_us).map(|i| i * self.step_us)
    }

    /// The label of the tick at `t_us` (a number without unit: `0.5`, `1.0`).
    pub fn label(&self, t_us: u64) -> String {
        let unit = self.unit.us();
        let whole = t_us / unit;
        if self.decimals == 0 {
            return whole.to_string();
        }
        let scale = 10u64.pow(self.decimals);
        let frac = (t_us % unit) * scale / unit;
        format!("{whole}.{frac:0width$}", width = self.decimals as usize)
    }

    /// An instant for hover text, in the axis' unit with finer precision than the ticks
    /// (`1.2346 s`, `12.35 ms`; more decimals in a narrow window).
    pub fn instant(&self, t_us: u64) -> String {
        let decimals = (self.decimals as usize + 2).min(6);
        match self.unit {
            Unit::Seconds => format!("{:.*} s", decimals.max(4), t_us as f64 / 1e6),
            Unit::Millis => format!("{:.*} ms", decimals.clamp(2, 3), t_us as f64 / 1e3),
            Unit::Micros => format!("{t_us} µs"),
        }
    }
}

/// The smallest step of 1, 2 or 5 × 10^k µs that cuts `len_us` into at most `max_ticks`
/// intervals.
fn nice_step(len_us: u64, max_ticks: u64) -> u64 {
    let len_us = len_us.max(1);
    let max_ticks = max_ticks.max(1);
    let mut step_us = 1;
    'search: for power in 0..19 {
        let base = 10u64.pow(power);
        for m in [1, 2, 5] {
            step_us = base * m;
            if len_us.div_ceil(step_us) <= max_ticks {
                break 'search;
            }
        }
    }
    step_us
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_with_half_second_steps() {
        let a = TimeAxis::new(6_550_000, 10);
        assert_eq!(
            (a.step_us, a.end_us, a.unit),
            (1_000_000, 7_000_000, Unit::Seconds)
        );
        let b = TimeAxis::new(3_300_000, 10);
        assert_eq!((b.step_us, b.end_us), (500_000, 3_500_000));
        assert_eq!(b.label(1_500_000), "1.5");
        assert_eq!(b.label(0), "0.0");
    }

    #[test]
    fn milliseconds_and_micros() {
        let a = TimeAxis::new(123_000, 10);
        assert_eq!(
            (a.step_us, a.end_us, a.unit),
            (20_000, 140_000, Unit::Millis)
        );
        assert_eq!(a.label(40_000), "40");
        let b = TimeAxis::new(700, 10);
        assert_eq!((b.step_us, b.unit), (100, Unit::Micros));
        let c = TimeAxis::new(0, 10);
        assert_eq!(c.end_us, 1);
        assert_eq!(c.ticks().count(), 2);
    }

    #[test]
    fn a_twenty_ms_window_late_in_a_run_reads_in_seconds() {
        let a = TimeAxis::window(2_345_000, 2_365_000, 10);
        assert_eq!((a.step_us, a.unit), (2_000, Unit::Seconds));
        let labels: Vec<String> = a.ticks().map(|t| a.label(t)).collect();
        assert_eq!(
            labels,
            [
                "2.346", "2.348", "2.350", "2.352", "2.354", "2.356", "2.358", "2.360", "2.362",
                "2.364"
            ]
        );
        assert_eq!(a.instant(2_345_678), "2.34568 s");
        // Early in a run the same width reads in ms.
        let b = TimeAxis::window(500, 20_500, 10);
        assert_eq!(b.unit, Unit::Millis);
        assert_eq!(b.ticks().map(|t| b.label(t)).next().as_deref(), Some("2"));
        // A window of a few µs still gets distinct labels.
        let c = TimeAxis::window(3_000_001, 3_000_009, 10);
        let labels: Vec<String> = c.ticks().map(|t| c.label(t)).collect();
        assert_eq!(labels.first().map(String::as_str), Some("3.000001"));
        assert_eq!(labels.len(), 9);
    }
}
