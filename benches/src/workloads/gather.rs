//! `gather`: N futures polled concurrently in place, results in order.
//!
//! corio uses `corio::gather`; tokio and smol use
//! `futures::future::join_all`, the runtime-neutral equivalent a Rust user
//! would pick. Each future yields once to its runtime before returning its
//! index, so every future is woken and polled twice. One op is one future.

use std::time::Instant;

use futures::future::join_all;

use super::Workload;
use crate::measure::Measurement;
use crate::runtime::{self, Threads};

/// The `gather` workload.
pub(super) const WORKLOAD: Workload = Workload {
    name: "gather",
    description: "gather N futures that yield once (corio::gather / futures::future::join_all)",
    default_size: 10_000,
    multi_threaded: false,
    corio,
    tokio,
    smol,
};

/// How many times the N futures are gathered, so one sample runs long enough to time.
const ROUNDS: usize = 20;

/// `gather` on corio.
fn corio(threads: Threads, n: usize) -> Measurement {
    runtime::corio(threads, async move {
        let start = Instant::now();
        for _ in 0..ROUNDS {
            let out = corio::gather((0..n).map(|i| async move {
                corio::yield_now().await;
                i
            }))
            .await;
            assert_eq!(out.len(), n);
        }
        Measurement::new(n * ROUNDS, start.elapsed())
    })
}

/// `gather` on tokio, with `join_all`.
fn tokio(threads: Threads, n: usize) -> Measurement {
    runtime::tokio(threads).block_on(async move {
        let start = Instant::now();
        for _ in 0..ROUNDS {
            let out = join_all((0..n).map(|i| async move {
                tokio::task::yield_now().await;
                i
            }))
            .await;
            assert_eq!(out.len(), n);
        }
        Measurement::new(n * ROUNDS, start.elapsed())
    })
}

/// `gather` on smol, with `join_all`.
fn smol(threads: Threads, n: usize) -> Measurement {
    crate::smol_run!(threads, |_ex| async move {
        let start = Instant::now();
        for _ in 0..ROUNDS {
            let out = join_all((0..n).map(|i| async move {
                smol::future::yield_now().await;
                i
            }))
            .await;
            assert_eq!(out.len(), n);
        }
        Measurement::new(n * ROUNDS, start.elapsed())
    })
}
