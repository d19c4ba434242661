//! The static files of `dist/`: the entry pages (the lab's `index.html`, and everything under
//! `frontend/web/static/`, such as the lesson's `lesson/index.html`), the worker scripts, the
//! images the I/O demos download.

use std::path::Path;

use anyhow::{Context, Result};

/// The image files the I/O demos fetch: (name, size). Sizes around the lesson's photos
/// (29.25 MB over 30 downloads of 6 images ≈ 1 MB each).
pub const IMAGES: [(&str, usize); 6] = [
    ("photo-1.jpg", 912_384),
    ("photo-2.jpg", 1_048_576),
    ("photo-3.jpg", 786_432),
    ("photo-4.jpg", 1_212_416),
    ("photo-5.jpg", 983_040),
    ("photo-6.jpg", 1_101_824),
];

/// Copies the entry page and the worker scripts, and writes the images.
pub fn write_static(root: &Path, dist: &Path) -> Result<()> {
    std::fs::create_dir_all(dist.join("js"))?;
    std::fs::copy(root.join("index.html"), dist.join("index.html"))
        .context("index.html is missing at the top of the repository")?;
    for entry in std::fs::read_dir(root.join("frontend/js"))? {
        let p = entry?.path();
        if let Some(name) = p
            .file_name()
            .filter(|_| p.extension().is_some_and(|e| e == "js"))
        {
            std::fs::copy(&p, dist.join("js").join(name))?;
        }
    }
    copy_tree(&root.join("frontend/web/static"), dist)
        .context("could not copy frontend/web/static into dist/")?;
    // GitHub Pages: serve files as they are.
    std::fs::write(dist.join(".nojekyll"), "")?;
    let img = dist.join("img");
    std::fs::create_dir_all(&img)?;
    for (k, (name, size)) in IMAGES.iter().enumerate() {
        std::fs::write(img.join(name), fake_jpeg(*size, k as u64 + 1))?;
    }
    Ok(())
}

/// Copies every file under `from` to the same place under `to` (the lesson's entry page and
/// stylesheet live in `frontend/web/static/lesson/`).
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    if !from.is_dir() {
        return Ok(());
    }
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&dst)?;
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)
                .with_context(|| format!("could not copy {}", src.display()))?;
        }
    }
    Ok(())
}

/// Incompressible bytes with a JPEG start and end marker: what a photo weighs on the wire.
fn fake_jpeg(size: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&[0xFF, 0xD8, 0xFF, 0xE0]);
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while out.len() + 2 < size {
        // xorshift64*
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let v = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        out.extend_from_slice(&v.to_le_bytes()[..8.min(size - 2 - out.len())]);
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}
