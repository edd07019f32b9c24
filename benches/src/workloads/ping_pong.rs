//! `ping-pong`: 1,000 pairs of tasks bounce a message back and forth, N/1,000
//! round trips per pair.
//!
//! Each pair has two bounded queues of capacity 1, one each way. The ping
//! task puts a number on the first and gets the reply from the second; the
//! pong task gets from the first and puts the number plus one on the
//! second. With the default N = 100,000 that is 1,000 pairs × 100 round
//! trips. An op is one round trip: two puts, two gets, and the two wakes
//! they cause (the peer is always waiting on the other end). All 2,000 tasks
//! are spawned inside the timed region and awaited at the end; each ping
//! checks every reply.
//!
//! The queues are what a user of each runtime would reach for:
//! `corio::sync::Queue::new(1)` (asyncio's `Queue(maxsize=1)`), tokio's
//! `mpsc::channel(1)`, and async-channel's `bounded(1)` on smol.

use std::sync::Arc;
use std::time::Instant;

use super::{split, Workload};
use crate::measure::Measurement;
use crate::runtime::{self, Threads};

/// The `ping-pong` workload. One op is one round trip.
pub(super) const WORKLOAD: Workload = Workload {
    name: "ping-pong",
    description: "1,000 task pairs each bounce a number N/1,000 times over two bounded(1) queues",
    default_size: 100_000,
    multi_threaded: true,
    corio,
    tokio,
    smol,
};

/// The most pairs the workload runs.
const PAIRS: usize = 1_000;

/// `ping-pong` on corio, with `corio::sync::Queue`.
fn corio(threads: Threads, n: usize) -> Measurement {
    let (pairs, trips) = split(n, PAIRS);
    runtime::corio(threads, async move {
        let mut handles = Vec::with_capacity(2 * pairs);
        let start = Instant::now();
        for _ in 0..pairs {
            let ping = Arc::new(corio::sync::Queue::new(1));
            let pong = Arc::new(corio::sync::Queue::new(1));
            let (ping2, pong2) = (Arc::clone(&ping), Arc::clone(&pong));
            handles.push(corio::create_task(async move {
                for _ in 0..trips {
                    let Ok(i) = ping2.get().await else { return };
                    assert!(pong2.put(i + 1).await.is_ok());
                }
            }));
            handles.push(corio::create_task(async move {
                for i in 0..trips {
                    assert!(ping.put(i).await.is_ok());
                    assert_eq!(pong.get().await.ok(), Some(i + 1));
                }
            }));
        }
        for handle in handles {
            handle.await.unwrap();
        }
        Measurement::new(pairs * trips, start.elapsed())
    })
}

/// `ping-pong` on tokio, with `tokio::sync::mpsc`.
fn tokio(threads: Threads, n: usize) -> Measurement {
    let (pairs, trips) = split(n, PAIRS);
    runtime::tokio(threads).block_on(async move {
        let mut handles = Vec::with_capacity(2 * pairs);
        let start = Instant::now();
        for _ in 0..pairs {
            let (ping_tx, mut ping_rx) = tokio::sync::mpsc::channel(1);
            let (pong_tx, mut pong_rx) = tokio::sync::mpsc::channel(1);
            handles.push(tokio::spawn(async move {
                for _ in 0..trips {
                    let Some(i) = ping_rx.recv().await else {
                        return;
                    };
                    pong_tx.send(i + 1).await.unwrap();
                }
            }));
            handles.push(tokio::spawn(async move {
                for i in 0..trips {
                    ping_tx.send(i).await.unwrap();
                    assert_eq!(pong_rx.recv().await, Some(i + 1));
                }
            }));
        }
        for handle in handles {
            handle.await.unwrap();
        }
        Measurement::new(pairs * trips, start.elapsed())
    })
}

/// `ping-pong` on smol, with `async_channel`.
fn smol(threads: Threads, n: usize) -> Measurement {
    let (pairs, trips) = split(n, PAIRS);
    crate::smol_run!(threads, |ex| async move {
        let mut handles = Vec::with_capacity(2 * pairs);
        let start = Instant::now();
        for _ in 0..pairs {
            let (ping_tx, ping_rx) = async_channel::bounded(1);
            let (pong_tx, pong_rx) = async_channel::bounded(1);
            handles.push(ex.spawn(async move {
                for _ in 0..trips {
                    let Ok(i) = ping_rx.recv().await else { return };
                    pong_tx.send(i + 1).await.unwrap();
                }
            }));
            handles.push(ex.spawn(async move {
                for i in 0..trips {
                    ping_tx.send(i).await.unwrap();
                    assert_eq!(pong_rx.recv().await.ok(), Some(i + 1));
                }
            }));
        }
        for handle in handles {
            handle.await;
        }
        Measurement::new(pairs * trips, start.elapsed())
    })
}
