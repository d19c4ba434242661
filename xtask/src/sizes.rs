//! What a visitor downloads, and the budget it must fit: the first load of the lab and of the
//! lesson (everything fetched before the first Run), and each engine (fetched on the first
//! Run). Sizes are gzip at level 9, what any static host sends; `gil-lab serve` sends the
//! smaller brotli files. Sizes are deterministic for a given toolchain, so the build itself is
//! the test: it fails when a page goes over its budget.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// A page, what it fetches before its first Run, and its budget in gzip bytes.
struct Load {
    name: &'static str,
    files: &'static [&'static str],
    budget: usize,
}

/// Today's budgets: what the build reaches now plus a few per cent, so that growth fails the
/// build. The goal (issue 13) is 250 KB per page and 200 KB per engine. Raised knowingly by
/// 6 KB per page for the run plan in the UI (`runtime::path_for`, the live lanes), the page's
/// Python version and the lesson's "old tutorial" step (+7.9 / +6.1 KB gzip, spread thinly by
/// LTO; `RunPlan::new` itself is 3 KB raw), then by 4 KB per page and 8 KB per engine for
/// the hash demo (its form fields, presets and Python; the engines carry a real SHA-256,
/// `sha2`, +8.1 KB gzip in the plain engine), then the lesson by 3 KB for `js/lanes.js` (the
/// page starts lane workers: Firefox hung starting them in a worker) and the live picture's
/// merged bars and shared compare axis (+3.2 KB gzip; the lab +0.2).
const LOADS: [Load; 4] = [
    Load {
        name: "the lab's first load",
        files: &[
            "index.html",
            "js/embed.js",
            "js/chart-text.js",
            "js/pinch.js",
            "pkg/gil_lab_web.js",
            "pkg/gil_lab_web_bg.wasm",
            "js/host.js",
            "js/io.js",
            "js/lanes.js",
        ],
        budget: 390 * 1024,
    },
    Load {
        name: "the lesson's first load",
        files: &[
            "lesson/index.html",
            "lesson/lesson.css",
            "js/embed.js",
            "js/chart-text.js",
            "js/pinch.js",
            "lesson/pkg/gil_lab_web.js",
            "lesson/pkg/gil_lab_web_bg.wasm",
            "js/host.js",
            "js/io.js",
            "js/lanes.js",
        ],
        budget: 369 * 1024,
    },
    Load {
        name: "the plain engine",
        files: &[
            "engine/plain/gil_lab_engine.js",
            "engine/plain/gil_lab_engine_bg.wasm",
            "js/lane.js",
        ],
        budget: 298 * 1024,
    },
    Load {
        name: "the threaded engine",
        files: &[
            "engine/threaded/gil_lab_engine.js",
            "engine/threaded/gil_lab_engine_bg.wasm",
        ],
        budget: 352 * 1024,
    },
];

/// The size of `file`'s precompressed copy (`compress::precompress` wrote it).
fn packed(dist: &Path, file: &str, ext: &str) -> Result<usize> {
    let p = dist.join(format!("{file}{ext}"));
    let meta = std::fs::metadata(&p)
        .with_context(|| format!("{} is missing: precompress dist/ first", p.display()))?;
    Ok(meta.len() as usize)
}

fn kb(bytes: usize) -> String {
    format!("{:.1} KB", bytes as f64 / 1024.0)
}

/// Prints every load file by file, and fails when one is over its budget. A load whose files
/// are absent (the threaded engine after `build --no-threads`) is skipped.
pub fn report_and_check(dist: &Path) -> Result<()> {
    let mut over = Vec::new();
    for load in &LOADS {
        let mut total = (0, 0, 0);
        let mut missing = Vec::new();
        for f in load.files {
            let Ok(raw) = std::fs::read(dist.join(f)) else {
                missing.push(*f);
                continue;
            };
            let (gz, br) = (packed(dist, f, ".gz")?, packed(dist, f, ".br")?);
            total = (total.0 + raw.len(), total.1 + gz, total.2 + br);
            eprintln!(
                "  {f:<42} {:>9} B  {:>8} B gzip  {:>8} B br",
                raw.len(),
                gz,
                br
            );
        }
        if missing.len() == load.files.len() {
            continue;
        }
        if !missing.is_empty() {
            bail!(
                "{} is incomplete: {} missing from dist/",
                load.name,
                missing.join(", ")
            );
        }
        eprintln!(
            "  = {}: {} gzip ({} br, {} raw); budget {} gzip",
            load.name,
            kb(total.1),
            kb(total.2),
            kb(total.0),
            kb(load.budget)
        );
        if total.1 > load.budget {
            over.push(format!(
                "{} is {} gzip, over its budget of {}",
                load.name,
                kb(total.1),
                kb(load.budget)
            ));
        }
    }
    if !over.is_empty() {
        bail!(
            "the page got heavier: {} (xtask/src/sizes.rs holds the budgets)",
            over.join("; ")
        );
    }
    Ok(())
}
