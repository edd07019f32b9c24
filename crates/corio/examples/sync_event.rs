//! asyncio's `Event` example (the "Synchronization Primitives" page) on
//! corio: a task waits until `main` sets the event.
//!
//! ```python
//! async def waiter(event):
//!     print('waiting for it ...')
//!     await event.wait()
//!     print('... got it!')
//!
//! async def main():
//!     # Create an Event object.
//!     event = asyncio.Event()
//!
//!     # Spawn a Task to wait until 'event' is set.
//!     waiter_task = asyncio.create_task(waiter(event))
//!
//!     # Sleep for 1 second and set the event.
//!     await asyncio.sleep(1)
//!     event.set()
//!
//!     # Wait until the waiter task is finished.
//!     await waiter_task
//!
//! asyncio.run(main())
//! ```
//!
//! The sleep is 20 ms here instead of 1 s. The output is the original's:
//!
//! ```text
//! waiting for it ...
//! ... got it!
//! ```
//!
//! The event is shared through an `Arc`: a task created with `create_task`
//! may outlive `main`'s stack frame, so it cannot borrow it (asyncio's
//! garbage collector does this sharing for you).
//!
//! Run it with `cargo run -p corio --example sync_event`.

use std::sync::Arc;
use std::time::Duration;

use corio::sync::Event;

async fn waiter(event: Arc<Event>) {
    println!("waiting for it ...");
    event.wait().await;
    println!("... got it!");
}

fn main() {
    corio::run(async {
        // Create an Event object.
        let event = Arc::new(Event::new());

        // Spawn a Task to wait until 'event' is set.
        let waiter_task = corio::create_task(waiter(Arc::clone(&event)));

        // Sleep for 20 ms and set the event.
        corio::sleep(Duration::from_millis(20)).await;
        event.set();

        // Wait until the waiter task is finished.
        waiter_task
            .await
            .expect("the waiter neither panics nor is cancelled");
    });
}
