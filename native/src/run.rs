//! `gil-lab run`: validate, start what the scenario needs (the image server), run it on OS
//! threads and processes, then draw and save the report.

use std::io::{IsTerminal, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Context;
use gil_lab::platform::StdSpawner;
use gil_lab::runner::{self, Backends};
use gil_lab::scenario::{self, Model, Params, Scenario, Workload};
use gil_lab::trace::{Machine, RunReport};
use gil_lab::view;

use crate::baseline;
use crate::cli::{ParamArgs, RunArgs};
use crate::clock::MonoClock;
use crate::download::NativeIo;
use crate::error::{UsageError, usage};
use crate::live::Progress;
use crate::meter::NativeMeter;
use crate::process::NativeProcesses;
use crate::server::{ImageServer, ServerConfig};

/// Set by Ctrl-C: lanes stop after their current step and the partial trace is kept.
pub static STOP: AtomicBool = AtomicBool::new(false);

/// The scenario called `name` with `args` applied, or a usage error naming what is wrong.
pub fn prepare(name: &str, args: &ParamArgs) -> anyhow::Result<(&'static Scenario, Params)> {
    let Some(scenario) = scenario::find(name) else {
        let names: Vec<&str> = scenario::SCENARIOS.iter().map(|s| s.name).collect();
        return usage(format!(
            "unknown scenario '{name}': choose one of {}",
            names.join(", ")
        ));
    };
    let params = args
        .overrides()
        .apply(scenario)
        .map_err(|e| UsageError(e.to_string()))?;
    Ok((scenario, params))
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

/// Runs `params` for real and returns the report (progress on stderr unless `quiet`).
pub fn execute(
    scenario: &Scenario,
    params: &Params,
    out: Option<&Path>,
    quiet: bool,
) -> anyhow::Result<RunReport> {
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
    let tasks = runner::build_tasks(params, &image_urls);

    let clock = MonoClock::start();
    let io = NativeIo::new(out_dir.clone());
    let exe = std::env::current_exe()
        .context("cannot find the gil-lab executable to start worker processes")?;
    let processes = NativeProcesses {
        exe,
        epoch_ns: clock.epoch_ns,
        out_dir: out_dir.display().to_string(),
    };
    let mut meter = NativeMeter::new(clock);
    let bar_tasks = match params.model {
        Model::Race { workers, .. } => workers * runner::RACE_CASES,
        Model::Convoy { cpu_threads, .. } => cpu_threads + 2,
        _ => params.tasks,
    };
    let progress = Progress::new(bar_tasks, scenario.name, quiet);
    let backends = Backends {
        clock: &clock,
        io: &io,
        spawner: &StdSpawner,
        processes: &processes,
        meter: &mut meter,
        live: &progress,
        stop: &STOP,
        machine: machine(),
    };
    let mut report = runner::run(scenario.name, params, &tasks, backends);
    progress.finish();
    if STOP.load(std::sync::atomic::Ordering::Relaxed) {
        report
            .notes
            .push("Stopped early (Ctrl-C): the trace so far is kept.".into());
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

/// Writes `text` to `path`, naming the flag on failure.
fn write_file(flag: &str, path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).map_err(|e| {
        UsageError(format!(
            "{flag} = {}: cannot write it ({e})",
            path.display()
        ))
        .into()
    })
}

/// `gil-lab run`.
pub fn cmd(args: RunArgs) -> anyhow::Result<()> {
    let (scenario, params) = prepare(&args.scenario, &args.params)?;
    // Check output paths before spending minutes on the run.
    for (flag, p) in [("svg", &args.svg), ("html", &args.html)] {
        if let Some(dir) = p
            .as_ref()
            .and_then(|p| p.parent())
            .filter(|d| !d.as_os_str().is_empty())
            && !dir.is_dir()
        {
            return usage(format!(
                "{flag} = {}: folder {} does not exist",
                p.as_ref()
                    .map_or(String::new(), |p| p.display().to_string()),
                dir.display()
            ));
        }
    }
    let report = execute(scenario, &params, args.out.as_deref(), args.quiet)?;

    let json_to_stdout = args.json.as_deref() == Some("-");
    let mut chart_out: Box<dyn Write> = if json_to_stdout {
        Box::new(std::io::stderr())
    } else {
        Box::new(std::io::stdout())
    };
    let is_tty = if json_to_stdout {
        std::io::stderr().is_terminal()
    } else {
        std::io::stdout().is_terminal()
    };
    let color = is_tty && std::env::var_os("NO_COLOR").is_none();
    let width = args
        .width
        .or_else(|| std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()))
        .unwrap_or(100)
        .clamp(40, 400);
    writeln!(
        chart_out,
        "{}",
        view::terminal(&report, width.saturating_sub(16), color)
    )?;
    writeln!(chart_out, "{}", view::text_summary(&report))?;
    if report.baseline_wall_us.is_none()
        && let Some(base) = scenario.baseline
    {
        writeln!(
            chart_out,
            "(run `gil-lab run {base}` with the same parameters to see the speed-up)"
        )?;
    }

    match args.json.as_deref() {
        Some("-") => println!("{}", report.to_json()),
        Some(path) => write_file("json", Path::new(path), &report.to_json())?,
        None => {}
    }
    if let Some(p) = &args.svg {
        write_file("svg", p, &view::layout(&report).to_svg())?;
    }
    if let Some(p) = &args.html {
        write_file("html", p, &view::html_page(&report))?;
    }
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
