//! The page's build: the UI modules (lab and lesson), the plain and threaded engines, each in
//! its own cargo invocation and target dir (one invocation would merge features and bloat the
//! engine), then wasm-bindgen in-process, wasm-opt, the static files, the precompressed copies
//! and the size budget, into `dist/`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::{TARGET, assets, clean, compress, output, root, run, sizes, wasm_opt};

/// Link arguments without which the threaded module silently gets ordinary memory.
const THREADED_RUSTFLAGS: &str = "-C target-feature=+atomics,+bulk-memory,+mutable-globals \
    -C link-arg=--shared-memory -C link-arg=--import-memory -C link-arg=--max-memory=1073741824 \
    -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
    -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base";

/// Which toolchain builds the threaded engine.
#[derive(Clone, Copy, PartialEq)]
pub enum Threaded {
    Nightly,
    /// Stable with `RUSTC_BOOTSTRAP=1` (nightly missing).
    Bootstrap,
}

/// Adds what the builds need when it is missing; says exactly what when it cannot.
pub fn ensure_toolchains() -> Result<Threaded> {
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

/// The lab's UI module, set aside at `lab_wasm`, then the lesson's (the same crate with the
/// lesson mounted instead of the lab).
fn build_ui(root: &Path, lab_wasm: &Path, rel: &dyn Fn(&str, &str, &str) -> PathBuf) -> Result<()> {
    eprintln!("xtask: building the UI (stable)");
    run(cargo_wasm(
        "stable",
        "gil-lab-web",
        "target/web-ui",
        UI_PROFILE,
        &[],
    ))?;
    // Both builds leave their module at the same path, so the lab's is set aside first.
    // (wasm-bindgen names its output after the input file: keep the name, change the folder.)
    std::fs::create_dir_all(root.join("target/web-ui/lab"))?;
    std::fs::copy(rel("target/web-ui", UI_PROFILE, "gil_lab_web"), lab_wasm)
        .context("could not set the lab's UI module aside")?;
    eprintln!("xtask: building the lesson's UI (stable)");
    run(cargo_wasm(
        "stable",
        "gil-lab-web",
        "target/web-ui",
        UI_PROFILE,
        &["--features", "lesson-page"],
    ))
}

/// The plain engine, then (unless skipped) the threaded one; quiet, saying when each is done.
fn build_engines(mode: Threaded, skip_threaded: bool, started: Instant) -> Result<()> {
    eprintln!("xtask: building the plain engine (stable), beside the UI");
    // Quiet: cargo still prints errors, and `run` names the build that failed.
    run(cargo_wasm(
        "stable",
        "gil-lab-engine",
        "target/web-engine",
        ENGINE_PROFILE,
        &["--quiet"],
    ))?;
    eprintln!(
        "xtask: the plain engine is built ({} s in)",
        started.elapsed().as_secs()
    );
    if skip_threaded {
        return Ok(());
    }
    eprintln!("xtask: building the threaded engine (build-std, atomics), beside the UI");
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
        &[
            "--quiet",
            "--features",
            "threads",
            "-Z",
            "build-std=panic_abort,std",
        ],
    );
    c.env(
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
        THREADED_RUSTFLAGS,
    );
    if mode == Threaded::Bootstrap {
        c.env("RUSTC_BOOTSTRAP", "1");
    }
    run(c)?;
    eprintln!(
        "xtask: the threaded engine is built ({} s in)",
        started.elapsed().as_secs()
    );
    Ok(())
}

/// What wasm-bindgen-rayon's worker helper calls in every pool thread, and what it should: the
/// positional form makes each thread log "using deprecated parameters for the initialization
/// function" (about a dozen console warnings per visit, issue 14).
const RAYON_INIT_OLD: &str = "await pkg.default(data.module, data.memory);";
const RAYON_INIT_NEW: &str =
    "await pkg.default({ module_or_path: data.module, memory: data.memory });";

/// How wasm-bindgen-rayon's helper starts each pool thread: a worker of the worker it runs in.
const RAYON_SPAWN_OLD: &str =
    "      let scriptBlob = await fetch(import.meta.url).then(r => r.blob());
      let url = URL.createObjectURL(scriptBlob);
      const worker = new Worker(url, {
        type: 'module'
      });";
/// What it does instead: asks the page to start it (`gilLabStartWorker`, set by js/host.js;
/// js/lanes.js says why: Firefox can hang in `new Worker()` inside a worker). The helper is the
/// lab's own, same-origin file, so its URL needs no blob copy.
const RAYON_SPAWN_NEW: &str = "      const url = import.meta.url;
      const worker = globalThis.gilLabStartWorker
        ? globalThis.gilLabStartWorker(url)
        : new Worker(url, { type: 'module' });";
const RAYON_REVOKE_OLD: &str = "      URL.revokeObjectURL(url);\n";

/// Rewrites wasm-bindgen-rayon's helper under `snippets`: the pool threads' init call to the
/// object form, and their start to one the page makes. A helper with neither form of each
/// fails the build: the crate changed, look again.
fn modern_rayon_init(snippets: &Path) -> Result<()> {
    let mut helpers = Vec::new();
    let mut stack = vec![snippets.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("workerHelpers") && n.ends_with(".js"))
            {
                helpers.push(path);
            }
        }
    }
    if helpers.is_empty() {
        bail!(
            "no wasm-bindgen-rayon worker helper under {}",
            snippets.display()
        );
    }
    for path in helpers {
        // The crate ships it with CRLF line ends; the patterns are written with LF.
        let mut text = std::fs::read_to_string(&path)?.replace("\r\n", "\n");
        for (old, new) in [
            (RAYON_INIT_OLD, RAYON_INIT_NEW),
            (RAYON_SPAWN_OLD, RAYON_SPAWN_NEW),
        ] {
            if text.contains(old) {
                text = text.replace(old, new);
            } else if !text.contains(new) {
                bail!(
                    "{} no longer has `{old}`: check how its pool threads start",
                    path.display()
                );
            }
        }
        text = text.replace(RAYON_REVOKE_OLD, "");
        std::fs::write(&path, text)?;
    }
    Ok(())
}

pub fn build(skip_threaded: bool) -> Result<()> {
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
    let lab_wasm = root.join("target/web-ui/lab/gil_lab_web.wasm");

    // The UI modules and the engines build at the same time, in target folders of their own:
    // each ends in a fat-LTO link that uses one core for a minute, so one build's link overlaps
    // the other's compiling (a newcomer's first `serve` waits for the slower of the two). The
    // engines' cargo stays quiet so that one progress bar is shown; each says when it is done.
    let started = Instant::now();
    let (ui, engines) = std::thread::scope(|scope| {
        let engines = scope.spawn(|| build_engines(mode, skip_threaded, started));
        let ui = build_ui(&root, &lab_wasm, &rel);
        let engines = engines
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the engine build panicked")));
        (ui, engines)
    });
    ui?;
    engines?;

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
        modern_rayon_init(&dist.join("engine/threaded/snippets"))?;
    }
    use wasm_opt::Goal;
    let modules: Vec<(&str, Goal)> = [
        ("pkg/gil_lab_web_bg.wasm", Goal::Size),
        ("lesson/pkg/gil_lab_web_bg.wasm", Goal::Size),
        ("engine/plain/gil_lab_engine_bg.wasm", Goal::Speed),
        ("engine/threaded/gil_lab_engine_bg.wasm", Goal::Speed),
    ]
    .into_iter()
    .filter(|(wasm, _)| dist.join(wasm).exists())
    .collect();
    eprintln!("xtask: wasm-opt on {} modules at once", modules.len());
    // One node process each, side by side: each is single-threaded, and a cold build has all
    // four to do.
    std::thread::scope(|scope| {
        let jobs: Vec<_> = modules
            .iter()
            .map(|(wasm, goal)| {
                let (p, bin) = (dist.join(wasm), &wasm_opt);
                scope.spawn(move || wasm_opt::optimise(bin, &p, *goal))
            })
            .collect();
        jobs.into_iter().try_for_each(|j| {
            j.join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("a wasm-opt thread panicked")))
        })
    })?;
    assets::write_static(&root, &dist)?;
    compress::precompress(&dist)?;
    sizes::report_and_check(&dist)?;
    eprintln!("xtask: dist/ is ready ({})", dist.display());
    Ok(())
}
