//! `lock-contended`: 1,000 tasks each lock one shared async mutex N/1,000
//! times, holding it across a yield.
//!
//! Every task loops N/1,000 times over
//!
//! ```text
//! let mut guard = lock.lock().await;
//! *guard += 1;
//! yield_now().await; // still holding the lock
//! drop(guard);
//! ```
//!
//! Holding the guard across the yield is what makes the lock contended on a
//! single thread: while the holder is parked in the run queue every other
//! task runs, finds the mutex locked and queues as a waiter, so from the
//! first round on ~999 tasks wait on the lock and each unlock wakes (or
//! hands the lock to) one of them. Without the yield a task would lock and
//! unlock without ever suspending and no one would ever wait. An op is
//! therefore one lock + yield + unlock, including the wake of the next
//! waiter and the extra polls that the handoff costs; the same body runs on
//! every runtime, with its own mutex and yield. The tasks are spawned and
//! then awaited in order, inside the timed region; the final count is
//! checked. With the default N = 1,000,000 that is 1,000 tasks × 1,000
//! locks, the shape of the design notes' "async mutex, 1k tasks x 1k
//! lock/unlock" peer row; this body fixes that shape so the tasks really
//! wait (so its numbers are not comparable with that row's).
//!
//! The mutexes: `corio::sync::Lock` with `corio::yield_now`,
//! `tokio::sync::Mutex` with `tokio::task::yield_now` and `async_lock::Mutex`
//! with `smol::future::yield_now`. corio and tokio hand the lock over in FIFO
//! order; async-lock lets the releasing task take it straight back unless a
//! waiter has been starved, so the three differ in fairness, not in work.

use std::sync::Arc;
use std::time::Instant;

use super::{split, Workload};
use crate::measure::Measurement;
use crate::runtime::{self, Threads};

/// The `lock-contended` workload. One op is one lock + yield + unlock.
pub(super) const WORKLOAD: Workload = Workload {
    name: "lock-contended",
    description: "1,000 tasks each lock one mutex N/1,000 times, yielding while holding it",
    default_size: 1_000_000,
    multi_threaded: true,
    corio,
    tokio,
    smol,
};

/// The most tasks the workload spawns.
const TASKS: usize = 1_000;

/// `lock-contended` on corio, with `corio::sync::Lock`.
fn corio(threads: Threads, n: usize) -> Measurement {
    let (tasks, rounds) = split(n, TASKS);
    runtime::corio(threads, async move {
        let lock = Arc::new(corio::sync::Lock::new(0_usize));
        let mut handles = Vec::with_capacity(tasks);
        let start = Instant::now();
        for _ in 0..tasks {
            let lock = Arc::clone(&lock);
            handles.push(corio::create_task(async move {
                for _ in 0..rounds {
                    let mut guard = lock.lock().await;
                    *guard += 1;
                    corio::yield_now().await;
                    drop(guard);
                }
            }));
        }
        for handle in handles {
            handle.await.unwrap();
        }
        let elapsed = start.elapsed();
        assert_eq!(*lock.lock().await, tasks * rounds);
        Measurement::new(tasks * rounds, elapsed)
    })
}

/// `lock-contended` on tokio, with `tokio::sync::Mutex`.
fn tokio(threads: Threads, n: usize) -> Measurement {
    let (tasks, rounds) = split(n, TASKS);
    runtime::tokio(threads).block_on(async move {
        let lock = Arc::new(tokio::sync::Mutex::new(0_usize));
        let mut handles = Vec::with_capacity(tasks);
        let start = Instant::now();
        for _ in 0..tasks {
            let lock = Arc::clone(&lock);
            handles.push(tokio::spawn(async move {
                for _ in 0..rounds {
                    let mut guard = lock.lock().await;
                    *guard += 1;
                    tokio::task::yield_now().await;
                    drop(guard);
                }
            }));
        }
        for handle in handles {
            handle.await.unwrap();
        }
        let elapsed = start.elapsed();
        assert_eq!(*lock.lock().await, tasks * rounds);
        Measurement::new(tasks * rounds, elapsed)
    })
}

/// `lock-contended` on smol, with `async_lock::Mutex`.
fn smol(threads: Threads, n: usize) -> Measurement {
    let (tasks, rounds) = split(n, TASKS);
    crate::smol_run!(threads, |ex| async move {
        let lock = Arc::new(async_lock::Mutex::new(0_usize));
        let mut handles = Vec::with_capacity(tasks);
        let start = Instant::now();
        for _ in 0..tasks {
            let lock = Arc::clone(&lock);
            handles.push(ex.spawn(async move {
                for _ in 0..rounds {
                    let mut guard = lock.lock().await;
                    *guard += 1;
                    smol::future::yield_now().await;
                    drop(guard);
                }
            }));
        }
        for handle in handles {
            handle.await;
        }
        let elapsed = start.elapsed();
        assert_eq!(*lock.lock().await, tasks * rounds);
        Measurement::new(tasks * rounds, elapsed)
    })
}
