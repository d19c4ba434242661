//! The named scenarios, with lesson defaults and the Python each one stands for.

use crate::scenario::{DEFAULT_SWITCH_INTERVAL_US, GilMode};
use crate::scenario::{Model, Params, Python, Workload};

/// A named demo.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// Name used on the command line and in URLs.
    pub name: &'static str,
    /// One line for `gil-lab list`.
    pub summary: &'static str,
    /// What a learner should notice in the picture.
    pub lesson: &'static str,
    /// The Python program this scenario runs the equivalent of, with `@NAME@` markers for
    /// the run's numbers ([`Scenario::python_for`] fills them in).
    pub python: &'static str,
    /// The sequential scenario whose wall time gives the speed-up, if any.
    pub baseline: Option<&'static str>,
    defaults: fn() -> Params,
}

impl Scenario {
    /// The lesson's parameters for this scenario.
    pub fn defaults(&self) -> Params {
        (self.defaults)()
    }
}

/// Images the lesson downloads (6), and how often it downloads each (5).
pub const IMAGES: u32 = 6;
/// Rounds over the images in the I/O demos.
pub const IMAGE_ROUNDS: u32 = 5;
/// The lesson's `sum_powers` argument.
pub const LESSON_N: u32 = 10_000;
/// Server time-to-first-byte of the I/O demo, ms.
pub const DEFAULT_LATENCY_MS: u64 = 100;
/// Server bandwidth per connection in the I/O demo, kbit/s (4 MB/s).
pub const DEFAULT_BANDWIDTH_KBPS: u64 = 32_000;

fn download() -> Workload {
    Workload::Download {
        urls: Vec::new(),
        latency_ms: DEFAULT_LATENCY_MS,
        bandwidth_kbps: DEFAULT_BANDWIDTH_KBPS,
    }
}

/// The hash demo's buffer, MiB: about 37 ms of SHA-256 per task on the 2-core machine (~1.3
/// GB/s), enough for a picture and a speed-up well above timer noise.
pub const HASH_MIB: u32 = 48;

fn hash() -> Workload {
    // One update of the whole buffer, `hashlib.sha256(buf)`: what a program hashing data it
    // holds writes, and what CPYTHON-FACTS.md measured (1.74x on 2 cores).
    Workload::Hash {
        mib: HASH_MIB,
        chunk_bytes: None,
    }
}

fn threads(workers: u32, gil: GilMode) -> Model {
    Model::Threads {
        workers,
        gil,
        switch_interval_us: DEFAULT_SWITCH_INTERVAL_US,
    }
}

pub(super) const SUM_POWERS_PY: &str = "def sum_powers(n):
    total = 0
    for i in range(n):
        total = total + i ** i   # one big-int power per step
    return total";

/// Every scenario, in lesson order.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "io-sequential",
        summary: "30 downloads (6 images × 5) one after another on the main thread",
        lesson: "The CPU is idle almost all the time: the program spends its life waiting for the network.",
        python: "import requests

def fetch(url, path):
    body = requests.get(url).content   # waits on the network
    with open(path, 'wb') as f:        # waits on the disk
        f.write(body)

for k, url in enumerate(@DOWNLOADS@):   # @DOWNLOADS_NOTE@
    fetch(url, f'{k}.jpg')",
        baseline: None,
        defaults: || Params {
            model: Model::Sequential,
            workload: download(),
            tasks: IMAGES * IMAGE_ROUNDS,
            python: Default::default(),
        },
    },
    Scenario {
        name: "io-threads",
        summary: "the same 30 downloads on 5 threads: waits overlap, so wall time drops",
        lesson: "Several threads wait for I/O at once; each releases the GIL while it waits, so one core is enough.",
        python: "import threading, queue

jobs = queue.Queue()

def worker():
    while True:
        k, url = jobs.get()
        fetch(url, f'{k}.jpg')         # the GIL is released while waiting
        jobs.task_done()

for k, url in enumerate(@DOWNLOADS@):
    jobs.put((k, url))
for _ in range(@WORKERS@):
    threading.Thread(target=worker, daemon=True).start()
jobs.join()",
        baseline: Some("io-sequential"),
        defaults: || Params {
            model: threads(5, GilMode::Classic),
            workload: download(),
            tasks: IMAGES * IMAGE_ROUNDS,
            python: Default::default(),
        },
    },
    Scenario {
        name: "cpu-sequential",
        summary: "sum_powers(10000) four times in a row on the main thread",
        lesson: "One core busy, the other idle: the baseline every parallel version is measured against.",
        python: "SUM_POWERS

for _ in range(@TASKS@):
    sum_powers(@N@)",
        baseline: None,
        defaults: || Params {
            model: Model::Sequential,
            workload: Workload::SumPowers { n: LESSON_N },
            tasks: 4,
            python: Default::default(),
        },
    },
    Scenario {
        name: "cpu-threads",
        summary: "4 threads under the classic GIL: they take turns, so no faster than sequential",
        lesson: "Only one thread runs at any instant; the GIL passes between them every switch interval.",
        python: "import threading, queue

SUM_POWERS

jobs = queue.Queue()

def worker():
    while True:
        n = jobs.get()
        sum_powers(n)      # holds the GIL except at hand-offs
        jobs.task_done()

for _ in range(@TASKS@):
    jobs.put(@N@)
for _ in range(@WORKERS@):
    threading.Thread(target=worker, daemon=True).start()
jobs.join()",
        baseline: Some("cpu-sequential"),
        defaults: || Params {
            model: threads(4, GilMode::Classic),
            workload: Workload::SumPowers { n: LESSON_N },
            tasks: 4,
            python: Default::default(),
        },
    },
    Scenario {
        name: "cpu-threads-free",
        summary: "the same 4 threads on free-threaded Python (3.13t): no GIL, real parallelism",
        lesson: "Without a GIL the threads run at the same time on every core.",
        python: "# python3.13t -X gil=0 (free-threaded build)
# the same program as cpu-threads: with no GIL the
# @WORKERS@ workers run on all cores at once",
        baseline: Some("cpu-sequential"),
        defaults: || Params {
            model: threads(4, GilMode::Free),
            workload: Workload::SumPowers { n: LESSON_N },
            tasks: 4,
            python: Python::V3_13t,
        },
    },
    Scenario {
        name: "cpu-processes",
        summary: "4 multiprocessing.Process workers: each has its own interpreter and GIL",
        lesson: "Processes run in parallel on all cores, after paying a start-up cost each.",
        python: "from multiprocessing import Process

SUM_POWERS
@WORK_FN@
if __name__ == '__main__':
    @PROCS@
    for p in procs:
        p.start()     # a new interpreter, its own GIL
    for p in procs:
        p.join()",
        baseline: Some("cpu-sequential"),
        defaults: || Params {
            model: Model::Processes { workers: 4 },
            workload: Workload::SumPowers { n: LESSON_N },
            tasks: 4,
            python: Default::default(),
        },
    },
    Scenario {
        name: "cpu-pool",
        summary: "Pool(4).map over 8 tasks: processes reused, tasks handed out in chunks",
        lesson: "A pool starts its processes once and feeds them chunks of the task list.",
        python: "from multiprocessing import Pool

SUM_POWERS

if __name__ == '__main__':
    with Pool(@WORKERS@) as pool:
        @CHUNK_NOTE@
        results = pool.map(sum_powers, [@N@] * @TASKS@@CHUNK_ARG@)",
        baseline: Some("cpu-sequential"),
        defaults: || Params {
            model: Model::Pool {
                workers: 4,
                chunksize: 1,
            },
            workload: Workload::SumPowers { n: LESSON_N },
            tasks: 8,
            python: Default::default(),
        },
    },
    Scenario {
        name: "cpu-interpreters",
        summary: "4 subinterpreters (own GIL since 3.12; InterpreterPoolExecutor since 3.14), one thread each: parallel inside one process",
        lesson: "Each interpreter has its own GIL, so their threads run at once like processes, without starting new processes.",
        python: "# Python 3.14: concurrent.interpreters (PEP 734)
from concurrent.futures import InterpreterPoolExecutor

SUM_POWERS

if __name__ == '__main__':
    with InterpreterPoolExecutor(@WORKERS@) as pool:
        # each worker thread runs its own interpreter,
        # with its own GIL: they run on every core at once
        results = list(pool.map(sum_powers, [@N@] * @TASKS@))",
        baseline: Some("cpu-sequential"),
        defaults: || Params {
            model: Model::Interpreters { workers: 4 },
            workload: Workload::SumPowers { n: LESSON_N },
            tasks: 4,
            python: Python::V3_14,
        },
    },
    Scenario {
        name: "hash-sequential",
        summary: "hashlib.sha256 over a 48 MiB buffer, four times in a row on the main thread",
        lesson: "C code does the hashing: the baseline for threads that run it with the GIL released.",
        python: "import hashlib

HASH_SETUP

for _ in range(@TASKS@):
    digest(buf)",
        baseline: None,
        defaults: || Params {
            model: Model::Sequential,
            workload: hash(),
            tasks: 4,
            python: Default::default(),
        },
    },
    Scenario {
        name: "hash-threads",
        summary: "the same 4 hashes on 4 threads: hashlib releases the GIL, so they run in parallel",
        lesson: "While one thread's C code hashes without the GIL, another can hold it: threads help when the work is in C code that lets go of the GIL. With updates under 2048 bytes it never does.",
        python: "import hashlib, threading, queue

HASH_SETUP

jobs = queue.Queue()

def worker():
    while True:
        data = jobs.get()
        digest(data)       # @GIL_NOTE@
        jobs.task_done()

for _ in range(@TASKS@):
    jobs.put(buf)
for _ in range(@WORKERS@):
    threading.Thread(target=worker, daemon=True).start()
jobs.join()",
        baseline: Some("hash-sequential"),
        defaults: || Params {
            model: threads(4, GilMode::Classic),
            workload: hash(),
            tasks: 4,
            python: Default::default(),
        },
    },
    Scenario {
        name: "convoy",
        summary: "one thread making 1 ms blocking calls, alone and then beside a CPU-bound thread (the convoy effect)",
        lesson: "Each blocking call releases the GIL; getting it back from a CPU-bound thread takes up to a switch interval, so a 1 ms call costs about 6 ms beside one.",
        python: "import threading, time

SUM_POWERS

def io_loop(calls):
    for _ in range(calls):
        time.sleep(@CALL_S@)   # releases the GIL, then must win it back

io_loop(@TASKS@)                # alone: a little over @CALL_MS@ ms a call

@CPU_START@
io_loop(@TASKS@)                # beside a CPU-bound thread: @CONVOY_NOTE@
@CPU_JOIN@",
        baseline: None,
        defaults: || Params {
            model: Model::Convoy {
                cpu_threads: 1,
                gil: GilMode::Classic,
                switch_interval_us: DEFAULT_SWITCH_INTERVAL_US,
            },
            workload: Workload::Convoy {
                call_us: CONVOY_CALL_US,
                n: LESSON_N,
            },
            tasks: CONVOY_CALLS,
            python: Default::default(),
        },
    },
    Scenario {
        name: "race",
        summary: "4 workers × 1,000,000 increments of one counter: when are updates lost?",
        lesson: "A plain loop loses nothing under the GIL, a call inside the update loses many, a lock loses none, no GIL loses many; processes never share a global at all, and a shared multiprocessing.Value loses updates unless its lock spans the whole +=.",
        python: "import threading

counter = 0
def one():
    return 1

def plain(k):                 # 0 lost: no hand-off inside the update
    global counter
    for _ in range(k):
        counter += 1

def with_call(k):             # updates lost: the call is a hand-off point
    global counter
    for _ in range(k):
        counter += one()

lock = threading.Lock()
def locked(k):                # 0 lost: the lock spans the update
    global counter
    for _ in range(k):
        with lock:
            counter += one()

# processes: each changes its own copy of `counter`;
# to share one, use multiprocessing.Value
from multiprocessing import Value
v = Value('q', 0)             # comes with a lock, but...
def value_bare(v, k):         # updates lost: the lock covers the
    for _ in range(k):        # read and the write, not the +=
        v.value += 1

def value_locked(v, k):       # 0 lost
    for _ in range(k):
        with v.get_lock():
            v.value += 1

# each case: @WORKERS@ threads (or processes), each calling it with k = @INCREMENTS@",
        baseline: None,
        defaults: || Params {
            model: Model::Race {
                workers: 4,
                switch_interval_us: DEFAULT_SWITCH_INTERVAL_US,
            },
            workload: Workload::Counter {
                increments: 1_000_000,
            },
            tasks: 4,
            python: Default::default(),
        },
    },
];

/// The convoy demo's blocking calls by default, and their length (the lesson's
/// `time.sleep(0.001)`).
pub const CONVOY_CALLS: u32 = 100;
/// Length of one of the convoy demo's blocking calls, µs.
pub const CONVOY_CALL_US: u64 = 1_000;

/// The scenario called `name`.
pub fn find(name: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.name == name)
}
