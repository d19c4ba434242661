//! # GIL Lab core
//!
//! Platform-free heart of GIL Lab: the lesson's workloads, a real GIL with CPython's rules,
//! execution models, the [`RunReport`](trace::RunReport) trace format and the renderer that
//! turns a report into a picture. It builds for `wasm32-unknown-unknown` with no web or OS
//! dependency; the outside world enters through the small traits in [`platform`] and
//! [`runner`].
//!
//! ```
//! use gil_lab::workload::SumPowers;
//! // sum(i**i for i in range(10)) in CPython is 405071318.
//! let d = SumPowers::new(10).finish();
//! assert_eq!(d.tail, "405071318");
//! ```

pub mod exec;
pub mod export;
pub mod gil;
pub mod plan;
pub mod platform;
pub mod protocol;
pub mod rng;
pub mod runner;
pub mod scenario;
pub mod scheduler_game;
pub mod sim;
pub mod sync;
pub mod trace;
pub mod view;
pub mod workload;
