//! Fire-and-forget background tasks: the asyncio documentation's
//! `background_tasks` pattern, without its pitfall.
//!
//! ```python
//! background_tasks = set()
//!
//! for i in range(10):
//!     task = asyncio.create_task(some_coro(param=i))
//!     # Add task to the set. This creates a strong reference.
//!     background_tasks.add(task)
//!     # To prevent keeping references to finished tasks forever,
//!     # make each task remove its own reference from the set after
//!     # completion:
//!     task.add_done_callback(background_tasks.discard)
//! ```
//!
//! asyncio keeps only a weak reference to tasks, so a task nobody holds may
//! be garbage-collected mid-flight. In corio the loop owns every task:
//! dropping the `Task` handle does not cancel it, so no bookkeeping set is
//! needed. Here main only waits for a counter to reach ten:
//!
//! ```text
//! job 0 done
//! job 1 done
//! ...
//! job 9 done
//! all 10 background jobs finished
//! ```
//!
//! Run it with `cargo run -p corio --example background_tasks`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

async fn some_coro(param: u64, finished: Arc<AtomicUsize>) {
    corio::sleep(Duration::from_millis(10 * param)).await;
    println!("job {param} done");
    finished.fetch_add(1, Ordering::SeqCst);
}

fn main() {
    const JOBS: usize = 10;
    corio::run(async {
        let finished = Arc::new(AtomicUsize::new(0));
        for i in 0..JOBS as u64 {
            // The handle is dropped at once; the task runs on regardless.
            corio::create_task(some_coro(i, finished.clone()));
        }
        // Anything left when main returns would be cancelled, so wait for
        // the jobs (a real program might use a corio::sync::Event instead).
        while finished.load(Ordering::SeqCst) < JOBS {
            corio::sleep(Duration::from_millis(5)).await;
        }
        println!("all {JOBS} background jobs finished");
    });
}
