//! `to_thread`: run blocking work on the loop's bounded thread pool.

use std::panic::Location;

use corio_executor::Builder as TaskBuilder;

use crate::runtime::context;
use crate::Task;

/// Runs `f` on the loop's blocking pool (asyncio's `to_thread`) and returns
/// a task for its result; the loop keeps running meanwhile. A panic in `f`
/// becomes the task's `TaskError::Panicked`.
///
/// The pool starts threads on demand (at most 512), and idle ones retire
/// after 10 s. Cancelling the task stops waiting for `f`, not `f` itself:
/// a thread cannot be interrupted.
///
/// ```
/// corio::run(async {
///     let sum = corio::to_thread(|| (1..=100u32).sum::<u32>()).await.unwrap();
///     assert_eq!(sum, 5050);
/// });
/// ```
///
/// # Panics
///
/// Outside a running loop.
#[track_caller]
#[doc(alias = "spawn_blocking")]
pub fn to_thread<R, F>(f: F) -> Task<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let location = Location::caller();
    // asyncio's to_thread runs `f` in a copy of the caller's contextvars.
    let ctx = crate::context::Context::current();
    let f = move || ctx.run(f);
    context::with("corio::to_thread()", |handle| {
        let join = handle.shared.blocking.spawn(f).unwrap_or_else(|e| {
            panic!("corio::to_thread() called while the event loop closes: {e}")
        });
        let body = async move {
            match join.await {
                Ok(value) => value,
                Err(payload) => std::panic::resume_unwind(payload),
            }
        };
        handle
            .shared
            .spawner
            .spawn_with(TaskBuilder::new().location(location), body)
    })
}
