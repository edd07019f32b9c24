//! `process`: spawn N `/bin/true` children and wait for each, 16 at a time.
//!
//! 16 tasks each spawn a child, await its exit, and go again, so 16 children
//! are alive at most. One op is one child spawned, run to exit and reaped. The
//! standard streams are `/dev/null`, so this measures `fork`/`exec`, exit
//! notification (corio: a pidfd on the reactor; tokio: its SIGCHLD driver or a
//! pidfd; smol: async-process's reaper) and the runtime around them, not pipes.
//! Most of the time is the kernel's: expect ratios near 1.

use std::process::Stdio;
use std::time::Instant;

use super::Workload;
use crate::measure::Measurement;
use crate::runtime::{self, Threads};

/// The `process` workload.
pub(super) const WORKLOAD: Workload = Workload {
    name: "process",
    description: "spawn and wait N /bin/true children, 16 concurrently (stdio to /dev/null)",
    default_size: 1_000,
    multi_threaded: false,
    corio,
    tokio,
    smol,
};

/// Children alive at once.
const CONCURRENCY: usize = 16;
/// The child: exits at once with status 0.
const PROGRAM: &str = "/bin/true";

/// How many children each of the (at most 16) tasks runs: `n` in all (for `n` > 0).
fn shares(n: usize) -> Vec<usize> {
    let (tasks, per_task) = super::split(n, CONCURRENCY);
    let extra = n.saturating_sub(tasks * per_task);
    (0..tasks)
        .map(|i| per_task + usize::from(i < extra))
        .collect()
}

/// `process` on corio.
fn corio(threads: Threads, n: usize) -> Measurement {
    let counts = shares(n);
    runtime::corio(threads, async move {
        let start = Instant::now();
        let workers: Vec<_> = counts
            .iter()
            .map(|&count| {
                corio::create_task(async move {
                    for _ in 0..count {
                        let status = corio::process::Command::new(PROGRAM)
                            .stdin(Stdio::null())
                            .stdout(Stdio::null())
                            .stderr(Stdio::null())
                            .status()
                            .await
                            .expect("spawn /bin/true");
                        assert!(status.success());
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.await.expect("worker");
        }
        Measurement::new(n, start.elapsed())
    })
}

/// `process` on tokio, with `tokio::process`.
fn tokio(threads: Threads, n: usize) -> Measurement {
    let counts = shares(n);
    runtime::tokio(threads).block_on(async move {
        let start = Instant::now();
        let workers: Vec<_> = counts
            .iter()
            .map(|&count| {
                tokio::spawn(async move {
                    for _ in 0..count {
                        let status = tokio::process::Command::new(PROGRAM)
                            .stdin(Stdio::null())
                            .stdout(Stdio::null())
                            .stderr(Stdio::null())
                            .status()
                            .await
                            .expect("spawn /bin/true");
                        assert!(status.success());
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.await.expect("worker");
        }
        Measurement::new(n, start.elapsed())
    })
}

/// `process` on smol, with `smol::process` (async-process).
fn smol(threads: Threads, n: usize) -> Measurement {
    let counts = shares(n);
    crate::smol_run!(threads, |ex| async move {
        let start = Instant::now();
        let workers: Vec<_> = counts
            .iter()
            .map(|&count| {
                ex.spawn(async move {
                    for _ in 0..count {
                        let status = smol::process::Command::new(PROGRAM)
                            .stdin(Stdio::null())
                            .stdout(Stdio::null())
                            .stderr(Stdio::null())
                            .status()
                            .await
                            .expect("spawn /bin/true");
                        assert!(status.success());
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.await;
        }
        Measurement::new(n, start.elapsed())
    })
}
