//! wasm-opt on every web build: npm's binaryen 132, pinned by `xtask/binaryen/package-lock.json`
//! and installed there with `npm ci` the first time a build needs it. Debian's binaryen 108
//! produces modules that fail at load, so it is never used, and a build never goes on
//! unoptimised: the page a newcomer serves is the page the tests measure.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::{clean, output, root, run};

/// How hard to optimise, and for what.
#[derive(Clone, Copy)]
pub enum Goal {
    /// The UI modules, downloaded before the first Run.
    Size,
    /// The engines: their kernel is the benchmark.
    Speed,
}

/// The wasm features the modules are built with (wasm-opt refuses what it was not told of).
const FEATURES: [&str; 7] = [
    "--enable-bulk-memory",
    "--enable-threads",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-reference-types",
    "--enable-multivalue",
];

fn has(program: &str) -> bool {
    output({
        let mut c = clean(program);
        c.arg("--version");
        c
    })
    .is_some()
}

/// The wasm-opt script, installed with `npm ci` when missing (and node with apt where there is
/// none and apt can install it). Fails with what to do when it cannot.
pub fn ensure() -> Result<PathBuf> {
    let dir = root().join("xtask/binaryen");
    let bin = dir.join("node_modules/binaryen/bin/wasm-opt");
    if bin.exists() && has("node") {
        return Ok(bin);
    }
    if !has("node") || !has("npm") {
        if !has("apt-get") {
            bail!("wasm-opt needs Node.js and npm: install them (Node 18 or later), then rerun");
        }
        eprintln!("xtask: installing Node.js and npm (apt) for wasm-opt");
        let mut c = clean("bash");
        c.args([
            "-c",
            "apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null",
        ]);
        run(c).context("apt could not install nodejs and npm; install them, then rerun")?;
    }
    eprintln!("xtask: installing wasm-opt (npm ci in xtask/binaryen, binaryen 132)");
    let mut c = clean("npm");
    c.args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir);
    run(c).context(
        "npm ci could not install binaryen for wasm-opt (is the npm registry reachable?)",
    )?;
    if !bin.exists() {
        bail!("npm ci ran but {} is missing", bin.display());
    }
    Ok(bin)
}

/// Optimises `file` in place. An error fails the build: an unoptimised page is not shipped.
///
/// wasm-opt takes most of a rebuild that changed no module (node-hosted binaryen, ~10-40 s per
/// module), so its output is kept in `target/wasm-opt/`, keyed by the input's bytes and the
/// level, and reused when the same module comes again.
pub fn optimise(bin: &Path, file: &Path, goal: Goal) -> Result<()> {
    let level = match goal {
        Goal::Size => "-Oz",
        Goal::Speed => "-O2",
    };
    let input =
        std::fs::read(file).with_context(|| format!("could not read {}", file.display()))?;
    let cache = root().join("target/wasm-opt");
    let kept = cache.join(format!("{}.wasm", key(&input, level)));
    if let Ok(done) = std::fs::read(&kept) {
        return std::fs::write(file, done)
            .with_context(|| format!("could not write {}", file.display()));
    }
    let mut c = clean("node");
    c.arg(bin)
        .arg(file)
        .arg(level)
        .args(FEATURES)
        .arg("-o")
        .arg(file);
    run(c).with_context(|| format!("wasm-opt failed on {}", file.display()))?;
    // Only a finished output is kept (written aside, then renamed into place).
    std::fs::create_dir_all(&cache)?;
    let part = kept.with_extension("part");
    std::fs::copy(file, &part)?;
    std::fs::rename(&part, &kept)?;
    Ok(())
}

/// The cache key of a module at a level: its length and two independent 64-bit hashes of its
/// bytes (SipHash, deterministic for a given toolchain, as `target/` itself is).
fn key(input: &[u8], level: &str) -> String {
    use std::hash::{Hash, Hasher};
    let hash = |salt: u64| {
        let mut h = std::hash::DefaultHasher::new();
        salt.hash(&mut h);
        level.hash(&mut h);
        FEATURES.hash(&mut h);
        input.hash(&mut h);
        h.finish()
    };
    format!("{}-{:016x}{:016x}", input.len(), hash(1), hash(2))
}
