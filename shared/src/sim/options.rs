//! What a simulation models besides the scenario's parameters: how many cores, which Python,
//! which start method, whose speed, which seed — checked and resolved against the parameters
//! before anything is simulated.

use serde::{Deserialize, Serialize};

use crate::gil::GilMode;
pub use crate::scenario::Python;
use crate::scenario::{InputError, Model, Params};

/// Cores the simulator accepts (inclusive).
pub const CORES: (u32, u32) = (1, 256);

/// `multiprocessing`'s default start method on Linux for `python`.
pub fn default_start_method(python: Python) -> StartMethod {
    match python {
        Python::V3_14 | Python::V3_14t => StartMethod::Forkserver,
        _ => StartMethod::Fork,
    }
}

/// How `multiprocessing` starts a process (`"fork"` … in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum StartMethod {
    /// A copy of the parent (Linux's default until 3.13).
    Fork,
    /// A fresh interpreter that imports the main module again (macOS, Windows).
    Spawn,
    /// Forked from a clean server process started once (Linux's default from 3.14).
    Forkserver,
}

impl StartMethod {
    /// `fork`, `spawn`, `forkserver`.
    pub fn key(self) -> &'static str {
        match self {
            StartMethod::Fork => "fork",
            StartMethod::Spawn => "spawn",
            StartMethod::Forkserver => "forkserver",
        }
    }

    /// The method called `s`, or an error naming the choices.
    pub fn parse(s: &str) -> Result<StartMethod, InputError> {
        [
            StartMethod::Fork,
            StartMethod::Spawn,
            StartMethod::Forkserver,
        ]
        .into_iter()
        .find(|m| m.key() == s)
        .ok_or_else(|| InputError {
            field: "start-method",
            value: s.to_owned(),
            allowed: "fork, spawn or forkserver".into(),
        })
    }
}

/// Whose speed the simulated work runs at (`"native"` or `"cpython"` in JSON).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Pace {
    /// The lab's own engine: its kernel, its worker processes (what `gil-lab run` does).
    #[default]
    Native,
    /// CPython's, from `gil-lab calibrate --python`.
    Cpython,
}

impl Pace {
    /// `native` or `cpython`.
    pub fn key(self) -> &'static str {
        match self {
            Pace::Native => "native",
            Pace::Cpython => "cpython",
        }
    }

    /// The pace called `s`, or an error naming the choices.
    pub fn parse(s: &str) -> Result<Pace, InputError> {
        match s {
            "native" => Ok(Pace::Native),
            "cpython" => Ok(Pace::Cpython),
            _ => Err(InputError {
                field: "pace",
                value: s.to_owned(),
                allowed: "native or cpython".into(),
            }),
        }
    }
}

// JSON goes through the same parsers as the command line, so a bad value names its field
// and the choices there too.
macro_rules! string_forms {
    ($($t:ty),*) => {$(
        impl TryFrom<String> for $t {
            type Error = InputError;
            fn try_from(s: String) -> Result<Self, InputError> {
                <$t>::parse(&s)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.key().to_owned()
            }
        }
    )*};
}
string_forms!(StartMethod, Pace);

/// The simulator's own choices; `None` takes the default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimOptions {
    /// Cores of the modelled machine (1..=256; default: the profile's).
    pub cores: Option<u32>,
    /// Python modelled (default 3.11, or 3.13t when the parameters ask for no GIL).
    pub python: Option<Python>,
    /// Start method of processes (default: the Python's default on Linux).
    pub start_method: Option<StartMethod>,
    /// Seed of every scheduling choice (which GIL waiter is woken).
    pub seed: u64,
    /// Whose speed the work runs at.
    pub pace: Pace,
    /// Sizes of the images downloads fetch, cycled like the tasks' URLs (default: the lab's
    /// six images, [`crate::workload::LAB_IMAGE_BYTES`]).
    pub image_bytes: Vec<u64>,
}

/// [`SimOptions`] with every default filled in, checked against the parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// Cores modelled.
    pub cores: u32,
    /// Python modelled.
    pub python: Python,
    /// Start method of processes.
    pub start_method: StartMethod,
    /// Seed.
    pub seed: u64,
    /// Whose speed.
    pub pace: Pace,
    /// Image sizes.
    pub image_bytes: Vec<u64>,
}

impl SimOptions {
    /// Fills in defaults (`profile_cores` for the core count) and checks the choices against
    /// `params`. `params` may change: `--python 3.13t` makes threads run without a GIL.
    pub fn resolve(&self, params: &mut Params, profile_cores: u32) -> Result<Resolved, InputError> {
        let cores = self.cores.unwrap_or(profile_cores);
        if !(CORES.0..=CORES.1).contains(&cores) {
            return Err(InputError {
                field: "cores",
                value: cores.to_string(),
                allowed: format!("{}..={}", CORES.0, CORES.1),
            });
        }
        let asks_free = matches!(
            params.model,
            Model::Threads {
                gil: GilMode::Free,
                ..
            }
        );
        // The parameters' version, a free-threaded one where they ask for no GIL.
        let python = match self.python {
            Some(p) => p,
            None if asks_free => params.python.with_gil(GilMode::Free),
            None => params.python,
        };
        params.python = python;
        if let Model::Threads { gil, .. } = &mut params.model {
            match (python.gil(), *gil) {
                (GilMode::Classic, GilMode::Free) => {
                    return Err(InputError {
                        field: "python",
                        value: python.key().to_owned(),
                        allowed: "3.13t or 3.14t for threads without a GIL (--gil free)".into(),
                    });
                }
                (GilMode::Free, _) => *gil = GilMode::Free,
                _ => {}
            }
        }
        if self.image_bytes.len() > 64 || self.image_bytes.iter().any(|&b| b > 1 << 32) {
            return Err(InputError {
                field: "image_bytes",
                value: format!("{} sizes", self.image_bytes.len()),
                allowed: "at most 64 sizes of at most 4 GiB each".into(),
            });
        }
        Ok(Resolved {
            cores,
            python,
            start_method: self
                .start_method
                .unwrap_or_else(|| default_start_method(python)),
            seed: self.seed,
            pace: self.pace,
            image_bytes: if self.image_bytes.is_empty() {
                crate::workload::LAB_IMAGE_BYTES.to_vec()
            } else {
                self.image_bytes.clone()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::find;

    fn params(name: &str) -> Params {
        find(name).expect("scenario").defaults()
    }

    #[test]
    fn defaults_follow_the_parameters() {
        let mut p = params("cpu-threads-free");
        let r = SimOptions::default().resolve(&mut p, 2).expect("valid");
        assert_eq!((r.python, r.cores), (Python::V3_13t, 2));
        assert_eq!(r.start_method, StartMethod::Fork);
        let mut p = params("cpu-processes");
        let r = SimOptions {
            python: Some(Python::V3_14t),
            ..Default::default()
        }
        .resolve(&mut p, 8)
        .expect("valid");
        assert_eq!(r.start_method, StartMethod::Forkserver);
    }

    #[test]
    fn free_threaded_python_drops_the_gil_and_classic_refuses_none() {
        let mut p = params("cpu-threads");
        SimOptions {
            python: Some(Python::V3_14t),
            ..Default::default()
        }
        .resolve(&mut p, 2)
        .expect("valid");
        assert!(matches!(
            p.model,
            Model::Threads {
                gil: GilMode::Free,
                ..
            }
        ));
        let mut p = params("cpu-threads-free");
        let e = SimOptions {
            python: Some(Python::V3_12),
            ..Default::default()
        }
        .resolve(&mut p, 2)
        .expect_err("3.12 has a GIL");
        assert_eq!(e.field, "python");
    }

    #[test]
    fn out_of_range_names_the_field() {
        let mut p = params("cpu-pool");
        let e = SimOptions {
            cores: Some(0),
            ..Default::default()
        }
        .resolve(&mut p, 2)
        .expect_err("0 cores");
        assert_eq!(e.to_string(), "cores = 0 is out of range: allowed 1..=256");
        assert_eq!(Python::parse("3.8").expect_err("old").field, "python");
        assert_eq!(
            StartMethod::parse("vfork").expect_err("no").field,
            "start-method"
        );
        assert_eq!(Pace::parse("fast").expect_err("no").field, "pace");
    }
}
