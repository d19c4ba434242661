//! `gil-lab run`: validate, start what the scenario needs (the image server), run it on OS
//! threads and processes, then draw and save the report.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use gil_lab::platform::StdSpawner;
use gil_lab::runner::{self, Backends};
use gil_lab::scenario::{self, Model, Overrides, Params, Python, Scenario, Workload};
use gil_lab::trace::{Machine, RunReport, TraceSink};

use crate::baseline;
use crate::cli::OutputArgs;
use crate::cli::{ParamArgs, RunArgs};
use crate::clock::MonoClock;
use crate::download::{DownloadLimits, NativeIo};
use crate::error::{UsageError, usage};
use crate::image_server::{ImageServer, ServerConfig};
use crate::live::Progress;
use crate::meter::NativeMeter;
use crate::process::NativeProcesses;
use crate::stop;

/// The scenario called `name` with `o` applied, or a usage error naming what is wrong: an
/// unknown name, a value out of range, a parameter that does not apply to the scenario.
pub fn prepare_overrides(name: &str, o: &Overrides) -> anyhow::Result<(&'static Scenario, Params)> {
    let Some(scenario) = scenario::find(name) else {
        let names: Vec<&str> = scenario::SCENARIOS.iter().map(|s| s.name).collect();
        return usage(format!(
            "unknown scenario '{name}': choose one of {}",
            names.join(", ")
        ));
    };
    let params = o.apply(scenario).map_err(|e| UsageError(e.to_string()))?;
    o.check_applies(scenario)
        .map_err(|e| UsageError(e.to_string()))?;
    Ok((scenario, params))
}

/// [`prepare_overrides`] for command-line parameters, run as `python` (a `--python` version).
pub fn prepare(
    name: &str,
    args: &ParamArgs,
    python: Option<&str>,
) -> anyhow::Result<(&'static Scenario, Params)> {
    let python = python
        .map(Python::parse)
        .transpose()
        .map_err(|e| UsageError(e.to_string()))?;
    let o = Overrides {
        python,
        ..args.overrides()
    };
    prepare_overrides(name, &o)
}

/// How [`execute`] runs: where downloads go, who watches, what stops it.
pub struct ExecOptions<'a> {
    /// Folder for downloads (`None`: a temporary folder, removed afterwards).
    pub out: Option<&'a Path>,
    /// Sees every span, progress report and task end as it happens.
    pub live: &'a dyn TraceSink,
    /// Set to stop the run early (Ctrl-C, a closed page): the partial trace is kept.
    pub stop: Arc<AtomicBool>,
    /// Deadline and size limit of each download.
    pub limits: DownloadLimits,
}

/// Facts about this machine for reports.
pub fn machine() -> Machine {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    Machine {
        cores,
        platform: format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
        core_source: if NativeMeter::available() {
            "proc-stat".into()
        } else {
            String::new()
        },
    }
}

/// Makes sure downloads can be written to `out` (creating it), or says why not.
fn writable_out(out: Option<&Path>) -> anyhow::Result<(PathBuf, Option<tempfile::TempDir>)> {
    let Some(dir) = out else {
        let tmp = tempfile::Builder::new()
            .prefix("gil-lab-")
            .tempdir()
            .context("cannot create a temporary folder")?;
        return Ok((tmp.path().to_owned(), Some(tmp)));
    };
    let check =
        std::fs::create_dir_all(dir).and_then(|()| tempfile::NamedTempFile::new_in(dir).map(drop));
    match check {
        Ok(()) => Ok((dir.to_owned(), None)),
        Err(e) => usage(format!(
            "out = {}: the folder is not writable ({e}); allowed: a folder you can write to",
            dir.display()
        )),
    }
}

/// Runs `params` for real and returns the report.
pub fn execute(
    scenario: &Scenario,
    params: &Params,
    opts: &ExecOptions<'_>,
) -> anyhow::Result<RunReport> {
    let out = opts.out;
    let mut tmp_guard = None;
    let mut out_dir = PathBuf::new();
    let mut server = None;
    if let Workload::Download {
        urls,
        latency_ms,
        bandwidth_kbps,
    } = &params.workload
    {
        let (dir, guard) = writable_out(out)?;
        (out_dir, tmp_guard) = (dir, guard);
        if urls.is_empty() {
            let config = ServerConfig {
                latency: Duration::from_millis(*latency_ms),
                bandwidth_kbps: *bandwidth_kbps,
            };
            server = Some(ImageServer::start(
                SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                config,
            )?);
        }
    }
    let image_urls = server.as_ref().map(ImageServer::urls).unwrap_or_default();
    let tasks = gil_lab::plan::build_tasks(params, &image_urls);

    let clock = MonoClock::start();
    let io = NativeIo::new(out_dir.clone(), opts.stop.clone(), opts.limits);
    let exe = std::env::current_exe()
        .context("cannot find the gil-lab executable to start worker processes")?;
    let processes = NativeProcesses {
        exe,
        epoch_ns: clock.epoch_ns,
        out_dir: out_dir.display().to_string(),
        limits: opts.limits,
    };
    let mut meter = NativeMeter::new(clock);
    let backends = Backends {
        clock: &clock,
        io: &io,
        spawner: &StdSpawner,
        processes: &processes,
        meter: &mut meter,
        live: opts.live,
        stop: &opts.stop,
        machine: machine(),
    };
    let mut report = runner::run(scenario.name, params, &tasks, backends);
    if opts.stop.load(Ordering::Relaxed) {
        report.notes.push(if stop::forced() {
            "Stopped early (Ctrl-C twice): worker processes were killed, so their last spans are cut short; the trace so far is kept.".into()
        } else {
            "Stopped early: the trace so far is kept.".into()
        });
    }
    if let Some(dir) = tmp_guard {
        // Downloaded files in a temporary folder are of no use once counted.
        drop(dir);
    } else if matches!(params.workload, Workload::Download { .. }) {
        report
            .notes
            .push(format!("Downloaded files are in {}.", out_dir.display()));
    }
    baseline::attach(scenario, &mut report);
    Ok(report)
}

/// `gil-lab run`.
pub fn cmd(args: RunArgs) -> anyhow::Result<()> {
    let (scenario, params) = prepare(&args.scenario, &args.params, args.python.as_deref())?;
    if !matches!(params.workload, Workload::Download { .. }) {
        let flag = args
            .out
            .as_ref()
            .map(|_| "out")
            .or_else(|| args.download.given());
        if let Some(flag) = flag {
            return usage(format!(
                "{flag} does not apply to {}: it downloads nothing",
                scenario.name
            ));
        }
    }
    // Check output paths before spending minutes on the run.
    args.output.check()?;
    let bar_tasks = match params.model {
        Model::Race { workers, .. } => workers * runner::RACE_CASES,
        Model::Convoy { cpu_threads, .. } => cpu_threads + 2,
        _ => params.tasks,
    };
    let progress = Progress::new(bar_tasks, scenario.name, args.quiet);
    let opts = ExecOptions {
        out: args.out.as_deref(),
        live: &progress,
        stop: stop::run_flag(),
        limits: args.download.limits(),
    };
    let report = execute(scenario, &params, &opts);
    progress.finish();
    let report = report?;

    let delivered = args.output.deliver(&report, |out, color, width| {
        OutputArgs::write_chart(out, &report, color, width)?;
        if report.baseline_wall_us.is_none()
            && let Some(base) = scenario.baseline
        {
            writeln!(
                out,
                "(run `gil-lab run {base}` with the same parameters to see the speed-up)"
            )?;
        }
        Ok(())
    });
    if opts.stop.load(Ordering::Relaxed) {
        return Err(crate::error::stopped_after(delivered));
    }
    delivered?;
    let failed: Vec<&str> = report
        .tasks
        .iter()
        .filter_map(|t| match &t.outcome {
            gil_lab::workload::TaskOutcome::Error { message } => Some(message.as_str()),
            _ => None,
        })
        .collect();
    if let Some(first) = failed.first() {
        return usage(format!(
            "{} of {} tasks failed (results of the others are above); first: {first}",
            failed.len(),
            report.tasks.len()
        ));
    }
    Ok(())
}
