//! A future wrapper that turns a panic while polling into a logged,
//! completed future: how one connection handler's panic stays out of the
//! server's way.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// Polls `future`; a panic is caught, passed to `on_panic`, and ends the
    /// future with `None`.
    pub(crate) struct CatchUnwind<F> {
        #[pin]
        future: F,
        done: bool,
    }
}

impl<F> CatchUnwind<F> {
    pub(crate) fn new(future: F) -> CatchUnwind<F> {
        CatchUnwind {
            future,
            done: false,
        }
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    /// `Err` carries the panic's message.
    type Output = Result<F::Output, String>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        assert!(!*this.done, "CatchUnwind polled after completion");
        let future = this.future;
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => {
                *this.done = true;
                Poll::Ready(Ok(value))
            }
            Err(payload) => {
                *this.done = true;
                let message = if let Some(s) = payload.downcast_ref::<&str>() {
                    (*s).to_owned()
                } else if let Some(s) = payload.downcast_ref::<String>() {
                    s.clone()
                } else {
                    "Box<dyn Any>".to_owned()
                };
                Poll::Ready(Err(message))
            }
        }
    }
}
