//! `gil-lab calibrate`: measures this machine for the simulator and saves the profile (to
//! the cache, `$XDG_CACHE_HOME/gil-lab/profile.json`, or `--out`). With `--python` it measures
//! CPython too, with `native/python/calibrate.py`.
//!
//! What `shared` can measure anywhere (the step curve, the counter loops) comes from
//! `gil_lab::sim::calibrate`; what needs an OS is here: worker processes, the GIL's hand-off
//! latency on real condition variables, timer slack, several cores at once, downloads.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::cli::CalibrateArgs;
use anyhow::Context;
use gil_lab::platform::IoPerformer;
use gil_lab::protocol::ToWorker;
use gil_lab::sim::calibrate::{STEP_GRID, efficiency, fit_counter, measure_counter, measure_steps};
use gil_lab::sim::{Costs, PerMethod, Profile, StartCost, StepPoint, step_cost_ns};
use gil_lab::workload::{DownloadSpec, SumPowers, Task};
use serde::Deserialize;

use crate::clock::MonoClock;
use crate::download::NativeIo;
use crate::error::UsageError;
use crate::files::{check_output, write_output};
use crate::image_server::{ImageServer, ServerConfig};
use crate::process::WORKER_SUBCOMMAND;

const PYTHON_CALIBRATE: &str = include_str!("../python/calibrate.py");

/// Where the measured profile lives: `$XDG_CACHE_HOME/gil-lab/profile.json`, else
/// `~/.cache/gil-lab/profile.json`.
pub fn cache_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("gil-lab").join("profile.json"))
}

/// The profile to simulate with, and where it came from: `explicit` (an error names it when
/// unreadable), else the cached one (a broken cache is reported and skipped), else the
/// built-in one.
pub fn load(explicit: Option<&Path>) -> anyhow::Result<(Profile, String)> {
    if let Some(path) = explicit {
        let text = std::fs::read_to_string(path).map_err(|e| {
            UsageError(format!(
                "profile = {}: cannot read it ({e}); allowed: a file written by `gil-lab calibrate --out`",
                path.display()
            ))
        })?;
        let p = Profile::from_json(&text)
            .map_err(|e| UsageError(format!("profile = {}: {e}", path.display())))?;
        return Ok((p, path.display().to_string()));
    }
    if let Some(path) = cache_path().filter(|p| p.is_file()) {
        match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| Profile::from_json(&t).map_err(|e| e.to_string()))
        {
            Ok(p) => return Ok((p, path.display().to_string())),
            Err(e) => say!(
                "warning: ignoring the cached profile {} ({e}); run `gil-lab calibrate` again",
                path.display()
            ),
        }
    }
    Ok((Profile::builtin(), "built-in".into()))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Today as `YYYY-MM-DD` (UTC), without a date library.
fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Howard Hinnant's days-from-civil, inverted.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The 1-minute load average, when the OS tells it.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Median time the parent spends starting one thread (`spawn` returning), µs.
fn thread_start_us() -> f64 {
    median(
        (0..200)
            .map(|_| {
                let t0 = Instant::now();
                let h = std::thread::spawn(|| {});
                let dt = us(t0.elapsed());
                let _ = h.join();
                dt
            })
            .collect(),
    )
}

/// One worker process started, told to run `batches` one-task batches of `sum_powers(n)`, and
/// stopped: (parent's `spawn`, spawn → ready, each batch's round trip, exit → reaped), µs.
fn worker_costs(exe: &Path, batches: u32, n: u32) -> anyhow::Result<(f64, f64, Vec<f64>, f64)> {
    let tasks: Vec<(u32, Task)> = (0..batches).map(|k| (k, Task::SumPowers { n })).collect();
    let init = serde_json::to_string(&ToWorker::Init {
        lane: 0,
        epoch_ns: crate::clock::monotonic_ns(),
        tasks,
        out_dir: String::new(),
        counter: Default::default(),
    })?;
    let t0 = Instant::now();
    let mut child = Command::new(exe)
        .arg(WORKER_SUBCOMMAND)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start a worker process")?;
    let parent = us(t0.elapsed());
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        anyhow::bail!("worker process without pipes");
    };
    writeln!(stdin, "{init}")?;
    let mut lines = BufReader::new(stdout).lines();
    let t1 = Instant::now();
    lines.next().context("worker said nothing")??; // ready
    let ready = us(t1.elapsed());
    let mut rounds = Vec::new();
    for k in 0..batches {
        let t = Instant::now();
        writeln!(
            stdin,
            "{}",
            serde_json::to_string(&ToWorker::Run { ids: vec![k] })?
        )?;
        stdin.flush()?;
        for line in lines.by_ref() {
            if line?.contains("batch_done") {
                break;
            }
        }
        rounds.push(us(t.elapsed()));
    }
    let t2 = Instant::now();
    writeln!(stdin, "{}", serde_json::to_string(&ToWorker::Exit)?)?;
    drop(stdin);
    for _ in lines {}
    child.wait()?;
    let exit = us(t2.elapsed());
    Ok((parent, ready, rounds, exit))
}

/// How much longer a fresh worker's first `sum_powers(n)` takes than its later ones, µs: the
/// median over a few fresh workers of (first round trip − median of the later ones).
fn first_task_us(exe: &Path, n: u32) -> anyhow::Result<f64> {
    let mut extra = Vec::new();
    for _ in 0..5 {
        let (_, _, rounds, _) = worker_costs(exe, 4, n)?;
        if let Some((first, later)) = rounds.split_first() {
            extra.push(first - median(later.to_vec()));
        }
    }
    Ok(median(extra).max(0.0))
}

/// Median delay from signalling a condition variable to the waiting thread running, and
/// median lateness of a 2 ms timed wait, µs.
fn wake_latency_us() -> (f64, f64) {
    let pair = Arc::new((Mutex::new(None::<Instant>), Condvar::new()));
    let mut handoff = Vec::new();
    for _ in 0..100 {
        let p = pair.clone();
        let waiter = std::thread::spawn(move || {
            let (m, c) = &*p;
            let mut g = m.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            while g.is_none() {
                g = c.wait(g).unwrap_or_else(std::sync::PoisonError::into_inner);
            }
            g.map_or(0.0, |t| us(t.elapsed()))
        });
        std::thread::sleep(Duration::from_micros(300));
        {
            let (m, c) = &*pair;
            *m.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now());
            c.notify_one();
        }
        handoff.push(waiter.join().unwrap_or(0.0));
        *pair
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
    let (m, c) = &*pair;
    let mut slack = Vec::new();
    for _ in 0..40 {
        let g = m.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let t0 = Instant::now();
        let _ = c.wait_timeout(g, Duration::from_millis(2));
        slack.push((us(t0.elapsed()) - 2000.0).max(0.0));
    }
    (median(handoff), median(slack))
}

/// Mean seconds of one `sum_powers(n)` when k copies run at once on threads, k = 1..=cores:
/// five rounds of k = 1, 2, …, cores in turn (so a slow spell of the machine touches every k
/// alike), the median per k.
fn parallel_times(cores: u32, n: u32) -> Vec<f64> {
    let once = |k: u32| {
        let times: Vec<f64> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..k)
                .map(|_| {
                    s.spawn(move || {
                        let t0 = Instant::now();
                        std::hint::black_box(SumPowers::new(n).finish());
                        t0.elapsed().as_secs_f64()
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap_or(0.0)).collect()
        });
        times.iter().sum::<f64>() / times.len().max(1) as f64
    };
    let mut per_k: Vec<Vec<f64>> = vec![Vec::new(); cores as usize];
    for _ in 0..5 {
        for k in 1..=cores {
            per_k[k as usize - 1].push(once(k));
        }
    }
    per_k.into_iter().map(median).collect()
}

/// Per-download overhead (µs) and ns per byte on loopback, fitted over the lab's six images
/// served with no latency and no bandwidth limit.
fn io_costs() -> anyhow::Result<(f64, f64)> {
    let cfg = ServerConfig {
        latency: Duration::ZERO,
        bandwidth_kbps: 0,
    };
    let server = ImageServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), cfg)?;
    let dir = tempfile::tempdir()?;
    let io = NativeIo::new(
        dir.path().to_owned(),
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
        crate::download::DownloadLimits::default(),
    );
    let mut points = Vec::new();
    for (k, url) in server.urls().iter().enumerate() {
        let mut bytes = 0;
        let times: Vec<f64> = (0..3)
            .map(|r| {
                let t0 = Instant::now();
                let out = io.download(&DownloadSpec::new(url, (k * 3 + r) as u32));
                bytes = out.map(|o| o.bytes).unwrap_or(bytes);
                us(t0.elapsed())
            })
            .collect();
        points.push((bytes as f64, median(times)));
    }
    // Least squares: time = a + b·bytes.
    let n = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (sx / n, sy / n);
    let (sxy, sxx) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
    });
    let slope = if sxx > 0.0 { (sxy / sxx).max(0.0) } else { 0.0 };
    Ok(((my - slope * mx).max(0.0), slope * 1000.0))
}

/// What `native/python/calibrate.py` prints.
#[derive(Debug, Deserialize)]
struct PyCalibration {
    python: String,
    steps: Vec<(u32, f64)>,
    counter_us: [f64; 3],
    queue_get_us: f64,
    call_us: f64,
    /// Absent from a script older than the hash demo.
    #[serde(default = "gil_lab::sim::default_sha256_ns_per_byte")]
    sha256_ns_per_byte: f64,
    thread_start_us: f64,
    process: PerMethod<StartCost>,
    pool_us: PerMethod<f64>,
    pool_task_us: f64,
    result_us: f64,
    efficiency_s: Vec<f64>,
}

/// The lab's SHA-256 per byte, ns: the median of five 16 MiB hashes of the demo's buffer.
fn sha256_ns_per_byte() -> f64 {
    const BYTES: u64 = 16 << 20;
    median(
        (0..5)
            .map(|_| {
                let t = Instant::now();
                let mut h = gil_lab::workload::BufferHash::default();
                h.update(BYTES);
                std::hint::black_box(h.hexdigest());
                t.elapsed().as_secs_f64() * 1e9 / BYTES as f64
            })
            .collect(),
    )
}

fn python_costs(cores: u32, date: &str, platform: &str) -> anyhow::Result<Costs> {
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("calibrate.py");
    std::fs::write(&script, PYTHON_CALIBRATE)?;
    let grid: Vec<String> = STEP_GRID.iter().map(u32::to_string).collect();
    say!("  CPython: steps, counters, threads, processes per start method, pools …");
    let out = Command::new("python3")
        .arg(&script)
        .arg(cores.to_string())
        .arg(grid.join(","))
        // CPython's loop up to 7000 takes a few seconds a pass; beyond, the curve's last
        // slope carries on.
        .args(["7000", "3"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| {
            UsageError(format!(
                "python: python3 could not be started ({e}); install python3 or leave out --python"
            ))
        })?;
    anyhow::ensure!(
        out.status.success(),
        "python3 calibration failed ({})",
        out.status
    );
    let py: PyCalibration =
        serde_json::from_slice(&out.stdout).context("python3 calibration printed no profile")?;
    let (bytecode_ns, op_ns, lock_ns) = fit_counter(py.counter_us);
    let pool = |total: f64, s: StartCost| {
        (total - (4.0 * s.parent_us + s.child_us + s.exit_us) - 8.0 * py.pool_task_us).max(0.0)
    };
    Ok(Costs {
        origin: format!(
            "measured {date} on {platform}, {cores} cores, CPython {}",
            py.python
        ),
        step_ns: py
            .steps
            .into_iter()
            .map(|(i, ns)| StepPoint { i, ns })
            .collect(),
        bytecode_ns,
        op_ns,
        lock_ns,
        queue_get_us: py.queue_get_us,
        call_us: py.call_us,
        sha256_ns_per_byte: py.sha256_ns_per_byte,
        thread_start_us: py.thread_start_us,
        process: py.process,
        pool_setup_us: PerMethod {
            fork: pool(py.pool_us.fork, py.process.fork),
            spawn: pool(py.pool_us.spawn, py.process.spawn),
            forkserver: pool(py.pool_us.forkserver, py.process.forkserver),
        },
        batch_us: py.pool_task_us,
        result_us: py.result_us,
        first_task_us: 0.0,
        efficiency: efficiency(&py.efficiency_s),
    })
}

/// `gil-lab calibrate`.
pub fn cmd(args: CalibrateArgs) -> anyhow::Result<()> {
    let target = match &args.out {
        Some(p) => p.clone(),
        None => cache_path().ok_or_else(|| {
            UsageError("out: no cache folder (neither XDG_CACHE_HOME nor HOME is set); allowed: --out PATH".into())
        })?,
    };
    // Measuring takes seconds: refuse a destination that cannot take the profile first.
    if args.out.is_none()
        && let Some(dir) = target.parent()
    {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    check_output("out", &target)?;
    let machine = crate::run::machine();
    let cores = machine.cores;
    if let Some(load) = load_average().filter(|&l| l > f64::from(cores) - 0.5) {
        say!(
            "warning: the machine is busy (load average {load:.1} on {cores} cores): the numbers will be slower and noisier than on a quiet machine"
        );
    }
    let date = today();
    let base = load(None)
        .map(|(p, _)| p)
        .unwrap_or_else(|_| Profile::builtin());
    say!(
        "calibrating the lab's own engine on {} ({cores} cores) …",
        machine.platform
    );

    let t0 = Instant::now();
    let mut clock = move || t0.elapsed().as_nanos() as f64;
    say!("  sum_powers steps …");
    let steps = measure_steps(&mut clock, 60e9, 10_000, 3);
    let check_n = 3000;
    let predicted: f64 = (0..check_n).map(|i| step_cost_ns(&steps, i)).sum::<f64>() / 1e6;
    let measured = median(
        (0..5)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(SumPowers::new(check_n).finish());
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect(),
    );
    say!("  counter loops …");
    let (bytecode_ns, op_ns, lock_ns) = fit_counter(measure_counter(&MonoClock::start(), 300_000));
    say!("  threads, worker processes, wake-ups …");
    let thread_start = thread_start_us();
    let exe = std::env::current_exe().context("cannot find the gil-lab executable")?;
    let mut starts = Vec::new();
    for _ in 0..9 {
        let (parent, ready, rounds, exit) = worker_costs(&exe, 20, 0)?;
        starts.push((parent, ready, median(rounds), exit));
    }
    let pick = |f: fn(&(f64, f64, f64, f64)) -> f64| median(starts.iter().map(f).collect());
    let start = StartCost {
        parent_us: pick(|s| s.0),
        child_us: pick(|s| s.1),
        exit_us: pick(|s| s.3),
    };
    let batch = pick(|s| s.2);
    let first_task = first_task_us(&exe, 3000)?;
    let (handoff, slack) = wake_latency_us();
    say!("  {cores} cores at once …");
    let eff = efficiency(&parallel_times(cores, 4000));
    say!("  downloads …");
    let (io_overhead, io_ns_per_byte) = io_costs()?;

    let native = Costs {
        origin: format!(
            "measured {date} on {}, {cores} cores (the lab's worker process stands for every start method)",
            machine.platform
        ),
        step_ns: steps,
        bytecode_ns,
        op_ns,
        lock_ns,
        // The lab's queue is a Mutex<Dispatcher>: a lock and a pop.
        queue_get_us: 0.2,
        // Around a blocking call the lab takes and releases its GIL and reads the clock.
        call_us: 1.0,
        thread_start_us: thread_start,
        sha256_ns_per_byte: sha256_ns_per_byte(),
        process: PerMethod {
            fork: start,
            spawn: start,
            forkserver: start,
        },
        pool_setup_us: PerMethod {
            fork: 0.0,
            spawn: 0.0,
            forkserver: 0.0,
        },
        batch_us: batch,
        // Sending a result is part of the batch round trip natively.
        result_us: 0.0,
        first_task_us: first_task,
        efficiency: eff,
    };
    let cpython = if args.python {
        python_costs(cores, &date, &machine.platform)?
    } else if base.cpython.origin.starts_with("measured") {
        base.cpython.clone()
    } else {
        Profile::builtin().cpython
    };
    let profile = Profile {
        version: gil_lab::sim::PROFILE_VERSION,
        name: format!("calibrated {date} on {}, {cores} cores", machine.platform),
        cores,
        quantum_us: base.quantum_us,
        handoff_us: handoff,
        timer_slack_us: slack,
        io: gil_lab::sim::IoCosts {
            overhead_us: io_overhead,
            ns_per_byte: io_ns_per_byte,
        },
        native,
        cpython,
    };
    profile.validate()?;
    write_output("out", &target, (profile.to_json() + "\n").as_bytes())?;

    out!("{}", profile.name)?;
    out!(
        "  sum_powers({check_n}): predicted {predicted:.1} ms from the step curve, measured {measured:.1} ms"
    )?;
    out!(
        "  counter: {bytecode_ns:.2} ns per bytecode, {op_ns:.2} ns per op, {lock_ns:.2} ns per lock op"
    )?;
    out!(
        "  thread start {thread_start:.0} µs; worker process: parent {:.0} µs, start {:.0} µs, exit {:.0} µs; batch round trip {batch:.0} µs; first sum_powers(3000) in a fresh worker {first_task:.0} µs slower",
        start.parent_us,
        start.child_us,
        start.exit_us
    )?;
    out!("  GIL hand-off {handoff:.0} µs, timer slack {slack:.0} µs")?;
    let effs: Vec<String> = profile
        .native
        .efficiency
        .iter()
        .map(|e| format!("{e:.2}"))
        .collect();
    out!("  core speed with 1..{cores} busy: {}", effs.join(", "))?;
    out!("  downloads: {io_overhead:.0} µs each + {io_ns_per_byte:.2} ns per byte")?;
    if args.python {
        let c = &profile.cpython;
        out!("  CPython: {}", c.origin)?;
        out!(
            "    counter {:.1} ns per bytecode, {:.1} ns per op; thread start {:.0} µs",
            c.bytecode_ns,
            c.op_ns,
            c.thread_start_us
        )?;
        for (m, s) in [
            ("fork", c.process.fork),
            ("spawn", c.process.spawn),
            ("forkserver", c.process.forkserver),
        ] {
            out!(
                "    {m:<10} parent {:>7.0} µs, child {:>8.0} µs, exit {:>7.0} µs",
                s.parent_us,
                s.child_us,
                s.exit_us
            )?;
        }
        let effs: Vec<String> = c.efficiency.iter().map(|e| format!("{e:.2}")).collect();
        out!("    core speed with 1..{cores} busy: {}", effs.join(", "))?;
    }
    out!("saved to {}", target.display())?;
    Ok(())
}
