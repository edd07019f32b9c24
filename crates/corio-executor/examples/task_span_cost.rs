//! What per-task `tracing` spans cost a yield-heavy program: 100 tasks each
//! yielding 10,000 times on a `LocalExecutor` (1M polls), run with no
//! subscriber, with a `fmt` subscriber at WARN, with one at INFO (which
//! enables the `corio::task` target), and with one at INFO plus
//! `LocalExecutor::set_task_spans(true)`. Prints the median ns per poll of
//! each configuration (CPU time of the thread), the configurations
//! interleaved round by round.
//!
//! Run with `cargo run --release -p corio-executor --example task_span_cost`
//! (`-- --rounds N`, default 7).

use std::task::Poll;

use corio_executor::{LocalExecutor, ThreadPark};
use tracing::level_filters::LevelFilter;

const TASKS: u64 = 100;
const YIELDS: u64 = 10_000;

/// Gives the other tasks a turn: wakes itself and returns `Pending` once.
async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

/// This thread's time on a CPU so far (Linux: `/proc/thread-self/schedstat`):
/// a preempted thread does not accumulate it, so on a loaded machine it
/// measures the work, where wall time measures the neighbours too.
fn cpu_time() -> std::time::Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = stat.split_whitespace().next().and_then(|n| n.parse().ok());
    std::time::Duration::from_nanos(ns.unwrap_or(0))
}

/// Runs the workload once; returns ns per poll (CPU time).
fn workload(task_spans: bool) -> f64 {
    let ex = LocalExecutor::new();
    set_task_spans(&ex, task_spans);
    let started = cpu_time();
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            ex.spawn(async {
                for _ in 0..YIELDS {
                    yield_now().await;
                }
            })
        })
        .collect();
    ex.block_on(
        async {
            for task in tasks {
                task.await.unwrap();
            }
        },
        &mut ThreadPark,
    );
    (cpu_time() - started).as_nanos() as f64 / (TASKS * (YIELDS + 1)) as f64
}

fn set_task_spans(ex: &LocalExecutor, on: bool) {
    ex.set_task_spans(on);
}
const WITH_SPANS_ON: bool = true;

fn fmt_at(level: LevelFilter) -> impl tracing::Subscriber + Send + Sync {
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::sink)
        .finish()
}

fn main() {
    let rounds: usize = std::env::args()
        .skip_while(|a| a != "--rounds")
        .nth(1)
        .map_or(7, |n| n.parse().expect("--rounds N"));
    let mut names = vec!["no subscriber", "fmt at WARN", "fmt at INFO"];
    if WITH_SPANS_ON {
        names.push("fmt at INFO, task_spans(true)");
    }
    let mut samples = vec![Vec::new(); names.len()];
    workload(false); // warm-up: allocator, page faults
    for _ in 0..rounds {
        samples[0].push(workload(false));
        samples[1].push(tracing::subscriber::with_default(
            fmt_at(LevelFilter::WARN),
            || workload(false),
        ));
        samples[2].push(tracing::subscriber::with_default(
            fmt_at(LevelFilter::INFO),
            || workload(false),
        ));
        if WITH_SPANS_ON {
            samples[3].push(tracing::subscriber::with_default(
                fmt_at(LevelFilter::INFO),
                || workload(true),
            ));
        }
    }
    println!("{TASKS} tasks x {YIELDS} yields, ns/poll on the CPU, median of {rounds} rounds");
    for (name, mut s) in names.into_iter().zip(samples) {
        s.sort_by(f64::total_cmp);
        println!("{name:32} {:8.1} ns/poll", s[s.len() / 2]);
    }
}
