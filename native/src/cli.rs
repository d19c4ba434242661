//! The command line, declared with clap. Parsing only: the commands live in their own modules.
//!
//! Every number is read by [`ranged`] or [`ranged_f64`], so a negative, non-numeric or
//! out-of-range value is refused with one line naming the flag and its range, exit status 2
//! (clap's usage-error status). A value starting with `-` is taken as the value (`--n -1`,
//! `--n -inf`, `--n -1e3`), not as an unknown flag, so it gets the same message: clap's own
//! negative-number test knows digits only, and read `-inf` as the flags `-i -n -f`.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use gil_lab::gil::GilMode;
use gil_lab::scenario::{Limits, Overrides};

use crate::download;

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
    /// Serve the web lab (built by `cargo xtask build`) with cross-origin isolation, and run
    /// scenarios natively for the page.
    Serve(ServeArgs),
    /// Simulate a scenario on a modelled machine (any core count, Python, start method).
    Simulate(Box<SimulateArgs>),
    /// Measure this machine for the simulator and save the profile.
    Calibrate(CalibrateArgs),
    /// A worker process of a process run (started by gil-lab itself).
    #[command(name = "__worker", hide = true)]
    Worker(WorkerArgs),
}

/// A parser for a whole number of `field` in `lo..=hi`, whose errors name both.
pub fn ranged(
    field: &'static str,
    (lo, hi): (u64, u64),
) -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync + 'static {
    move |s: &str| {
        let t = s.trim();
        match t.parse::<u64>() {
            Ok(v) if (lo..=hi).contains(&v) => Ok(v),
            Ok(v) => Err(format!(
                "{field} = {v} is out of range: allowed {lo}..={hi}"
            )),
            Err(_) if t.parse::<i128>().is_ok() || t.parse::<f64>().is_ok() => Err(format!(
                "{field} = {t} is out of range: allowed whole numbers {lo}..={hi}"
            )),
            Err(_) => Err(format!(
                "{field} = {t:?} is not a number: allowed {lo}..={hi}"
            )),
        }
    }
}

/// [`ranged`] for a decimal number.
pub fn ranged_f64(
    field: &'static str,
    (lo, hi): (f64, f64),
) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync + 'static {
    move |s: &str| {
        let t = s.trim();
        match t.parse::<f64>() {
            Ok(v) if (lo..=hi).contains(&v) => Ok(v),
            Ok(_) => Err(format!(
                "{field} = {t} is out of range: allowed {lo}..={hi}"
            )),
            Err(_) => Err(format!(
                "{field} = {t:?} is not a number: allowed {lo}..={hi}"
            )),
        }
    }
}

/// A TCP port (0 = any free port).
fn port(field: &'static str) -> impl Fn(&str) -> Result<u16, String> + Clone + Send + Sync {
    let parse = ranged(field, (0, u64::from(u16::MAX)));
    move |s: &str| parse(s).map(|v| v as u16)
}

/// An IP address to listen on.
fn ip(field: &'static str) -> impl Fn(&str) -> Result<IpAddr, String> + Clone + Send + Sync {
    move |s: &str| {
        s.trim().parse().map_err(|_| {
            format!("{field} = {s:?} is not an IP address: allowed e.g. 127.0.0.1, ::1, 0.0.0.0")
        })
    }
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
    #[arg(long, allow_hyphen_values = true, value_parser = ranged("n", Limits::N))]
    pub n: Option<u64>,
    /// Number of tasks (1..=256).
    #[arg(long, allow_hyphen_values = true, value_parser = ranged("tasks", Limits::TASKS))]
    pub tasks: Option<u64>,
    /// Threads or processes (1..=64).
    #[arg(long, allow_hyphen_values = true, value_parser = ranged("workers", Limits::WORKERS))]
    pub workers: Option<u64>,
    /// GIL switch interval in ms (0.01..=1000; CPython's default is 5).
    #[arg(long, allow_hyphen_values = true,
          value_parser = ranged_f64("switch-interval-ms", Limits::SWITCH_INTERVAL_MS))]
    pub switch_interval_ms: Option<f64>,
    /// GIL mode for thread scenarios.
    #[arg(long, value_enum)]
    pub gil: Option<GilArg>,
    /// Download these URLs instead of the lab's own images (repeatable).
    #[arg(long = "url")]
    pub urls: Vec<String>,
    /// Image server time to first byte, ms (0..=10000).
    #[arg(long, allow_hyphen_values = true,
          value_parser = ranged("latency-ms", Limits::LATENCY_MS))]
    pub latency_ms: Option<u64>,
    /// Image server bandwidth per connection, kbit/s (0..=10000000; 0 = unlimited).
    #[arg(long, allow_hyphen_values = true,
          value_parser = ranged("bandwidth-kbps", Limits::BANDWIDTH_KBPS))]
    pub bandwidth_kbps: Option<u64>,
    /// Counter increments per worker in `race` (1..=50000000).
    #[arg(long, allow_hyphen_values = true,
          value_parser = ranged("increments", Limits::INCREMENTS))]
    pub increments: Option<u64>,
    /// Tasks per chunk in `cpu-pool` (1..=256; default: CPython's rule).
    #[arg(long, allow_hyphen_values = true,
          value_parser = ranged("chunksize", Limits::CHUNKSIZE))]
    pub chunksize: Option<u64>,
    /// The hash demo's buffer, MiB (1..=1024; default 48).
    #[arg(long, allow_hyphen_values = true,
          value_parser = ranged("mib", Limits::MIB))]
    pub mib: Option<u64>,
    /// Bytes per `update()` in the hash demo (1..=1073741824; default: the whole buffer in
    /// one call). Under 2048 the GIL is held throughout, as CPython's hashlib does.
    #[arg(long, allow_hyphen_values = true,
          value_parser = ranged("chunk-bytes", Limits::CHUNK_BYTES))]
    pub chunk_bytes: Option<u64>,
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
            python: None,
            mib: self.mib,
            chunk_bytes: self.chunk_bytes,
        }
    }
}

/// Limits of each download (`run`, and worker processes).
#[derive(Debug, Clone, Copy, Args)]
pub struct DownloadArgs {
    /// Give up on a download after this many seconds (1..=3600; default 60).
    #[arg(long, allow_hyphen_values = true,
          value_parser = ranged("timeout-s", download::TIMEOUT_S))]
    pub timeout_s: Option<u64>,
    /// Refuse a download body larger than this many bytes (1..=4294967296; default 64 MiB).
    #[arg(long, allow_hyphen_values = true,
          value_parser = ranged("max-bytes", download::MAX_BYTES))]
    pub max_bytes: Option<u64>,
}

impl DownloadArgs {
    /// As the downloader's limits (defaults for what was not given).
    pub fn limits(&self) -> download::DownloadLimits {
        let d = download::DownloadLimits::default();
        download::DownloadLimits {
            timeout: self
                .timeout_s
                .map_or(d.timeout, std::time::Duration::from_secs),
            max_bytes: self.max_bytes.unwrap_or(d.max_bytes),
        }
    }

    /// The first flag given, if any (they only apply to downloads).
    pub fn given(&self) -> Option<&'static str> {
        if self.timeout_s.is_some() {
            Some("timeout-s")
        } else if self.max_bytes.is_some() {
            Some("max-bytes")
        } else {
            None
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
    /// Download limits.
    #[command(flatten)]
    pub download: DownloadArgs,
    /// Folder for downloaded files (default: a fresh temporary folder).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The CPython the run stands for: 3.9, 3.10, 3.11, 3.12, 3.13, 3.14, 3.13t or 3.14t
    /// (default 3.11). Up to 3.9 the GIL may pass inside a plain `counter += 1`; the `t`
    /// builds have no GIL.
    #[arg(long)]
    pub python: Option<String>,
    /// Where the report goes.
    #[command(flatten)]
    pub output: OutputArgs,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `gil-lab images`.
#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Port on 127.0.0.1 (0..=65535; 0 = any free port).
    #[arg(long, default_value_t = 8000, allow_hyphen_values = true, value_parser = port("port"))]
    pub port: u16,
    /// Time to first byte, ms (0..=10000).
    #[arg(long, default_value_t = gil_lab::scenario::DEFAULT_LATENCY_MS,
          allow_hyphen_values = true, value_parser = ranged("latency-ms", Limits::LATENCY_MS))]
    pub latency_ms: u64,
    /// Bandwidth per connection, kbit/s (0..=10000000; 0 = unlimited).
    #[arg(long, default_value_t = gil_lab::scenario::DEFAULT_BANDWIDTH_KBPS,
          allow_hyphen_values = true,
          value_parser = ranged("bandwidth-kbps", Limits::BANDWIDTH_KBPS))]
    pub bandwidth_kbps: u64,
    /// Drop a connection whose client takes no bytes for this many seconds (1..=3600).
    #[arg(long, default_value_t = crate::http::DEFAULT_WRITE_TIMEOUT_S, allow_negative_numbers = true,
          value_parser = ranged("write-timeout-s", crate::http::WRITE_TIMEOUT_S))]
    pub write_timeout_s: u64,
}

/// `gil-lab bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// `sum_powers` argument for the CPU scenarios (0..=50000; the single-call timing also
    /// runs 10000).
    #[arg(long, default_value_t = 5000, allow_hyphen_values = true,
          value_parser = ranged("n", Limits::N))]
    pub n: u64,
    /// Also run the equivalent Python code with `python3` and print it side by side.
    #[arg(long)]
    pub python: bool,
    /// Image server time to first byte for the I/O scenarios, ms (0..=10000).
    #[arg(long, default_value_t = 50, allow_hyphen_values = true,
          value_parser = ranged("latency-ms", Limits::LATENCY_MS))]
    pub latency_ms: u64,
    /// Image server bandwidth for the I/O scenarios, kbit/s (0..=10000000; 0 = unlimited).
    #[arg(long, default_value_t = 160_000, allow_hyphen_values = true,
          value_parser = ranged("bandwidth-kbps", Limits::BANDWIDTH_KBPS))]
    pub bandwidth_kbps: u64,
    /// Write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write every run's report into this folder: the lab's (`<scenario>.lab.json`) and, with
    /// `--python`, CPython's own (`<scenario>.cpython.json`), each also as a Perfetto trace.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Write a page showing each scenario's picture: the lab's, and CPython's under it (with
    /// `--python`).
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Skip the single `sum_powers(10000)` timing (the slowest part with --python).
    #[arg(long)]
    pub quick: bool,
}

/// `gil-lab serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port (0..=65535; 0 = any free port).
    #[arg(long, default_value_t = 8080, allow_hyphen_values = true, value_parser = port("port"))]
    pub port: u16,
    /// Address to listen on. Anything but loopback lets anyone who can reach it run CPU work
    /// on this machine.
    #[arg(long, default_value = "127.0.0.1", value_parser = ip("bind"))]
    pub bind: IpAddr,
    /// Folder to serve (default: `dist/` of the repository).
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Do not offer `POST /api/run` (the page then runs everything in the browser).
    #[arg(long)]
    pub no_run_api: bool,
    /// Also answer requests whose `Host` is NAME (repeatable): the name a reverse proxy or
    /// the LAN reaches this server by. Loopback names and IP addresses need none.
    #[arg(long = "allow-host", value_name = "NAME", value_parser = host_name)]
    pub allow_host: Vec<String>,
    /// Drop a connection whose client takes no bytes for this many seconds (1..=3600).
    #[arg(long, default_value_t = crate::http::DEFAULT_WRITE_TIMEOUT_S, allow_negative_numbers = true,
          value_parser = ranged("write-timeout-s", crate::http::WRITE_TIMEOUT_S))]
    pub write_timeout_s: u64,
}

/// `--allow-host`: a DNS name, as a `Host` header carries it (without a port).
fn host_name(s: &str) -> Result<String, String> {
    let name = s.trim().trim_end_matches('.').to_ascii_lowercase();
    let ok = !name.is_empty()
        && name.len() <= 253
        && name
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    if ok {
        Ok(name)
    } else {
        Err(format!(
            "allow-host = {s:?} is not a host name: allowed letters, digits, '-' and '.', \
             without a port (e.g. lab.example.org)"
        ))
    }
}

/// `gil-lab __worker`.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Download limits, passed down by the parent.
    #[command(flatten)]
    pub download: DownloadArgs,
}

/// Where the report goes.
#[derive(Debug, Args)]
pub struct OutputArgs {
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
    /// Write the run as a Chrome Trace Event file (opens in Perfetto, ui.perfetto.dev).
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Terminal chart width in columns (40..=400; default: fit the terminal).
    #[arg(long, allow_hyphen_values = true, value_parser = ranged("width", (40, 400)))]
    pub width: Option<u64>,
}

/// `gil-lab simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Scenario name (see `gil-lab list`).
    pub scenario: String,
    /// Parameters, as for `run`.
    #[command(flatten)]
    pub params: ParamArgs,
    /// Cores of the modelled machine (1..=256; default: this machine's).
    #[arg(long, allow_hyphen_values = true, value_parser = ranged("cores", (1, 256)))]
    pub cores: Option<u64>,
    /// The CPython modelled: 3.9, 3.10, 3.11, 3.12, 3.13, 3.14, 3.13t or 3.14t (default
    /// 3.11, or 3.13t with --gil free): its check points, its GIL, its start method.
    #[arg(long)]
    pub python: Option<String>,
    /// Start method of processes: fork, spawn or forkserver (default: the Python's on Linux).
    #[arg(long)]
    pub start_method: Option<String>,
    /// Seed of the scheduling choices.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true,
          value_parser = ranged("seed", (0, u64::MAX)))]
    pub seed: u64,
    /// Whose speed: native (the lab's own engine) or cpython (from `calibrate --python`).
    #[arg(long, default_value = "native")]
    pub pace: String,
    /// Machine profile to use (default: the one `gil-lab calibrate` saved, else built-in).
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Also run it for real and print measured against simulated.
    #[arg(long)]
    pub compare: bool,
    /// Where the report goes.
    #[command(flatten)]
    pub output: OutputArgs,
    /// No progress bar for the real run of `--compare`.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `gil-lab calibrate`.
#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Also measure CPython (`python3`), for `simulate --pace cpython`.
    #[arg(long)]
    pub python: bool,
    /// Write the profile to this file instead of the cache (then use it with `--profile`).
    #[arg(long)]
    pub out: Option<PathBuf>,
}
