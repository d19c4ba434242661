//! `multiprocessing.Value` natively: a counter in a small file mapped `MAP_SHARED` by the parent
//! and every worker process of a run, so their loads and stores meet in the same memory, with a
//! lock word beside it that works across processes (a futex on Linux).
//!
//! Layout of the mapping: bytes 0..8 the value (`AtomicU64`, loaded and stored separately like
//! `counter += 1`, never `fetch_add`), bytes 8..12 the lock (`AtomicU32`: 0 free, 1 taken).

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use anyhow::Context;
use gil_lab::workload::CounterCell;

/// Bytes mapped: one page.
const LEN: usize = 4096;

/// A counter and its lock in memory shared between processes.
pub struct MappedCounter {
    ptr: *mut u8,
    _file: File,
}

// SAFETY: the mapping is only accessed through atomics, which are safe to share between threads
// (and processes); the pointer stays valid until `drop` unmaps it.
unsafe impl Send for MappedCounter {}
// SAFETY: see `Send`: every access is an atomic operation.
unsafe impl Sync for MappedCounter {}

impl MappedCounter {
    /// Creates a fresh, zeroed mapping file (in `/dev/shm` when it exists, so it never touches
    /// a disk) and maps it. Returns the counter and the file's path for the children.
    pub fn create() -> anyhow::Result<(Self, tempfile::TempPath)> {
        let dir: PathBuf = if Path::new("/dev/shm").is_dir() {
            "/dev/shm".into()
        } else {
            std::env::temp_dir()
        };
        let tmp = tempfile::Builder::new()
            .prefix("gil-lab-value-")
            .tempfile_in(&dir)
            .with_context(|| format!("cannot create a shared Value in {}", dir.display()))?;
        tmp.as_file().set_len(LEN as u64)?;
        let path = tmp.into_temp_path();
        let counter = Self::open(&path)?;
        Ok((counter, path))
    }

    /// Maps the file at `path` (made by [`MappedCounter::create`] in the parent).
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .with_context(|| format!("cannot open the shared Value {}", path.display()))?;
        if file.metadata()?.len() < LEN as u64 {
            anyhow::bail!("{} is not a shared Value", path.display());
        }
        // SAFETY: a fresh shared mapping of a file we hold open, at least LEN bytes long.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                LEN,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                std::os::fd::AsRawFd::as_raw_fd(&file),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error())
                .with_context(|| format!("cannot map the shared Value {}", path.display()));
        }
        Ok(Self {
            ptr: ptr.cast(),
            _file: file,
        })
    }

    fn value(&self) -> &AtomicU64 {
        // SAFETY: the mapping is page-aligned and LEN bytes long; AtomicU64 at offset 0 is
        // aligned and in bounds, and only ever accessed atomically.
        unsafe { &*self.ptr.cast::<AtomicU64>() }
    }

    fn lock_word(&self) -> &AtomicU32 {
        // SAFETY: offset 8 is 4-byte aligned and in bounds; only accessed atomically.
        unsafe { &*self.ptr.add(8).cast::<AtomicU32>() }
    }

    /// The value now.
    pub fn get(&self) -> u64 {
        self.value().load(Ordering::SeqCst)
    }
}

impl Drop for MappedCounter {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from mmap with LEN bytes and is unmapped once.
        unsafe {
            libc::munmap(self.ptr.cast(), LEN);
        }
    }
}

/// Sleeps while `word` still reads `expected` (or returns at once if it does not).
fn wait_while(word: &AtomicU32, expected: u32) {
    #[cfg(target_os = "linux")]
    // SAFETY: FUTEX_WAIT on a valid, aligned u32 in memory mapped by this process; not
    // FUTEX_PRIVATE: the word is shared with other processes.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            std::ptr::null::<libc::timespec>(),
        );
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (word, expected);
        std::thread::yield_now();
    }
}

/// Wakes one process sleeping on `word`.
fn wake_one(word: &AtomicU32) {
    #[cfg(target_os = "linux")]
    // SAFETY: FUTEX_WAKE on a valid, aligned, shared u32.
    unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, 1);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = word;
}

impl CounterCell for MappedCounter {
    fn load(&self) -> u64 {
        self.value().load(Ordering::Relaxed)
    }

    fn store(&self, v: u64) {
        self.value().store(v, Ordering::Relaxed);
    }

    fn try_lock(&self) -> bool {
        self.lock_word()
            .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    fn lock(&self) {
        while !self.try_lock() {
            wait_while(self.lock_word(), 1);
        }
    }

    fn unlock(&self) {
        self.lock_word().store(0, Ordering::Release);
        wake_one(self.lock_word());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_mappings_of_one_file_see_each_other() {
        let (a, path) = MappedCounter::create().expect("create");
        let b = MappedCounter::open(&path).expect("open");
        a.store(41);
        assert_eq!(b.load(), 41);
        assert!(a.try_lock());
        assert!(!b.try_lock());
        a.unlock();
        b.lock();
        b.unlock();
    }
}
