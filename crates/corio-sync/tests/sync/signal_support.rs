//! Test helpers shared by the Event, Condition, Barrier and Promise tests:
//! wakers that count their wakes, and polling a future by hand.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// A waker that counts how many times it was woken.
#[derive(Default)]
pub(crate) struct Recorder {
    wakes: AtomicUsize,
}

impl Wake for Recorder {
    fn wake(self: Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
    }
}

/// A counting waker and its counter.
pub(crate) fn recorder() -> (Waker, Arc<Recorder>) {
    let rec = Arc::new(Recorder::default());
    (Waker::from(Arc::clone(&rec)), rec)
}

impl Recorder {
    /// How many times the waker was woken so far.
    pub(crate) fn wakes(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }
}

/// Polls `fut` once with `waker`.
pub(crate) fn poll_with<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(waker))
}

/// Polls `fut` once with a waker that does nothing.
pub(crate) fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    poll_with(fut, &recorder().0)
}

/// A current-thread tokio runtime.
pub(crate) fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// Asserts that `T` is `Send + Sync`.
pub(crate) fn assert_send_sync<T: Send + Sync>() {}
