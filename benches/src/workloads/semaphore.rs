//! `semaphore`: 1,000 tasks share a semaphore of 10 permits; each acquires
//! and releases a permit N/1,000 times, holding it across a yield.
//!
//! Every task loops N/1,000 times over
//!
//! ```text
//! let permit = semaphore.acquire().await;
//! yield_now().await; // still holding the permit
//! drop(permit);
//! ```
//!
//! As in `lock-contended`, holding the permit across the yield is what makes
//! the semaphore contended on a single thread: ten tasks hold the ten
//! permits while the other ~990 queue as waiters, and every release wakes
//! (or hands the permit to) one of them. An op is one acquire + yield +
//! release. The tasks are spawned and then awaited in order, inside the
//! timed region. With the default N = 1,000,000 that is 1,000 tasks × 1,000
//! acquires.
//!
//! The semaphores: `corio::sync::Semaphore` with `corio::yield_now`,
//! `tokio::sync::Semaphore` with `tokio::task::yield_now` and
//! `async_lock::Semaphore` with `smol::future::yield_now`.

use std::sync::Arc;
use std::time::Instant;

use super::{split, Workload};
use crate::measure::Measurement;
use crate::runtime::{self, Threads};

/// The `semaphore` workload. One op is one acquire + yield + release.
pub(super) const WORKLOAD: Workload = Workload {
    name: "semaphore",
    description: "1,000 tasks each acquire one Semaphore(10) N/1,000 times, yielding while holding",
    default_size: 1_000_000,
    multi_threaded: false,
    corio,
    tokio,
    smol,
};

/// The most tasks the workload spawns.
const TASKS: usize = 1_000;

/// The semaphore's permits.
const PERMITS: usize = 10;

/// `semaphore` on corio, with `corio::sync::Semaphore`.
fn corio(threads: Threads, n: usize) -> Measurement {
    let (tasks, rounds) = split(n, TASKS);
    runtime::corio(threads, async move {
        let semaphore = Arc::new(corio::sync::Semaphore::new(PERMITS));
        let mut handles = Vec::with_capacity(tasks);
        let start = Instant::now();
        for _ in 0..tasks {
            let semaphore = Arc::clone(&semaphore);
            handles.push(corio::create_task(async move {
                for _ in 0..rounds {
                    let permit = semaphore.acquire().await;
                    corio::yield_now().await;
                    drop(permit);
                }
            }));
        }
        for handle in handles {
            handle.await.unwrap();
        }
        let elapsed = start.elapsed();
        assert_eq!(semaphore.available(), PERMITS);
        Measurement::new(tasks * rounds, elapsed)
    })
}

/// `semaphore` on tokio, with
/// `tokio::sync::Semaphore`.
fn tokio(threads: Threads, n: usize) -> Measurement {
    let (tasks, rounds) = split(n, TASKS);
    runtime::tokio(threads).block_on(async move {
        let semaphore = Arc::new(tokio::sync::Semaphore::new(PERMITS));
        let mut handles = Vec::with_capacity(tasks);
        let start = Instant::now();
        for _ in 0..tasks {
            let semaphore = Arc::clone(&semaphore);
            handles.push(tokio::spawn(async move {
                for _ in 0..rounds {
                    let permit = semaphore.acquire().await.unwrap();
                    tokio::task::yield_now().await;
                    drop(permit);
                }
            }));
        }
        for handle in handles {
            handle.await.unwrap();
        }
        let elapsed = start.elapsed();
        assert_eq!(semaphore.available_permits(), PERMITS);
        Measurement::new(tasks * rounds, elapsed)
    })
}

/// `semaphore` on smol, with `async_lock::Semaphore`.
fn smol(threads: Threads, n: usize) -> Measurement {
    let (tasks, rounds) = split(n, TASKS);
    crate::smol_run!(threads, |ex| async move {
        let semaphore = Arc::new(async_lock::Semaphore::new(PERMITS));
        let mut handles = Vec::with_capacity(tasks);
        let start = Instant::now();
        for _ in 0..tasks {
            let semaphore = Arc::clone(&semaphore);
            handles.push(ex.spawn(async move {
                for _ in 0..rounds {
                    let permit = semaphore.acquire().await;
                    smol::future::yield_now().await;
                    drop(permit);
                }
            }));
        }
        for handle in handles {
            handle.await;
        }
        let elapsed = start.elapsed();
        // async-lock's Semaphore cannot report its count; take all of them.
        let all: Vec<_> = (0..PERMITS)
            .filter_map(|_| semaphore.try_acquire())
            .collect();
        assert!(all.len() == PERMITS && semaphore.try_acquire().is_none());
        Measurement::new(tasks * rounds, elapsed)
    })
}
