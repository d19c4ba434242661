//! `gil-lab bench`: the CPU and I/O scenarios timed natively, and with `--python` the same
//! programs in CPython on the same machine, side by side. Ratios, not absolute times, are what
//! the lab must reproduce.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use gil_lab::scenario::Overrides;
use gil_lab::trace::{NullSink, RunReport, SpanState};
use gil_lab::workload::SumPowers;
use serde_json::{Value, json};

use crate::cli::BenchArgs;
use crate::download::DownloadLimits;
use crate::files::{check_output, write_output};
use crate::image_server::{ImageServer, ServerConfig};
use crate::process::WORKER_SUBCOMMAND;
use crate::{bench_page, cpython, run, stop};

const PYTHON_BENCH: &str = include_str!("../python/bench.py");

/// One row of the table.
struct Row {
    name: String,
    wall_s: f64,
    cpu_s: f64,
    speedup: Option<f64>,
    py: Option<(f64, f64, Option<f64>)>,
}

fn secs(us: u64) -> f64 {
    us as f64 / 1e6
}

/// Runs one scenario natively; its report joins `reports` (for `--trace` and `--html`).
fn run_scenario(
    name: &str,
    o: Overrides,
    reports: &mut Vec<RunReport>,
) -> anyhow::Result<RunReport> {
    let scenario = gil_lab::scenario::find(name).context("scenario missing")?;
    let params = o.apply(scenario)?;
    say!("  running {name} …");
    let opts = run::ExecOptions {
        out: None,
        live: &NullSink,
        stop: stop::run_flag(),
        limits: DownloadLimits::default(),
    };
    let report = run::execute(scenario, &params, &opts)?;
    anyhow::ensure!(
        !opts.stop.load(std::sync::atomic::Ordering::Relaxed),
        "stopped (Ctrl-C): no table for a bench that did not finish"
    );
    reports.push(report.clone());
    Ok(report)
}

/// The hash demo's runs: `hash-sequential` and `hash-threads` with one update of the whole
/// buffer and with 1 KiB updates (`-1k`), each the median of five runs (one run is ~0.15 s,
/// short enough for a neighbour's burst to move it), as bench.py times CPython's.
fn hash_rows(py: Option<&Value>) -> anyhow::Result<Vec<Row>> {
    const ROUNDS: usize = 5;
    let mut rows = Vec::new();
    for (suffix, chunk) in [("", None), ("-1k", Some(1024))] {
        let mut base = None;
        let mut py_base = None;
        for name in ["hash-sequential", "hash-threads"] {
            let o = Overrides {
                chunk_bytes: chunk,
                ..Overrides::default()
            };
            let mut walls = Vec::new();
            let mut cpus = Vec::new();
            for _ in 0..ROUNDS {
                let r = run_scenario(name, o.clone(), &mut Vec::new())?;
                walls.push(secs(r.wall_us));
                cpus.push(secs(r.cpu_total_us()));
            }
            let (wall, cpu) = (median(walls), median(cpus));
            let label = format!("{name}{suffix}");
            let b = *base.get_or_insert(wall);
            let pyv = py.and_then(|p| py_pair(p, &label)).map(|(w, c)| {
                let pb = *py_base.get_or_insert(w);
                (w, c, Some(pb / w))
            });
            rows.push(Row {
                name: label,
                wall_s: wall,
                cpu_s: cpu,
                speedup: Some(b / wall),
                py: pyv,
            });
        }
    }
    Ok(rows)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Median start + join time of one worker process (ms): start it, let it say it is ready, tell
/// it to exit, wait for it.
fn process_start_ms(rounds: usize) -> anyhow::Result<f64> {
    let exe = std::env::current_exe()?;
    let init =
        json!({"msg": "init", "lane": 0, "epoch_ns": 0, "tasks": [], "out_dir": ""}).to_string();
    let mut samples = Vec::new();
    for _ in 0..rounds {
        let t0 = Instant::now();
        let mut child = Command::new(&exe)
            .arg(WORKER_SUBCOMMAND)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()?;
        if let Some(mut stdin) = child.stdin.take() {
            writeln!(stdin, "{init}")?;
            writeln!(stdin, "{}", json!({"msg": "exit"}))?;
        }
        child.wait()?;
        samples.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    Ok(samples[samples.len() / 2])
}

fn python(args: &BenchArgs, urls: &[String]) -> anyhow::Result<Value> {
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("bench.py");
    std::fs::write(&script, PYTHON_BENCH)?;
    say!("  running the same programs in python3 (this takes a while) …");
    let out = Command::new("python3")
        .arg(&script)
        .arg(args.n.to_string())
        .arg(if args.quick { "1" } else { "0" })
        .args(urls)
        .stderr(Stdio::inherit())
        .output()
        .context("python3 could not be started (is it installed?)")?;
    anyhow::ensure!(
        out.status.success(),
        "python3 bench failed ({})",
        out.status
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

fn py_pair(py: &Value, key: &str) -> Option<(f64, f64)> {
    Some((
        py.get(key)?.get("wall_s")?.as_f64()?,
        py.get(key)?.get("cpu_s")?.as_f64()?,
    ))
}

/// CPython's runs as reports, one per scenario it ran, with the lab's parameters for the same
/// work.
fn cpython_reports(py: &Value, lab: &[RunReport]) -> anyhow::Result<Vec<RunReport>> {
    let version = py.get("python").and_then(Value::as_str).unwrap_or("3");
    let mut out = Vec::new();
    for r in lab {
        if let Some(result) = py.get(&r.scenario) {
            out.push(cpython::report(&r.scenario, &r.params, version, result)?);
        }
    }
    Ok(out)
}

/// bench.py's results without the recorded timelines.
fn without_timelines(py: &Value) -> Value {
    let mut v = py.clone();
    if let Some(map) = v.as_object_mut() {
        for entry in map.values_mut() {
            if let Some(e) = entry.as_object_mut() {
                e.remove("timeline");
            }
        }
    }
    v
}

/// `--trace DIR`: every report as JSON and as a Perfetto trace.
fn write_traces(dir: &Path, lab: &[RunReport], py: &[RunReport]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        crate::error::UsageError(format!("trace = {}: cannot create it ({e})", dir.display()))
    })?;
    for (who, reports) in [("lab", lab), ("cpython", py)] {
        for r in reports {
            let file = |ext: &str| dir.join(format!("{}.{who}.{ext}", r.scenario));
            write_output("trace", &file("json"), r.to_json().as_bytes())?;
            write_output(
                "trace",
                &file("trace.json"),
                gil_lab::export::chrome_trace(r).as_bytes(),
            )?;
        }
    }
    say!("reports and Perfetto traces written to {}", dir.display());
    Ok(())
}

/// `gil-lab bench`.
pub fn cmd(args: BenchArgs) -> anyhow::Result<()> {
    let n = args.n as u32;
    if let Some(p) = &args.json {
        check_output("json", p)?;
    }
    if let Some(p) = &args.html {
        check_output("html", p)?;
    }
    if let Some(d) = &args.trace
        && d.exists()
        && !d.is_dir()
    {
        return crate::error::usage(format!(
            "trace = {}: is not a folder; allowed: a folder (created if missing)",
            d.display()
        ));
    }
    let mut lab_reports = Vec::new();
    let cfg = ServerConfig {
        latency: Duration::from_millis(args.latency_ms),
        bandwidth_kbps: args.bandwidth_kbps,
    };
    let server = ImageServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), cfg)?;
    let py = if args.python {
        Some(python(&args, &server.urls())?)
    } else {
        None
    };
    say!("native runs:");

    let mut single = Vec::new();
    for (label, k) in [
        (format!("sum_powers({n})"), n),
        ("sum_powers(10000)".to_owned(), 10_000),
    ] {
        if k == 10_000 && (args.quick || n == 10_000) {
            continue;
        }
        let t0 = Instant::now();
        let d = SumPowers::new(k).finish();
        let native = t0.elapsed().as_secs_f64();
        let key = if k == n {
            "sum_powers_n"
        } else {
            "sum_powers_10000"
        };
        let pyt = py
            .as_ref()
            .and_then(|p| p.get(key)?.get("wall_s")?.as_f64());
        single.push((label, native, pyt, d.bits));
    }

    let cpu = |extra: Overrides| Overrides {
        n: Some(u64::from(n)),
        ..extra
    };
    let seq = run_scenario(
        "cpu-sequential",
        cpu(Overrides::default()),
        &mut lab_reports,
    )?;
    let mut rows = vec![];
    let base = secs(seq.wall_us);
    let py_base = py
        .as_ref()
        .and_then(|p| py_pair(p, "cpu-sequential"))
        .map(|p| p.0);
    let mut push = |name: &str, r: &RunReport, base: f64, py_base: Option<f64>| {
        let pyv = py
            .as_ref()
            .and_then(|p| py_pair(p, name))
            .map(|(w, c)| (w, c, py_base.map(|b| b / w)));
        rows.push(Row {
            name: name.to_owned(),
            wall_s: secs(r.wall_us),
            cpu_s: secs(r.cpu_total_us()),
            speedup: Some(base / secs(r.wall_us)),
            py: pyv,
        });
    };
    push("cpu-sequential", &seq, base, py_base);
    let mut starts = Vec::new();
    for name in ["cpu-threads", "cpu-processes"] {
        let r = run_scenario(name, cpu(Overrides::default()), &mut lab_reports)?;
        starts.extend(
            r.spans
                .iter()
                .filter(|s| s.state == SpanState::Starting)
                .map(|s| s.duration_us()),
        );
        push(name, &r, base, py_base);
    }
    let free = run_scenario(
        "cpu-threads-free",
        cpu(Overrides::default()),
        &mut lab_reports,
    )?;
    push("cpu-threads-free", &free, base, None);
    // Pool maps 8 tasks: compare with twice the 4-task sequential time.
    let pool = run_scenario("cpu-pool", cpu(Overrides::default()), &mut lab_reports)?;
    push("cpu-pool", &pool, 2.0 * base, py_base.map(|b| 2.0 * b));

    let io = |extra: Overrides| Overrides {
        latency_ms: Some(args.latency_ms),
        bandwidth_kbps: Some(args.bandwidth_kbps),
        ..extra
    };
    let io_seq = run_scenario("io-sequential", io(Overrides::default()), &mut lab_reports)?;
    let io_base = secs(io_seq.wall_us);
    let py_io_base = py
        .as_ref()
        .and_then(|p| py_pair(p, "io-sequential"))
        .map(|p| p.0);
    push("io-sequential", &io_seq, io_base, py_io_base);
    let io_thr = run_scenario("io-threads", io(Overrides::default()), &mut lab_reports)?;
    push("io-threads", &io_thr, io_base, py_io_base);

    rows.extend(hash_rows(py.as_ref())?);

    let start_ms = process_start_ms(21)?;
    starts.sort_unstable();
    let in_run_ms = starts.get(starts.len() / 2).map(|&us| us as f64 / 1000.0);

    // The table.
    out!(
        "\nGIL Lab bench on {} cores (n = {n}; I/O: {} ms to first byte, {} kbit/s)",
        run::machine().cores,
        args.latency_ms,
        args.bandwidth_kbps
    )?;
    for (label, native, pyt, _) in &single {
        match pyt {
            Some(p) => out!(
                "{label:<22} native {native:>7.3} s   python {p:>7.3} s   native/python {:.2}×",
                native / p
            ),
            None => out!("{label:<22} native {native:>7.3} s"),
        }?;
    }
    out!()?;
    out!(
        "{:<18} {:>9} {:>9} {:>8} {:>9} │ {:>9} {:>9} {:>8} {:>9}",
        "scenario",
        "wall s",
        "CPU s",
        "CPU/wall",
        "speed-up",
        "py wall",
        "py CPU",
        "CPU/wall",
        "speed-up"
    )?;
    for r in &rows {
        let (pw, pc, ps) = match r.py {
            Some((w, c, s)) => (
                format!("{w:.3}"),
                format!("{c:.3}"),
                (
                    format!("{:.2}", c / w),
                    s.map_or("-".into(), |s| format!("{s:.2}×")),
                ),
            ),
            None => ("-".into(), "-".into(), ("-".into(), "-".into())),
        };
        out!(
            "{:<18} {:>9.3} {:>9.3} {:>8.2} {:>9} │ {:>9} {:>9} {:>8} {:>9}",
            r.name,
            r.wall_s,
            r.cpu_s,
            r.cpu_s / r.wall_s,
            r.speedup.map_or("-".into(), |s| format!("{s:.2}×")),
            pw,
            pc,
            ps.0,
            ps.1
        )?;
    }
    let ratio = |a: &str, b: &str| -> Option<f64> {
        let w = |k: &str| rows.iter().find(|r| r.name == k).map(|r| r.wall_s);
        Some(w(a)? / w(b)?)
    };
    let py_ratio = |a: &str, b: &str| -> Option<f64> {
        Some(py_pair(py.as_ref()?, a)?.0 / py_pair(py.as_ref()?, b)?.0)
    };
    out!()?;
    if let Some(r) = ratio("cpu-threads", "cpu-sequential") {
        out!(
            "cpu-threads / cpu-sequential wall: native {r:.2}{}",
            py_ratio("cpu-threads", "cpu-sequential")
                .map_or(String::new(), |p| format!(", python {p:.2}"))
        )?;
    }
    for (thr, seq) in [
        ("hash-threads", "hash-sequential"),
        ("hash-threads-1k", "hash-sequential-1k"),
    ] {
        if let Some(r) = ratio(thr, seq) {
            out!(
                "{thr} / {seq} wall: native {r:.2}{}",
                py_ratio(thr, seq).map_or(String::new(), |p| format!(
                    ", python {p:.2} (native/python {:.2})",
                    r / p
                ))
            )?;
        }
    }
    out!(
        "process start + join (median of 21): native {start_ms:.2} ms{}{}",
        in_run_ms.map_or(String::new(), |m| format!(
            " (inside cpu-processes: {m:.2} ms)"
        )),
        py.as_ref().map_or(String::new(), |p| format!(
            "; python fork {:.2} ms, spawn {:.1} ms",
            p.get("start_fork_ms")
                .and_then(Value::as_f64)
                .unwrap_or(f64::NAN),
            p.get("start_spawn_ms")
                .and_then(Value::as_f64)
                .unwrap_or(f64::NAN)
        ))
    )?;

    let result = json!({
        "cores": run::machine().cores,
        "n": n,
        "single": single.iter().map(|(l, nat, p, _)| json!({"label": l, "native_s": nat, "python_s": p})).collect::<Vec<_>>(),
        "rows": rows.iter().map(|r| json!({"scenario": r.name, "wall_s": r.wall_s, "cpu_s": r.cpu_s, "speedup": r.speedup,
            "python": r.py.map(|(w, c, s)| json!({"wall_s": w, "cpu_s": c, "speedup": s}))})).collect::<Vec<_>>(),
        "process_start_ms": start_ms,
        // The timelines go to --trace and --html, not into the table's JSON.
        "python": py.as_ref().map(without_timelines),
    });
    if let Some(path) = &args.json {
        write_output(
            "json",
            path,
            serde_json::to_string_pretty(&result)?.as_bytes(),
        )?;
    } else {
        out!("\n{}", serde_json::to_string(&result)?)?;
    }
    let py_reports = match &py {
        Some(p) => cpython_reports(p, &lab_reports)?,
        None => Vec::new(),
    };
    for p in &py_reports {
        let lab = lab_reports.iter().find(|r| r.scenario == p.scenario);
        if let Some(lab) = lab
            && !bench_page::same_results(lab, p)
        {
            say!(
                "warning: {}: CPython's results differ from the lab's (see the reports)",
                p.scenario
            );
        }
    }
    if let Some(dir) = &args.trace {
        write_traces(dir, &lab_reports, &py_reports)?;
    }
    if let Some(path) = &args.html {
        write_output(
            "html",
            path,
            bench_page::page(&lab_reports, &py_reports).as_bytes(),
        )?;
        say!("side-by-side page written to {}", path.display());
    }
    Ok(())
}
