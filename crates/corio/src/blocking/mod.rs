//! The bounded blocking thread pool behind `corio::to_thread` (Python's
//! `asyncio.to_thread` / `loop.run_in_executor(None, ...)`).
//!
//! This module owns the worker threads that run blocking closures off the event
//! loop, the FIFO queue of jobs waiting for a thread, and the one-shot
//! [`BlockingJoin`] future through which a job's result (or its panic payload)
//! travels back to async code:
//!
//! * `pool.rs`: [`BlockingPool`], its shared state, `spawn` and `shutdown`;
//! * `worker.rs`: the body of a worker thread (drain, idle wait, retire);
//! * `join.rs`: the one-shot result slot, its worker-side `Completer` and the
//!   [`BlockingJoin`] future;
//! * `tests.rs`: the pool's unit tests.
//!
//! # Design
//!
//! * **Bounded.** At most `max_threads` workers are alive at once (the loop uses
//!   [`DEFAULT_MAX_THREADS`] = 512, like tokio's blocking pool; asyncio's default
//!   executor uses `min(32, cpus + 4)`). A burst of blocking calls therefore
//!   cannot exhaust the OS's threads; once the cap is reached, extra jobs wait
//!   in a FIFO queue and run in submission order as workers free up.
//! * **Threads start lazily.** [`BlockingPool::spawn`] queues the job, then hands
//!   it to an idle worker if one is waiting (by issuing a wake-up "token" and
//!   notifying the condition variable), otherwise starts a new thread named
//!   `corio-blocking-N` if the cap allows; otherwise the job just waits.
//!   Tokens are counted so that a burst of spawns never claims the same idle
//!   thread twice and spurious condvar wake-ups are harmless.
//! * **Threads retire when idle.** A worker drains the queue, then waits for a
//!   token for up to `keep_alive` ([`DEFAULT_KEEP_ALIVE`] = 10 s). If the wait
//!   expires with no token and an empty queue (both re-checked under the lock,
//!   so a job queued at the same instant is never lost) it unregisters itself
//!   and exits.
//! * **Shutdown** stops accepting work, wakes every idle worker, lets the
//!   workers finish the jobs already queued (asyncio's
//!   `shutdown_default_executor` waits for them too), waits — optionally with a
//!   deadline — for the live-thread count to reach zero, and joins the threads.
//! * **Panics** in a job are caught on the worker and delivered through the
//!   join future as `Err(payload)`; the worker survives. A job that can never
//!   run (its thread could not be created) resolves its join with an error
//!   payload instead of hanging.
//! * **No cancellation.** Dropping a [`BlockingJoin`] does not stop the job —
//!   threads cannot be cancelled, exactly as in asyncio — its result is simply
//!   dropped when it arrives.
//!
//! Only `std` is used; lock poisoning is ignored (no user code runs while a
//! pool lock is held, except `Waker::clone`, and the state stays consistent).

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

mod join;
mod pool;
#[cfg(test)]
mod tests;
mod worker;

pub(crate) use pool::BlockingPool;

/// Default upper bound on live blocking worker threads (tokio's value).
pub(crate) const DEFAULT_MAX_THREADS: usize = 512;

/// Default time an idle worker waits for new work before exiting.
pub(crate) const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// Default time closing a loop waits for running jobs (asyncio's
/// `shutdown_default_executor(timeout=300)`).
pub(crate) const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(300);

/// Locks `m`, ignoring poisoning (see the module docs).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
