//! What one task does, with an exact, checkable result.

mod counter;
mod download;
mod hash;
mod sum_powers;

use num_bigint::BigUint;
use serde::{Deserialize, Serialize};

pub use counter::{
    CounterCase, CounterCell, CounterSpec, CounterStyle, MAX_INCREMENTS, SharedCounter,
};
pub use download::{DownloadOutput, DownloadSpec, LAB_IMAGE_BYTES, network_ns, sanitize_file_name};
pub use hash::{BUFFER_PERIOD, BufferHash, HASHLIB_GIL_MINSIZE, HashSpec};
pub use sum_powers::{MAX_N, SumPowers, pow_self};

/// One unit of work handed to a lane.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Task {
    /// `sum_powers(n)`.
    SumPowers {
        /// The argument.
        n: u32,
    },
    /// Fetch one URL and write the body to a file.
    Download(DownloadSpec),
    /// `increments` updates of a shared counter (see [`SharedCounter`]).
    Counter(CounterSpec),
    /// `count` short blocking calls (`time.sleep(us / 1e6)`), each releasing the GIL: the
    /// I/O thread of the convoy demo.
    Sleeps {
        /// How many calls.
        count: u32,
        /// Length of each, µs.
        us: u64,
    },
    /// `hashlib.sha256` over the hash demo's buffer, in `update()` calls.
    Hash(HashSpec),
}

impl Task {
    /// What a learner reads next to the task (`sum_powers(10000)`).
    pub fn label(&self) -> String {
        match self {
            Task::SumPowers { n } => format!("sum_powers({n})"),
            Task::Download(d) => format!("download {}", d.url),
            Task::Counter(c) => format!("{} × counter += 1 ({})", c.increments, c.style.key()),
            Task::Sleeps { count, us } => {
                format!("{count} × a {} ms blocking call", *us as f64 / 1000.0)
            }
            Task::Hash(h) => format!(
                "sha256 of {} MiB in {} B updates",
                h.bytes as f64 / f64::from(1 << 20),
                h.chunk.min(h.bytes)
            ),
        }
    }
}

/// How a task ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TaskOutcome {
    /// Never started (the run was stopped first).
    NotRun,
    /// `sum_powers` finished with this result.
    Sum(Digest),
    /// A download finished.
    Downloaded(DownloadOutput),
    /// A counter worker finished its increments.
    Counted {
        /// Increments this worker performed.
        increments: u64,
        /// The counter's value as this worker saw it at its end, for processes (each has its
        /// own copy of a global; with a shared `Value`, the shared value at that moment).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seen: Option<u64>,
    },
    /// The blocking calls of a [`Task::Sleeps`] finished.
    Slept {
        /// How many.
        count: u32,
    },
    /// A `sha256` finished: its `hexdigest()`.
    Hashed {
        /// 64 hex digits.
        sha256: String,
    },
    /// Finished in a simulation: the work was not done, so there is no result to show.
    Simulated,
    /// The task failed; the other tasks' results are kept.
    Error {
        /// One line saying what went wrong.
        message: String,
    },
}

impl TaskOutcome {
    /// Whether the task finished without error.
    pub fn is_ok(&self) -> bool {
        !matches!(self, TaskOutcome::Error { .. } | TaskOutcome::NotRun)
    }
}

/// A compact, exact fingerprint of a big integer: enough to compare with CPython bit for bit
/// without printing 40 000 digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    /// `int.bit_length()`.
    pub bits: u64,
    /// `len(str(x))`.
    pub digits: u64,
    /// `x & (2**64 - 1)`, as a decimal string (JSON numbers lose precision above 2^53).
    pub low64: String,
    /// `str(x)[-20:]`.
    pub tail: String,
}

impl Digest {
    /// Number of trailing decimal digits kept in [`Digest::tail`].
    pub const TAIL: usize = 20;

    /// The digest of `x`.
    pub fn of(x: &BigUint) -> Self {
        let decimal = x.to_str_radix(10);
        let tail_start = decimal.len().saturating_sub(Self::TAIL);
        let low64 = x.iter_u64_digits().next().unwrap_or(0);
        Self {
            bits: x.bits(),
            digits: decimal.len() as u64,
            low64: low64.to_string(),
            tail: decimal[tail_start..].to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values printed by CPython 3.11: `t = sum(i**i for i in range(n))`, then
    /// `t.bit_length(), len(str(t)), str(t)[-20:], t & (2**64-1)`.
    const CPYTHON: &[(u32, u64, u64, &str, &str)] = &[
        (0, 0, 1, "0", "0"),
        (1, 1, 1, "1", "1"),
        (2, 2, 1, "2", "2"),
        (10, 29, 9, "405071318", "405071318"),
        (
            300,
            2459,
            741,
            "99500299595028546761",
            "16217154449559176393",
        ),
        (
            1000,
            9955,
            2997,
            "67978127819110846701",
            "11954192561911075053",
        ),
        (
            10000,
            132863,
            39996,
            "27837280816237204501",
            "6738222566488232981",
        ),
    ];

    #[test]
    fn sum_powers_matches_cpython() {
        for &(n, bits, digits, tail, low64) in CPYTHON {
            let d = SumPowers::new(n).finish();
            assert_eq!(
                (d.bits, d.digits, d.tail.as_str(), d.low64.as_str()),
                (bits, digits, tail, low64),
                "n = {n}"
            );
        }
    }
}
