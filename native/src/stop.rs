//! Ctrl-C, SIGTERM and SIGHUP for `run`, `bench`, `simulate` and `calibrate`, and the worker
//! processes a signal must never leave behind.
//!
//! A terminal's Ctrl-C (and its hang-up) reaches the whole foreground process group, children
//! included. Worker processes ignore those signals ([`crate::worker`]) and stop when their
//! parent tells them to, so the parent decides what a signal means:
//! 1. the first one sets [`run_flag`]: lanes finish their current step (a thread holding the
//!    counter's lock gives it back), every worker process is sent `stop` (and killed if it has
//!    not ended within a grace period), and the report of what ran so far is drawn and written
//!    as usual, with a "Stopped early" note; temporary folders are removed on the way out;
//! 2. the second kills every worker process at once; the report is still written;
//! 3. any further one kills them again: the report is still written, and quickly (every wait
//!    in a run watches the stop flag), so there is never a reason to quit without it.
//!
//! The exit status is then 128 + the first signal's number (130 for SIGINT, 143 for SIGTERM,
//! 129 for SIGHUP), as a shell reports a command that signal ended. A `kill` from a service
//! manager therefore gets the same report as a Ctrl-C.
//!
//! `serve` and `images` do not use this: one signal stops them (see [`crate::http`]).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// The signals a run stops on.
pub const STOP_SIGNALS: [i32; 3] = [SIGINT, SIGTERM, SIGHUP];

/// Set by the first signal: the run in progress stops after its current steps.
static RUN_STOP: LazyLock<Arc<AtomicBool>> = LazyLock::new(|| Arc::new(AtomicBool::new(false)));
/// Signals received so far.
static PRESSES: AtomicU32 = AtomicU32::new(0);
/// The first signal received (0: none yet).
static FIRST: AtomicI32 = AtomicI32::new(0);
/// Worker processes started and not yet waited for.
static CHILDREN: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

/// The stop flag of the command-line run (shared with its downloads and worker processes).
pub fn run_flag() -> Arc<AtomicBool> {
    RUN_STOP.clone()
}

/// Whether a stop signal came twice or more (worker processes were killed).
pub fn forced() -> bool {
    PRESSES.load(Ordering::Relaxed) >= 2
}

/// The first stop signal's name and the exit status it calls for (SIGINT's when none came:
/// a run stopped some other way is reported as Ctrl-C always was).
pub fn first_signal() -> (&'static str, u8) {
    match FIRST.load(Ordering::Relaxed) {
        SIGTERM => ("SIGTERM", 143),
        SIGHUP => ("SIGHUP", 129),
        _ => ("Ctrl-C", 130),
    }
}

fn children() -> std::sync::MutexGuard<'static, BTreeSet<u32>> {
    CHILDREN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Remembers a started worker process, so a second signal can kill it.
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

/// What one stop signal does (on the watcher thread, not in a signal handler, so it may
/// lock and print).
fn on_signal(signal: i32) {
    let presses = PRESSES.fetch_add(1, Ordering::Relaxed) + 1;
    let _ = FIRST.compare_exchange(0, signal, Ordering::Relaxed, Ordering::Relaxed);
    RUN_STOP.store(true, Ordering::Relaxed);
    let again = if signal == SIGINT {
        "Ctrl-C"
    } else {
        "a second signal"
    };
    match presses {
        1 => say!(
            "\nstopping after the current steps; the report so far will be written ({again} kills the worker processes)…"
        ),
        _ => {
            say!("\nkilling the worker processes; writing the report…");
            kill_children();
        }
    }
}

/// Installs the stop-signal watcher of `run`, `bench`, `simulate` and `calibrate`.
pub fn install() {
    match signal_hook::iterator::Signals::new(STOP_SIGNALS) {
        Ok(mut signals) => {
            let spawned = std::thread::Builder::new()
                .name("signals".into())
                .spawn(move || {
                    for signal in signals.forever() {
                        on_signal(signal);
                    }
                });
            if let Err(e) = spawned {
                say!("warning: signals cannot be watched ({e}); Ctrl-C will end gil-lab at once");
            }
        }
        Err(e) => {
            say!("warning: signals cannot be handled ({e}); Ctrl-C will end gil-lab at once");
        }
    }
}
