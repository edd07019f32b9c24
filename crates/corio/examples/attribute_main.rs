//! `#[corio::main]`: an `async fn main` run on a corio event loop, as
//! `asyncio.run(main())` runs a coroutine.
//!
//! ```python
//! async def fetch(i):
//!     await asyncio.sleep(0.01 * i)
//!     return i * i
//!
//! async def main():
//!     async with asyncio.TaskGroup() as tg:
//!         tasks = [tg.create_task(fetch(i)) for i in range(1, 4)]
//!     print([t.result() for t in tasks])
//!
//! asyncio.run(main())
//! ```
//!
//! The attribute builds the loop (`corio::Runner::builder()`, with options
//! such as `workers = 4`, `debug` or `manual_clock`), runs the body on this
//! thread (so `main` may hold an `Rc`, as here), closes the loop and returns
//! the body's result, so `?` works in `main`:
//!
//! ```text
//! squares of 1..=3: [1, 4, 9]
//! limit from CORIO_EXAMPLE_LIMIT or the default: 3
//! ```
//!
//! Run it with `cargo run -p corio --example attribute_main`.

use std::rc::Rc;
use std::time::Duration;

async fn fetch(i: u64) -> u64 {
    corio::sleep(Duration::from_millis(10 * i)).await;
    i * i
}

#[corio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `?` converts into main's error type; a bad value ends the program
    // with that error.
    let limit: u64 = std::env::var("CORIO_EXAMPLE_LIMIT")
        .unwrap_or_else(|_| "3".to_owned())
        .parse()?;
    // Not `Send`: fine, the main future never leaves this thread.
    let label = Rc::new(format!("squares of 1..={limit}"));
    let tasks: Vec<_> = (1..=limit).map(|i| corio::create_task(fetch(i))).collect();
    let mut squares = Vec::new();
    for task in tasks {
        squares.push(task.await?);
    }
    println!("{label}: {squares:?}");
    println!("limit from CORIO_EXAMPLE_LIMIT or the default: {limit}");
    Ok(())
}
