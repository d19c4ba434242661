//! The time axis: "nice" tick steps (1, 2 or 5 × a power of ten µs) and labels in µs, ms or s.
//!
//! Everything is integer arithmetic on µs, so the same report always gives the same ticks and
//! the same label strings on every platform.

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

/// Ticks for a time range starting at zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeAxis {
    /// Distance between ticks, µs.
    pub step_us: u64,
    /// The last tick: the smallest multiple of the step at or after the data's end.
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
        let max_ticks = max_ticks.max(1);
        let mut step_us = 1;
        'search: for power in 0..19 {
            let base = 10u64.pow(power);
            for m in [1, 2, 5] {
                step_us = base * m;
                if data_end_us.div_ceil(step_us) <= max_ticks {
                    break 'search;
                }
            }
        }
        let end_us = data_end_us.div_ceil(step_us) * step_us;
        let unit = if end_us >= 2_000_000 {
            Unit::Seconds
        } else if end_us >= 2_000 {
            Unit::Millis
        } else {
            Unit::Micros
        };
        let mut decimals = 0;
        while decimals < 6 && (step_us * 10u64.pow(decimals)) % unit.us() != 0 {
            decimals += 1;
        }
        Self {
            step_us,
            end_us,
            unit,
            decimals,
        }
    }

    /// Every tick from 0 to `end_us`, µs.
    pub fn ticks(&self) -> impl Iterator<Item = u64> + '_ {
        (0..=self.end_us / self.step_us).map(|i| i * self.step_us)
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
    /// (`1.2346 s`, `12.35 ms`).
    pub fn instant(&self, t_us: u64) -> String {
        match self.unit {
            Unit::Seconds => format!("{:.4} s", t_us as f64 / 1e6),
            Unit::Millis => format!("{:.2} ms", t_us as f64 / 1e3),
            Unit::Micros => format!("{t_us} µs"),
        }
    }
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
}
