//! CPU-bound work three ways, timed, with a ticker task that shows whether
//! the loop stays responsive: on the loop itself (it blocks: the ticker
//! starves), with [`corio::to_thread`] (the loop stays free), and as tasks
//! on the multi-threaded runtime, `Runner::builder().workers(n)` (parallel:
//! the jobs finish about `n` times sooner).
//!
//! The asyncio counterpart, after the "Executing code in thread or process
//! pools" example of the "Event Loop" page, whose `cpu_bound` it reuses:
//!
//! ```python
//! import asyncio, concurrent.futures, time
//!
//! def cpu_bound(n):
//!     # CPU-bound operations will block the event loop:
//!     # in general it is preferable to run them in a process pool.
//!     return sum(i * i for i in range(n))
//!
//! async def ticker(ticks):
//!     while True:
//!         await asyncio.sleep(0.01)
//!         ticks[0] += 1
//!
//! async def main(n):
//!     ticks = [0]
//!     asyncio.create_task(ticker(ticks))
//!
//!     # 1. On the loop: nothing else runs until it returns.
//!     start, before = time.monotonic(), ticks[0]
//!     cpu_bound(n)
//!     print(f'on the loop: {time.monotonic() - start:.3f} s, '
//!           f'the ticker ticked {ticks[0] - before} times')
//!
//!     # 2. On a thread: the loop stays free.
//!     start, before = time.monotonic(), ticks[0]
//!     await asyncio.to_thread(cpu_bound, n)
//!     print(f'to_thread: {time.monotonic() - start:.3f} s, '
//!           f'the ticker ticked {ticks[0] - before} times')
//!
//!     # 3. In parallel: the GIL serializes Python threads, so CPU-bound
//!     # work needs processes.
//!     loop = asyncio.get_running_loop()
//!     with concurrent.futures.ProcessPoolExecutor(4) as pool:
//!         start = time.monotonic()
//!         await asyncio.gather(
//!             *(loop.run_in_executor(pool, cpu_bound, n) for _ in range(4)))
//!         print(f'4 jobs on 4 processes: {time.monotonic() - start:.3f} s')
//!
//! asyncio.run(main(10 ** 7))
//! ```
//!
//! On a two-core machine (debug build) this program prints something like:
//!
//! ```text
//! one job: cpu_bound(8388608) = 12297794198102343680, about 0.105 s
//! on the loop: 0.105 s, the ticker ticked 0 times
//! to_thread: 0.107 s, the ticker ticked 11 times
//! 4 jobs on 1 worker: 0.421 s
//! 4 jobs on 2 workers: 0.211 s (2.0 times faster)
//! ```
//!
//! What differs from asyncio: Rust threads have no GIL, so no process pool
//! is needed. `to_thread` jobs already run in parallel with each other (a
//! `gather` of four `to_thread` calls is the `run_in_executor` line above);
//! the multi-threaded runtime goes further and runs the tasks themselves on
//! `n` worker threads. A task there still blocks its worker while it
//! computes, so long CPU-bound work stays better on `to_thread`, and the
//! single-threaded loop (the default, asyncio's model) is for work that
//! awaits. The job's size is measured at start, so that one job takes
//! about 100 ms in both debug and release builds.
//!
//! Run it with `cargo run -p corio --example cpu_bound` (add `--release`
//! for the real speed).

use std::hint::black_box;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The asyncio example's `cpu_bound`: `sum(i * i for i in range(n))`.
/// `black_box` keeps the compiler from replacing the loop by its closed form.
fn cpu_bound(n: u64) -> u64 {
    (0..n).fold(0u64, |sum, i| {
        let i = black_box(i);
        sum.wrapping_add(i.wrapping_mul(i))
    })
}

/// The smallest power of two `n` for which `cpu_bound(n)` takes 100 ms or
/// more here, with how long that took.
fn calibrate() -> (u64, Duration) {
    let mut n = 1 << 16;
    loop {
        let start = Instant::now();
        cpu_bound(n);
        let took = start.elapsed();
        if took >= Duration::from_millis(100) {
            return (n, took);
        }
        n *= 2;
    }
}

async fn ticker(ticks: Arc<AtomicU32>) {
    loop {
        corio::sleep(Duration::from_millis(10)).await;
        ticks.fetch_add(1, Ordering::Relaxed);
    }
}

/// The four jobs as tasks on a runtime with `workers` threads; how long
/// they took.
fn jobs_on_workers(workers: usize, n: u64) -> std::io::Result<Duration> {
    let mut runner = corio::Runner::builder().workers(workers).build()?;
    Ok(runner.run(async move {
        let start = Instant::now();
        let jobs: Vec<_> = (0..4)
            .map(|_| corio::create_task(async move { cpu_bound(n) }))
            .collect();
        for job in corio::gather(jobs).await {
            job.expect("a job neither panics nor is cancelled");
        }
        start.elapsed()
    }))
}

fn main() -> std::io::Result<()> {
    let (n, took) = calibrate();
    println!(
        "one job: cpu_bound({n}) = {}, about {:.3} s",
        cpu_bound(n),
        took.as_secs_f64()
    );

    corio::run(async move {
        let ticks = Arc::new(AtomicU32::new(0));
        corio::create_task(ticker(Arc::clone(&ticks)));
        // Let the ticker start.
        corio::yield_now().await;

        // 1. On the loop: nothing else runs until it returns.
        let (start, before) = (Instant::now(), ticks.load(Ordering::Relaxed));
        black_box(cpu_bound(n));
        println!(
            "on the loop: {:.3} s, the ticker ticked {} times",
            start.elapsed().as_secs_f64(),
            ticks.load(Ordering::Relaxed) - before
        );

        // 2. On a thread of the blocking pool: the loop stays free.
        let (start, before) = (Instant::now(), ticks.load(Ordering::Relaxed));
        let sum = corio::to_thread(move || cpu_bound(n)).await;
        black_box(sum.expect("cpu_bound does not panic"));
        println!(
            "to_thread: {:.3} s, the ticker ticked {} times",
            start.elapsed().as_secs_f64(),
            ticks.load(Ordering::Relaxed) - before
        );
        // `run` cancels the ticker on the way out.
    });

    // 3. In parallel: the same four tasks on one worker, then on several.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
    let one = jobs_on_workers(1, n)?;
    println!("4 jobs on 1 worker: {:.3} s", one.as_secs_f64());
    let many = jobs_on_workers(workers, n)?;
    println!(
        "4 jobs on {workers} workers: {:.3} s ({:.1} times faster)",
        many.as_secs_f64(),
        one.as_secs_f64() / many.as_secs_f64()
    );
    Ok(())
}
