//! `yield`: 1,000 tasks each yield N/1,000 times, then all are awaited.
//!
//! This measures the scheduler's reschedule path: a task that yields goes to
//! the back of the run queue and is polled again once the others have had
//! their turn. With the default N = 1,000,000 that is 1,000 tasks × 1,000
//! yields.

use std::time::Instant;

use super::Workload;
use crate::measure::Measurement;
use crate::runtime::{self, Threads};

/// The `yield` workload. One op is one yield.
pub(super) const WORKLOAD: Workload = Workload {
    name: "yield",
    description: "1,000 tasks each yield N/1,000 times, then all are awaited",
    default_size: 1_000_000,
    multi_threaded: true,
    corio,
    tokio,
    smol,
};

/// The most tasks the workload spawns.
const TASKS: usize = 1_000;

/// Splits a size of `n` yields into (tasks, yields per task); small sizes
/// get fewer tasks rather than zero yields.
fn shape(n: usize) -> (usize, usize) {
    let tasks = TASKS.min(n).max(1);
    (tasks, n / tasks)
}

/// `yield` on corio.
fn corio(threads: Threads, n: usize) -> Measurement {
    let (tasks, yields) = shape(n);
    runtime::corio(threads, async move {
        let mut handles = Vec::with_capacity(tasks);
        let start = Instant::now();
        for _ in 0..tasks {
            handles.push(corio::create_task(async move {
                for _ in 0..yields {
                    corio::yield_now().await;
                }
            }));
        }
        for handle in handles {
            handle.await.unwrap();
        }
        Measurement::new(tasks * yields, start.elapsed())
    })
}

/// `yield` on tokio.
fn tokio(threads: Threads, n: usize) -> Measurement {
    let (tasks, yields) = shape(n);
    runtime::tokio(threads).block_on(async move {
        let mut handles = Vec::with_capacity(tasks);
        let start = Instant::now();
        for _ in 0..tasks {
            handles.push(tokio::spawn(async move {
                for _ in 0..yields {
                    tokio::task::yield_now().await;
                }
            }));
        }
        for handle in handles {
            handle.await.unwrap();
        }
        Measurement::new(tasks * yields, start.elapsed())
    })
}

/// `yield` on smol.
fn smol(threads: Threads, n: usize) -> Measurement {
    let (tasks, yields) = shape(n);
    crate::smol_run!(threads, |ex| async move {
        let mut handles = Vec::with_capacity(tasks);
        let start = Instant::now();
        for _ in 0..tasks {
            handles.push(ex.spawn(async move {
                for _ in 0..yields {
                    smol::future::yield_now().await;
                }
            }));
        }
        for handle in handles {
            handle.await;
        }
        Measurement::new(tasks * yields, start.elapsed())
    })
}

#[cfg(test)]
mod tests {
    use super::shape;

    #[test]
    fn shape_splits_into_at_most_a_thousand_tasks() {
        assert_eq!(shape(1_000_000), (1_000, 1_000));
        assert_eq!(shape(100_000), (1_000, 100));
        assert_eq!(shape(10), (10, 1));
        assert_eq!(shape(0), (1, 0));
    }
}
