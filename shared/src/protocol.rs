//! Messages between a run's coordinator and one of its worker processes (a child `gil-lab`
//! process over pipes natively, one JSON object per line; a fresh Web Worker in the browser).

use serde::{Deserialize, Serialize};

use crate::exec::Numbered;
use crate::trace::Span;
use crate::workload::TaskOutcome;

/// Coordinator → worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum ToWorker {
    /// First message: who the worker is and what it may be asked to run.
    Init {
        /// The lane its spans go on.
        lane: u32,
        /// The run's epoch on the shared clock (natively `CLOCK_MONOTONIC` ns).
        epoch_ns: u64,
        /// Every task it may be given, by number.
        tasks: Vec<Numbered>,
        /// Where downloads are written (native only).
        #[serde(default)]
        out_dir: String,
        /// What counter tasks update.
        #[serde(default)]
        counter: WorkerCounter,
    },
    /// Run these tasks, one after another, then answer `BatchDone`.
    Run {
        /// Task numbers.
        ids: Vec<u32>,
    },
    /// No more work: exit.
    Exit,
}

/// The counter a worker process's counter tasks update.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WorkerCounter {
    /// The process's own copy of the parent's global, starting at `value`.
    Copy {
        /// The parent's value when the process started.
        value: u64,
    },
    /// A `multiprocessing.Value` every process of the run maps: natively a file in shared
    /// memory at `path`.
    Mapped {
        /// The file to map.
        path: String,
    },
    /// Nothing given: a copy starting at 0.
    #[default]
    Own,
}

/// Worker → coordinator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker's interpreter is up (ends its `starting` span).
    Ready {
        /// When, µs since the run's epoch.
        at_us: u64,
    },
    /// A span ended.
    Span(Span),
    /// Progress inside a task.
    Progress {
        /// Task number.
        task: u32,
        /// Steps done.
        done: u64,
        /// Steps in all.
        total: u64,
    },
    /// A task ended.
    TaskDone {
        /// Task number.
        id: u32,
        /// How.
        outcome: TaskOutcome,
    },
    /// Every task of the last `Run` has ended.
    BatchDone,
}
