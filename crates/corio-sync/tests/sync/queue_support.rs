//! Helpers shared by the queue tests: a waker that counts its wakes, and a
//! hand-polled future with its own such waker.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// A waker that counts its wakes.
#[derive(Default)]
pub(crate) struct Recorder(AtomicUsize);

impl Wake for Recorder {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Recorder {
    /// How many times the waker was woken so far.
    pub(crate) fn wakes(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// A hand-polled future with its own recording waker.
pub(crate) struct Handle<'a, O> {
    future: Pin<Box<dyn Future<Output = O> + 'a>>,
    recorder: Arc<Recorder>,
}

impl<'a, O> Handle<'a, O> {
    pub(crate) fn new(future: impl Future<Output = O> + 'a) -> Self {
        Handle {
            future: Box::pin(future),
            recorder: Arc::default(),
        }
    }

    pub(crate) fn poll(&mut self) -> Poll<O> {
        let waker = Waker::from(self.recorder.clone());
        self.future.as_mut().poll(&mut Context::from_waker(&waker))
    }

    /// Polls once, expecting it to wait.
    pub(crate) fn pending(future: impl Future<Output = O> + 'a) -> Self {
        let mut handle = Handle::new(future);
        assert!(handle.poll().is_pending(), "expected the future to wait");
        handle
    }

    pub(crate) fn ready(&mut self) -> O {
        match self.poll() {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("expected the future to be ready"),
        }
    }

    pub(crate) fn wakes(&self) -> usize {
        self.recorder.wakes()
    }
}
