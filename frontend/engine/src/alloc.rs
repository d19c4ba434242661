//! A per-thread caching allocator for the threaded engine.
//!
//! Why: std's allocator on `wasm32` + atomics is dlmalloc behind one global lock, and
//! `num-bigint` allocates at every operation, so two threads computing `sum_powers` spend their
//! time queueing for that lock (measured 1.0–1.3× on 2 threads instead of ~1.9×). Here each
//! thread keeps free lists of power-of-two blocks (16 B … 64 KiB) and only goes to the global
//! allocator when its list for a size is empty, or to give memory back once a list holds more
//! than [`MAX_CACHED`] bytes. Blocks freed on another thread join that thread's lists (the
//! memory is shared, so any thread may reuse them).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::ptr::null_mut;

/// Size classes: 16 B (2^4) to 64 KiB (2^16).
const MIN_SHIFT: u32 = 4;
const CLASSES: usize = 13;
/// Alignment every cached block is allocated with; stricter requests bypass the cache.
const BLOCK_ALIGN: usize = 16;
/// Most bytes one thread keeps per size class before returning blocks to the global allocator.
const MAX_CACHED: usize = 4 << 20;

struct Cache {
    heads: [*mut u8; CLASSES],
    bytes: [usize; CLASSES],
}

thread_local! {
    // Const-initialised and without `Drop`: a plain `#[thread_local]` static on wasm, so using
    // it inside the allocator never allocates or registers a destructor.
    static CACHE: UnsafeCell<Cache> = const {
        UnsafeCell::new(Cache { heads: [null_mut(); CLASSES], bytes: [0; CLASSES] })
    };
}

/// The allocator; install with `#[global_allocator]`.
pub struct ThreadCaching;

/// The size class of `layout`, if it is cached: (index, block size).
fn class(layout: Layout) -> Option<(usize, usize)> {
    if layout.align() > BLOCK_ALIGN {
        return None;
    }
    let size = layout.size().max(1 << MIN_SHIFT).next_power_of_two();
    let idx = (size.trailing_zeros() - MIN_SHIFT) as usize;
    (idx < CLASSES).then_some((idx, size))
}

fn block_layout(size: usize) -> Layout {
    // Power of two ≤ 64 KiB with alignment 16: always a valid layout.
    Layout::from_size_align(size, BLOCK_ALIGN).unwrap_or(Layout::new::<u8>())
}

unsafe impl GlobalAlloc for ThreadCaching {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some((idx, size)) = class(layout) else {
            // SAFETY: forwarded unchanged to the system allocator.
            return unsafe { System.alloc(layout) };
        };
        let cached = CACHE.with(|c| {
            // SAFETY: the cache is this thread's own; nothing else touches it.
            let c = unsafe { &mut *c.get() };
            let head = c.heads[idx];
            if head.is_null() {
                return head;
            }
            // SAFETY: a cached block's first word holds the next free block.
            c.heads[idx] = unsafe { *(head as *mut *mut u8) };
            c.bytes[idx] -= size;
            head
        });
        if cached.is_null() {
            // SAFETY: a valid non-zero-sized layout.
            unsafe { System.alloc(block_layout(size)) }
        } else {
            cached
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some((idx, size)) = class(layout) else {
            // SAFETY: `ptr` came from `System.alloc(layout)` above.
            return unsafe { System.dealloc(ptr, layout) };
        };
        let kept = CACHE.with(|c| {
            // SAFETY: this thread's own cache.
            let c = unsafe { &mut *c.get() };
            if c.bytes[idx] + size > MAX_CACHED {
                return false;
            }
            // SAFETY: the block is at least 16 bytes and 16-aligned, room for a pointer.
            unsafe { *(ptr as *mut *mut u8) = c.heads[idx] };
            c.heads[idx] = ptr;
            c.bytes[idx] += size;
            true
        });
        if !kept {
            // SAFETY: every cached-class block was allocated with `block_layout(size)`.
            unsafe { System.dealloc(ptr, block_layout(size)) };
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = class(layout);
        // SAFETY: `new_size` is non-zero and fits `layout.align()` (GlobalAlloc's contract).
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if old.is_some() && old == class(new_layout) {
            // Same block size: the block already has room.
            return ptr;
        }
        if old.is_none() && class(new_layout).is_none() {
            // SAFETY: both sides uncached: the system allocator owns the block.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        // SAFETY: a fresh block, the old contents copied, then the old block freed.
        unsafe {
            let new = self.alloc(new_layout);
            if !new.is_null() {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }
}
