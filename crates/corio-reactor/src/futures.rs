//! Readiness futures: [`Readable`] and [`Writable`], the `async` face of
//! [`Source::poll_readable`] and [`Source::poll_writable`].

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::Source;

/// Future returned by [`Source::readable`]: resolves once read readiness (or hang-up,
/// or an error condition) has been seen since the last clear, or with an error once
/// the source is deregistered.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Readable<'a> {
    source: &'a Source,
}

impl<'a> Readable<'a> {
    pub(crate) fn new(source: &'a Source) -> Self {
        Readable { source }
    }
}

impl Future for Readable<'_> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.source.poll_readable(cx)
    }
}

/// Future returned by [`Source::writable`]: resolves once write readiness (or hang-up,
/// or an error condition) has been seen since the last clear, or with an error once
/// the source is deregistered.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Writable<'a> {
    source: &'a Source,
}

impl<'a> Writable<'a> {
    pub(crate) fn new(source: &'a Source) -> Self {
        Writable { source }
    }
}

impl Future for Writable<'_> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.source.poll_writable(cx)
    }
}
