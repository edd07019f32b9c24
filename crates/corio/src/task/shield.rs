//! `shield`: asyncio's `shield`, which protects work from the cancellation
//! of whoever awaits it.

use std::future::Future;

use super::{create_task, TaskError};

/// Runs `fut` as its own task, created at once, and returns a future of its
/// result that can be dropped without cancelling it (asyncio's `shield`).
///
/// In corio a caller is cancelled by being dropped, for instance when an
/// outer [`timeout`](crate::timeout()) expires or its task is cancelled.
/// Dropping the future `shield` returns only stops waiting: the shielded task
/// runs to completion, as every task does once its handle is dropped.
/// Awaited to the end, it gives the task's result, or
/// [`TaskError::Panicked`] if it panicked (and `TaskError::Cancelled` if
/// someone cancelled it through another path).
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// corio::run(async {
///     let saved = Arc::new(AtomicBool::new(false));
///     let save = {
///         let saved = saved.clone();
///         async move {
///             corio::sleep(Duration::from_millis(30)).await;
///             saved.store(true, Ordering::SeqCst);
///         }
///     };
///     // The timeout drops the caller after 10 ms; the save goes on.
///     let waited = corio::timeout(Duration::from_millis(10), corio::shield(save)).await;
///     assert!(waited.is_err());
///     corio::sleep(Duration::from_millis(40)).await;
///     assert!(saved.load(Ordering::SeqCst));
///
///     assert_eq!(corio::shield(async { 7 }).await.unwrap(), 7);
/// });
/// ```
///
/// # Panics
///
/// Outside a running loop (the task is created when `shield` is called).
#[track_caller]
pub fn shield<F>(fut: F) -> impl Future<Output = Result<F::Output, TaskError>> + Send + 'static
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // Dropping a `Task` detaches it: the loop keeps running it. The opaque
    // type leaves out `cancel`: a shield cannot be used to cancel the work.
    create_task(fut)
}
