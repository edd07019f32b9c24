//! Separate binary: installs a counting global allocator, which must see no
//! other test's allocations.
//!
//! Done-callbacks leak nothing: 10,000 tasks with callbacks, dropped by a
//! closing executor without running them, and 10,000 that run theirs, each
//! return the heap to where it was, with every callback dropped exactly once.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::Arc;

use common::{drain, forgotten, Counter};
use corio_executor::LocalExecutor;

/// Counts live heap blocks.
struct CountingAlloc;

static LIVE_BLOCKS: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator; only adds a counter.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BLOCKS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: forwarded contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BLOCKS.fetch_sub(1, Ordering::SeqCst);
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const TASKS: usize = 10_000;

/// Spawns `TASKS` tasks with two callbacks each; `finish` says whether the
/// tasks complete (and their callbacks run) before the executor closes.
fn scenario(finish: bool) -> (usize, usize) {
    let dropped = Counter::new();
    let ran = Arc::new(AtomicUsize::new(0));
    {
        let ex = LocalExecutor::new();
        let mut kept = Vec::new();
        for i in 0..TASKS {
            let task = if finish {
                ex.spawn(async {})
            } else {
                ex.spawn(forgotten::<()>())
            };
            for _ in 0..2 {
                let (token, ran) = (dropped.token(), ran.clone());
                task.add_done_callback(move |_| {
                    let _token = token;
                    ran.fetch_add(1, Ordering::SeqCst);
                });
            }
            if i % 2 == 0 {
                // Half detached, half with a live handle at close.
                drop(task);
            } else {
                kept.push(task);
            }
        }
        if finish {
            drain(&ex);
        }
        ex.close();
        drop(kept);
    }
    (dropped.get(), ran.load(Ordering::SeqCst))
}

#[test]
fn callbacks_dropped_unrun_or_run_leak_nothing() {
    // Warm up: the side table's shards and thread-locals allocate once.
    let _ = scenario(false);
    let _ = scenario(true);
    for finish in [false, true] {
        let before = LIVE_BLOCKS.load(Ordering::SeqCst);
        let (dropped, ran) = scenario(finish);
        let after = LIVE_BLOCKS.load(Ordering::SeqCst);
        assert_eq!(dropped, 2 * TASKS, "each callback dropped once");
        assert_eq!(ran, if finish { 2 * TASKS } else { 0 });
        assert_eq!(after, before, "heap blocks leaked (finish: {finish})");
    }
}
