//! [`Timeout`]: runs a future against a deadline, and [`Elapsed`], the error
//! it gives when the deadline wins.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

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
    ///
    /// A timeout made by [`new`](Self::new) has an absolute deadline. One made
    /// by [`lazy`](Self::lazy) holds only a duration: its deadline is fixed
    /// (the clock read, the timers looked up) by the first poll that finds the
    /// inner future pending, so an unused timeout costs neither.
    pub struct Timeout<F> {
        #[pin]
        future: F,
        limit: Limit,
    }
}

/// A timeout's timer: a [`Sleep`] at a known deadline, or (for
/// [`Timeout::lazy`]) a duration not yet started and the way to find the
/// timers it will run on.
enum Limit {
    Armed(Sleep),
    Lazy {
        duration: Duration,
        timers: fn() -> TimerHandle,
    },
}

impl Limit {
    /// The armed sleep, arming a lazy limit now (reading the clock).
    fn arm(&mut self) -> &mut Sleep {
        if let Limit::Lazy { duration, timers } = *self {
            let handle = timers();
            let deadline = handle.now().saturating_add(duration);
            *self = Limit::Armed(Sleep::from_handle(handle, deadline));
        }
        match self {
            Limit::Armed(sleep) => sleep,
            Limit::Lazy { .. } => unreachable!("armed just above"),
        }
    }
}

impl<F> Timeout<F> {
    /// Runs `fut` with a deadline of `deadline` on `handle`'s timers.
    pub fn new(handle: &TimerHandle, deadline: Instant, fut: F) -> Timeout<F> {
        Timeout {
            future: fut,
            limit: Limit::Armed(Sleep::new(handle, deadline)),
        }
    }

    /// Runs `fut` with a time limit of `duration` that starts at its first
    /// poll: creating it does nothing, and only when a poll finds `fut`
    /// pending for the first time does it call `timers` and read their clock,
    /// setting the deadline to that time plus `duration` (saturating). A
    /// `fut` that completes on its first poll never calls `timers`.
    ///
    /// `timers` is how a facade finds the running loop's timers (a
    /// thread-local lookup, say); it is called at most once per poll that
    /// needs it, on the polling thread.
    pub fn lazy(duration: Duration, timers: fn() -> TimerHandle, fut: F) -> Timeout<F> {
        Timeout {
            future: fut,
            limit: Limit::Lazy { duration, timers },
        }
    }

    /// The instant the timeout elapses at. For a [`lazy`](Self::lazy)
    /// timeout not yet polled, the instant it would elapse at if its limit
    /// started now (the clock is read on every such call).
    pub fn deadline(&self) -> Instant {
        match self.limit {
            Limit::Armed(ref sleep) => sleep.deadline(),
            Limit::Lazy { duration, timers } => timers().now().saturating_add(duration),
        }
    }

    /// Moves the deadline (earlier or later), even after it elapsed. On a
    /// [`lazy`](Self::lazy) timeout not yet started, this fixes the deadline:
    /// the duration is forgotten.
    pub fn reschedule(self: Pin<&mut Self>, deadline: Instant) {
        let limit = self.project().limit;
        match limit {
            Limit::Armed(sleep) => sleep.reset_unpinned(deadline),
            Limit::Lazy { timers, .. } => {
                *limit = Limit::Armed(Sleep::from_handle(timers(), deadline));
            }
        }
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
        match this.limit.arm().poll_unpinned(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl fmt::Debug for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Armed(sleep) => fmt::Debug::fmt(sleep, f),
            Limit::Lazy { duration, .. } => f
                .debug_struct("NotStarted")
                .field("duration", duration)
                .finish(),
        }
    }
}

impl<F: fmt::Debug> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("future", &self.future)
            .field("limit", &self.limit)
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
