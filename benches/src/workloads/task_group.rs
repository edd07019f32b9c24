//! `task-group`: a structured group of N short children, all joined.
//!
//! corio runs them in a `TaskGroup` scope; tokio in a `JoinSet`, drained
//! with `join_next`; smol has no group type, so it keeps the `Task`
//! handles in a `Vec` and awaits them (what a smol user writes). Each child
//! yields once and returns `Ok(())`, so every child is scheduled twice.
//! One op is one child created, run and joined.

use std::time::Instant;

use super::Workload;
use crate::measure::Measurement;
use crate::runtime::{self, Threads};

/// The `task-group` workload.
pub(super) const WORKLOAD: Workload = Workload {
    name: "task-group",
    description: "N children that yield once, in a TaskGroup / JoinSet / Vec<Task>",
    default_size: 100_000,
    multi_threaded: true,
    corio,
    tokio,
    smol,
};

/// `task-group` on corio.
fn corio(threads: Threads, n: usize) -> Measurement {
    runtime::corio(threads, async move {
        let start = Instant::now();
        corio::task::TaskGroup::<()>::scope(|group| async move {
            for _ in 0..n {
                group.create_task(async {
                    corio::yield_now().await;
                    Ok(())
                });
            }
            Ok(())
        })
        .await
        .expect("no child fails");
        Measurement::new(n, start.elapsed())
    })
}

/// `task-group` on tokio, with a `JoinSet`.
fn tokio(threads: Threads, n: usize) -> Measurement {
    runtime::tokio(threads).block_on(async move {
        let start = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..n {
            set.spawn(async {
                tokio::task::yield_now().await;
                Ok::<(), ()>(())
            });
        }
        while let Some(joined) = set.join_next().await {
            joined.expect("no child panics").expect("no child fails");
        }
        Measurement::new(n, start.elapsed())
    })
}

/// `task-group` on smol, with a `Vec` of tasks.
fn smol(threads: Threads, n: usize) -> Measurement {
    crate::smol_run!(threads, |ex| async move {
        let start = Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                ex.spawn(async {
                    smol::future::yield_now().await;
                    Ok::<(), ()>(())
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("no child fails");
        }
        Measurement::new(n, start.elapsed())
    })
}
