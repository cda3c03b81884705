//! The graph benchmark: a generated organisation (10k users, 1k groups
//! nested 3 deep, 1k folders in a tree, ~30k documents with owners, viewers,
//! group viewers and parents: ~100k tuples at scale 1, ~1M at scale 10),
//! loaded into the in-memory index and checked on one thread and on every
//! core. Prints load time, checks/s, p50/p99 and bytes per tuple.
//!
//! ```text
//! cargo bench -p phantom-server --bench graph            # scales 1 and 10
//! cargo bench -p phantom-server --bench graph -- 1       # ~100k tuples only
//! ```

// The counting allocator below is the only unsafe code: it forwards every
// call to the system allocator and counts, so the report can say what the
// index really allocated and that a check allocates nothing.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use phantom_server::graph::bench::{BenchConfig, run};

/// Counts live heap bytes and allocations.
struct Counting;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counters are only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract, unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract, unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(new_size, Ordering::Relaxed);
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract, unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() -> std::process::ExitCode {
    // `cargo bench` passes `--bench`; numbers are scales.
    let scales: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let mut config = BenchConfig {
        allocated_bytes: Some(|| ALLOCATED.load(Ordering::Relaxed)),
        allocation_count: Some(|| ALLOCATIONS.load(Ordering::Relaxed)),
        ..BenchConfig::default()
    };
    if !scales.is_empty() {
        config.scales = scales;
    }
    match run(&config) {
        Ok(report) => {
            print!("{report}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("graph benchmark failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
