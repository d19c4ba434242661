//! The hash demo's task: `hashlib.sha256` over a buffer, fed in `update()` calls, as C code
//! that releases the GIL for big updates (CPython's `Modules/hashlib.h`).
//!
//! The buffer is defined, not stored: byte `i` is `i % 251` (a prime, so no power-of-two
//! chunk lines up with its period), which `native/python/scenario.py` builds the same way, so
//! the digests can be compared with CPython's. A hasher is fed from one period-aligned block
//! of that pattern, so every lane hashes exactly the buffer's bytes without each holding a
//! copy of up to 1 GiB.

use serde::{Deserialize, Serialize};

/// CPython's `HASHLIB_GIL_MINSIZE`: an `update()` of at least this many bytes releases the GIL
/// around the hashing (`Py_BEGIN_ALLOW_THREADS`); smaller ones hash holding it.
pub const HASHLIB_GIL_MINSIZE: u64 = 2048;

/// The buffer's period: byte `i` is `i % BUFFER_PERIOD`.
pub const BUFFER_PERIOD: u64 = 251;

/// One `sha256` of the whole buffer in `update()`s of `chunk` bytes (the last one shorter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashSpec {
    /// Bytes of the buffer.
    pub bytes: u64,
    /// Bytes per `update()`; the whole buffer in one call when it is at least `bytes`.
    pub chunk: u64,
}

impl HashSpec {
    /// Whether an update of `len` bytes runs with the GIL released.
    pub fn releases_gil(len: u64) -> bool {
        len >= HASHLIB_GIL_MINSIZE
    }
}

/// A SHA-256 in progress over the buffer: how far it got, and the real hasher (absent in a
/// build without the `sha256` feature, whose tasks then end with an error).
#[derive(Debug, Clone, Default)]
pub struct BufferHash {
    offset: u64,
    #[cfg(feature = "sha256")]
    hasher: sha2::Sha256,
}

/// Block the hasher is fed from: whole periods, about 256 KiB.
#[cfg(feature = "sha256")]
fn pattern() -> &'static [u8] {
    static BLOCK: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BLOCK.get_or_init(|| {
        (0..BUFFER_PERIOD * 1024)
            .map(|i| (i % BUFFER_PERIOD) as u8)
            .collect()
    })
}

impl BufferHash {
    /// The next `len` bytes of the buffer go through `update()`.
    pub fn update(&mut self, len: u64) {
        #[cfg(feature = "sha256")]
        {
            use sha2::Digest;
            let block = pattern();
            let mut left = len;
            while left > 0 {
                let start = (self.offset + (len - left)) % BUFFER_PERIOD;
                let take = left.min(block.len() as u64 - start);
                self.hasher
                    .update(&block[start as usize..(start + take) as usize]);
                left -= take;
            }
        }
        self.offset += len;
    }

    /// Bytes hashed so far.
    pub fn done(&self) -> u64 {
        self.offset
    }

    /// `hexdigest()`, or `None` in a build without SHA-256.
    pub fn hexdigest(self) -> Option<String> {
        #[cfg(feature = "sha256")]
        {
            use sha2::Digest;
            use std::fmt::Write;
            let out = self.hasher.finalize();
            let mut hex = String::with_capacity(64);
            for b in out {
                let _ = write!(hex, "{b:02x}");
            }
            Some(hex)
        }
        #[cfg(not(feature = "sha256"))]
        None
    }
}

#[cfg(all(test, feature = "sha256"))]
mod tests {
    use super::*;

    /// `hashlib.sha256((bytes(range(251)) * k)[:n]).hexdigest()` in CPython 3.11.
    #[test]
    fn digests_match_cpython() {
        let of = |n: u64, chunk: u64| {
            let mut h = BufferHash::default();
            let mut left = n;
            while left > 0 {
                let len = left.min(chunk);
                h.update(len);
                left -= len;
            }
            h.hexdigest().unwrap_or_default()
        };
        assert_eq!(
            of(0, 1),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let mib = of(1 << 20, 1 << 20);
        assert_eq!(mib, MIB_DIGEST);
        // However the same bytes are cut into updates, the digest is the same.
        assert_eq!(of(1 << 20, 1024), mib);
        assert_eq!(of(1 << 20, 300_001), mib);
    }

    const MIB_DIGEST: &str = "631b84027d6b9e52b539c4e8373622d23032dfadc64d60af87339c9037e4f769";
}
