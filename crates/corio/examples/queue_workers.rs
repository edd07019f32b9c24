//! asyncio's `Queue` example (the "Queues" page) on corio: three workers
//! share a workload of random sleeps through a queue; `main` waits with
//! `join()` until every item is marked done, then cancels the workers.
//!
//! ```python
//! import asyncio
//! import random
//! import time
//!
//!
//! async def worker(name, queue):
//!     while True:
//!         # Get a "work item" out of the queue.
//!         sleep_for = await queue.get()
//!
//!         # Sleep for the "sleep_for" seconds.
//!         await asyncio.sleep(sleep_for)
//!
//!         # Notify the queue that the "work item" has been processed.
//!         queue.task_done()
//!
//!         print(f'{name} has slept for {sleep_for:.2f} seconds')
//!
//!
//! async def main():
//!     # Create a queue that we will use to store our "workload".
//!     queue = asyncio.Queue()
//!
//!     # Generate random timings and put them into the queue.
//!     total_sleep_time = 0
//!     for _ in range(20):
//!         sleep_for = random.uniform(0.05, 1.0)
//!         total_sleep_time += sleep_for
//!         queue.put_nowait(sleep_for)
//!
//!     # Create three worker tasks to process the queue concurrently.
//!     tasks = []
//!     for i in range(3):
//!         task = asyncio.create_task(worker(f'worker-{i}', queue))
//!         tasks.append(task)
//!
//!     # Wait until the queue is fully processed.
//!     started_at = time.monotonic()
//!     await queue.join()
//!     total_slept_for = time.monotonic() - started_at
//!
//!     # Cancel our worker tasks.
//!     for task in tasks:
//!         task.cancel()
//!     # Wait until all worker tasks are cancelled.
//!     await asyncio.gather(*tasks, return_exceptions=True)
//!
//!     print('====')
//!     print(f'3 workers slept in parallel for {total_slept_for:.2f} seconds')
//!     print(f'total expected sleep time: {total_sleep_time:.2f} seconds')
//!
//!
//! asyncio.run(main())
//! ```
//!
//! Two changes, so that it runs in a blink and prints the same thing every
//! time: the sleeps are a twentieth of the original's (5 to 100 ms, so the
//! times print with three decimals), and the random numbers come from a small
//! generator with a fixed seed (`SplitMix64` below) instead of `random`.
//! The output, whose worker lines come in the same order on every run (the
//! Python program with the same generator prints the same 20 lines):
//!
//! ```text
//! worker-1 has slept for 0.050 seconds
//! worker-2 has slept for 0.068 seconds
//! worker-0 has slept for 0.086 seconds
//! ...
//! worker-2 has slept for 0.060 seconds
//! ====
//! 3 workers slept in parallel for 0.396 seconds
//! total expected sleep time: 1.107 seconds
//! ```
//!
//! What differs from asyncio: the queue is shared through an `Arc`;
//! `queue.get()` returns a `Result` (it fails once the queue is shut down,
//! asyncio 3.13's `QueueShutDown`), and so does `task_done()` (called more
//! often than items were put, where asyncio raises `ValueError`). Cancelling
//! a worker drops its future at its next `await`; awaiting a cancelled task
//! gives `Err(TaskError::Cancelled)`, which is what `gather(...,
//! return_exceptions=True)` collects here.
//!
//! Run it with `cargo run -p corio --example queue_workers`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use corio::sync::Queue;

async fn worker(name: String, queue: Arc<Queue<Duration>>) {
    // `get` fails only once the queue is shut down; this one never is.
    while let Ok(sleep_for) = queue.get().await {
        // Sleep for the "sleep_for" time.
        corio::sleep(sleep_for).await;

        // Notify the queue that the "work item" has been processed.
        queue.task_done().expect("one task_done per item taken");

        println!(
            "{name} has slept for {:.3} seconds",
            sleep_for.as_secs_f64()
        );
    }
}

fn main() {
    corio::run(async {
        // Create a queue that we will use to store our "workload".
        let queue = Arc::new(Queue::new(0));

        // Generate random timings and put them into the queue.
        let mut random = SplitMix64(2026);
        let mut total_sleep_time = Duration::ZERO;
        for _ in 0..20 {
            let sleep_for = Duration::from_secs_f64(random.uniform(0.005, 0.1));
            total_sleep_time += sleep_for;
            queue
                .put_nowait(sleep_for)
                .expect("an unbounded queue is never full");
        }

        // Create three worker tasks to process the queue concurrently.
        let tasks: Vec<_> = (0..3)
            .map(|i| corio::create_task(worker(format!("worker-{i}"), Arc::clone(&queue))))
            .collect();

        // Wait until the queue is fully processed.
        let started_at = Instant::now();
        queue.join().await;
        let total_slept_for = started_at.elapsed();

        // Cancel our worker tasks.
        for task in &tasks {
            task.cancel();
        }
        // Wait until all worker tasks are cancelled.
        let results = corio::gather(tasks).await;
        assert!(results
            .iter()
            .all(|r| r.as_ref().is_err_and(|e| e.is_cancelled())));

        println!("====");
        println!(
            "3 workers slept in parallel for {:.3} seconds",
            total_slept_for.as_secs_f64()
        );
        println!(
            "total expected sleep time: {:.3} seconds",
            total_sleep_time.as_secs_f64()
        );
    });
}

/// A tiny pseudo-random generator (Steele, Lea and Flood's SplitMix64): good
/// enough for made-up sleep times, and reproducible from its seed.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `[low, high)`, as Python's `random.uniform`.
    fn uniform(&mut self, low: f64, high: f64) -> f64 {
        // The top 53 bits: every f64 in [0, 1) with that spacing.
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        low + (high - low) * unit
    }
}
