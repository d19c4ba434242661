//! `gil-lab`: GIL Lab's native companion. This file is glue: parse, dispatch, report errors
//! once. Every command lives in its own module.

/// `eprintln!` that never panics: a standard error nobody reads any more (a closed terminal, a
/// test that stopped reading) must not end a server or lose a report.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

/// `println!` that returns the error instead of panicking: a reader that went away
/// (`gil-lab list | head -1`) ends the command quietly ([`quiet_end`]), and a full disk behind
/// standard output is reported.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($t)*)
    }};
}

mod api;
mod baseline;
mod bench;
mod bench_page;
mod calibrate;
mod cli;
mod clock;
mod cpython;
mod download;
mod error;
mod files;
mod http;
mod image_server;
mod live;
mod meter;
mod outputs;
mod process;
mod run;
mod shared_value;
mod simulate;
mod stop;
mod web_guard;
mod web_server;
mod worker;
mod write_deadline;

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::{Interrupted, UsageError};

fn list() -> anyhow::Result<()> {
    for s in gil_lab::scenario::SCENARIOS {
        out!("{:<18} {}", s.name, s.summary)?;
    }
    Ok(())
}

/// Whether `e` is standard output's reader going away (`| head`): not a failure of ours,
/// and nothing is left to say to anyone, so the command ends quietly with status 0.
fn quiet_end(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// `gil-lab images`: serves until the first Ctrl-C.
fn images(args: cli::ImagesArgs) -> anyhow::Result<()> {
    let config = image_server::ServerConfig {
        latency: Duration::from_millis(args.latency_ms),
        bandwidth_kbps: args.bandwidth_kbps,
    };
    let srv = image_server::ImageServer::start_with(
        SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)),
        config,
        Duration::from_secs(args.write_timeout_s),
    )?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let stop_signals = {
        let _ctx = rt.enter();
        http::StopSignals::watch()
    };
    say!(
        "serving 6 images on http://{} ({} ms to first byte, {} kbit/s); Ctrl-C stops",
        srv.addr(),
        args.latency_ms,
        args.bandwidth_kbps
    );
    // The URLs are a convenience: a reader that took the first and left (`| head -1`) must
    // not stop the server it is about to use.
    for url in srv.urls() {
        let _ = out!("{url}");
    }
    rt.block_on(stop_signals.wait());
    say!("\nstopping the image server…");
    drop(srv);
    Ok(())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // clap's usage errors exit with 2; --help and --version print and exit with 0.
            e.exit();
        }
    };
    if matches!(
        cli.command,
        Command::Run(_) | Command::Bench(_) | Command::Simulate(_) | Command::Calibrate(_)
    ) {
        stop::install();
    }
    let result = match cli.command {
        Command::List => list(),
        Command::Run(args) => run::cmd(*args),
        Command::Images(args) => images(args),
        Command::Bench(args) => bench::cmd(args),
        Command::Serve(args) => {
            let root = args.root.unwrap_or_else(|| {
                // The repository's dist/ when run from a checkout, else ./dist.
                let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist");
                if repo.is_dir() { repo } else { "dist".into() }
            });
            web_server::serve(web_server::WebConfig {
                root,
                addr: SocketAddr::new(args.bind, args.port),
                run_api: !args.no_run_api,
                allow_hosts: args.allow_host,
                write_timeout: Duration::from_secs(args.write_timeout_s),
            })
        }
        Command::Simulate(args) => simulate::cmd(*args),
        Command::Calibrate(args) => calibrate::cmd(args),
        Command::Worker(args) => worker::main(args.download.limits()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if quiet_end(&e) {
                ExitCode::SUCCESS
            } else if e.downcast_ref::<Interrupted>().is_some() {
                say!("{e}");
                ExitCode::from(stop::first_signal().1)
            } else if e.downcast_ref::<UsageError>().is_some() {
                say!("error: {e}");
                ExitCode::from(2)
            } else {
                say!("error: {e:#}");
                ExitCode::FAILURE
            }
        }
    }
}
