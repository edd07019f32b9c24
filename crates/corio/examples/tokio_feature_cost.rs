//! What the `tokio` feature costs: the same yield-heavy program (100 tasks
//! each yielding 10,000 times: 1M polls) and an empty `corio::run` (a loop
//! started and closed), built with and without the feature.
//!
//! With the feature, every loop thread enters the tokio context once for
//! the whole run (`runtime/tokio_bridge.rs`), not around each poll, so a
//! poll should cost the same; the fixed cost is starting tokio's runtime
//! (its driver thread, an epoll instance) with the loop's first run and
//! stopping it at close. Without the feature none of that code is compiled
//! (every use of the bridge is behind `#[cfg(feature = "tokio")]`).
//!
//! ```text
//! cargo build --release -p corio --example tokio_feature_cost
//! cp target/release/examples/tokio_feature_cost /tmp/off
//! cargo build --release -p corio --example tokio_feature_cost --features tokio
//! cp target/release/examples/tokio_feature_cost /tmp/on
//! for i in 1 2 3; do /tmp/off; /tmp/on; done
//! # instructions per poll, start-up excluded (the difference of two sizes):
//! valgrind --tool=callgrind /tmp/on --yields 1000 --rounds 1
//! valgrind --tool=callgrind /tmp/on --yields 2000 --rounds 1
//! ```
//!
//! Flags: `--tasks N` (100), `--yields N` (10,000), `--rounds N` (7).

use std::time::{Duration, Instant};

fn arg(name: &str, default: u64) -> u64 {
    std::env::args()
        .skip_while(|a| a != name)
        .nth(1)
        .map_or(default, |n| n.parse().expect("a number"))
}

/// This thread's time on a CPU so far (Linux: `/proc/thread-self/schedstat`),
/// which a preempted thread does not accumulate: on a loaded machine it
/// measures the work, where wall time measures the neighbours too.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = stat.split_whitespace().next().and_then(|n| n.parse().ok());
    Duration::from_nanos(ns.unwrap_or(0))
}

/// Runs the yield workload in a fresh loop; returns ns per poll on the CPU,
/// timed inside the loop (the loop's start and close are `empty_run`'s).
fn yields(tasks: u64, yields: u64) -> f64 {
    let elapsed = corio::run(async move {
        let started = cpu_time();
        let tasks: Vec<_> = (0..tasks)
            .map(|_| {
                corio::create_task(async move {
                    for _ in 0..yields {
                        corio::yield_now().await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        cpu_time() - started
    });
    elapsed.as_nanos() as f64 / (tasks * (yields + 1)) as f64
}

/// Starts and closes an empty loop; returns how long it took.
fn empty_run() -> Duration {
    let started = Instant::now();
    corio::run(async {});
    started.elapsed()
}

fn median<T: Copy + PartialOrd>(mut samples: Vec<T>) -> T {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[samples.len() / 2]
}

fn main() {
    let (tasks, per_task, rounds) = (
        arg("--tasks", 100),
        arg("--yields", 10_000),
        arg("--rounds", 7),
    );
    let feature = if cfg!(feature = "tokio") {
        "on "
    } else {
        "off"
    };
    yields(tasks, per_task.min(100)); // warm-up
    let mut polls = Vec::new();
    let mut runs = Vec::new();
    for _ in 0..rounds {
        polls.push(yields(tasks, per_task));
        runs.push(empty_run());
    }
    println!(
        "tokio feature {feature}: {tasks} tasks x {per_task} yields {:6.1} ns/poll (CPU time), \
         empty corio::run {:7.1} us (wall) (medians of {rounds})",
        median(polls),
        median(runs).as_nanos() as f64 / 1000.0,
    );
}
