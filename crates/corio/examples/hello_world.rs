//! Hello world: the first example of the asyncio documentation.
//!
//! ```python
//! import asyncio
//!
//! async def main():
//!     print('hello')
//!     await asyncio.sleep(1)
//!     print('world')
//!
//! asyncio.run(main())
//! ```
//!
//! Prints `hello`, waits a second, prints `world`:
//!
//! ```text
//! hello
//! world
//! ```
//!
//! Run it with `cargo run -p corio --example hello_world`.

use std::time::Duration;

async fn main_task() {
    println!("hello");
    corio::sleep(Duration::from_secs(1)).await;
    println!("world");
}

fn main() {
    corio::run(main_task());
}
