//! Output paths and standard output (issue 11): a device or a named pipe is written in place,
//! never renamed over; `/dev/stdout` writes the descriptor we were given; a folder is refused
//! before any work; a closed standard output is an error; a reader that goes away (`| head`)
//! is a clean end, and the files asked for are written whatever happens to the terminal.
//!
//! Devices are made with mknod in a temporary folder (never the real `/dev`): a test that
//! failed must not replace the machine's `/dev/null`. Without the right to mknod (not root)
//! those checks are skipped, and say so.

use std::ffi::CString;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use gil_lab::trace::RunReport;

use crate::util::{bin, stderr, wait_exit};

const QUICK: &[&str] = &["run", "cpu-threads", "--n", "300", "--quiet"];

fn c_path(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).expect("no NUL")
}

/// A character device like `/dev/null` (1, 3) or `/dev/full` (1, 7) at `path`, if allowed.
fn char_device(path: &Path, minor: u32) -> bool {
    let dev = libc::makedev(1, minor);
    // SAFETY: a valid path string and plain integers.
    let made = unsafe { libc::mknod(c_path(path).as_ptr(), libc::S_IFCHR | 0o666, dev) } == 0;
    // The folder may be on a `nodev` mount: the node exists but cannot be opened.
    made && std::fs::OpenOptions::new().write(true).open(path).is_ok()
}

fn is_char_device(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_char_device())
}

fn run_with(args: &[&str], extra: &[&Path]) -> Output {
    bin()
        .args(args)
        .args(extra)
        .output()
        .expect("gil-lab starts")
}

#[test]
fn devices_stay_devices() {
    let dir = tempfile::tempdir().expect("temp dir");
    let null = dir.path().join("null");
    let full = dir.path().join("full");
    if !char_device(&null, 3) || !char_device(&full, 7) {
        eprintln!("skipped: cannot make device nodes here (not root, or a nodev mount)");
        return;
    }
    for flag in ["--json", "--svg", "--html", "--trace"] {
        let mut args = QUICK.to_vec();
        args.push(flag);
        let out = run_with(&args, &[&null]);
        assert!(out.status.success(), "{flag} null: {}", stderr(&out));
        assert!(is_char_device(&null), "{flag} replaced the null device");

        let out = run_with(&args, &[&full]);
        assert!(
            !out.status.success(),
            "{flag} full: exit 0 although nothing was written"
        );
        assert!(
            stderr(&out).contains("No space left"),
            "{flag}: {}",
            stderr(&out)
        );
        assert!(is_char_device(&full), "{flag} replaced the full device");
    }
    let out = run_with(
        &["simulate", "cpu-threads", "--n", "300", "--json"],
        &[&full],
    );
    assert!(
        !out.status.success(),
        "simulate --json full: {}",
        stderr(&out)
    );
    assert!(is_char_device(&full), "simulate replaced the full device");
    let out = run_with(&["calibrate", "--out"], &[&null]);
    assert!(
        out.status.success(),
        "calibrate --out null: {}",
        stderr(&out)
    );
    assert!(is_char_device(&null), "calibrate replaced the null device");
}

#[test]
fn a_named_pipe_reaches_its_reader() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("report.fifo");
    // SAFETY: a valid path string.
    assert_eq!(
        unsafe { libc::mkfifo(c_path(&fifo).as_ptr(), 0o600) },
        0,
        "mkfifo"
    );
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let _ = tx.send(std::fs::read_to_string(fifo).unwrap_or_default());
        });
    }
    let mut args = QUICK.to_vec();
    args.push("--json");
    let out = run_with(&args, &[&fifo]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = rx
        .recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| {
            // The report went elsewhere: end the reader's wait (a writer that opens and closes)
            // so the test fails instead of hanging.
            use std::os::unix::fs::OpenOptionsExt as _;
            let _ = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&fifo);
            String::new()
        });
    RunReport::from_json(&text).expect("the reader got a whole report");
    let kind = std::fs::symlink_metadata(&fifo)
        .expect("still there")
        .file_type();
    assert!(kind.is_fifo(), "the pipe was replaced by {kind:?}");
}

/// `/dev/stdout` (here a link of our own to `/proc/self/fd/1`, the same thing, so a failing
/// test cannot replace the real one) writes what we were given as standard output, after the
/// chart, and leaves the link alone.
#[test]
fn dev_stdout_writes_standard_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let link = dir.path().join("stdout");
    std::os::unix::fs::symlink("/proc/self/fd/1", &link).expect("link");
    let mut args = QUICK.to_vec();
    args.push("--json");
    let out = run_with(&args, &[&link]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let json = text
        .find("{\n")
        .map(|i| &text[i..])
        .expect("JSON on standard output");
    RunReport::from_json(json).expect("a whole report after the chart");
    assert!(
        text.starts_with("cpu-threads"),
        "the chart comes first: {text:.80}"
    );
    let still = std::fs::symlink_metadata(&link).expect("link").file_type();
    assert!(still.is_symlink(), "the link was replaced by {still:?}");
}

/// A folder, or a folder that does not exist, is refused before any work: nothing is drawn,
/// nothing measured.
#[test]
fn a_folder_is_refused_before_work() {
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = dir.path().to_path_buf();
    let missing: PathBuf = dir.path().join("no/such/r.json");
    for (flag, path) in [
        ("--json", &folder),
        ("--svg", &folder),
        ("--json", &missing),
    ] {
        let args = ["run", "cpu-processes", "--n", "30000", flag];
        let out = run_with(&args, &[path]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{flag} {path:?}: {}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty(), "{flag} {path:?}: it ran first");
    }
    let out = run_with(&["calibrate", "--out"], &[&folder]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("calibrating"),
        "calibrate measured first: {}",
        stderr(&out)
    );
}

/// `--json -` with standard output closed (`>&-`) is an error, not a silent loss.
#[test]
fn a_closed_stdout_is_an_error() {
    let out = Command::new("sh")
        .arg("-c")
        .arg(r#""$0" run cpu-threads --n 300 --quiet --json - >&-"#)
        .arg(bin().get_program())
        .output()
        .expect("sh starts");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("standard output is closed"),
        "{}",
        stderr(&out)
    );
}

/// A pipe whose reading end is already closed: every write to it is a broken pipe, however
/// fast the child is (what `| head -1` becomes once head has its line).
fn broken_pipe() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) returns.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    // SAFETY: both descriptors were just created and are owned by nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    Stdio::from(write)
}

#[test]
fn a_reader_that_goes_away_is_a_clean_end() {
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("r.json");
    let json_arg = json.to_str().expect("utf-8");
    let mut with_file = QUICK.to_vec();
    with_file.extend(["--json", json_arg]);
    let mut to_stdout = QUICK.to_vec();
    to_stdout.extend(["--json", "-"]);
    for args in [vec!["list"], with_file, to_stdout] {
        let out = bin()
            .args(&args)
            .stdout(broken_pipe())
            .output()
            .expect("gil-lab starts");
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
    }
    // The report asked for was written although the chart could not be.
    RunReport::from_json(&std::fs::read_to_string(&json).expect("written")).expect("whole");

    // The image server keeps serving when its URL list finds no reader, and stops on Ctrl-C.
    let mut images = bin()
        .args(["images", "--port", "0"])
        .stdout(broken_pipe())
        .stderr(Stdio::piped())
        .spawn()
        .expect("images starts");
    let mut err = images.stderr.take().expect("stderr");
    let mut first = [0u8; 8];
    err.read_exact(&mut first).expect("it says it is serving");
    assert_eq!(&first, b"serving ");
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(images.id() as libc::pid_t, libc::SIGINT);
    }
    let code = wait_exit(&mut images, Duration::from_secs(20));
    let mut rest = String::new();
    let _ = err.read_to_string(&mut rest);
    assert!(!rest.contains("panicked"), "{rest}");
    assert_eq!(code, Some(0), "images: {rest}");
}
