//! `as_completed`: asyncio's `as_completed`, a stream of outputs in the order
//! their futures finish.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::ready::Concurrent;

/// Runs every future concurrently and yields each output as soon as its
/// future finishes, in completion order (asyncio's `as_completed`).
///
/// The futures are polled in place by whoever polls the stream, as
/// [`gather`](crate::gather()) polls them; no task is spawned. The stream is
/// a [`futures_core::Stream`]; [`AsCompleted::next`] reads it without any
/// extension trait. Dropping it drops the futures not yet finished.
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
