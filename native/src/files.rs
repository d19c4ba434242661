//! Output files written whole or not at all: a temporary file beside the target, renamed over
//! it once complete, so a failure or a Ctrl-C never leaves half a report (or half a cache).

use std::io::Write;
use std::path::Path;

use crate::error::UsageError;

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".gil-lab-")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.flush()?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// [`write_atomic`] for a file the user named with `--flag`: failures are usage errors naming
/// the flag.
pub fn write_output(flag: &str, path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_atomic(path, bytes).map_err(|e| {
        UsageError(format!(
            "{flag} = {}: cannot write it ({e})",
            path.display()
        ))
        .into()
    })
}

/// Refuses an output path whose folder does not exist, before any work is spent on the run.
pub fn check_output(flag: &str, path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        return crate::error::usage(format!(
            "{flag} = {}: folder {} does not exist",
            path.display(),
            dir.display()
        ));
    }
    if path.is_dir() {
        return crate::error::usage(format!(
            "{flag} = {}: is a folder; allowed: a file path",
            path.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().expect("temp dir");
        let p = dir.path().join("r.json");
        write_atomic(&p, b"first").expect("write");
        write_atomic(&p, b"second").expect("write again");
        assert_eq!(std::fs::read(&p).expect("read"), b"second");
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
        assert!(write_atomic(&dir.path().join("missing/r.json"), b"x").is_err());
    }
}
