//! Separate binary: its leftovers test counts the process's threads (`/proc/self/task`) around
//! each `run`, which every other test's threads would disturb, and a wedged loop aborts the
//! whole process.
//!
//! Churn stress of the event loop's cross-thread and timer paths together,
//! and of the clean-up of leftovers across consecutive `corio::run`s.
//!
//! One loop runs, all at once: 2,000 tasks that sleep 0–3 ms and yield, half
//! of them cancelled by other tasks; `call_later` callbacks, 10% cancelled;
//! 50 `to_thread` jobs; and three std threads' `call_soon_threadsafe`,
//! `call_later` and `run_coroutine_threadsafe` traffic (waited for with
//! `ThreadsafeTask::wait`). Then 20 `corio::run`s each leave tasks, timers and
//! a blocking job behind.
//!
//! Exactness: a task whose `cancel()` returned true ends `Cancelled`, every
//! other one `Ok` with its own value; exactly the callbacks not cancelled in
//! time run, never before their deadline, and the threadsafe ones in FIFO
//! order per thread; every coroutine's value reaches its thread; every future
//! and closure is dropped exactly once (drop latches); no blocking-pool
//! thread outlives `run`.
//!
//! Lost wake-ups: after the churn, a probe thread makes round trips to the
//! loop while it has nothing else to do (no timer but the watchdog's), so
//! each one needs its cross-thread wake-up (`call_soon_threadsafe`, a timer
//! armed from that thread, `run_coroutine_threadsafe`) to reach the parked
//! loop.
//!
//! Bounded: everything is short (milliseconds) and runs concurrently, so the
//! whole file takes well under a second in a debug build. It never hangs:
//! each main future runs under a 20 s watchdog timer that fails the test
//! (saying which counts fell short), and a wall-clock watchdog thread aborts
//! the process if even that timer never fires.
//!
//! `helpers` holds the latches, the watchdogs and the random pauses; `churn`
//! and `leftovers` one test each.

#[path = "stress/churn.rs"]
mod churn;
#[path = "stress/helpers.rs"]
mod helpers;
#[path = "stress/leftovers.rs"]
mod leftovers;

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Turns a lost wake-up into a failure: generous, the churn needs < 1 s.
const WATCHDOG: Duration = Duration::from_secs(20);
/// A wake-up from another thread that takes this long was lost, and found
/// only when a timer woke the loop (the work itself takes microseconds).
const LOST_WAKE_UP: Duration = Duration::from_secs(5);
/// Backstop for a loop so wedged that even the watchdog's timer never fires.
const ABORT_AFTER: Duration = Duration::from_secs(60);

/// The tests count the process's threads: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
