//! `as_completed`: asyncio's `as_completed`, a stream of outputs in the order
//! their futures finish.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;

use crate::time::{Elapsed, Sleep};

use super::ready::Concurrent;

/// Runs every future concurrently and yields each output as soon as its
/// future finishes, in completion order (asyncio's `as_completed`).
///
/// The futures are polled in place by whoever polls the stream, as
/// [`gather`](crate::gather()) polls them; no task is spawned. The stream is
/// a [`futures_core::Stream`]; [`AsCompleted::next`] reads it without any
/// extension trait. Dropping it drops the futures not yet finished.
///
/// Iterations: because the futures are polled in place, an output is
/// yielded in the same poll its future finishes. asyncio wraps each
/// awaitable in a task and routes completion through a done-callback and a
/// queue, so its `as_completed` hands an output over two iterations after
/// the task finished. Spawn tasks and use [`wait`](crate::wait()) (which
/// matches asyncio's count) where that difference matters.
///
/// ```
/// use std::time::Duration;
///
/// async fn after(ms: u64) -> u64 {
///     corio::sleep(Duration::from_millis(ms)).await;
///     ms
/// }
///
/// corio::run(async {
///     let mut finished = corio::as_completed([after(30), after(10), after(20)]);
///     let mut order = Vec::new();
///     while let Some(ms) = finished.next().await {
///         order.push(ms);
///     }
///     assert_eq!(order, [10, 20, 30]);
/// });
/// ```
#[doc(alias = "FuturesUnordered")]
pub fn as_completed<I, F>(futs: I) -> AsCompleted<F>
where
    I: IntoIterator<Item = F>,
    F: Future,
{
    AsCompleted {
        set: Concurrent::new(futs),
    }
}

/// The stream returned by [`as_completed`]: the outputs of its futures, in
/// the order they finish.
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<F: Future> {
    set: Concurrent<F>,
}

// The futures are boxed and outputs are moved out, never pinned in place.
impl<F: Future> Unpin for AsCompleted<F> {}

impl<F: Future> AsCompleted<F> {
    /// The next output to finish, or `None` once every future has finished.
    ///
    /// ```
    /// corio::run(async {
    ///     let mut outputs = corio::as_completed([async { 1 }]);
    ///     assert_eq!(outputs.next().await, Some(1));
    ///     assert_eq!(outputs.next().await, None);
    /// });
    /// ```
    pub async fn next(&mut self) -> Option<F::Output> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// How many futures have not finished yet.
    ///
    /// ```
    /// corio::run(async {
    ///     let mut outputs = corio::as_completed([std::future::ready(1), std::future::ready(2)]);
    ///     assert_eq!(outputs.len(), 2);
    ///     outputs.next().await;
    ///     assert_eq!(outputs.len(), 1);
    /// });
    /// ```
    pub fn len(&self) -> usize {
        self.set.remaining()
    }

    /// Whether every future has finished (the stream is exhausted).
    ///
    /// ```
    /// let outputs = corio::as_completed(Vec::<std::future::Ready<()>>::new());
    /// assert!(outputs.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.set.remaining() == 0
    }

    /// The same stream with an overall time limit (asyncio's
    /// `as_completed(aws, timeout=...)`): outputs come as `Ok` in completion
    /// order; once `limit` (counted from this call) has passed, each future
    /// not yet finished yields `Err(Elapsed)`, as each remaining `await` of
    /// asyncio's iterator raises `TimeoutError`, and then the stream ends.
    /// The unfinished futures are dropped at the deadline (they are polled
    /// in place; spawn tasks to keep work running past it).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// async fn after(ms: u64) -> u64 {
    ///     corio::sleep(Duration::from_millis(ms)).await;
    ///     ms
    /// }
    ///
    /// corio::run(async {
    ///     let futs = [after(10), after(5_000), after(20)];
    ///     let mut outputs = corio::as_completed(futs).with_timeout(Duration::from_millis(200));
    ///     assert_eq!(outputs.next().await, Some(Ok(10)));
    ///     assert_eq!(outputs.next().await, Some(Ok(20)));
    ///     assert!(outputs.next().await.unwrap().is_err()); // the 5 s one
    ///     assert_eq!(outputs.next().await, None);
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    #[track_caller]
    pub fn with_timeout(self, limit: Duration) -> AsCompletedTimeout<F> {
        AsCompletedTimeout {
            deadline: crate::sleep(limit),
            inner: Some(self),
            timed_out: 0,
        }
    }
}

/// The stream returned by [`AsCompleted::with_timeout`]: `Ok(output)` in
/// completion order, then one `Err(Elapsed)` per future the deadline cut off.
#[must_use = "streams do nothing unless polled"]
pub struct AsCompletedTimeout<F: Future> {
    /// `None` once the deadline passed (the unfinished futures are dropped).
    inner: Option<AsCompleted<F>>,
    deadline: Sleep,
    /// `Err(Elapsed)`s still to yield.
    timed_out: usize,
}

impl<F: Future> Unpin for AsCompletedTimeout<F> {}

impl<F: Future> AsCompletedTimeout<F> {
    /// The next output, `Err(Elapsed)` for a future the deadline cut off,
    /// or `None` at the end.
    pub async fn next(&mut self) -> Option<Result<F::Output, Elapsed>> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// How many items are still to come.
    pub fn len(&self) -> usize {
        self.inner.as_ref().map_or(self.timed_out, AsCompleted::len)
    }

    /// Whether the stream is exhausted.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<F: Future> Stream for AsCompletedTimeout<F> {
    type Item = Result<F::Output, Elapsed>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(inner) = &mut this.inner {
            match Pin::new(&mut *inner).poll_next(cx) {
                Poll::Ready(Some(output)) => return Poll::Ready(Some(Ok(output))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => {}
            }
            if this.deadline.poll_unpinned(cx).is_pending() {
                return Poll::Pending;
            }
            this.timed_out = inner.len();
            this.inner = None;
        }
        if this.timed_out == 0 {
            return Poll::Ready(None);
        }
        this.timed_out -= 1;
        Poll::Ready(Some(Err(Elapsed::new())))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len(), Some(self.len()))
    }
}

impl<F: Future> std::fmt::Debug for AsCompletedTimeout<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsCompletedTimeout")
            .field("remaining", &self.len())
            .field("timed_out", &self.inner.is_none())
            .finish()
    }
}

impl<F: Future> Stream for AsCompleted<F> {
    type Item = F::Output;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        let this = self.get_mut();
        let mut may_drain = true;
        match this.set.poll_next(cx, &mut may_drain) {
            Poll::Ready(Some(index)) => Poll::Ready(Some(this.set.take(index))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len(), Some(self.len()))
    }
}

impl<F: Future> std::fmt::Debug for AsCompleted<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.len())
            .finish()
    }
}
