//! [`CorioExecutor`] and [`CorioLocalExecutor`]: hyper's `rt::Executor` on
//! the running loop.

use std::future::Future;

/// hyper's [`rt::Executor`](hyper::rt::Executor) on corio: each future hyper
/// hands it becomes a detached task on the running loop
/// ([`create_task`](crate::create_task)). Its output is dropped; a panic in
/// it is the task's failure, reported like any unawaited task's.
///
/// # Panics
///
/// `execute` panics outside a running loop (hyper calls it from the
/// connection futures it drives, which run inside one).
#[derive(Clone, Copy, Debug, Default)]
pub struct CorioExecutor;

impl CorioExecutor {
    /// The executor (it has no state: it spawns on whichever loop runs).
    pub fn new() -> CorioExecutor {
        CorioExecutor
    }
}

impl<F> hyper::rt::Executor<F> for CorioExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        // Dropping the Task detaches it: the loop keeps running it.
        drop(crate::create_task(future));
    }
}

/// Like [`CorioExecutor`], for futures that are not `Send`: they become
/// local tasks ([`create_local_task`](crate::create_local_task)) that stay on
/// the loop's thread. Use it with hyper's HTTP/2 builders when the service
/// or body is `!Send`.
///
/// # Panics
///
/// `execute` panics outside a running loop.
#[derive(Clone, Copy, Debug, Default)]
pub struct CorioLocalExecutor;

impl CorioLocalExecutor {
    /// The executor (it has no state: it spawns on whichever loop runs).
    pub fn new() -> CorioLocalExecutor {
        CorioLocalExecutor
    }
}

impl<F> hyper::rt::Executor<F> for CorioLocalExecutor
where
    F: Future + 'static,
    F::Output: 'static,
{
    fn execute(&self, future: F) {
        drop(crate::create_local_task(future));
    }
}
