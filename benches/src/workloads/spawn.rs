//! `spawn`: spawn N empty tasks, keeping every handle, then await them in order.
//!
//! This measures the cost of creating, scheduling, running and joining a
//! task. All N tasks are alive at once before the first await, so the
//! process's peak RSS in this workload is the "N live tasks" memory figure.

use std::time::Instant;

use super::Workload;
use crate::measure::Measurement;
use crate::runtime;

/// The `spawn` workload. One op is one task spawned and awaited.
pub(super) const WORKLOAD: Workload = Workload {
    name: "spawn",
    description: "spawn N empty tasks into a pre-sized Vec of handles, then await each in order",
    default_size: 1_000_000,
    corio,
    tokio_ct,
    smol_local,
};

/// `spawn` on corio.
fn corio(n: usize) -> Measurement {
    corio::run(async move {
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

/// `spawn` on tokio's current-thread runtime.
fn tokio_ct(n: usize) -> Measurement {
    runtime::tokio_current_thread().block_on(async move {
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

/// `spawn` on smol's `LocalExecutor`.
fn smol_local(n: usize) -> Measurement {
    let ex = smol::LocalExecutor::new();
    smol::block_on(ex.run(async {
        let mut handles = Vec::with_capacity(n);
        let start = Instant::now();
        for _ in 0..n {
            handles.push(ex.spawn(async {}));
        }
        for handle in handles {
            handle.await;
        }
        Measurement::new(n, start.elapsed())
    }))
}
