//! `cargo xtask` — GIL Lab's web build driver.
//!
//! ```text
//! cargo xtask build        # UI, lab + lesson (stable) + plain engine (stable) + threaded engine (nightly) -> dist/
//! cargo xtask serve [PORT] # build, then `gil-lab serve` on 127.0.0.1 with COOP/COEP
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

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

const TARGET: &str = "wasm32-unknown-unknown";

/// Link arguments without which the threaded module silently gets ordinary memory.
const THREADED_RUSTFLAGS: &str = "-C target-feature=+atomics,+bulk-memory,+mutable-globals \
    -C link-arg=--shared-memory -C link-arg=--import-memory -C link-arg=--max-memory=1073741824 \
    -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
    -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base";

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

/// Which toolchain builds the threaded engine.
#[derive(Clone, Copy, PartialEq)]
enum Threaded {
    Nightly,
    /// Stable with `RUSTC_BOOTSTRAP=1` (nightly missing).
    Bootstrap,
}

/// Adds what the builds need when it is missing; says exactly what when it cannot.
fn ensure_toolchains() -> Result<Threaded> {
    if output({
        let mut c = clean("rustup");
        c.arg("--version");
        c
    })
    .is_none()
    {
        bail!("rustup is missing: install it from your distribution or rustup.rs, then rerun");
    }
    let targets = |tc: &str| {
        output({
            let mut c = clean("rustup");
            c.args(["target", "list", "--installed", "--toolchain", tc]);
            c
        })
        .unwrap_or_default()
    };
    if !targets("stable").lines().any(|l| l.trim() == TARGET) {
        eprintln!("xtask: adding {TARGET} to stable");
        let mut c = clean("rustup");
        c.args(["target", "add", TARGET, "--toolchain", "stable"]);
        run(c).context("rustup could not add the wasm target to stable")?;
    }
    let has_nightly = output({
        let mut c = clean("rustup");
        c.args(["run", "nightly", "rustc", "--version"]);
        c
    })
    .is_some();
    let (tc, mode) = if has_nightly {
        ("nightly", Threaded::Nightly)
    } else {
        eprintln!(
            "xtask: no nightly toolchain; building the threaded engine with stable + RUSTC_BOOTSTRAP=1"
        );
        ("stable", Threaded::Bootstrap)
    };
    if !targets(tc).lines().any(|l| l.trim() == TARGET) {
        let mut c = clean("rustup");
        c.args(["target", "add", TARGET, "--toolchain", tc]);
        run(c).with_context(|| format!("rustup could not add {TARGET} to {tc}"))?;
    }
    let comps = output({
        let mut c = clean("rustup");
        c.args(["component", "list", "--installed", "--toolchain", tc]);
        c
    })
    .unwrap_or_default();
    if !comps.lines().any(|l| l.trim().starts_with("rust-src")) {
        eprintln!("xtask: adding rust-src to {tc} (build-std needs it)");
        let mut c = clean("rustup");
        c.args(["component", "add", "rust-src", "--toolchain", tc]);
        run(c).with_context(|| format!("rustup could not add rust-src to {tc}"))?;
    }
    Ok(mode)
}

/// The UI modules are downloaded before the first Run, so they are built for size; the
/// engines are built for speed (their kernel is what the benchmark times), as one unit
/// (`Cargo.toml` says why).
const UI_PROFILE: &str = "web-small";
const ENGINE_PROFILE: &str = "web-engine";

fn cargo_wasm(
    toolchain: &str,
    package: &str,
    target_dir: &str,
    profile: &str,
    extra: &[&str],
) -> Command {
    let mut c = clean("rustup");
    c.args([
        "run",
        toolchain,
        "cargo",
        "build",
        "--profile",
        profile,
        "--target",
        TARGET,
        "-p",
        package,
    ]);
    c.args(["--target-dir", target_dir]);
    c.args(extra);
    c
}

fn bindgen(wasm: &Path, out: &Path) -> Result<()> {
    std::fs::create_dir_all(out)?;
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(wasm)
        .web(true)?
        .typescript(false)
        // The library defaults to omitting it (the CLI does not); without it `init()` fails.
        .omit_default_module_path(false)
        .generate(out)
        .with_context(|| format!("wasm-bindgen failed on {}", wasm.display()))
}

fn build(skip_threaded: bool) -> Result<()> {
    let root = root();
    let mode = ensure_toolchains()?;
    // Before the long builds: a missing Node.js fails in seconds, not after minutes.
    let wasm_opt = wasm_opt::ensure()?;
    let dist = root.join("dist");
    let rel = |dir: &str, profile: &str, name: &str| {
        root.join(dir)
            .join(TARGET)
            .join(profile)
            .join(format!("{name}.wasm"))
    };

    eprintln!("xtask: building the UI (stable)");
    run(cargo_wasm(
        "stable",
        "gil-lab-web",
        "target/web-ui",
        UI_PROFILE,
        &[],
    ))?;
    // The lesson page's module: the same crate with the lesson mounted instead of the lab. Both
    // builds leave their module at the same path, so the lab's is set aside first.
    // (wasm-bindgen names its output after the input file: keep the name, change the folder.)
    let lab_wasm = root.join("target/web-ui/lab/gil_lab_web.wasm");
    std::fs::create_dir_all(root.join("target/web-ui/lab"))?;
    std::fs::copy(rel("target/web-ui", UI_PROFILE, "gil_lab_web"), &lab_wasm)
        .context("could not set the lab's UI module aside")?;
    eprintln!("xtask: building the lesson's UI (stable)");
    run(cargo_wasm(
        "stable",
        "gil-lab-web",
        "target/web-ui",
        UI_PROFILE,
        &["--features", "lesson-page"],
    ))?;
    eprintln!("xtask: building the plain engine (stable)");
    run(cargo_wasm(
        "stable",
        "gil-lab-engine",
        "target/web-engine",
        ENGINE_PROFILE,
        &[],
    ))?;
    if !skip_threaded {
        eprintln!("xtask: building the threaded engine (build-std, atomics)");
        let tc = if mode == Threaded::Nightly {
            "nightly"
        } else {
            "stable"
        };
        let mut c = cargo_wasm(
            tc,
            "gil-lab-engine",
            "target/web-engine-mt",
            ENGINE_PROFILE,
            &["--features", "threads", "-Z", "build-std=panic_abort,std"],
        );
        c.env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
            THREADED_RUSTFLAGS,
        );
        if mode == Threaded::Bootstrap {
            c.env("RUSTC_BOOTSTRAP", "1");
        }
        run(c)?;
    }

    if dist.exists() {
        std::fs::remove_dir_all(&dist).context("could not clear dist/")?;
    }
    bindgen(&lab_wasm, &dist.join("pkg"))?;
    bindgen(
        &rel("target/web-ui", UI_PROFILE, "gil_lab_web"),
        &dist.join("lesson/pkg"),
    )?;
    bindgen(
        &rel("target/web-engine", ENGINE_PROFILE, "gil_lab_engine"),
        &dist.join("engine/plain"),
    )?;
    if !skip_threaded {
        bindgen(
            &rel("target/web-engine-mt", ENGINE_PROFILE, "gil_lab_engine"),
            &dist.join("engine/threaded"),
        )?;
    }
    use wasm_opt::Goal;
    for (wasm, goal) in [
        ("pkg/gil_lab_web_bg.wasm", Goal::Size),
        ("lesson/pkg/gil_lab_web_bg.wasm", Goal::Size),
        ("engine/plain/gil_lab_engine_bg.wasm", Goal::Speed),
        ("engine/threaded/gil_lab_engine_bg.wasm", Goal::Speed),
    ] {
        let p = dist.join(wasm);
        if p.exists() {
            eprintln!("xtask: wasm-opt {wasm}");
            wasm_opt::optimise(&wasm_opt, &p, goal)?;
        }
    }
    assets::write_static(&root, &dist)?;
    compress::precompress(&dist)?;
    sizes::report_and_check(&dist)?;
    eprintln!("xtask: dist/ is ready ({})", dist.display());
    Ok(())
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
    ensure_toolchains()?;
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

/// `cargo clippy` for wasm32 on `selection` (packages and features), warnings denied.
fn wasm_clippy(selection: &[&str]) -> Result<()> {
    let mut c = clean("rustup");
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
        "build" | "dist" => build(rest.iter().any(|a| a == "--no-threads")),
        "serve" => {
            build(false)?;
            let port = rest.first().cloned().unwrap_or_else(|| "8080".into());
            let mut c = clean("cargo");
            c.args([
                "run",
                "--release",
                "-p",
                "gil-lab-native",
                "--",
                "serve",
                "--port",
                &port,
            ]);
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
