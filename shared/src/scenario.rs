//! The lesson's demos as named presets: a workload, an execution model, parameters, and the
//! Python code each stands for (written for this lab).

mod applies;
mod presets;
mod python;
mod validate;
mod version;

use serde::{Deserialize, Serialize};

pub use applies::NotApplicable;
pub use presets::{
    CONVOY_CALL_US, CONVOY_CALLS, DEFAULT_BANDWIDTH_KBPS, DEFAULT_LATENCY_MS, HASH_MIB,
    IMAGE_ROUNDS, IMAGES, LESSON_N, SCENARIOS, Scenario, find,
};
pub use validate::{InputError, Limits, Overrides};
pub use version::{CheckPoints, DEFAULT_SWITCH_INTERVAL_US, GilMode, Python};

/// How the tasks of a run are executed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Model {
    /// One after another on the main thread.
    Sequential,
    /// Worker threads of one interpreter pulling tasks from a queue.
    Threads {
        /// Number of threads.
        workers: u32,
        /// Classic GIL or free-threaded.
        gil: GilMode,
        /// `sys.setswitchinterval`, in µs.
        switch_interval_us: u64,
    },
    /// `multiprocessing.Process` per worker, each given its share of the tasks up front.
    Processes {
        /// Number of processes.
        workers: u32,
    },
    /// `multiprocessing.Pool(workers).map(...)`.
    Pool {
        /// Pool size.
        workers: u32,
        /// Tasks per chunk (CPython's default rule when not given).
        chunksize: u32,
    },
    /// Threads that each run their own subinterpreter with its own GIL (Python 3.12+,
    /// `concurrent.interpreters` in 3.14): parallel like processes, inside one process.
    Interpreters {
        /// Number of interpreters (one thread each), pulling tasks from a queue.
        workers: u32,
    },
    /// The convoy effect: a thread making short blocking calls, first alone, then beside
    /// CPU-bound threads of the same interpreter.
    Convoy {
        /// CPU-bound threads beside the one making blocking calls.
        cpu_threads: u32,
        /// Classic GIL or free-threaded.
        gil: GilMode,
        /// `sys.setswitchinterval`, in µs.
        switch_interval_us: u64,
    },
    /// The shared-counter cases one after another (threads ± lock, free-threaded, processes).
    Race {
        /// Threads (and processes) per case.
        workers: u32,
        /// `sys.setswitchinterval`, in µs.
        switch_interval_us: u64,
    },
}

impl Model {
    /// Number of lanes doing the work.
    pub fn workers(&self) -> u32 {
        match self {
            Model::Sequential => 1,
            Model::Threads { workers, .. }
            | Model::Processes { workers }
            | Model::Pool { workers, .. }
            | Model::Interpreters { workers }
            | Model::Race { workers, .. } => *workers,
            Model::Convoy { cpu_threads, .. } => cpu_threads + 1,
        }
    }
}

/// What each task does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Workload {
    /// `sum_powers(n)` per task.
    SumPowers {
        /// The argument.
        n: u32,
    },
    /// One download per task, cycling through `urls`.
    Download {
        /// Where to fetch from; empty means "the lab's own image server".
        urls: Vec<String>,
        /// Server time to first byte, ms (the lab's own server, or the modelled network).
        latency_ms: u64,
        /// Server bandwidth per connection, kbit/s.
        bandwidth_kbps: u64,
    },
    /// The convoy demo: `tasks` blocking calls of `call_us` each on one thread, and
    /// `sum_powers(n)` on each CPU-bound thread.
    Convoy {
        /// Length of one blocking call, µs (the lesson's `time.sleep(0.001)`).
        call_us: u64,
        /// The CPU-bound threads' `sum_powers` argument.
        n: u32,
    },
    /// `counter += 1` repeated, per worker.
    Counter {
        /// Updates per worker.
        increments: u64,
    },
    /// `hashlib.sha256` over a buffer of `mib` MiB per task, C code that releases the GIL.
    Hash {
        /// Buffer size, MiB.
        mib: u32,
        /// Bytes per `update()`; `None`: the whole buffer in one call, `hashlib.sha256(buf)`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chunk_bytes: Option<u64>,
    },
}

/// Everything that determines a run: what a report's `params` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Execution model.
    pub model: Model,
    /// The work.
    pub workload: Workload,
    /// Number of tasks.
    pub tasks: u32,
    /// The CPython it stands for (3.11 unless said; reports leave 3.11 out).
    #[serde(default, skip_serializing_if = "Python::is_default")]
    pub python: Python,
}
