//! asyncio's `Semaphore` (the "Synchronization Primitives" page) on corio:
//! five downloads, at most two at a time.
//!
//! The documentation shows the semaphore only as a pattern:
//!
//! ```python
//! sem = asyncio.Semaphore(10)
//!
//! # ... later
//! async with sem:
//!     # work with shared resource
//! ```
//!
//! This program puts it to work:
//!
//! ```python
//! running = 0
//!
//! async def fetch(i, sem):
//!     global running
//!     async with sem:
//!         running += 1
//!         print(f'fetch {i}: start ({running} running)')
//!         await asyncio.sleep(0.01)  # the download
//!         running -= 1
//!         print(f'fetch {i}: done')
//!
//! async def main():
//!     sem = asyncio.Semaphore(2)
//!     tasks = [asyncio.create_task(fetch(i, sem)) for i in range(5)]
//!     await asyncio.sleep(0)
//!     print(f'locked: {sem.locked()}')
//!     await asyncio.gather(*tasks)
//!     print('all fetched')
//!
//! asyncio.run(main())
//! ```
//!
//! Both print (Python spells it `True`):
//!
//! ```text
//! fetch 0: start (1 running)
//! fetch 1: start (2 running)
//! locked: true
//! fetch 0: done
//! fetch 1: done
//! fetch 2: start (1 running)
//! fetch 3: start (2 running)
//! fetch 2: done
//! fetch 3: done
//! fetch 4: start (1 running)
//! fetch 4: done
//! all fetched
//! ```
//!
//! `async with sem:` becomes the scope of the [`Permit`] that
//! `acquire().await` returns: dropping it gives the slot back (asyncio's
//! `release()`), so an early return or a cancelled task cannot leak a slot.
//! Waiters get freed slots in the order they asked.
//!
//! [`Permit`]: corio::sync::Permit
//!
//! The lines come in this order on every run because the loop is
//! asyncio's: one thread, one FIFO queue. With `CORIO_WORKERS=2` (worker
//! threads behind `corio::run`) the tasks run in parallel, and `locked:`
//! may print before any task has taken the lock; the final lines stay right.
//!
//! Run it with `cargo run -p corio --example sync_semaphore`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corio::sync::Semaphore;

/// How many downloads hold a slot right now.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

async fn fetch(i: usize, sem: Arc<Semaphore>) {
    let _permit = sem.acquire().await;
    let running = RUNNING.fetch_add(1, Ordering::Relaxed) + 1;
    println!("fetch {i}: start ({running} running)");
    corio::sleep(Duration::from_millis(10)).await; // the download
    RUNNING.fetch_sub(1, Ordering::Relaxed);
    println!("fetch {i}: done");
    // `_permit` drops here: the slot goes to the next waiter.
}

fn main() {
    corio::run(async {
        let sem = Arc::new(Semaphore::new(2));
        let tasks: Vec<_> = (0..5)
            .map(|i| corio::create_task(fetch(i, Arc::clone(&sem))))
            .collect();
        corio::yield_now().await;
        println!("locked: {}", sem.is_locked());
        for task in corio::gather(tasks).await {
            task.expect("a fetch neither panics nor is cancelled");
        }
        println!("all fetched");
    });
}
