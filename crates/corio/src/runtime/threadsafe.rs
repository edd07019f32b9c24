//! `ThreadsafeTask`: the result of `run_coroutine_threadsafe`, waited for by
//! blocking another thread (asyncio's `concurrent.futures.Future`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use crate::{Task, TaskError};

/// A task submitted from another thread. Block on it with [`wait`](Self::wait)
/// or [`wait_timeout`](Self::wait_timeout), or await it from async code.
///
/// ```
/// let mut runner = corio::Runner::new();
/// let handle = runner.handle();
/// let worker = std::thread::spawn(move || {
///     let task = handle.run_coroutine_threadsafe(async { 6 * 7 });
///     task.wait().unwrap()
/// });
/// // The loop runs (and so runs the submitted task) until the worker is done.
/// let answer = runner.run(async { corio::to_thread(move || worker.join().unwrap()).await.unwrap() });
/// assert_eq!(answer, 42);
/// ```
#[derive(Debug)]
pub struct ThreadsafeTask<T> {
    task: Task<T>,
}

struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

impl<T> ThreadsafeTask<T> {
    pub(crate) fn new(task: Task<T>) -> ThreadsafeTask<T> {
        ThreadsafeTask { task }
    }

    /// Blocks this thread until the task is done and returns its result.
    ///
    /// # Panics
    ///
    /// If called on the thread that runs the task's loop (it would wait forever).
    pub fn wait(mut self) -> Result<T, TaskError> {
        match self.block(None) {
            Some(result) => result,
            None => unreachable!("waiting without a deadline returns a result"),
        }
    }

    /// Blocks at most `timeout`; `None` if the task was not done by then
    /// (it keeps running; call again or cancel it).
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<Result<T, TaskError>> {
        self.block(Some(Instant::now() + timeout))
    }

    fn block(&mut self, deadline: Option<Instant>) -> Option<Result<T, TaskError>> {
        assert!(
            crate::runtime::context::try_with(|running| running.is_none()),
            "ThreadsafeTask::wait called on a thread that runs an event loop: it would block \
             that loop forever; await the task instead"
        );
        let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(result) = Pin::new(&mut self.task).poll(&mut cx) {
                return Some(result);
            }
            match deadline {
                None => std::thread::park(),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return None;
                    }
                    std::thread::park_timeout(deadline - now);
                }
            }
        }
    }

    /// Requests cancellation of the task (see [`Task::cancel`]).
    pub fn cancel(&self) -> bool {
        self.task.cancel()
    }

    /// Whether the task is done.
    pub fn is_done(&self) -> bool {
        self.task.is_done()
    }

    /// The underlying task handle.
    pub fn into_task(self) -> Task<T> {
        self.task
    }
}

impl<T> Future for ThreadsafeTask<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.task).poll(cx)
    }
}
