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

/// The run was stopped by Ctrl-C: what ran is reported and written, and the exit status is
/// 130, as for any command a Ctrl-C ended.
#[derive(Debug, thiserror::Error)]
#[error("stopped early (Ctrl-C); the report of what ran is written")]
pub struct Interrupted;
