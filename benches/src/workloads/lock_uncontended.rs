//! `lock-uncontended`: one task locks and unlocks an async mutex N times.
//!
//! Each op is `let mut g = lock().await; *g += 1; drop(g);` on a mutex that
//! no other task touches, so every lock takes the fast path: this measures
//! the bare cost of acquiring and releasing the lock, with no waiter, no
//! wake and no reschedule. The task is the runtime's main future (nothing
//! is spawned); the final count is checked.
//!
//! The mutexes: `corio::sync::Lock`, `tokio::sync::Mutex` and
//! `async_lock::Mutex` (the smol ecosystem's).

use std::time::Instant;

use super::Workload;
use crate::measure::Measurement;
use crate::runtime::{self, Threads};

/// The `lock-uncontended` workload. One op is one lock + unlock.
pub(super) const WORKLOAD: Workload = Workload {
    name: "lock-uncontended",
    description: "one task locks, increments and unlocks an async mutex N times",
    default_size: 10_000_000,
    multi_threaded: false,
    corio,
    tokio,
    smol,
};

/// `lock-uncontended` on corio, with `corio::sync::Lock`.
fn corio(threads: Threads, n: usize) -> Measurement {
    runtime::corio(threads, async move {
        let lock = corio::sync::Lock::new(0_usize);
        let start = Instant::now();
        for _ in 0..n {
            let mut guard = lock.lock().await;
            *guard += 1;
            drop(guard);
        }
        let elapsed = start.elapsed();
        assert_eq!(lock.into_inner(), n);
        Measurement::new(n, elapsed)
    })
}

/// `lock-uncontended` on tokio, with
/// `tokio::sync::Mutex`.
fn tokio(threads: Threads, n: usize) -> Measurement {
    runtime::tokio(threads).block_on(async move {
        let lock = tokio::sync::Mutex::new(0_usize);
        let start = Instant::now();
        for _ in 0..n {
            let mut guard = lock.lock().await;
            *guard += 1;
            drop(guard);
        }
        let elapsed = start.elapsed();
        assert_eq!(lock.into_inner(), n);
        Measurement::new(n, elapsed)
    })
}

/// `lock-uncontended` on smol, with `async_lock::Mutex`.
fn smol(threads: Threads, n: usize) -> Measurement {
    crate::smol_run!(threads, |_ex| async move {
        let lock = async_lock::Mutex::new(0_usize);
        let start = Instant::now();
        for _ in 0..n {
            let mut guard = lock.lock().await;
            *guard += 1;
            drop(guard);
        }
        let elapsed = start.elapsed();
        assert_eq!(lock.into_inner(), n);
        Measurement::new(n, elapsed)
    })
}
