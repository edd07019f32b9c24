//! [`Timeout`]: runs a future against a deadline, and [`Elapsed`], the error
//! it gives when the deadline wins.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::driver::TimerHandle;
use crate::futures::Sleep;
use crate::instant::Instant;

pin_project! {
    /// A future that resolves to its inner future's output, or to
    /// [`Elapsed`] if the deadline comes first.
    ///
    /// The inner future is always polled first, so one that is ready returns
    /// its value even when the deadline has passed; and a timeout whose inner
    /// future completes on the first poll never touches the timer queue.
    /// When it gives `Err(Elapsed)` the inner future is not polled again;
    /// it is dropped with the `Timeout` (or recovered by
    /// [`into_inner`](Self::into_inner)).
    pub struct Timeout<F> {
        #[pin]
        future: F,
        sleep: Sleep,
    }
}

impl<F> Timeout<F> {
    /// Runs `fut` with a deadline of `deadline` on `handle`'s timers.
    pub fn new(handle: &TimerHandle, deadline: Instant, fut: F) -> Timeout<F> {
        Timeout {
            future: fut,
            sleep: Sleep::new(handle, deadline),
        }
    }

    /// The instant the timeout elapses at.
    pub fn deadline(&self) -> Instant {
        self.sleep.deadline()
    }

    /// Moves the deadline (earlier or later), even after it elapsed.
    pub fn reschedule(self: Pin<&mut Self>, deadline: Instant) {
        self.project().sleep.reset_unpinned(deadline);
    }

    /// The inner future.
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// The inner future, mutably.
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.future
    }

    /// The inner future, pinned.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut F> {
        self.project().future
    }

    /// Takes the inner future back, cancelling the deadline.
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(out) = this.future.poll(cx) {
            return Poll::Ready(Ok(out));
        }
        match this.sleep.poll_unpinned(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F: fmt::Debug> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("future", &self.future)
            .field("sleep", &self.sleep)
            .finish()
    }
}

/// The error of a [`Timeout`] whose deadline passed before its future
/// completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl Elapsed {
    /// An `Elapsed` error, for code that reports timeouts the same way
    /// without a [`Timeout`] (a facade's own timeout helpers).
    pub const fn new() -> Elapsed {
        Elapsed(())
    }
}

impl Default for Elapsed {
    fn default() -> Elapsed {
        Elapsed::new()
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

impl From<Elapsed> for io::Error {
    fn from(e: Elapsed) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, e)
    }
}
