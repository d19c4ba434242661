//! `gil-lab`: GIL Lab's native companion. This file is glue: parse, dispatch, report errors
//! once. Every command lives in its own module.

mod baseline;
mod bench;
mod calibrate;
mod cli;
mod clock;
mod download;
mod error;
mod live;
mod meter;
mod process;
mod run;
mod serve;
mod server;
mod shared_value;
mod simulate;
mod worker;

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::UsageError;

fn list() {
    for s in gil_lab::scenario::SCENARIOS {
        println!("{:<18} {}", s.name, s.summary);
    }
}

fn images(args: cli::ImagesArgs) -> anyhow::Result<()> {
    let config = server::ServerConfig {
        latency: Duration::from_millis(args.latency_ms),
        bandwidth_kbps: args.bandwidth_kbps,
    };
    let srv =
        server::ImageServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)), config)?;
    eprintln!(
        "serving 6 images on http://{} ({} ms to first byte, {} kbit/s); Ctrl-C stops",
        srv.addr(),
        args.latency_ms,
        args.bandwidth_kbps
    );
    for url in srv.urls() {
        println!("{url}");
    }
    loop {
        std::thread::park();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Worker) {
        // First Ctrl-C: stop after the current steps and keep the partial trace; the second
        // one (the handler is gone by then) kills as usual.
        let _ = ctrlc::set_handler(|| {
            if run::STOP.swap(true, std::sync::atomic::Ordering::Relaxed) {
                std::process::exit(130);
            }
            eprintln!("\nstopping after the current steps (Ctrl-C again to quit now)…");
        });
    }
    let result = match cli.command {
        Command::List => {
            list();
            Ok(())
        }
        Command::Run(args) => run::cmd(*args),
        Command::Images(args) => images(args),
        Command::Bench(args) => bench::cmd(args),
        Command::Serve(args) => {
            let root = args.root.unwrap_or_else(|| {
                // The repository's dist/ when run from a checkout, else ./dist.
                let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist");
                if repo.is_dir() { repo } else { "dist".into() }
            });
            serve::serve(&root, SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)))
        }
        Command::Simulate(args) => simulate::cmd(*args),
        Command::Calibrate(args) => calibrate::cmd(args),
        Command::Worker => worker::main(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if e.downcast_ref::<UsageError>().is_some() {
                eprintln!("error: {e}");
                ExitCode::from(2)
            } else {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        }
    }
}
