//! `spawn`: spawn N empty tasks, keeping every handle, then await them in order.
//!
//! This measures the cost of creating, scheduling, running and joining a
//! task. All N tasks are alive at once before the first await, so the
//! process's peak RSS in this workload is the "N live tasks" memory figure.

use std::time::Instant;

use super::Workload;
use crate::measure::Measurement;
use crate::runtime::{self, Threads};

/// The `spawn` workload. One op is one task spawned and awaited.
pub(super) const WORKLOAD: Workload = Workload {
    name: "spawn",
    description: "spawn N empty tasks into a pre-sized Vec of handles, then await each in order",
    default_size: 1_000_000,
    multi_threaded: true,
    corio,
    tokio,
    smol,
};

/// `spawn` on corio.
fn corio(threads: Threads, n: usize) -> Measurement {
    runtime::corio(threads, async move {
        let mut handles = Vec::with_capacity(n);
        let start = Instant::now();
        for _ in 0..n {
            handles.push(corio::create_task(async {}));
        }
        for handle in handles {
            handle.await.unwrap();
        }
        Measurement::new(n, start.elapsed())
    })
}

/// `spawn` on tokio.
fn tokio(threads: Threads, n: usize) -> Measurement {
    runtime::tokio(threads).block_on(async move {
        let mut handles = Vec::with_capacity(n);
        let start = Instant::now();
        for _ in 0..n {
            handles.push(tokio::spawn(async {}));
        }
        for handle in handles {
            handle.await.unwrap();
        }
        Measurement::new(n, start.elapsed())
    })
}

/// `spawn` on smol.
fn smol(threads: Threads, n: usize) -> Measurement {
    crate::smol_run!(threads, |ex| async move {
        let mut handles = Vec::with_capacity(n);
        let start = Instant::now();
        for _ in 0..n {
            handles.push(ex.spawn(async {}));
        }
        for handle in handles {
            handle.await;
        }
        Measurement::new(n, start.elapsed())
    })
}
