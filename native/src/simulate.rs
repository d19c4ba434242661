//! `gil-lab simulate`: a scenario in the simulator instead of for real, drawn and summarised
//! like `run`; with `--compare` the real thing runs too (the lab's own run at native pace,
//! CPython's program at CPython's pace) and the two are printed side by side.

use std::io::Write;
use std::process::{Command, Stdio};

use anyhow::Context;
use gil_lab::scenario::{Model, Params, Scenario, Workload};
use gil_lab::sim::{Pace, Python, SimError, SimOptions, StartMethod, estimate, simulate_with};
use gil_lab::trace::RunReport;
use gil_lab::view;
use serde::Deserialize;

use crate::calibrate::load;
use crate::cli::OutputArgs;
use crate::cli::SimulateArgs;
use crate::error::{UsageError, usage};
use crate::run;

const PYTHON_SCENARIO: &str = include_str!("../python/scenario.py");

/// The simulator's options from the flags (this machine's cores by default).
fn options(args: &SimulateArgs) -> anyhow::Result<SimOptions> {
    let bad = |e: gil_lab::scenario::InputError| UsageError(e.to_string());
    Ok(SimOptions {
        cores: Some(
            args.cores
                .map_or_else(|| run::machine().cores, |c| c as u32),
        ),
        python: args
            .python
            .as_deref()
            .map(Python::parse)
            .transpose()
            .map_err(bad)?,
        start_method: args
            .start_method
            .as_deref()
            .map(StartMethod::parse)
            .transpose()
            .map_err(bad)?,
        seed: args.seed,
        pace: Pace::parse(&args.pace).map_err(bad)?,
        image_bytes: Vec::new(),
    })
}

/// What `native/python/scenario.py` prints.
#[derive(Debug, Deserialize)]
struct PyRun {
    wall_s: f64,
    cpu_s: f64,
}

/// Runs the scenario's CPython program with `python3` and returns (wall µs, CPU µs).
fn run_cpython(
    scenario: &Scenario,
    params: &Params,
    method: StartMethod,
) -> anyhow::Result<(u64, u64)> {
    // The hash demo passes its buffer (MiB) as N and its bytes per update (0: one update) as
    // the chunk size.
    let (n, hash, chunk_bytes) = match params.workload {
        Workload::SumPowers { n } => (n, false, None),
        Workload::Hash { mib, chunk_bytes } => (mib, true, Some(chunk_bytes.unwrap_or(0))),
        _ => {
            return usage(format!(
                "compare: at pace cpython only the CPU and hash scenarios run in python3, not {}",
                scenario.name
            ));
        }
    };
    let (kind, workers, interval_us) = match &params.model {
        Model::Sequential if hash => ("hash-sequential", 1, 5000),
        Model::Threads {
            workers,
            gil: gil_lab::gil::GilMode::Classic,
            switch_interval_us,
        } if hash => ("hash-threads", *workers, *switch_interval_us),
        _ if hash => {
            return usage(format!(
                "compare: {} has no CPython 3.11 program to compare with at pace cpython",
                scenario.name
            ));
        }
        Model::Sequential => ("sequential", 1, 5000),
        Model::Threads {
            workers,
            gil: gil_lab::gil::GilMode::Classic,
            switch_interval_us,
        } => ("threads", *workers, *switch_interval_us),
        Model::Processes { workers } => ("processes", *workers, 5000),
        Model::Pool { workers, .. } => ("pool", *workers, 5000),
        _ => {
            return usage(format!(
                "compare: {} has no CPython 3.11 program to compare with at pace cpython",
                scenario.name
            ));
        }
    };
    let chunksize = match (params.model.clone(), chunk_bytes) {
        (_, Some(c)) => c,
        (Model::Pool { chunksize, .. }, None) => u64::from(chunksize),
        _ => 1,
    };
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("scenario.py");
    std::fs::write(&script, PYTHON_SCENARIO)?;
    eprintln!("running {} in python3 …", scenario.name);
    let out = Command::new("python3")
        .arg(&script)
        .args([
            kind.to_owned(),
            n.to_string(),
            params.tasks.to_string(),
            workers.to_string(),
            chunksize.to_string(),
            (interval_us as f64 / 1e6).to_string(),
            method.key().to_owned(),
        ])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| UsageError(format!("compare: python3 could not be started ({e})")))?;
    anyhow::ensure!(out.status.success(), "python3 failed ({})", out.status);
    let r: PyRun = serde_json::from_slice(&out.stdout).context("python3 printed no timing")?;
    Ok(((r.wall_s * 1e6) as u64, (r.cpu_s * 1e6) as u64))
}

fn error_pct(measured: u64, simulated: u64) -> String {
    if measured == 0 {
        return "-".into();
    }
    format!(
        "{:+.1} %",
        (simulated as f64 - measured as f64) / measured as f64 * 100.0
    )
}

/// Measured against simulated, one line each.
fn comparison(measured: (u64, u64, Option<u64>), sim: &RunReport, what: &str) -> String {
    let mut out = format!(
        "\n{:<16} {:>14} {:>14} {:>9}\n",
        "", what, "simulated", "error"
    );
    let row = |name: &str, m: u64, s: u64, fmt: &dyn Fn(u64) -> String| {
        format!(
            "{name:<16} {:>14} {:>14} {:>9}\n",
            fmt(m),
            fmt(s),
            error_pct(m, s)
        )
    };
    out += &row("wall time", measured.0, sim.wall_us, &view::format_duration);
    out += &row(
        "CPU time",
        measured.1,
        sim.cpu_total_us(),
        &view::format_duration,
    );
    if let (Some(m), Some(g)) = (measured.2, &sim.gil) {
        out += &row("GIL hand-offs", m, g.switches, &|v| v.to_string());
    }
    out
}

/// A simulation's refusal as the binary reports it: parameters out of range or over the
/// simulator's budget are input the user can change (exit 2, one line).
fn refusal(e: SimError) -> anyhow::Error {
    UsageError(e.to_string()).into()
}

/// `gil-lab simulate`.
pub fn cmd(args: SimulateArgs) -> anyhow::Result<()> {
    let (scenario, params) = run::prepare(&args.scenario, &args.params, args.python.as_deref())?;
    let opts = options(&args)?;
    args.output.check()?;
    let (profile, from) = load(args.profile.as_deref())?;
    // Over the budget is refused here, before anything runs; a long one is announced, so a
    // silent terminal is never a mystery.
    let planned = estimate(scenario.name, &params, &opts, &profile).map_err(refusal)?;
    if planned.is_long() {
        say!("simulating {} … (Ctrl-C stops)", scenario.name);
    }
    let stop = crate::stop::run_flag();
    let t0 = std::time::Instant::now();
    let report = simulate_with(scenario.name, &params, &opts, &profile, &*stop).map_err(refusal)?;
    let took = t0.elapsed();
    if stop.load(std::sync::atomic::Ordering::Relaxed) {
        // Stopped by Ctrl-C: what was simulated is drawn and written, as `run` does, and
        // there is nothing real to compare it with.
        let delivered = args.output.deliver(&report, |out, color, width| {
            OutputArgs::write_chart(out, &report, color, width)
        });
        return Err(crate::error::stopped_after(delivered));
    }

    // The files are written before the comparison's real run, which may fail or be stopped:
    // the simulated report asked for never depends on it (nor on the terminal).
    args.output.deliver(&report, |out, color, width| {
        writeln!(
            out,
            "simulated in {:.1} ms with the profile from {from}",
            took.as_secs_f64() * 1e3
        )?;
        OutputArgs::write_chart(out, &report, color, width)
    })?;
    let (mut out, _, _) = args.output.chart();

    if args.compare {
        let pace = opts.pace;
        let measured = if pace == Pace::Native {
            if opts.cores != Some(run::machine().cores) {
                writeln!(
                    out,
                    "note: the real run uses this machine's {} cores, the simulation {}",
                    run::machine().cores,
                    opts.cores.unwrap_or(0)
                )?;
            }
            let progress = crate::live::Progress::new(params.tasks, scenario.name, args.quiet);
            let real = run::execute(
                scenario,
                &params,
                &run::ExecOptions {
                    out: None,
                    live: &progress,
                    stop: crate::stop::run_flag(),
                    limits: crate::download::DownloadLimits::default(),
                },
            );
            progress.finish();
            let real = real?;
            (
                real.wall_us,
                real.cpu_total_us(),
                real.gil.as_ref().map(|g| g.switches),
            )
        } else {
            let method = report
                .simulation
                .as_ref()
                .and_then(|s| StartMethod::parse(&s.start_method).ok())
                .unwrap_or(StartMethod::Fork);
            let (w, c) = run_cpython(scenario, &params, method)?;
            (w, c, None)
        };
        let what = if pace == Pace::Native {
            "measured (lab)"
        } else {
            "measured (py)"
        };
        write!(out, "{}", comparison(measured, &report, what))?;
    }
    Ok(())
}
