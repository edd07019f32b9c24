//! Readiness futures: [`Readable`] and [`Writable`], the `async` face of
//! [`Source::poll_readable`] and [`Source::poll_writable`].
//!
//! Each future parks under its own waiter entry, so any number of them may wait on one
//! source, and a future dropped while waiting takes its waker out with it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::source::Direction;
use crate::waiters::Waiter;
use crate::Source;

/// Future returned by [`Source::readable`]: resolves once read readiness (or hang-up,
/// or an error condition) has been seen since the last clear, or with an error once
/// the source is deregistered.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Readable<'a> {
    waiter: Waiter<'a>,
}

impl<'a> Readable<'a> {
    pub(crate) fn new(source: &'a Source) -> Self {
        Readable {
            waiter: Waiter::new(source, Direction::Read),
        }
    }
}

impl Future for Readable<'_> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().waiter.poll_ready(cx)
    }
}

/// Future returned by [`Source::writable`]: resolves once write readiness (or hang-up,
/// or an error condition) has been seen since the last clear, or with an error once
/// the source is deregistered.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Writable<'a> {
    waiter: Waiter<'a>,
}

impl<'a> Writable<'a> {
    pub(crate) fn new(source: &'a Source) -> Self {
        Writable {
            waiter: Waiter::new(source, Direction::Write),
        }
    }
}

impl Future for Writable<'_> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().waiter.poll_ready(cx)
    }
}
