//! The Python a run stands for, with the run's own numbers: the presets' snippets carry
//! `@NAME@` markers (never valid Python, so a marker left behind is caught by the tests), which
//! [`Scenario::python_for`] fills in from the run's [`Params`].

use super::presets::{IMAGES, SUM_POWERS_PY, Scenario};
use super::{Model, Params, Workload};
use crate::scenario::{DEFAULT_SWITCH_INTERVAL_US, GilMode};
use crate::workload::HashSpec;

impl Scenario {
    /// The Python snippet at the lesson's parameters.
    pub fn python_code(&self) -> String {
        self.python_for(&self.defaults())
    }

    /// The Python snippet with `params` in it: the `n` of `sum_powers(n)`, how many tasks and
    /// workers, the Pool's chunks, the convoy's calls, the switch interval and the GIL.
    pub fn python_for(&self, params: &Params) -> String {
        let mut out = String::new();
        if let Some(seconds) = switch_interval(&params.model) {
            out.push_str(&format!(
                "import sys\nsys.setswitchinterval({seconds})   # the default is 0.005 s\n\n"
            ));
        }
        if free_threads(&params.model) && !self.python.contains("gil=0") {
            out.push_str("# python3.13t -X gil=0 (free-threaded build): no GIL\n");
        }
        out.push_str(
            &self
                .python
                .replace("SUM_POWERS", SUM_POWERS_PY)
                .replace("HASH_SETUP", HASH_SETUP_PY),
        );
        for (marker, value) in markers(params) {
            out = out.replace(marker, &value);
        }
        out
    }
}

/// `sys.setswitchinterval`'s argument when a thread model runs at another interval.
fn switch_interval(model: &Model) -> Option<String> {
    let us = match model {
        Model::Threads {
            gil: GilMode::Classic,
            switch_interval_us,
            ..
        }
        | Model::Convoy {
            gil: GilMode::Classic,
            switch_interval_us,
            ..
        }
        | Model::Race {
            switch_interval_us, ..
        } => *switch_interval_us,
        _ => return None,
    };
    (us != DEFAULT_SWITCH_INTERVAL_US).then(|| format!("{}", us as f64 / 1e6))
}

fn free_threads(model: &Model) -> bool {
    matches!(
        model,
        Model::Threads {
            gil: GilMode::Free,
            ..
        } | Model::Convoy {
            gil: GilMode::Free,
            ..
        }
    )
}

/// An int as Python code reads best: `10_000`, `2000`.
pub(super) fn py_int(v: u64) -> String {
    let digits = v.to_string();
    if v < 10_000 {
        return digits;
    }
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push('_');
        }
        out.push(c);
    }
    out
}

/// Every marker and its value for `params`.
fn markers(params: &Params) -> Vec<(&'static str, String)> {
    let tasks = params.tasks;
    let workers = params.model.workers();
    let n = match params.workload {
        Workload::SumPowers { n } | Workload::Convoy { n, .. } => u64::from(n),
        _ => 0,
    };
    let mut m = vec![
        ("@N@", py_int(n)),
        ("@TASKS@", tasks.to_string()),
        ("@WORKERS@", workers.to_string()),
        ("@DOWNLOADS@", downloads(tasks)),
        ("@DOWNLOADS_NOTE@", downloads_note(tasks)),
    ];
    let (work, procs) = processes(n, tasks, workers);
    m.push(("@WORK_FN@", work));
    m.push(("@PROCS@", procs));
    if let Model::Pool { chunksize, .. } = params.model {
        let (arg, note) = chunks(tasks, workers, chunksize);
        m.push(("@CHUNK_ARG@", arg));
        m.push(("@CHUNK_NOTE@", note));
    }
    if let (
        Model::Convoy {
            cpu_threads,
            gil,
            switch_interval_us,
        },
        Workload::Convoy { call_us, .. },
    ) = (&params.model, &params.workload)
    {
        let ms = |us: u64| format!("{}", us as f64 / 1000.0);
        m.push(("@CALL_S@", format!("{}", *call_us as f64 / 1e6)));
        m.push(("@CALL_MS@", ms(*call_us)));
        // CPython's convoy: each wake-up waits for the CPU thread's switch interval.
        m.push((
            "@CONVOY_NOTE@",
            if *gil == GilMode::Free {
                "no GIL, so no longer".to_owned()
            } else {
                format!("about {} ms a call", ms(call_us + switch_interval_us))
            },
        ));
        let start = format!("threading.Thread(target=sum_powers, args=({},))", py_int(n));
        let (up, down) = if *cpu_threads == 1 {
            (
                format!("cpu = {start}\ncpu.start()"),
                "cpu.join()".to_owned(),
            )
        } else {
            (
                format!(
                    "cpus = [{start}\n        for _ in range({cpu_threads})]\nfor t in cpus:\n    t.start()"
                ),
                "for t in cpus:\n    t.join()".to_owned(),
            )
        };
        m.push(("@CPU_START@", up));
        m.push(("@CPU_JOIN@", down));
    }
    if let Workload::Counter { increments } = params.workload {
        m.push(("@INCREMENTS@", py_int(increments)));
    }
    if let Workload::Hash { mib, chunk_bytes } = params.workload {
        m.push(("@MIB@", mib.to_string()));
        let bytes = u64::from(mib) << 20;
        let (body, note) = match chunk_bytes.filter(|c| *c < bytes) {
            None => (
                "    return hashlib.sha256(data).hexdigest()   # one update()".to_owned(),
                "the GIL is released while hashing",
            ),
            Some(c) => (
                format!(
                    "    h = hashlib.sha256()\n    view = memoryview(data)\n    \
                     for i in range(0, len(data), {c}):\n        \
                     h.update(view[i:i + {c}])   # {}\n    return h.hexdigest()",
                    if HashSpec::releases_gil(c) {
                        "2048 bytes or more: GIL released"
                    } else {
                        "under 2048 bytes: GIL held"
                    }
                ),
                if HashSpec::releases_gil(c) {
                    "the GIL is released in each update()"
                } else {
                    "small updates: the GIL is held throughout"
                },
            ),
        };
        m.push(("@HASH_BODY@", body));
        m.push(("@GIL_NOTE@", note.to_owned()));
    }
    m
}

/// The hash demo's buffer (byte `i` is `i % 251`, as the lab's) and its digest function.
const HASH_SETUP_PY: &str = "buf = (bytes(range(251)) * (((@MIB@ << 20) // 251) + 1))[:@MIB@ << 20]

def digest(data):
@HASH_BODY@";

/// The URL list of `tasks` downloads over the lesson's images.
fn downloads(tasks: u32) -> String {
    let rounds = tasks.div_ceil(IMAGES);
    if tasks.is_multiple_of(IMAGES) {
        format!("IMAGES * {rounds}")
    } else {
        format!("(IMAGES * {rounds})[:{tasks}]")
    }
}

fn downloads_note(tasks: u32) -> String {
    if tasks.is_multiple_of(IMAGES) {
        format!("{IMAGES} images, {} rounds", tasks / IMAGES)
    } else {
        format!("{tasks} downloads of {IMAGES} images")
    }
}

/// The processes of `cpu-processes`: one per task when there are as many, otherwise each of
/// `workers` takes its round-robin share, as the lab hands them out. The first part is a
/// function at the top level (a spawned process must be able to import its target).
fn processes(n: u64, tasks: u32, workers: u32) -> (String, String) {
    let n = py_int(n);
    if tasks == workers {
        return (
            String::new(),
            format!(
                "procs = [Process(target=sum_powers, args=({n},))\n             for _ in range({workers})]"
            ),
        );
    }
    let shares: Vec<String> = (0..workers)
        .map(|w| (tasks / workers + u32::from(w < tasks % workers)).to_string())
        .collect();
    (
        format!("\ndef work(count):\n    for _ in range(count):\n        sum_powers({n})\n"),
        format!(
            "# {tasks} tasks dealt round robin to {workers} processes\n    \
             procs = [Process(target=work, args=(count,))\n             for count in [{}]]",
            shares.join(", ")
        ),
    )
}

/// `Pool.map`'s chunksize argument (empty when it is Python's own default) and a comment.
fn chunks(tasks: u32, workers: u32, chunksize: u32) -> (String, String) {
    // multiprocessing's default: ceil(len(iterable) / (4 * processes)).
    let default = tasks.div_ceil(4 * workers.max(1)).max(1);
    let note = format!("# chunksize defaults to ceil({tasks} / (4 * {workers})) = {default}");
    if chunksize == default {
        (String::new(), note)
    } else {
        (
            format!(", chunksize={chunksize}"),
            format!(
                "# chunks of {chunksize} tasks ({})",
                note.trim_start_matches("# ")
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Overrides, SCENARIOS, find};

    #[test]
    fn every_marker_is_filled_at_the_defaults() {
        for s in SCENARIOS {
            let code = s.python_code();
            assert!(!code.contains('@'), "{}: {code}", s.name);
            assert!(!code.contains("SUM_POWERS"), "{}", s.name);
        }
    }

    #[test]
    fn the_lesson_defaults_read_as_the_lesson_does() {
        let code = find("cpu-threads").expect("exists").python_code();
        assert!(
            code.contains("for _ in range(4):\n    jobs.put(10_000)"),
            "{code}"
        );
        assert!(!code.contains("setswitchinterval"), "{code}");
        let io = find("io-sequential").expect("exists").python_code();
        assert!(
            io.contains("enumerate(IMAGES * 5):   # 6 images, 5 rounds"),
            "{io}"
        );
        let pool = find("cpu-pool").expect("exists").python_code();
        assert!(pool.contains("ceil(8 / (4 * 4)) = 1"), "{pool}");
        assert!(
            pool.contains("pool.map(sum_powers, [10_000] * 8)"),
            "{pool}"
        );
    }

    #[test]
    fn the_snippet_follows_the_run() {
        let sc = find("cpu-threads").expect("exists");
        let params = Overrides {
            n: Some(2000),
            workers: Some(3),
            tasks: Some(6),
            switch_interval_ms: Some(1.0),
            ..Default::default()
        }
        .apply(sc)
        .expect("valid");
        let code = sc.python_for(&params);
        assert!(code.contains("jobs.put(2000)"), "{code}");
        assert!(code.contains("for _ in range(6):\n    jobs.put"), "{code}");
        assert!(
            code.contains("for _ in range(3):\n    threading.Thread"),
            "{code}"
        );
        assert!(
            code.starts_with("import sys\nsys.setswitchinterval(0.001)"),
            "{code}"
        );

        let io = find("io-threads").expect("exists");
        let p = Overrides {
            tasks: Some(8),
            ..Default::default()
        }
        .apply(io)
        .expect("valid");
        assert!(io.python_for(&p).contains("enumerate((IMAGES * 2)[:8])"));

        let pool = find("cpu-pool").expect("exists");
        let p = Overrides {
            chunksize: Some(3),
            ..Default::default()
        }
        .apply(pool)
        .expect("valid");
        let code = pool.python_for(&p);
        assert!(code.contains("[10_000] * 8, chunksize=3)"), "{code}");
    }

    #[test]
    fn processes_get_their_round_robin_share() {
        let sc = find("cpu-processes").expect("exists");
        let p = Overrides {
            tasks: Some(6),
            ..Default::default()
        }
        .apply(sc)
        .expect("valid");
        let code = sc.python_for(&p);
        assert!(code.contains("for count in [2, 2, 1, 1]]"), "{code}");
        // What the lab runs: the same split.
        let crate::exec::Dispatch::Fixed(split) =
            crate::exec::Dispatch::for_model(&p.model, p.tasks)
        else {
            panic!("processes get a fixed split")
        };
        let counts: Vec<usize> = split.iter().map(Vec::len).collect();
        assert_eq!(counts, vec![2, 2, 1, 1]);
    }

    #[test]
    fn python_ints_group_their_digits() {
        assert_eq!(py_int(2000), "2000");
        assert_eq!(py_int(10_000), "10_000");
        assert_eq!(py_int(1_000_000), "1_000_000");
    }
}
