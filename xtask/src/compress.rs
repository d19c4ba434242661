//! Precompressed copies of `dist/`'s text and wasm files (`x.wasm.br`, `x.wasm.gz`) at the
//! strongest settings, so `gil-lab serve` sends them as they are instead of compressing every
//! request at a fast setting, and so the size budget measures what a visitor downloads.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// What is worth compressing (images are already incompressible).
const KINDS: [&str; 6] = ["wasm", "js", "html", "css", "svg", "json"];

/// Gzip at level 9, as a static host or `gil-lab serve` would send it.
pub fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes)?;
    Ok(e.finish()?)
}

/// Brotli at quality 11 with a 4 MiB window (every module fits in it).
pub fn brotli(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
        w.write_all(bytes)?;
    }
    Ok(out)
}

/// Writes `.gz` and `.br` beside every compressible file under `dir`.
pub fn precompress(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let p = entry.path();
        if entry.file_type()?.is_dir() {
            precompress(&p)?;
            continue;
        }
        if !p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| KINDS.contains(&e))
        {
            continue;
        }
        let bytes = std::fs::read(&p)?;
        let name = p.as_os_str().to_owned();
        for (ext, packed) in [(".gz", gzip(&bytes)?), (".br", brotli(&bytes)?)] {
            let mut out = name.clone();
            out.push(ext);
            std::fs::write(&out, packed)
                .with_context(|| format!("could not write {}", Path::new(&out).display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_encodings_decode_to_the_file() {
        use std::io::Read;
        let text = "sum(i**i for i in range(n)) ".repeat(500).into_bytes();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gzip(&text).expect("gzip")[..])
            .read_to_end(&mut back)
            .expect("gunzip");
        assert_eq!(back, text);
        let mut back = Vec::new();
        brotli::Decompressor::new(&brotli(&text).expect("br")[..], 4096)
            .read_to_end(&mut back)
            .expect("unbrotli");
        assert_eq!(back, text);
        assert!(brotli(&text).expect("br").len() < text.len() / 10);
    }
}
