//! `cargo xtask` — GIL Lab's web build driver.
//!
//! ```text
//! cargo xtask build        # UI, lab + lesson (stable) + plain engine (stable) + threaded engine (nightly) -> dist/
//! cargo xtask serve [PORT] # build dist/ and a release gil-lab side by side, then `gil-lab serve` (COOP/COEP)
//! cargo xtask test         # everything CI runs: fmt, clippy (host + wasm32), tests, browser tests
//! cargo xtask lint         # only `cargo fmt --check` and clippy (host + wasm32), -D warnings
//! cargo xtask e2e          # browser end-to-end tests (tests/e2e/run.sh)
//! cargo xtask bench-web    # browser benchmark (tests/e2e/bench.mjs)
//! cargo xtask load         # gil-lab serve under load beside slow clients (the issue's figures)
//! ```
//!
//! Two wasm targets, separate cargo invocations and target dirs (one invocation would merge
//! features and bloat the engine): the UI and the plain engine on stable without atomics, the
//! threaded engine on nightly with `build-std` and the shared-memory link arguments. Missing
//! rustup targets and `rust-src` are installed; without nightly, stable + `RUSTC_BOOTSTRAP=1`
//! builds the threaded engine. wasm-bindgen runs in-process (`wasm-bindgen-cli-support`, the
//! exact version of the `wasm-bindgen` crate), so no CLI needs installing.

mod assets;
mod compress;
mod sizes;
mod wasm_opt;
mod web_build;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

const TARGET: &str = "wasm32-unknown-unknown";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// A command with the outer cargo's environment cleared (it would pin the toolchain and leak
/// flags into the wasm builds).
fn clean(program: &str) -> Command {
    let mut c = Command::new(program);
    for var in [
        "RUSTUP_TOOLCHAIN",
        "CARGO",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTC",
        "RUSTC_WRAPPER",
        "RUSTDOC",
        "CARGO_MAKEFLAGS",
    ] {
        c.env_remove(var);
    }
    c.current_dir(root());
    c
}

fn run(mut c: Command) -> Result<()> {
    let desc = format!("{c:?}");
    let st = c
        .status()
        .with_context(|| format!("could not start {desc}"))?;
    if !st.success() {
        bail!("failed ({st}): {desc}");
    }
    Ok(())
}

fn output(mut c: Command) -> Option<String> {
    let o = c.output().ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
}

const USAGE: &str = "usage: cargo xtask build [--no-threads] | dist | serve [PORT] | test | lint | e2e | bench-web | load";

/// `cargo fmt --check`, then clippy with `-D warnings` on the host (every crate and target)
/// and on wasm32 (the core and the browser crates, as the page builds them). The wasm pass
/// reuses `target/web-check`, so after the first run both passes take seconds.
fn lint() -> Result<()> {
    let mut c = clean("cargo");
    c.args(["fmt", "--all", "--check"]);
    run(c).context("cargo fmt --check found unformatted code: run `cargo fmt --all`")?;
    let mut c = clean("cargo");
    c.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    run(c)?;
    web_build::ensure_toolchains()?;
    wasm_clippy(&[
        "-p",
        "gil-lab",
        "-p",
        "gil-lab-browser",
        "-p",
        "gil-lab-web",
        "-p",
        "gil-lab-engine",
    ])?;
    // The lesson page is the same crate built with one more feature: lint that build too.
    wasm_clippy(&["-p", "gil-lab-web", "--features", "lesson-page"])
}

/// `cargo clippy` for wasm32 on `selection` (packages and features), warnings denied, with
/// `xtask/wasm-clippy/clippy.toml`: the calls wasm cannot make (a clock, a thread, a sleep, a
/// blocking receive) are errors.
fn wasm_clippy(selection: &[&str]) -> Result<()> {
    let mut c = clean("rustup");
    c.env(
        "CLIPPY_CONF_DIR",
        Path::new(env!("CARGO_MANIFEST_DIR")).join("wasm-clippy"),
    );
    c.args([
        "run",
        "stable",
        "cargo",
        "clippy",
        "--target",
        TARGET,
        "--target-dir",
        "target/web-check",
    ]);
    c.args(selection);
    c.args(["--", "-D", "warnings"]);
    run(c)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cmd = args.first().map(String::as_str).unwrap_or("help");
    let rest = &args[args.len().min(1)..];
    match cmd {
        "build" | "dist" => web_build::build(rest.iter().any(|a| a == "--no-threads")),
        "serve" => {
            let port = rest.first().cloned().unwrap_or_else(|| "8080".into());
            // The server's release build goes on beside the web build: each has long
            // single-threaded stretches (links, wasm-opt) the other can fill.
            eprintln!("xtask: building gil-lab (release) beside the web build");
            let mut native = clean("cargo");
            native.args(["build", "--release", "-p", "gil-lab-native"]);
            let mut native = native
                .spawn()
                .context("could not start cargo build for gil-lab")?;
            let web = web_build::build(false);
            if web.is_err() {
                let _ = native.kill();
            }
            let built = native.wait().context("cargo build for gil-lab")?;
            web?;
            if !built.success() {
                bail!("cargo build --release -p gil-lab-native failed ({built})");
            }
            let mut c = Command::new(root().join("target/release/gil-lab"));
            c.current_dir(root());
            c.args(["serve", "--port", &port]);
            run(c)
        }
        "test" => {
            // Everything CI runs: the cheap checks first so a format slip fails in seconds,
            // then core and CLI tests, the browser crates' own tests, then the web build and
            // the browser end-to-end tests.
            lint()?;
            let mut c = clean("cargo");
            c.args(["test", "-p", "gil-lab", "-p", "gil-lab-native"]);
            run(c)?;
            let mut c = clean("cargo");
            c.args([
                "test",
                "-p",
                "gil-lab-browser",
                "-p",
                "gil-lab-engine",
                "-p",
                "gil-lab-web",
            ]);
            // Same target dir as the core's tests: the shared dependencies build once.
            run(c)?;
            let mut c = clean("bash");
            c.arg("tests/e2e/run.sh");
            c.env("GIL_LAB_BIN", root().join("target/debug/gil-lab"));
            run(c)
        }
        "lint" => lint(),
        "load" => {
            let mut c = clean("cargo");
            c.args([
                "test",
                "-p",
                "gil-lab-native",
                "--test",
                "integration",
                "load_full",
                "--",
                "--ignored",
                "--nocapture",
            ]);
            run(c)
        }
        "e2e" => {
            let mut c = clean("bash");
            c.arg("tests/e2e/run.sh");
            run(c)
        }
        "bench-web" => {
            let mut c = clean("bash");
            c.arg("tests/e2e/run.sh").arg("--bench");
            run(c)
        }
        "help" | "--help" | "-h" => {
            eprintln!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown command {other:?}\n{USAGE}"),
    }
}
