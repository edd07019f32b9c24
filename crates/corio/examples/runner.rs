//! Several runs on one loop: the twin of the `asyncio.Runner` example.
//!
//! ```python
//! async def main():
//!     await asyncio.sleep(1)
//!     print('hello')
//!
//! with asyncio.Runner() as runner:
//!     runner.run(main())
//! ```
//!
//! Unlike `corio::run`, which makes a fresh loop each time, a `Runner` keeps
//! its loop between calls: a task started in one run keeps running in the
//! next, and the loop closes (cancelling what is left) when the runner is
//! closed or dropped. (Sleeps are shortened to 100 ms steps.) It prints:
//!
//! ```text
//! hello
//! run 2: starting a ticker
//! tick 1
//! tick 2
//! tick 3
//! run 3: the ticker has ticked 3 times
//! ```
//!
//! Run it with `cargo run -p corio --example runner`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

async fn hello() {
    corio::sleep(Duration::from_millis(100)).await;
    println!("hello");
}

fn main() {
    let mut runner = corio::Runner::new();
    runner.run(hello());

    // Run 2 starts a background ticker and returns at once.
    let ticks = Arc::new(AtomicU32::new(0));
    let counter = ticks.clone();
    runner.run(async move {
        println!("run 2: starting a ticker");
        // The loop owns the task: it need not be awaited, nor its handle kept.
        corio::create_task(async move {
            let mut interval = corio::interval(Duration::from_millis(100));
            interval.tick().await; // the first tick is immediate
            loop {
                interval.tick().await;
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                println!("tick {n}");
            }
        });
    });

    // Run 3, on the same loop: the ticker from run 2 keeps going meanwhile.
    runner.run(async { corio::sleep(Duration::from_millis(350)).await });
    println!(
        "run 3: the ticker has ticked {} times",
        ticks.load(Ordering::SeqCst)
    );

    // Closing the runner cancels the ticker (dropping the runner would too).
    runner.close();
}
