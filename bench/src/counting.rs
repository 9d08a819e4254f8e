//! A counting global allocator: the server processes count their heap allocations, so
//! the `allocs` part can divide them by the requests served (a deterministic figure,
//! unlike time on a shared machine).
//!
//! Counting is off unless the process is started with `BENCH_COUNT_ALLOCS=1` (the
//! throughput parts leave it off: two atomic additions per allocation, contended between
//! the server's threads, would cost the framework more than bare poem, as it allocates
//! more). Written here rather than taken from a crate: the ones that count
//! (`stats_alloc`, `dhat`) count always or profile the whole heap.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The allocator of the bench binary.
pub struct Counting;

static ON: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// Allocations (and reallocations, each a new block) and bytes so far.
pub fn counts() -> (u64, u64) {
    (
        ALLOCATIONS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    )
}

/// Starts counting when `BENCH_COUNT_ALLOCS` is `1`.
pub fn init_from_env() {
    if std::env::var_os("BENCH_COUNT_ALLOCS").is_some_and(|v| v == "1") {
        ON.store(true, Ordering::Relaxed);
    }
}

fn count(size: usize) {
    if ON.load(Ordering::Relaxed) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(size as u64, Ordering::Relaxed);
    }
}

// SAFETY: every call is passed on unchanged to the system allocator; counting only
// touches atomics (it never allocates).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller's contract is System's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
