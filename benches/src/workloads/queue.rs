//! `queue-{1,4,64}p` and `queue-{1,4,64}p-unbounded`: P producer tasks send
//! N items in all through one queue to one consumer.
//!
//! Each of the P producers (1, 4 or 64) puts N/P items, one `put().await`
//! (or the channel's `send`) after another, without yielding in between; the
//! consumer, the runtime's main future, gets items until it has received all
//! of them, then awaits the producers. The queue is bounded to 1,024 items
//! (`queue-Np`: producers wait while it is full, so producer and consumer
//! take turns) or unbounded (`queue-Np-unbounded`: a producer never waits,
//! so each runs its share in one go). An op is one item through the queue:
//! one put and one get, including the wakes they cause. The producers are
//! spawned inside the timed region; the sum of the items received is
//! checked.
//!
//! The queues: `corio::sync::Queue` (`Queue::new(1024)` / `Queue::new(0)`,
//! shared through an `Arc`), tokio's `mpsc::channel(1024)` /
//! `mpsc::unbounded_channel()` (whose unbounded `send` is not async) and
//! async-channel's `bounded(1024)` / `unbounded()` (the smol ecosystem's).

use std::sync::Arc;
use std::time::Instant;

use super::{split, Workload};
use crate::measure::Measurement;
use crate::runtime::{self, Threads};

/// The bounded queues' capacity.
const CAPACITY: usize = 1_024;

/// Items per run at the default size.
const DEFAULT_SIZE: usize = 3_000_000;

/// The workload with `P` producers, bounded to [`CAPACITY`] or unbounded.
/// The multi-threaded table shows `queue-64p` only.
const fn workload<const P: usize, const BOUNDED: bool>(
    name: &'static str,
    description: &'static str,
) -> Workload {
    Workload {
        name,
        description,
        default_size: DEFAULT_SIZE,
        multi_threaded: P == 64 && BOUNDED,
        corio: corio::<P, BOUNDED>,
        tokio: tokio::<P, BOUNDED>,
        smol: smol::<P, BOUNDED>,
    }
}

/// `queue-1p`. One op is one item put and got.
pub(super) const BOUNDED_1: Workload = workload::<1, true>(
    "queue-1p",
    "1 producer task puts N items through a bounded(1,024) queue to 1 consumer",
);

/// `queue-4p`. One op is one item put and got.
pub(super) const BOUNDED_4: Workload = workload::<4, true>(
    "queue-4p",
    "4 producer tasks put N/4 items each through a bounded(1,024) queue to 1 consumer",
);

/// `queue-64p`. One op is one item put and got.
pub(super) const BOUNDED_64: Workload = workload::<64, true>(
    "queue-64p",
    "64 producer tasks put N/64 items each through a bounded(1,024) queue to 1 consumer",
);

/// `queue-1p-unbounded`. One op is one item put and got.
pub(super) const UNBOUNDED_1: Workload = workload::<1, false>(
    "queue-1p-unbounded",
    "1 producer task puts N items through an unbounded queue to 1 consumer",
);

/// `queue-4p-unbounded`. One op is one item put and got.
pub(super) const UNBOUNDED_4: Workload = workload::<4, false>(
    "queue-4p-unbounded",
    "4 producer tasks put N/4 items each through an unbounded queue to 1 consumer",
);

/// `queue-64p-unbounded`. One op is one item put and got.
pub(super) const UNBOUNDED_64: Workload = workload::<64, false>(
    "queue-64p-unbounded",
    "64 producer tasks put N/64 items each through an unbounded queue to 1 consumer",
);

/// The sum of the items `producers` producers of `per` items each send
/// (each sends `0..per`).
fn expected_sum(producers: usize, per: usize) -> usize {
    producers * (per * per.saturating_sub(1) / 2)
}

/// The queue workload on corio, with `corio::sync::Queue`.
fn corio<const P: usize, const BOUNDED: bool>(threads: Threads, n: usize) -> Measurement {
    let (producers, per) = split(n, P);
    runtime::corio(threads, async move {
        let mut handles = Vec::with_capacity(producers);
        let start = Instant::now();
        let queue = Arc::new(corio::sync::Queue::new(if BOUNDED { CAPACITY } else { 0 }));
        for _ in 0..producers {
            let queue = Arc::clone(&queue);
            handles.push(corio::create_task(async move {
                for i in 0..per {
                    assert!(queue.put(i).await.is_ok(), "the queue was shut down");
                }
            }));
        }
        let mut sum = 0;
        for _ in 0..producers * per {
            match queue.get().await {
                Ok(item) => sum += item,
                Err(_) => panic!("the queue was shut down"),
            }
        }
        for handle in handles {
            handle.await.unwrap();
        }
        let elapsed = start.elapsed();
        assert_eq!(sum, expected_sum(producers, per));
        Measurement::new(producers * per, elapsed)
    })
}

/// The queue workload on tokio, with `tokio::sync::mpsc`.
fn tokio<const P: usize, const BOUNDED: bool>(threads: Threads, n: usize) -> Measurement {
    let (producers, per) = split(n, P);
    runtime::tokio(threads).block_on(async move {
        let mut handles = Vec::with_capacity(producers);
        let mut sum = 0;
        let start = Instant::now();
        if BOUNDED {
            let (tx, mut rx) = tokio::sync::mpsc::channel(CAPACITY);
            for _ in 0..producers {
                let tx = tx.clone();
                handles.push(tokio::spawn(async move {
                    for i in 0..per {
                        tx.send(i).await.unwrap();
                    }
                }));
            }
            for _ in 0..producers * per {
                sum += rx.recv().await.unwrap();
            }
        } else {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            for _ in 0..producers {
                let tx = tx.clone();
                handles.push(tokio::spawn(async move {
                    for i in 0..per {
                        tx.send(i).unwrap();
                    }
                }));
            }
            for _ in 0..producers * per {
                sum += rx.recv().await.unwrap();
            }
        }
        for handle in handles {
            handle.await.unwrap();
        }
        let elapsed = start.elapsed();
        assert_eq!(sum, expected_sum(producers, per));
        Measurement::new(producers * per, elapsed)
    })
}

/// The queue workload on smol, with `async_channel`.
fn smol<const P: usize, const BOUNDED: bool>(threads: Threads, n: usize) -> Measurement {
    let (producers, per) = split(n, P);
    crate::smol_run!(threads, |ex| async move {
        let mut handles = Vec::with_capacity(producers);
        let start = Instant::now();
        let (tx, rx) = if BOUNDED {
            async_channel::bounded(CAPACITY)
        } else {
            async_channel::unbounded()
        };
        for _ in 0..producers {
            let tx = tx.clone();
            handles.push(ex.spawn(async move {
                for i in 0..per {
                    tx.send(i).await.unwrap();
                }
            }));
        }
        let mut sum = 0;
        for _ in 0..producers * per {
            sum += rx.recv().await.unwrap();
        }
        for handle in handles {
            handle.await;
        }
        let elapsed = start.elapsed();
        assert_eq!(sum, expected_sum(producers, per));
        Measurement::new(producers * per, elapsed)
    })
}

#[cfg(test)]
mod tests {
    use super::expected_sum;

    #[test]
    fn expected_sum_adds_every_producers_items() {
        assert_eq!(expected_sum(1, 5), 10);
        assert_eq!(expected_sum(4, 3), 12);
        assert_eq!(expected_sum(2, 1), 0);
        assert_eq!(expected_sum(3, 0), 0);
    }
}
