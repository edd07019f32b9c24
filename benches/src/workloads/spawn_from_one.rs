//! `spawn-from-one`: one task spawns N short tasks, keeping every handle,
//! then awaits them in order and sums their results.
//!
//! Unlike `spawn`, whose spawning loop is the main future (which runs on the
//! calling thread, outside the workers of a multi-threaded runtime), here
//! the spawning loop is itself a task, so on a work-stealing runtime every
//! new task lands in the queue of the one worker that runs it: the other
//! workers only get work by stealing it. Each short task does a little CPU
//! work ([`work`], a few dozen ns) so that spreading them pays; on the
//! single-threaded runtimes this is `spawn` plus that work. One op is one
//! task spawned, run and awaited; the sum is checked.

use std::hint::black_box;
use std::time::Instant;

use super::Workload;
use crate::measure::Measurement;
use crate::runtime::{self, Threads};

/// The `spawn-from-one` workload.
pub(super) const WORKLOAD: Workload = Workload {
    name: "spawn-from-one",
    description: "one task spawns N short tasks (a little CPU work each), then awaits them all",
    default_size: 1_000_000,
    multi_threaded: true,
    corio,
    tokio,
    smol,
};

/// Rounds of xorshift in [`work`].
const ROUNDS: u32 = 32;

/// A short task's work: [`ROUNDS`] rounds of xorshift on its index (kept
/// from being folded away by `black_box`); the result's low bit is the
/// index's.
fn work(i: usize) -> u64 {
    let mut x = black_box(i as u64) << 1 | 1;
    for _ in 0..ROUNDS {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    black_box(x)
}

/// What the spawner's sum of [`work`] over `0..n` must be.
fn expected(n: usize) -> u64 {
    (0..n).map(work).fold(0, u64::wrapping_add)
}

/// `spawn-from-one` on corio.
fn corio(threads: Threads, n: usize) -> Measurement {
    runtime::corio(threads, async move {
        let start = Instant::now();
        let spawner = corio::create_task(async move {
            let mut handles = Vec::with_capacity(n);
            for i in 0..n {
                handles.push(corio::create_task(async move { work(i) }));
            }
            let mut sum = 0u64;
            for handle in handles {
                sum = sum.wrapping_add(handle.await.unwrap());
            }
            sum
        });
        let sum = spawner.await.unwrap();
        let elapsed = start.elapsed();
        assert_eq!(sum, expected(n));
        Measurement::new(n, elapsed)
    })
}

/// `spawn-from-one` on tokio.
fn tokio(threads: Threads, n: usize) -> Measurement {
    runtime::tokio(threads).block_on(async move {
        let start = Instant::now();
        let spawner = tokio::spawn(async move {
            let mut handles = Vec::with_capacity(n);
            for i in 0..n {
                handles.push(tokio::spawn(async move { work(i) }));
            }
            let mut sum = 0u64;
            for handle in handles {
                sum = sum.wrapping_add(handle.await.unwrap());
            }
            sum
        });
        let sum = spawner.await.unwrap();
        let elapsed = start.elapsed();
        assert_eq!(sum, expected(n));
        Measurement::new(n, elapsed)
    })
}

/// `spawn-from-one` on smol.
fn smol(threads: Threads, n: usize) -> Measurement {
    crate::smol_run!(threads, |ex| async move {
        let start = Instant::now();
        let spawner_ex = ex.clone();
        let spawner = ex.spawn(async move {
            let mut handles = Vec::with_capacity(n);
            for i in 0..n {
                handles.push(spawner_ex.spawn(async move { work(i) }));
            }
            let mut sum = 0u64;
            for handle in handles {
                sum = sum.wrapping_add(handle.await);
            }
            sum
        });
        let sum = spawner.await;
        let elapsed = start.elapsed();
        assert_eq!(sum, expected(n));
        Measurement::new(n, elapsed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_differs_by_index_and_sums() {
        assert_ne!(work(1), work(2));
        assert_eq!(work(7), work(7));
        assert_eq!(
            expected(3),
            work(0).wrapping_add(work(1)).wrapping_add(work(2))
        );
    }
}
