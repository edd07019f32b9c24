//! Timing a coroutine with a wrapper: the twin of the classic asyncio
//! timing decorator.
//!
//! ```python
//! def timed(fn):
//!     @functools.wraps(fn)
//!     async def wrapper(*args, **kwargs):
//!         start = time.perf_counter()
//!         try:
//!             return await fn(*args, **kwargs)
//!         finally:
//!             print(f"{fn.__name__} took {(time.perf_counter() - start) * 1000:.0f} ms")
//!     return wrapper
//! ```
//!
//! A Rust decorator is a function that takes the future and returns another
//! one. The two timed calls run concurrently, so the total is the longer of
//! the two, not their sum. It prints about:
//!
//! ```text
//! fetch took 200 ms
//! slow fetch took 300 ms
//! results: [1, 2], total 300 ms
//! ```
//!
//! Run it with `cargo run -p corio --example timing_wrapper`.

use std::future::Future;
use std::time::{Duration, Instant};

/// Awaits `fut` and prints how long that took.
async fn timed<F: Future>(name: &str, fut: F) -> F::Output {
    let start = Instant::now();
    let output = fut.await;
    println!("{name} took {} ms", start.elapsed().as_millis());
    output
}

async fn fetch(id: u32, delay: Duration) -> u32 {
    corio::sleep(delay).await;
    id
}

fn main() {
    corio::run(async {
        let start = Instant::now();
        let first = corio::create_task(timed("fetch", fetch(1, Duration::from_millis(200))));
        let second = corio::create_task(timed("slow fetch", fetch(2, Duration::from_millis(300))));
        let results = [first.await.unwrap(), second.await.unwrap()];
        println!(
            "results: {results:?}, total {} ms",
            start.elapsed().as_millis()
        );
    });
}
