//! Reports out of the lab, in formats other tools read. Pure functions of a
//! [`RunReport`](crate::trace::RunReport): `gil-lab run --trace`, `gil-lab simulate` and the
//! page's download button all call the same writer.

mod chrome_trace;

pub use chrome_trace::{TraceEvent, chrome_trace, trace_events};
