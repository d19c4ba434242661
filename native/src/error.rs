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
