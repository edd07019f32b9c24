//! `spawn-eager`: spawn N tasks that complete without awaiting, keeping
//! every handle, then await them in order; on corio as *eager* tasks
//! (`task::Builder::eager`, asyncio 3.12's eager tasks: each one runs to
//! completion inside `create`, nothing is queued), on tokio and smol with
//! their normal spawn (they have no eager spawn). Compare the corio row
//! with the `spawn` workload's (the same body, spawned normally).

use std::time::Instant;

use super::Workload;
use crate::measure::Measurement;
use crate::runtime::{self, Threads};

/// The `spawn-eager` workload. One op is one task spawned and awaited.
pub(super) const WORKLOAD: Workload = Workload {
    name: "spawn-eager",
    description: "spawn N tasks that finish without awaiting (eager on corio, normal spawn on \
                  tokio/smol), keep the handles, then await each in order",
    default_size: 1_000_000,
    multi_threaded: false,
    corio,
    tokio,
    smol,
};

/// `spawn-eager` on corio: eager tasks.
fn corio(threads: Threads, n: usize) -> Measurement {
    runtime::corio(threads, async move {
        let mut handles = Vec::with_capacity(n);
        let start = Instant::now();
        for _ in 0..n {
            handles.push(corio::task::Builder::new().eager().create(async {}));
        }
        for handle in handles {
            handle.await.unwrap();
        }
        Measurement::new(n, start.elapsed())
    })
}

/// `spawn-eager` on tokio: its normal spawn.
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

/// `spawn-eager` on smol: its normal spawn.
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
