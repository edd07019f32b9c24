//! Running coroutines concurrently as tasks: the `say_after` example of the
//! asyncio documentation ("Coroutines and Tasks").
//!
//! ```python
//! async def say_after(delay, what):
//!     await asyncio.sleep(delay)
//!     print(what)
//!
//! async def main():
//!     task1 = asyncio.create_task(say_after(1, 'hello'))
//!     task2 = asyncio.create_task(say_after(2, 'world'))
//!     print(f"started at {time.strftime('%X')}")
//!     await task1
//!     await task2
//!     print(f"finished at {time.strftime('%X')}")
//! ```
//!
//! Both tasks are created before either is awaited, so they sleep at the
//! same time and the whole program takes 2 seconds, not 3:
//!
//! ```text
//! started at 0.000 s
//! hello
//! world
//! finished at 2.00 s
//! ```
//!
//! Run it with `cargo run -p corio --example hello_world_tasks`.

use std::time::{Duration, Instant};

async fn say_after(delay: Duration, what: &'static str) {
    corio::sleep(delay).await;
    println!("{what}");
}

fn main() {
    corio::run(async {
        let start = Instant::now();
        let task1 = corio::create_task(say_after(Duration::from_secs(1), "hello"));
        let task2 = corio::create_task(say_after(Duration::from_secs(2), "world"));

        println!("started at {:.3} s", start.elapsed().as_secs_f64());
        // Awaiting a task gives Result<T, TaskError>: Err if it panicked or
        // was cancelled.
        task1.await.unwrap();
        task2.await.unwrap();
        println!("finished at {:.2} s", start.elapsed().as_secs_f64());
    });
}
