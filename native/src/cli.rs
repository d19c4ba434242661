//! The command line, declared with clap. Parsing only: the commands live in their own modules.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use gil_lab::gil::GilMode;
use gil_lab::scenario::Overrides;

/// GIL Lab: watch Python's threads, processes and GIL at work, natively, on every core.
#[derive(Debug, Parser)]
#[command(name = "gil-lab", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the scenarios, one line each.
    List,
    /// Run a scenario for real and draw its timeline.
    Run(Box<RunArgs>),
    /// Serve the lab's six images over HTTP (what the I/O demos download).
    Images(ImagesArgs),
    /// Run the CPU and I/O scenarios and print a table of wall and CPU times.
    Bench(BenchArgs),
    /// Serve the web lab (built by `cargo xtask build`) on 127.0.0.1 with cross-origin isolation.
    Serve(ServeArgs),
    /// Simulate a scenario on a modelled machine (any core count, Python, start method).
    Simulate(Box<crate::simulate::SimulateArgs>),
    /// Measure this machine for the simulator and save the profile.
    Calibrate(crate::calibrate::CalibrateArgs),
    /// A worker process of a process run (started by gil-lab itself).
    #[command(name = "__worker", hide = true)]
    Worker,
}

/// `classic` or `free`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GilArg {
    /// CPython's default build: one thread runs Python code at a time.
    Classic,
    /// Free-threaded CPython (3.13t): no GIL.
    Free,
}

impl From<GilArg> for GilMode {
    fn from(g: GilArg) -> Self {
        match g {
            GilArg::Classic => GilMode::Classic,
            GilArg::Free => GilMode::Free,
        }
    }
}

/// Parameters shared by `run` and the scenarios inside `bench`.
#[derive(Debug, Clone, Args)]
pub struct ParamArgs {
    /// `sum_powers` argument (0..=50000; lesson: 10000).
    #[arg(long)]
    pub n: Option<u64>,
    /// Number of tasks (1..=256).
    #[arg(long)]
    pub tasks: Option<u64>,
    /// Threads or processes (1..=64).
    #[arg(long)]
    pub workers: Option<u64>,
    /// GIL switch interval in ms (0.01..=1000; CPython's default is 5).
    #[arg(long)]
    pub switch_interval_ms: Option<f64>,
    /// GIL mode for thread scenarios.
    #[arg(long, value_enum)]
    pub gil: Option<GilArg>,
    /// Download these URLs instead of the lab's own images (repeatable).
    #[arg(long = "url")]
    pub urls: Vec<String>,
    /// Image server time to first byte, ms (0..=10000).
    #[arg(long)]
    pub latency_ms: Option<u64>,
    /// Image server bandwidth per connection, kbit/s (0..=10000000; 0 = unlimited).
    #[arg(long)]
    pub bandwidth_kbps: Option<u64>,
    /// Counter increments per worker in `race` (1..=50000000).
    #[arg(long)]
    pub increments: Option<u64>,
    /// Tasks per chunk in `cpu-pool` (1..=256; default: CPython's rule).
    #[arg(long)]
    pub chunksize: Option<u64>,
}

impl ParamArgs {
    /// As core overrides.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            n: self.n,
            tasks: self.tasks,
            workers: self.workers,
            switch_interval_ms: self.switch_interval_ms,
            gil: self.gil.map(Into::into),
            urls: self.urls.clone(),
            latency_ms: self.latency_ms,
            bandwidth_kbps: self.bandwidth_kbps,
            increments: self.increments,
            chunksize: self.chunksize,
        }
    }
}

/// `gil-lab run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario name (see `gil-lab list`).
    pub scenario: String,
    /// Parameters.
    #[command(flatten)]
    pub params: ParamArgs,
    /// Folder for downloaded files (default: a fresh temporary folder).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write the report as JSON to this file, or `-` for standard output (then the chart and
    /// summary go to standard error).
    #[arg(long)]
    pub json: Option<String>,
    /// Write the timeline as SVG.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Write a standalone HTML report.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Terminal chart width in columns (default: fit the terminal).
    #[arg(long)]
    pub width: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `gil-lab images`.
#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// Time to first byte, ms.
    #[arg(long, default_value_t = gil_lab::scenario::DEFAULT_LATENCY_MS)]
    pub latency_ms: u64,
    /// Bandwidth per connection, kbit/s (0 = unlimited).
    #[arg(long, default_value_t = gil_lab::scenario::DEFAULT_BANDWIDTH_KBPS)]
    pub bandwidth_kbps: u64,
}

/// `gil-lab bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// `sum_powers` argument for the CPU scenarios (the single-call timing also runs 10000).
    #[arg(long, default_value_t = 5000)]
    pub n: u32,
    /// Also run the equivalent Python code with `python3` and print it side by side.
    #[arg(long)]
    pub python: bool,
    /// Image server time to first byte for the I/O scenarios, ms.
    #[arg(long, default_value_t = 50)]
    pub latency_ms: u64,
    /// Image server bandwidth for the I/O scenarios, kbit/s.
    #[arg(long, default_value_t = 160_000)]
    pub bandwidth_kbps: u64,
    /// Write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Skip the single `sum_powers(10000)` timing (the slowest part with --python).
    #[arg(long)]
    pub quick: bool,
}

/// `gil-lab serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Folder to serve (default: `dist/` of the repository).
    #[arg(long)]
    pub root: Option<PathBuf>,
}
