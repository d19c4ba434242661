//! Ctrl-C for `run` and `bench`, and the worker processes a press must never leave behind.
//!
//! A terminal's Ctrl-C reaches the whole foreground process group, children included. Worker
//! processes ignore it ([`crate::worker`]) and stop when their parent tells them to, so the
//! parent decides what a press means:
//! 1. the first press sets [`run_flag`]: lanes finish their current step, every worker
//!    process is sent `stop` (and killed if it has not ended within a grace period), and the
//!    report of what ran so far is drawn and written as usual, with a "Stopped early" note;
//! 2. the second kills every worker process at once; the report is still written;
//! 3. any further press kills them again: the report is still written, and quickly (every
//!    wait in a run watches the stop flag), so there is never a reason to quit without it.
//!
//! `serve` and `images` do not use this: one press stops them (see [`crate::http`]).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

/// Set by the first Ctrl-C: the run in progress stops after its current steps.
static RUN_STOP: LazyLock<Arc<AtomicBool>> = LazyLock::new(|| Arc::new(AtomicBool::new(false)));
/// Ctrl-C presses so far.
static PRESSES: AtomicU32 = AtomicU32::new(0);
/// Worker processes started and not yet waited for.
static CHILDREN: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

/// The stop flag of the command-line run (shared with its downloads and worker processes).
pub fn run_flag() -> Arc<AtomicBool> {
    RUN_STOP.clone()
}

/// Whether Ctrl-C was pressed twice or more (worker processes were killed).
pub fn forced() -> bool {
    PRESSES.load(Ordering::Relaxed) >= 2
}

fn children() -> std::sync::MutexGuard<'static, BTreeSet<u32>> {
    CHILDREN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Remembers a started worker process, so a second Ctrl-C can kill it.
pub fn register_child(pid: u32) {
    children().insert(pid);
}

/// Forgets a worker process; call before waiting for it, so its pid is never killed after
/// the system may have reused it.
pub fn forget_child(pid: u32) {
    children().remove(&pid);
}

/// Sends SIGKILL to one process (a worker that ignored `stop` for too long).
pub fn kill(pid: u32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill(2) has no memory-safety preconditions; the pid is a child we started and
    // have not waited for, so it cannot belong to another process yet.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}

/// Kills every worker process still registered.
pub fn kill_children() {
    for pid in children().iter() {
        kill(*pid);
    }
}

/// Installs the Ctrl-C handler of `run` and `bench`.
pub fn install() {
    let result = ctrlc::set_handler(|| {
        let presses = PRESSES.fetch_add(1, Ordering::Relaxed) + 1;
        RUN_STOP.store(true, Ordering::Relaxed);
        match presses {
            1 => say!(
                "\nstopping after the current steps; the report so far will be written (Ctrl-C again kills the worker processes)…"
            ),
            _ => {
                say!("\nkilling the worker processes; writing the report…");
                kill_children();
            }
        }
    });
    if let Err(e) = result {
        say!("warning: Ctrl-C cannot be handled ({e}); it will end gil-lab at once");
    }
}
