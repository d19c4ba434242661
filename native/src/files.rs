//! Output files the user names (`--json`, `--svg`, `--html`, `--trace`, `calibrate --out`),
//! written the way the target calls for:
//!
//! - a regular file, or a path that does not exist yet, is written whole or not at all: a
//!   temporary file beside it, renamed over it once complete, so a failure or a Ctrl-C never
//!   leaves half a report (or half a cache). A symbolic link to a regular file keeps the link:
//!   the file it points at is replaced;
//! - anything else — `/dev/null`, `/dev/full`, a terminal, a named pipe, `/dev/stdout` — is
//!   opened and written directly. Renaming over those would put a regular file where the
//!   device was (as root that replaced the machine's `/dev/null`, issue 11) or never reach the
//!   pipe's reader; `/dev/stdout` and `/dev/fd/N` write to the descriptor already open, so
//!   they append after the chart rather than overwriting it;
//! - a folder is refused, and [`check_output`] refuses what cannot be written before any
//!   work starts (a run or a calibration may take minutes).
//!
//! `-` is standard output ([`write_stdout`]); a closed standard output is an error, never a
//! silent loss.

use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::{Path, PathBuf};

use crate::error::UsageError;

/// How a named output is written.
#[derive(Debug, PartialEq)]
enum Target {
    /// Temporary file + rename, at this path (the link's target for a symbolic link).
    Replace(PathBuf),
    /// Opened and written in place: a device, a pipe, a socket.
    Direct(PathBuf),
    /// A descriptor this process already has open (`/dev/stdout`, `/dev/fd/N`).
    Descriptor(i32),
    /// A folder: never an output.
    Folder,
}

/// The descriptor a `/proc/self/fd/N` or `/dev/fd/N` link names.
fn descriptor_link(link: &Path) -> Option<i32> {
    let rest = link
        .strip_prefix("/proc/self/fd")
        .or_else(|_| link.strip_prefix("/dev/fd"))
        .ok()?;
    rest.to_str()?.parse().ok()
}

/// Follows `path`'s symbolic links far enough to know how to write it.
fn classify(path: &Path) -> std::io::Result<Target> {
    let mut at = path.to_path_buf();
    // /dev/stdout → /proc/self/fd/1 → (the terminal, a pipe, a file): the second step names
    // a descriptor we hold, which is what the user meant.
    for _ in 0..16 {
        if let Some(fd) = descriptor_link(&at) {
            return Ok(Target::Descriptor(fd));
        }
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                let next = std::fs::read_link(&at)?;
                at = match at.parent() {
                    Some(dir) if next.is_relative() => dir.join(next),
                    _ => next,
                };
            }
            Ok(m) if m.is_dir() => return Ok(Target::Folder),
            Ok(m) if m.is_file() => return Ok(Target::Replace(at)),
            Ok(_) => return Ok(Target::Direct(at)),
            // A new file (or a link to one): created by the rename.
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Target::Replace(at)),
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    // A new report gets the mode any new file would (0666 less the umask), a replaced one
    // keeps its own; a temporary file's private 0600 would otherwise become the report's.
    let mode = std::fs::metadata(path).map_or(0o666, |m| m.permissions().mode() & 0o7777);
    let mut tmp = tempfile::Builder::new()
        .prefix(".gil-lab-")
        .permissions(std::fs::Permissions::from_mode(mode))
        .tempfile_in(folder_of(path))?;
    tmp.write_all(bytes)?;
    tmp.flush()?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Whether this process may write `path` (access(2) with `W_OK`), without opening it.
fn may_write(path: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt as _;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from(ErrorKind::InvalidInput))?;
    // SAFETY: `c` is a valid NUL-terminated string for the duration of the call.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Whether standard output was open when the process started. Rust's start-up code reopens
/// a closed standard output on `/dev/null` before `main` (so that no later file takes its
/// number), which would make `--json -` with `>&-` vanish without a word; this runs earlier,
/// from the ELF initialisers, and remembers what the parent gave us.
static STDOUT_GIVEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

extern "C" fn note_stdout() {
    STDOUT_GIVEN.store(is_open(1), std::sync::atomic::Ordering::Relaxed);
}

#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static NOTE_STDOUT: extern "C" fn() = note_stdout;

/// Whether descriptor `fd` is open in this process.
fn is_open(fd: i32) -> bool {
    // SAFETY: F_GETFD only reads the descriptor's flags; any integer is a valid argument.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

/// Writes all of `bytes` to an open descriptor we do not own.
fn write_descriptor(fd: i32, bytes: &[u8]) -> std::io::Result<()> {
    if !is_open(fd) {
        return Err(std::io::Error::from_raw_os_error(libc::EBADF));
    }
    if fd == 1 {
        // Through std's handle, so what was printed before (the chart) is flushed first.
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)?;
        return out.flush();
    }
    // SAFETY: the descriptor was just checked to be open, and it stays open for this call:
    // nothing in this process closes a descriptor it did not open.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    let mut file = std::fs::File::from(fd.try_clone_to_owned()?);
    file.write_all(bytes)?;
    file.flush()
}

/// Writes `bytes` to `path` as its kind calls for (see the module's doc).
pub fn write_to(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    match classify(path)? {
        Target::Replace(p) => write_atomic(&p, bytes),
        Target::Direct(p) => {
            // No truncation, no creation: a device or a pipe is written as it is.
            let mut f = OpenOptions::new().write(true).open(&p)?;
            f.write_all(bytes)?;
            f.flush()
        }
        Target::Descriptor(fd) => write_descriptor(fd, bytes),
        Target::Folder => Err(std::io::Error::new(ErrorKind::IsADirectory, "is a folder")),
    }
}

/// [`write_to`] for a file the user named with `--flag`: failures are usage errors naming
/// the flag.
pub fn write_output(flag: &str, path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_to(path, bytes).map_err(|e| {
        UsageError(format!(
            "{flag} = {}: cannot write it ({e})",
            path.display()
        ))
        .into()
    })
}

/// Writes `bytes` to standard output (`--json -`), or says why it cannot. A reader that went
/// away (`| head -c 10`) is a broken pipe, which the binary treats as a clean end
/// ([`crate::quiet_end`]).
pub fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    write_descriptor(1, bytes).map_err(|e| {
        if e.kind() == ErrorKind::BrokenPipe {
            anyhow::Error::new(e)
        } else {
            UsageError(format!("json = -: cannot write to standard output ({e})")).into()
        }
    })
}

/// Refuses standard output as a destination when it is closed (`>&-`): std would drop what
/// is written there without a word.
pub fn check_stdout(flag: &str) -> anyhow::Result<()> {
    if STDOUT_GIVEN.load(std::sync::atomic::Ordering::Relaxed)
        && is_open(std::io::stdout().as_raw_fd())
    {
        Ok(())
    } else {
        crate::error::usage(format!(
            "{flag} = -: standard output is closed; allowed: an open standard output, or a file path"
        ))
    }
}

/// Refuses an output path that cannot be written, before any work is spent on it: a folder,
/// a missing folder, a folder or device we may not write, a closed descriptor.
pub fn check_output(flag: &str, path: &Path) -> anyhow::Result<()> {
    let refuse = |why: String| crate::error::usage(format!("{flag} = {}: {why}", path.display()));
    match classify(path) {
        Err(e) => refuse(format!("cannot use it ({e})")),
        Ok(Target::Folder) => refuse("is a folder; allowed: a file path".into()),
        Ok(Target::Descriptor(fd)) if !is_open(fd) => refuse(format!(
            "descriptor {fd} is closed; allowed: an open one, or a file path"
        )),
        Ok(Target::Descriptor(_)) => Ok(()),
        // Not opened: opening a named pipe would wait for a reader, and closing it again
        // would end the reader's input before the report is written.
        Ok(Target::Direct(p)) => match may_write(&p) {
            Ok(()) => Ok(()),
            Err(e) => refuse(format!("cannot write it ({e})")),
        },
        Ok(Target::Replace(p)) => {
            let dir = folder_of(&p);
            if !dir.is_dir() {
                return refuse(format!("folder {} does not exist", dir.display()));
            }
            match tempfile::Builder::new()
                .prefix(".gil-lab-")
                .tempfile_in(dir)
            {
                Ok(_) => Ok(()),
                Err(e) => refuse(format!("folder {} is not writable ({e})", dir.display())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().expect("temp dir");
        let p = dir.path().join("r.json");
        write_to(&p, b"first").expect("write");
        write_to(&p, b"second").expect("write again");
        assert_eq!(std::fs::read(&p).expect("read"), b"second");
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
        assert!(write_to(&dir.path().join("missing/r.json"), b"x").is_err());
    }

    #[test]
    fn a_link_to_a_file_stays_a_link() {
        let dir = tempfile::tempdir().expect("temp dir");
        let real = dir.path().join("real.json");
        let link = dir.path().join("link.json");
        std::fs::write(&real, b"old").expect("write");
        std::os::unix::fs::symlink("real.json", &link).expect("link");
        write_to(&link, b"new").expect("write through the link");
        assert!(
            std::fs::symlink_metadata(&link)
                .expect("meta")
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&real).expect("read"), b"new");
    }

    /// Devices and pipes are written in place, never renamed over (issue 11).
    #[test]
    fn devices_and_descriptors_are_written_in_place() {
        assert_eq!(
            classify(Path::new("/dev/null")).expect("classify"),
            Target::Direct("/dev/null".into())
        );
        assert_eq!(
            classify(Path::new("/dev/stdout")).expect("classify"),
            Target::Descriptor(1)
        );
        assert_eq!(
            classify(Path::new("/dev/fd/2")).expect("classify"),
            Target::Descriptor(2)
        );
        assert_eq!(classify(Path::new("/")).expect("classify"), Target::Folder);
        write_to(Path::new("/dev/null"), b"gone").expect("write /dev/null");
        let full = write_to(Path::new("/dev/full"), b"no room").expect_err("/dev/full is full");
        assert_eq!(full.raw_os_error(), Some(libc::ENOSPC));
        assert!(check_output("json", Path::new("/")).is_err());
        assert!(check_output("json", Path::new("/no/such/folder/r.json")).is_err());
    }
}
