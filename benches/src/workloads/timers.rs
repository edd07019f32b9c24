//! The timer workloads: `sleep-cancel` (many sleeping tasks, half of them
//! cancelled) and `timeout-unused` (the cost of a timeout that never fires).
//!
//! **`sleep-cancel`**: N tasks each sleep for a random duration (a seeded
//! xorshift, the same sequence on every runtime) within N µs, which is 1 s
//! at the default N = 1,000,000; the horizon shrinks with N so that the
//! density of deadlines, 1,000 per millisecond, is the same at every size.
//! The main task spawns them all, lets each one start sleeping (it yields
//! until every task has been polled once, so every sleep is registered with
//! the runtime's timers), cancels every other one through its handle
//! (`corio::Task::cancel`, tokio's `JoinHandle::abort`, dropping smol's
//! `Task`), then awaits the rest as they fire. An op is one sleeping task:
//! spawn, registration, and either cancellation or firing and join.
//! Most of the run is the runtimes waiting for deadlines, the same second on
//! each, so this workload reports the **CPU time** of the process (user +
//! system, all threads, `CLOCK_PROCESS_CPUTIME_ID`) per op, not wall time.
//!
//! **`timeout-unused`**: one task awaits N timeouts of 1 s around futures
//! that are ready at once: `corio::timeout(1 s, ready(i))`,
//! `tokio::time::timeout(1 s, ready(i))`, and on smol, which has no
//! `timeout`, the idiomatic race `ready(Some(i)).or(async {
//! Timer::after(1 s).await; None })` (`futures_lite::FutureExt::or`, as
//! `smol::future`, the pattern smol's own examples use). That race only
//! creates the `Timer` if the future is still pending after its first poll,
//! so on smol an unused timeout costs next to nothing: the floor. The value
//! passes through `black_box` on every runtime so the loop is not folded
//! away. An op is one timeout created, polled and dropped; wall time.

use std::future::ready;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Workload;
use crate::measure::{CpuTimer, Measurement};
use crate::runtime::{self, Threads};

/// The `sleep-cancel` workload. One op is one sleeping task; CPU time.
pub(super) const SLEEP_CANCEL: Workload = Workload {
    name: "sleep-cancel",
    description: "N tasks sleep for random times within N us (1 s at 1M), half cancelled, \
                  the rest awaited; CPU time per task",
    default_size: 1_000_000,
    multi_threaded: false,
    corio: sleep_cancel_corio,
    tokio: sleep_cancel_tokio,
    smol: sleep_cancel_smol,
};

/// The `timeout-unused` workload. One op is one timeout around a ready future.
pub(super) const TIMEOUT_UNUSED: Workload = Workload {
    name: "timeout-unused",
    description: "one task awaits N timeouts of 1 s around ready futures",
    default_size: 100_000,
    multi_threaded: false,
    corio: timeout_corio,
    tokio: timeout_tokio,
    smol: timeout_smol,
};

/// The timeout of `timeout-unused`: far longer than the run, so it never fires.
const TIMEOUT: Duration = Duration::from_secs(1);

/// A xorshift64 generator: deterministic, no dependency, good enough to
/// scatter deadlines.
struct XorShift(u64);

impl XorShift {
    /// The generator every runtime's run starts from.
    fn new() -> XorShift {
        XorShift(0x2545_f491_4f6c_dd1d)
    }

    /// The next number.
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// The sleep durations of a `sleep-cancel` run of `n` tasks: uniform within
/// `n` µs (1 s for 1,000,000 tasks).
fn sleep_durations(n: usize) -> Vec<Duration> {
    let horizon_ns = n as u64 * 1_000;
    let mut rng = XorShift::new();
    (0..n)
        .map(|_| Duration::from_nanos(rng.next() % horizon_ns))
        .collect()
}

/// `sleep-cancel` on corio.
fn sleep_cancel_corio(threads: Threads, n: usize) -> Measurement {
    let durations = sleep_durations(n);
    runtime::corio(threads, async move {
        let started = Arc::new(AtomicUsize::new(0));
        let mut handles = Vec::with_capacity(n);
        let timer = CpuTimer::start();
        for &d in &durations {
            let started = Arc::clone(&started);
            handles.push(corio::create_task(async move {
                started.fetch_add(1, Ordering::Relaxed);
                corio::sleep(d).await;
            }));
        }
        while started.load(Ordering::Relaxed) < n {
            corio::yield_now().await;
        }
        let mut rest = Vec::with_capacity(n / 2);
        for (i, handle) in handles.into_iter().enumerate() {
            if i % 2 == 0 {
                handle.cancel();
            } else {
                rest.push(handle);
            }
        }
        for handle in rest {
            handle.await.unwrap();
        }
        timer.measurement(n)
    })
}

/// `sleep-cancel` on tokio.
fn sleep_cancel_tokio(threads: Threads, n: usize) -> Measurement {
    let durations = sleep_durations(n);
    runtime::tokio(threads).block_on(async move {
        let started = Arc::new(AtomicUsize::new(0));
        let mut handles = Vec::with_capacity(n);
        let timer = CpuTimer::start();
        for &d in &durations {
            let started = Arc::clone(&started);
            handles.push(tokio::spawn(async move {
                started.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(d).await;
            }));
        }
        while started.load(Ordering::Relaxed) < n {
            tokio::task::yield_now().await;
        }
        let mut rest = Vec::with_capacity(n / 2);
        for (i, handle) in handles.into_iter().enumerate() {
            if i % 2 == 0 {
                handle.abort();
            } else {
                rest.push(handle);
            }
        }
        for handle in rest {
            handle.await.unwrap();
        }
        timer.measurement(n)
    })
}

/// `sleep-cancel` on smol.
fn sleep_cancel_smol(threads: Threads, n: usize) -> Measurement {
    let durations = sleep_durations(n);
    crate::smol_run!(threads, |ex| async move {
        let started = Arc::new(AtomicUsize::new(0));
        let mut handles = Vec::with_capacity(n);
        let timer = CpuTimer::start();
        for &d in &durations {
            let started = Arc::clone(&started);
            handles.push(ex.spawn(async move {
                started.fetch_add(1, Ordering::Relaxed);
                smol::Timer::after(d).await;
            }));
        }
        while started.load(Ordering::Relaxed) < n {
            smol::future::yield_now().await;
        }
        let mut rest = Vec::with_capacity(n / 2);
        for (i, handle) in handles.into_iter().enumerate() {
            if i % 2 == 0 {
                drop(handle);
            } else {
                rest.push(handle);
            }
        }
        for handle in rest {
            handle.await;
        }
        timer.measurement(n)
    })
}

/// The sum of `0..n`, which every `timeout-unused` run checks.
fn expected_sum(n: usize) -> usize {
    n * n.saturating_sub(1) / 2
}

/// `timeout-unused` on corio.
fn timeout_corio(threads: Threads, n: usize) -> Measurement {
    runtime::corio(threads, async move {
        let mut sum = 0;
        let start = Instant::now();
        for i in 0..n {
            sum += corio::timeout(TIMEOUT, ready(black_box(i))).await.unwrap();
        }
        let elapsed = start.elapsed();
        assert_eq!(sum, expected_sum(n));
        Measurement::new(n, elapsed)
    })
}

/// `timeout-unused` on tokio.
fn timeout_tokio(threads: Threads, n: usize) -> Measurement {
    runtime::tokio(threads).block_on(async move {
        let mut sum = 0;
        let start = Instant::now();
        for i in 0..n {
            sum += tokio::time::timeout(TIMEOUT, ready(black_box(i)))
                .await
                .unwrap();
        }
        let elapsed = start.elapsed();
        assert_eq!(sum, expected_sum(n));
        Measurement::new(n, elapsed)
    })
}

/// `timeout-unused` on smol: smol has no `timeout`, so
/// the future races a `Timer` with `FutureExt::or`.
fn timeout_smol(threads: Threads, n: usize) -> Measurement {
    use smol::future::FutureExt as _;
    crate::smol_run!(threads, |_ex| async move {
        let mut sum = 0;
        let start = Instant::now();
        for i in 0..n {
            let raced = ready(Some(black_box(i))).or(async {
                smol::Timer::after(TIMEOUT).await;
                None
            });
            sum += raced.await.unwrap();
        }
        let elapsed = start.elapsed();
        assert_eq!(sum, expected_sum(n));
        Measurement::new(n, elapsed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_seeded_and_within_the_horizon() {
        let a = sleep_durations(1_000);
        assert_eq!(a, sleep_durations(1_000));
        assert!(a.iter().all(|d| *d < Duration::from_millis(1)));
        // Spread over the horizon, not bunched at one end.
        let late = a
            .iter()
            .filter(|d| **d >= Duration::from_micros(500))
            .count();
        assert!((400..600).contains(&late), "{late}");
    }

    #[test]
    fn expected_sum_is_the_triangle_number() {
        assert_eq!(expected_sum(0), 0);
        assert_eq!(expected_sum(5), 10);
    }
}
