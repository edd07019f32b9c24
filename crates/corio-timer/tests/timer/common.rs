//! Test helpers shared by the integration tests: wakers that record what
//! woke, and a one-shot poll.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// A shared log of waker ids, in the order they were woken.
#[derive(Clone, Default)]
pub(crate) struct Log(Arc<Mutex<Vec<usize>>>);

struct IdWaker {
    id: usize,
    log: Log,
}

impl Wake for IdWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.log.0.lock().unwrap().push(self.id);
    }
}

impl Log {
    pub(crate) fn new() -> Log {
        Log::default()
    }

    /// A waker that appends `id` to this log each time it is woken.
    pub(crate) fn waker(&self, id: usize) -> Waker {
        Waker::from(Arc::new(IdWaker {
            id,
            log: self.clone(),
        }))
    }

    /// Takes the ids logged so far.
    pub(crate) fn take(&self) -> Vec<usize> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// Wakes every waker in `wakers`, in order.
pub(crate) fn wake_all(wakers: &mut Vec<Waker>) {
    for w in wakers.drain(..) {
        w.wake();
    }
}

/// A waker that counts its wakes.
#[derive(Default)]
pub(crate) struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Counter {
    pub(crate) fn new() -> Arc<Counter> {
        Arc::new(Counter::default())
    }
    pub(crate) fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

pub(crate) fn noop_waker() -> Waker {
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    Waker::from(Arc::new(Noop))
}

/// Polls `fut` once with `waker`.
pub(crate) fn poll_with<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(waker))
}

/// Polls `fut` once with a waker that does nothing.
pub(crate) fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    poll_with(fut, &noop_waker())
}
