//! The machine profile: what things cost on a machine, measured by `gil-lab calibrate` (or in
//! the page by `calibrate_browser`), saved as versioned JSON and read back here.
//!
//! Two sets of costs sit side by side: `native`, the lab's own engine (its `sum_powers`
//! kernel, its worker processes, its real GIL), and `cpython`, CPython's (its per-step cost,
//! its start methods, its `Pool`). The simulator's `--pace` picks one. A profile says when,
//! where and with which Python each set was measured; the built-in one ([`Profile::builtin`])
//! was measured on a 2-core Linux VM like the lab's development machine and says so.
//!
//! `shared` has no file system: callers read and write the JSON (natively
//! `$XDG_CACHE_HOME/gil-lab/profile.json`, in the page `localStorage`).

use serde::{Deserialize, Serialize};

/// Bumped whenever a field changes meaning or disappears; readers refuse other versions.
pub const PROFILE_VERSION: u32 = 1;

/// The profile compiled into the lab, used when nothing was measured.
const BUILTIN: &str = include_str!("builtin-profile.json");

/// What a machine costs, for the simulator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Format version, [`PROFILE_VERSION`].
    pub version: u32,
    /// A name for reports (`built-in`, `calibrated 2026-11-27 on linux-x86_64`, …).
    pub name: String,
    /// Logical cores of the machine it was measured on (the simulator's default core count).
    pub cores: u32,
    /// The OS scheduler's time slice when more lanes want a core than there are, µs.
    pub quantum_us: f64,
    /// From a GIL release (or a lock release) to the signalled thread running, µs.
    pub handoff_us: f64,
    /// How late a timed wait (the GIL's interval, `time.sleep`) wakes up, µs.
    pub timer_slack_us: f64,
    /// Downloads.
    pub io: IoCosts,
    /// The lab's own engine.
    pub native: Costs,
    /// CPython's.
    pub cpython: Costs,
}

/// What a download costs besides the server's time to first byte and bandwidth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IoCosts {
    /// Connecting, the request, writing the file: per download, µs.
    pub overhead_us: f64,
    /// Moving one byte when the server does not limit bandwidth (loopback, disk), ns.
    pub ns_per_byte: f64,
}

/// One measured point of the per-step cost of `sum_powers`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepPoint {
    /// The step's `i`.
    pub i: u32,
    /// Cost of `total = total + i**i` at this `i`, ns.
    pub ns: f64,
}

/// Starting one process with one start method, and ending it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StartCost {
    /// The parent's share, paid one process after another (`fork()`, `posix_spawn`), µs.
    pub parent_us: f64,
    /// The child's share on its own core until it runs the target (a fresh interpreter, its
    /// imports), µs.
    pub child_us: f64,
    /// From the child's last task to the parent's `join()` returning, µs.
    pub exit_us: f64,
}

/// One number per start method.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PerMethod<T> {
    /// `fork`.
    pub fork: T,
    /// `spawn`.
    pub spawn: T,
    /// `forkserver`.
    pub forkserver: T,
}

/// The costs of one engine (the lab's native one, or CPython).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Costs {
    /// When, where and how these were measured (or "built-in default: …").
    pub origin: String,
    /// Per-step cost of `sum_powers` at increasing `i` (at least two points); between points
    /// the simulator interpolates on a log-log scale, beyond the last it extends the last
    /// slope.
    pub step_ns: Vec<StepPoint>,
    /// One bytecode of the counter loop (a load or a store of the counter is one), ns.
    pub bytecode_ns: f64,
    /// Dispatching one run of bytecodes (the second run of `counter += one()` is the call),
    /// ns.
    pub op_ns: f64,
    /// Taking or releasing an uncontended lock, ns.
    pub lock_ns: f64,
    /// `q.get()` on a `queue.Queue` with work in it, µs.
    pub queue_get_us: f64,
    /// What a blocking call costs besides its wait (going in and coming back out, with the
    /// GIL), µs.
    #[serde(default = "default_call_us")]
    pub call_us: f64,
    /// Starting one thread (the parent's share, one after another), µs.
    pub thread_start_us: f64,
    /// C code hashing one byte with SHA-256 (`hashlib.sha256(...).update`), ns: the hash
    /// demo's work, on a core whether the GIL is held or not. Profiles older than the demo
    /// get ~1.3 GB/s, what CPython 3.11 measured on the 2-core machine (SHA extensions).
    #[serde(default = "default_sha256_ns_per_byte")]
    pub sha256_ns_per_byte: f64,
    /// Starting and ending one process, per start method.
    pub process: PerMethod<StartCost>,
    /// A `Pool`'s own set-up and tear-down besides its processes' starts, per start method, µs.
    pub pool_setup_us: PerMethod<f64>,
    /// A process asking its parent for the next batch of work and getting it, µs.
    pub batch_us: f64,
    /// A process sending one task's result back, µs.
    pub result_us: f64,
    /// How much longer a fresh worker process's first `sum_powers` takes than its later ones,
    /// µs: its heap and caches are still cold. Measured with the lab's own worker; 0 where
    /// not measured (CPython's forked workers start from their parent's warm heap).
    #[serde(default)]
    pub first_task_us: f64,
    /// Speed of one core when `k` cores are busy, for k = 1, 2, …: `efficiency[k-1]` (1.0 =
    /// alone). Beyond the last entry the last value holds.
    pub efficiency: Vec<f64>,
}

/// Why a profile could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Not JSON, or not shaped like a profile.
    #[error("not a GIL Lab machine profile: {0}")]
    Malformed(serde_json::Error),
    /// Written by a build with another format version.
    #[error(
        "profile format version {found} is not supported (this build reads version {PROFILE_VERSION}); run `gil-lab calibrate` again"
    )]
    Version {
        /// The version the file declared.
        found: u32,
    },
    /// A value out of its range.
    #[error("profile field {field} = {value} is out of range: allowed {allowed}")]
    Field {
        /// Dotted path of the field (`native.step_ns`).
        field: String,
        /// What the profile holds.
        value: String,
        /// What is allowed.
        allowed: String,
    },
}

fn default_call_us() -> f64 {
    2.0
}

/// See [`Costs::sha256_ns_per_byte`].
pub fn default_sha256_ns_per_byte() -> f64 {
    0.75
}

fn field(field: impl Into<String>, value: impl ToString, allowed: &str) -> ProfileError {
    ProfileError::Field {
        field: field.into(),
        value: value.to_string(),
        allowed: allowed.to_owned(),
    }
}

/// A core's speed with k cores busy, as a fraction of its speed alone: sharing caches and
/// memory bandwidth slows cores down, it never speeds them up, and a machine whose cores run
/// at a twentieth of their speed is broken, not busy. (A near-zero speed made every job last
/// for ever and the simulation grow without end.)
pub const EFFICIENCY: (f64, f64) = (0.05, 1.0);

/// The ranges of a profile's costs, in the field's own unit: wide enough for any machine
/// `gil-lab calibrate` measures (a slow VM, a browser, CPython's spawn), narrow enough that
/// no value makes a simulation of valid parameters explode.
mod range {
    /// Per-step cost of `sum_powers`, ns: CPython on a slow machine takes ~20 ms at
    /// `i = 50000`; the lab's kernel ~60 ns at `i = 1`.
    pub const STEP_NS: (f64, f64) = (1.0, 1e9);
    /// Costs of one bytecode, op or uncontended lock, ns (tens of ns in practice).
    pub const OP_NS: (f64, f64) = (0.0, 1e6);
    /// Per-call costs of the interpreter and the OS (a queue get, a thread start, a batch, a
    /// result, a hand-off, a timer's lateness, a download's overhead), µs: at most a second.
    pub const CALL_US: (f64, f64) = (0.0, 1e6);
    /// Starting or ending a process and a Pool's own set-up, µs: at most a minute (spawn
    /// imports the main module again: 50 ms here, seconds on a slow disk).
    pub const START_US: (f64, f64) = (0.0, 6e7);
    /// Moving one byte of a download, ns (1 here; 10 µs is 100 kB/s).
    pub const BYTE_NS: (f64, f64) = (0.0, 1e4);
    /// SHA-256 per byte, ns: from a GB/s machine with SHA extensions (~0.3) to a slow one.
    pub const SHA_NS: (f64, f64) = (0.05, 100.0);
}

/// `v` as a person writes it: `1e-300`, not three hundred zeros.
fn num(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-4..1e15).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        v.to_string()
    }
}

/// `v` within `lo..=hi` (and a number), or an error naming `name` and the range.
fn check_range(name: &str, v: f64, (lo, hi): (f64, f64)) -> Result<(), ProfileError> {
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(field(name, num(v), &format!("{lo}..={hi}")))
    }
}

impl Profile {
    /// The profile compiled into the lab.
    pub fn builtin() -> Profile {
        // The file is checked by a test; a broken one would be a build defect, and the lab
        // must still start, so fall back to the hand-written minimum.
        Profile::from_json(BUILTIN).unwrap_or_else(|_| Profile::fallback())
    }

    /// The JSON of [`Profile::builtin`], as compiled in.
    pub fn builtin_json() -> &'static str {
        BUILTIN
    }

    /// Reads a profile from JSON and checks every value.
    pub fn from_json(text: &str) -> Result<Profile, ProfileError> {
        #[derive(Deserialize)]
        struct VersionOnly {
            version: u32,
        }
        let v: VersionOnly = serde_json::from_str(text).map_err(ProfileError::Malformed)?;
        if v.version != PROFILE_VERSION {
            return Err(ProfileError::Version { found: v.version });
        }
        let p: Profile = serde_json::from_str(text).map_err(ProfileError::Malformed)?;
        p.validate()?;
        Ok(p)
    }

    /// The profile as pretty JSON.
    pub fn to_json(&self) -> String {
        // Plain structs with string keys and finite floats cannot fail to serialise.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Checks every value against its range.
    pub fn validate(&self) -> Result<(), ProfileError> {
        if !(1..=1024).contains(&self.cores) {
            return Err(field("cores", self.cores, "1..=1024"));
        }
        if !(self.quantum_us.is_finite() && self.quantum_us >= 100.0 && self.quantum_us <= 1e6) {
            return Err(field("quantum_us", self.quantum_us, "100..=1000000"));
        }
        check_range("handoff_us", self.handoff_us, range::CALL_US)?;
        check_range("timer_slack_us", self.timer_slack_us, range::CALL_US)?;
        check_range("io.overhead_us", self.io.overhead_us, range::CALL_US)?;
        check_range("io.ns_per_byte", self.io.ns_per_byte, range::BYTE_NS)?;
        self.native.validate("native")?;
        self.cpython.validate("cpython")
    }

    /// The costs of `cpython` or the lab's own engine.
    pub fn costs(&self, cpython: bool) -> &Costs {
        if cpython { &self.cpython } else { &self.native }
    }

    /// A minimal profile with round numbers, used only if the built-in file were unreadable.
    fn fallback() -> Profile {
        let start = StartCost {
            parent_us: 1000.0,
            child_us: 2000.0,
            exit_us: 500.0,
        };
        let costs = |scale: f64| Costs {
            origin: "fallback: round numbers, not measured".into(),
            step_ns: vec![
                StepPoint { i: 1, ns: 50.0 },
                StepPoint {
                    i: 10_000,
                    ns: 300_000.0 * scale,
                },
            ],
            bytecode_ns: 8.0 * scale,
            op_ns: 5.0,
            lock_ns: 20.0,
            queue_get_us: 2.0,
            call_us: 2.0,
            thread_start_us: 50.0,
            sha256_ns_per_byte: default_sha256_ns_per_byte(),
            process: PerMethod {
                fork: start,
                spawn: start,
                forkserver: start,
            },
            pool_setup_us: PerMethod {
                fork: 1000.0,
                spawn: 1000.0,
                forkserver: 1000.0,
            },
            batch_us: 100.0,
            result_us: 20.0,
            first_task_us: 0.0,
            efficiency: vec![1.0],
        };
        Profile {
            version: PROFILE_VERSION,
            name: "fallback".into(),
            cores: 2,
            quantum_us: 4000.0,
            handoff_us: 50.0,
            timer_slack_us: 60.0,
            io: IoCosts {
                overhead_us: 1000.0,
                ns_per_byte: 1.0,
            },
            native: costs(1.0),
            cpython: costs(5.0),
        }
    }
}

impl Costs {
    fn validate(&self, at: &str) -> Result<(), ProfileError> {
        let name = |f: &str| format!("{at}.{f}");
        // Every step's cost is interpolated between points: a few dozen are measured, and
        // thousands would make building the cost table itself slow.
        if !(2..=256).contains(&self.step_ns.len()) {
            return Err(field(
                name("step_ns"),
                format!("{} points", self.step_ns.len()),
                "2..=256 points",
            ));
        }
        for w in self.step_ns.windows(2) {
            if w[1].i <= w[0].i {
                return Err(field(
                    name("step_ns"),
                    format!("i = {} after i = {}", w[1].i, w[0].i),
                    "points in increasing i",
                ));
            }
        }
        for p in &self.step_ns {
            check_range(
                &name(&format!("step_ns (i = {})", p.i)),
                p.ns,
                range::STEP_NS,
            )?;
        }
        for (f, v) in [
            ("bytecode_ns", self.bytecode_ns),
            ("op_ns", self.op_ns),
            ("lock_ns", self.lock_ns),
        ] {
            check_range(&name(f), v, range::OP_NS)?;
        }
        for (f, v) in [
            ("queue_get_us", self.queue_get_us),
            ("call_us", self.call_us),
            ("thread_start_us", self.thread_start_us),
            ("batch_us", self.batch_us),
            ("result_us", self.result_us),
        ] {
            check_range(&name(f), v, range::CALL_US)?;
        }
        check_range(
            &name("sha256_ns_per_byte"),
            self.sha256_ns_per_byte,
            range::SHA_NS,
        )?;
        // A cold heap's first task costs like a process start.
        check_range(&name("first_task_us"), self.first_task_us, range::START_US)?;
        for (m, s) in [
            ("fork", self.process.fork),
            ("spawn", self.process.spawn),
            ("forkserver", self.process.forkserver),
        ] {
            for (part, v) in [
                ("parent_us", s.parent_us),
                ("child_us", s.child_us),
                ("exit_us", s.exit_us),
            ] {
                check_range(&name(&format!("process.{m}.{part}")), v, range::START_US)?;
            }
        }
        for (m, v) in [
            ("fork", self.pool_setup_us.fork),
            ("spawn", self.pool_setup_us.spawn),
            ("forkserver", self.pool_setup_us.forkserver),
        ] {
            check_range(&name(&format!("pool_setup_us.{m}")), v, range::START_US)?;
        }
        if self.efficiency.is_empty() {
            return Err(field(name("efficiency"), "[]", "at least one value"));
        }
        let (lo, hi) = EFFICIENCY;
        if self.efficiency.len() > 1024 {
            return Err(field(
                name("efficiency"),
                format!("{} values", self.efficiency.len()),
                "at most 1024 values (one per core)",
            ));
        }
        for e in &self.efficiency {
            if !(e.is_finite() && *e > lo && *e <= hi) {
                return Err(field(
                    name("efficiency"),
                    num(*e),
                    &format!("values in ({lo}, {hi}]"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profile_is_valid_and_round_trips() {
        let p = Profile::from_json(BUILTIN).expect("built-in profile is valid");
        assert_eq!(Profile::from_json(&p.to_json()).expect("round trip"), p);
        assert!(p.native.origin.contains("measured") || p.native.origin.contains("built-in"));
        Profile::fallback().validate().expect("fallback is valid");
    }

    #[test]
    fn costs_out_of_their_physical_range_are_refused() {
        // Issue 11: `efficiency: [1e-300]` passed and the simulation grew without end.
        let mut p = Profile::builtin();
        p.native.efficiency = vec![1e-300];
        let e = p.validate().expect_err("tiny efficiency").to_string();
        assert_eq!(
            e,
            "profile field native.efficiency = 1e-300 is out of range: allowed values in (0.05, 1]"
        );
        for bad in [0.05, 1.5, f64::NAN, 0.0] {
            let mut p = Profile::builtin();
            p.cpython.efficiency = vec![1.0, bad];
            assert!(p.validate().is_err(), "efficiency {bad}");
        }
        type Spoil = fn(&mut Profile);
        let cases: [(&str, Spoil); 6] = [
            ("native.step_ns (i = 1)", |p| {
                p.native.step_ns[0].ns = 1e-300
            }),
            ("cpython.op_ns", |p| p.cpython.op_ns = 1e300),
            ("handoff_us", |p| p.handoff_us = 1e12),
            ("native.process.spawn.child_us", |p| {
                p.native.process.spawn.child_us = -1.0
            }),
            ("io.ns_per_byte", |p| p.io.ns_per_byte = f64::INFINITY),
            ("native.step_ns", |p| {
                p.native.step_ns = (0..1000).map(|i| StepPoint { i, ns: 10.0 }).collect()
            }),
        ];
        for (name, spoil) in cases {
            let mut p = Profile::builtin();
            spoil(&mut p);
            let e = p.validate().expect_err(name).to_string();
            assert!(
                e.starts_with(&format!("profile field {name} = ")) && e.contains("allowed"),
                "{e}"
            );
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn bad_values_name_the_field() {
        let mut p = Profile::builtin();
        p.native.efficiency = vec![1.0, -0.5];
        let e = p.validate().expect_err("negative efficiency").to_string();
        assert!(
            e.contains("native.efficiency") && e.contains("(0.05, 1]"),
            "{e}"
        );
        let e = Profile::from_json("{\"version\": 99}")
            .expect_err("version")
            .to_string();
        assert!(e.contains("version 99"), "{e}");
        let e = Profile::from_json("[1,2]").expect_err("not a profile");
        assert!(e.to_string().contains("not a GIL Lab machine profile"));
    }
}
