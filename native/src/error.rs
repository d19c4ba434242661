//! The one error the binary treats specially: bad input, which exits with status 2 after a
//! one-line message (clap's convention for usage errors).

/// Input the user can fix: a value out of range, an unknown name, an unwritable folder, a URL
/// that fails.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Shorthand for returning a [`UsageError`].
pub fn usage<T>(msg: impl Into<String>) -> anyhow::Result<T> {
    Err(UsageError(msg.into()).into())
}

/// The run was stopped by Ctrl-C, SIGTERM or SIGHUP: what ran is reported and written, and
/// the exit status is 128 + the signal's number (130, 143, 129), as for any command that
/// signal ended (see [`crate::stop::first_signal`]).
#[derive(Debug, thiserror::Error)]
#[error("stopped early ({}); the report of what ran is written", crate::stop::first_signal().0)]
pub struct Interrupted;

/// The error of a command stopped by a signal once its outputs were delivered: a file that
/// could not be written is what the user must hear of; otherwise (the chart's reader gone,
/// or all well) the signal decides the exit status.
pub fn stopped_after(delivered: anyhow::Result<()>) -> anyhow::Error {
    match delivered {
        Err(e) if !crate::quiet_end(&e) => e,
        _ => Interrupted.into(),
    }
}
