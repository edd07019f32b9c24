//! asyncio's `Future` example (the "Futures" page) on corio's [`Promise`],
//! twice: the result set by a task, then by a `call_later` callback.
//!
//! ```python
//! async def set_after(fut, delay, value):
//!     # Sleep for *delay* seconds.
//!     await asyncio.sleep(delay)
//!
//!     # Set *value* as a result of *fut* Future.
//!     fut.set_result(value)
//!
//! async def main():
//!     # Get the current event loop.
//!     loop = asyncio.get_running_loop()
//!
//!     # Create a new Future object.
//!     fut = loop.create_future()
//!
//!     # Run "set_after()" coroutine in a parallel Task.
//!     # We are using the low-level "loop.create_task()" API here because
//!     # we already have a reference to the event loop at hand.
//!     # Otherwise we could have just used "asyncio.create_task()".
//!     loop.create_task(
//!         set_after(fut, 1, '... world'))
//!
//!     print('hello ...')
//!
//!     # Wait until *fut* has a result (1 second) and print it.
//!     print(await fut)
//!
//! async def main_call_later():
//!     loop = asyncio.get_running_loop()
//!     fut = loop.create_future()
//!     # No task at all: the loop calls fut.set_result('... world') in 1 second.
//!     loop.call_later(1, fut.set_result, '... world')
//!     print('hello ...')
//!     print(await fut)
//!
//! asyncio.run(main())
//! asyncio.run(main_call_later())
//! ```
//!
//! The delays are 20 ms here instead of 1 s. Both print, twice:
//!
//! ```text
//! hello ...
//! ... world
//! ```
//!
//! A [`Promise`] is asyncio's `Future` without the loop attached: it is
//! created with `Promise::new()` (not `loop.create_future()`), shared
//! through an `Arc` (the task and the callback must own what they use), and
//! awaited with `wait()`, which any number of tasks may do, each getting a
//! clone of the value. `wait()` gives `Result<T, Cancelled>` (asyncio raises
//! `CancelledError` if the future was cancelled), and `set_result` returns
//! `Err(value)` if the promise was already done, where asyncio raises
//! `InvalidStateError`.
//!
//! Run it with `cargo run -p corio --example promise_call_later`.

use std::sync::Arc;
use std::time::Duration;

use corio::sync::Promise;

async fn set_after(fut: Arc<Promise<&'static str>>, delay: Duration, value: &'static str) {
    // Sleep for *delay*.
    corio::sleep(delay).await;

    // Set *value* as a result of *fut*.
    fut.set_result(value).expect("nobody else completes it");
}

async fn main_task() {
    // Get the current event loop.
    let event_loop = corio::get_running_loop();

    // Create a new promise.
    let fut = Arc::new(Promise::new());

    // Run "set_after()" in a parallel task, through the loop handle we
    // already hold (corio::create_task would do the same).
    event_loop.create_task(set_after(
        Arc::clone(&fut),
        Duration::from_millis(20),
        "... world",
    ));

    println!("hello ...");

    // Wait until *fut* has a result (20 ms) and print it.
    println!("{}", fut.wait().await.expect("never cancelled"));
}

async fn main_call_later() {
    let event_loop = corio::get_running_loop();
    let fut = Arc::new(Promise::new());
    // No task at all: the loop calls `set_result` in 20 ms.
    let setter = Arc::clone(&fut);
    event_loop.call_later(Duration::from_millis(20), move || {
        setter
            .set_result("... world")
            .expect("nobody else completes it");
    });
    println!("hello ...");
    println!("{}", fut.wait().await.expect("never cancelled"));
}

fn main() {
    corio::run(main_task());
    corio::run(main_call_later());
}
