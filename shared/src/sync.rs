//! Small helpers for the real locks the native and shared-memory drivers use.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks a mutex, carrying on with the data if another thread panicked while holding it: a
/// trace with a panicked lane is still worth showing.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
