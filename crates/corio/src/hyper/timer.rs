//! [`CorioTimer`]: hyper's `rt::Timer` on the running loop's timers.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::time::{Instant, Sleep};

/// hyper's [`rt::Timer`](hyper::rt::Timer) on corio: sleeps are
/// [`corio::sleep`](crate::sleep)s on the running loop's timers, wrapped in
/// [`CorioSleep`]; `reset` moves such a sleep without reallocating it.
///
/// hyper's deadlines are `std::time::Instant`s; they are converted with
/// [`Instant::from_std`], and [`now`](hyper::rt::Timer::now) is the loop's
/// clock ([`corio::time::now`](crate::time::now)) as a std instant, so
/// hyper's `now() + timeout` deadlines are on the loop's clock.
///
/// Give it to hyper's builders, e.g.
/// `http1::Builder::new().timer(CorioTimer::new())`; hyper needs a timer for
/// `header_read_timeout` (on by default in its HTTP/1 server when a timer is
/// set) and HTTP/2 keep-alive.
///
/// # Panics
///
/// `sleep`, `sleep_until` and `now` panic outside a running loop (hyper
/// calls them from the connection futures it drives, which run inside one).
#[derive(Clone, Copy, Debug, Default)]
pub struct CorioTimer;

impl CorioTimer {
    /// The timer (it has no state: it uses whichever loop runs).
    pub fn new() -> CorioTimer {
        CorioTimer
    }
}

impl hyper::rt::Timer for CorioTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(CorioSleep {
            inner: crate::sleep(duration),
        })
    }

    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(CorioSleep {
            inner: crate::sleep_until(Instant::from_std(deadline)),
        })
    }

    fn now(&self) -> std::time::Instant {
        crate::time::now().into_std()
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: std::time::Instant) {
        match sleep.as_mut().downcast_mut_pin::<CorioSleep>() {
            Some(ours) => ours.reset(Instant::from_std(new_deadline)),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// The sleep future [`CorioTimer`] gives hyper: a corio [`Sleep`] that
/// implements [`hyper::rt::Sleep`]. It is `Unpin`, `Send` and `Sync`.
#[derive(Debug)]
pub struct CorioSleep {
    inner: Sleep,
}

impl CorioSleep {
    /// Wraps a corio sleep.
    pub fn new(inner: Sleep) -> CorioSleep {
        CorioSleep { inner }
    }

    /// When it completes, on the loop's clock.
    pub fn deadline(&self) -> Instant {
        self.inner.deadline()
    }

    /// Moves the deadline (earlier or later; an elapsed sleep is re-armed).
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        self.get_mut().inner.reset_unpinned(deadline);
    }

    /// Unwraps the corio sleep.
    pub fn into_inner(self) -> Sleep {
        self.inner
    }
}

impl Future for CorioSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().inner.poll_unpinned(cx)
    }
}

impl hyper::rt::Sleep for CorioSleep {}
