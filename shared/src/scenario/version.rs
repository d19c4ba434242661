//! Which CPython a run stands for. The version decides two things the lab models: where the
//! eval loop may hand the GIL over (before 3.10, between the bytecodes of a plain
//! `counter += 1`), and whether there is a GIL at all (the free-threaded `t` builds).

use serde::{Deserialize, Serialize};

use super::InputError;

/// A CPython version (`"3.11"` … in JSON).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Python {
    /// CPython 3.9 (and, for the lab, anything older): the eval loop looks for a drop request
    /// before most bytecodes.
    V3_9,
    /// CPython 3.10: only calls and backward jumps are check points.
    V3_10,
    /// CPython 3.11, what `python3` is on the lab's machines.
    #[default]
    V3_11,
    /// CPython 3.12: classic GIL (its per-interpreter GIL only matters for subinterpreters).
    V3_12,
    /// CPython 3.13 with the GIL.
    V3_13,
    /// CPython 3.14 with the GIL; forkserver is the default start method on Linux.
    V3_14,
    /// Free-threaded 3.13t: no GIL, about 40 % slower on one thread (pyperformance, the 3.13
    /// free-threading HOWTO; CPYTHON-FACTS.md).
    V3_13t,
    /// Free-threaded 3.14t: no GIL, about 8 % slower on one thread on x86-64 Linux (What's New
    /// in 3.14; CPYTHON-FACTS.md).
    V3_14t,
}

/// Where the eval loop looks for a drop request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckPoints {
    /// At calls and backward jumps (3.10 and later).
    #[default]
    CallsAndJumps,
    /// Before most bytecodes (3.9 and older): also between the load and the store of a plain
    /// `counter += 1`.
    MostBytecodes,
}

impl Python {
    /// Every version, in order.
    pub const ALL: [Python; 8] = [
        Python::V3_9,
        Python::V3_10,
        Python::V3_11,
        Python::V3_12,
        Python::V3_13,
        Python::V3_14,
        Python::V3_13t,
        Python::V3_14t,
    ];

    /// `3.11`, `3.13t`, …
    pub fn key(self) -> &'static str {
        match self {
            Python::V3_9 => "3.9",
            Python::V3_10 => "3.10",
            Python::V3_11 => "3.11",
            Python::V3_12 => "3.12",
            Python::V3_13 => "3.13",
            Python::V3_14 => "3.14",
            Python::V3_13t => "3.13t",
            Python::V3_14t => "3.14t",
        }
    }

    /// The version called `s`, or an error naming the choices.
    pub fn parse(s: &str) -> Result<Python, InputError> {
        Python::ALL
            .into_iter()
            .find(|p| p.key() == s)
            .ok_or_else(|| InputError {
                field: "python",
                value: s.to_owned(),
                allowed: Python::ALL.map(Python::key).join(", "),
            })
    }

    /// Whether threads of this build share a GIL.
    pub fn gil(self) -> GilMode {
        match self {
            Python::V3_13t | Python::V3_14t => GilMode::Free,
            _ => GilMode::Classic,
        }
    }

    /// Where its eval loop may hand the GIL over.
    pub fn check_points(self) -> CheckPoints {
        match self {
            Python::V3_9 => CheckPoints::MostBytecodes,
            _ => CheckPoints::CallsAndJumps,
        }
    }

    /// Whether each subinterpreter can have its own GIL (PEP 684, 3.12).
    pub fn has_own_gil_interpreters(self) -> bool {
        self >= Python::V3_12
    }

    /// How much slower one thread runs than on the GIL build (0.4 = 40 % slower).
    pub fn single_thread_penalty(self) -> f64 {
        match self {
            Python::V3_13t => 0.40,
            Python::V3_14t => 0.08,
            _ => 0.0,
        }
    }

    /// The version with the GIL's mode `gil`, when the parameters ask for one the version
    /// lacks: a run without a GIL is a free-threaded build's (3.14 → 3.14t, else 3.13t).
    pub fn with_gil(self, gil: GilMode) -> Python {
        match (gil, self.gil()) {
            (GilMode::Free, GilMode::Classic) if self == Python::V3_14 => Python::V3_14t,
            (GilMode::Free, GilMode::Classic) => Python::V3_13t,
            _ => self,
        }
    }

    /// Whether it is 3.11, what a report says nothing about.
    pub fn is_default(&self) -> bool {
        *self == Python::default()
    }
}

// JSON goes through the same parser as the command line, so a bad value names its field and
// the choices there too.
impl TryFrom<String> for Python {
    type Error = InputError;
    fn try_from(s: String) -> Result<Self, InputError> {
        Python::parse(&s)
    }
}

impl From<Python> for String {
    fn from(v: Python) -> String {
        v.key().to_owned()
    }
}

/// CPython's default `sys.getswitchinterval()`: 5 ms.
pub const DEFAULT_SWITCH_INTERVAL_US: u64 = 5_000;

/// Whether threads of one process share a GIL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GilMode {
    /// CPython's default build: one thread runs Python code at a time.
    Classic,
    /// Free-threaded CPython (3.13t and later): no GIL, threads run in parallel.
    Free,
}

impl GilMode {
    /// `classic` / `free`.
    pub fn key(self) -> &'static str {
        match self {
            GilMode::Classic => "classic",
            GilMode::Free => "free",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_3_9_switches_inside_a_plain_update() {
        for p in Python::ALL {
            assert_eq!(
                p.check_points() == CheckPoints::MostBytecodes,
                p == Python::V3_9
            );
            assert_eq!(Python::parse(p.key()), Ok(p));
        }
        let e = Python::parse("2.7").expect_err("not a choice");
        assert!(e.to_string().contains("3.9, 3.10"), "{e}");
    }

    #[test]
    fn no_gil_means_a_free_threaded_build() {
        assert_eq!(Python::V3_14.with_gil(GilMode::Free), Python::V3_14t);
        assert_eq!(Python::V3_11.with_gil(GilMode::Free), Python::V3_13t);
        assert_eq!(Python::V3_9.with_gil(GilMode::Classic), Python::V3_9);
    }
}
