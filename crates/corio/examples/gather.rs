//! Running tasks concurrently with `gather`: the factorial example of the
//! asyncio documentation ("Coroutines and Tasks", `asyncio.gather`).
//!
//! ```python
//! async def factorial(name, number):
//!     f = 1
//!     for i in range(2, number + 1):
//!         print(f"Task {name}: Compute factorial({number}), currently i={i}...")
//!         await asyncio.sleep(1)
//!         f *= i
//!     print(f"Task {name}: factorial({number}) = {f}")
//!     return f
//!
//! async def main():
//!     L = await asyncio.gather(
//!         factorial("A", 2),
//!         factorial("B", 3),
//!         factorial("C", 4),
//!     )
//!     print(L)
//! ```
//!
//! The three computations interleave at each sleep, and the results come
//! back in the order the futures were given, not the order they finished:
//!
//! ```text
//! Task A: Compute factorial(2), currently i=2...
//! Task B: Compute factorial(3), currently i=2...
//! Task C: Compute factorial(4), currently i=2...
//! Task A: factorial(2) = 2
//! Task B: Compute factorial(3), currently i=3...
//! Task C: Compute factorial(4), currently i=3...
//! Task B: factorial(3) = 6
//! Task C: Compute factorial(4), currently i=4...
//! Task C: factorial(4) = 24
//! [2, 6, 24]
//! ```
//!
//! `gather` polls the futures in place, in the task that awaits it (no tasks
//! are spawned). For futures of different types, `corio::gather!(a, b, c)`
//! gives a tuple instead.
//!
//! Run it with `cargo run -p corio --example gather`.

use std::time::Duration;

async fn factorial(name: &str, number: u64) -> u64 {
    let mut f = 1;
    for i in 2..=number {
        println!("Task {name}: Compute factorial({number}), currently i={i}...");
        corio::sleep(Duration::from_secs(1)).await;
        f *= i;
    }
    println!("Task {name}: factorial({number}) = {f}");
    f
}

fn main() {
    corio::run(async {
        let results =
            corio::gather([factorial("A", 2), factorial("B", 3), factorial("C", 4)]).await;
        println!("{results:?}");
        assert_eq!(results, [2, 6, 24]);
    });
}
