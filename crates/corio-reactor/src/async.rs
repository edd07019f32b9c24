//! [`Async<T>`]: an owned I/O object put in non-blocking mode and registered with a
//! [`Reactor`] for its whole life, with `async` helpers that retry an operation until
//! it stops returning `WouldBlock`, and `futures-io` `AsyncRead`/`AsyncWrite`.
//!
//! It is the only place that owns both an fd and its registration, so it is what makes
//! the reactor's contract ("deregister before close") hold structurally: `Drop` and
//! [`Async::into_inner`] deregister before the I/O object can be closed.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use rustix::fs::{fcntl_getfl, fcntl_setfl, OFlags};

use crate::futures::{Readable, Writable};
use crate::source::Direction;
use crate::waiters::Waiter;
use crate::{Reactor, Source};

/// An I/O object registered with a [`Reactor`].
///
/// The fd is switched to non-blocking mode and registered on creation, and deregistered
/// when the `Async` is dropped or unwrapped with [`into_inner`](Async::into_inner).
///
/// Waiting: [`read_with`](Async::read_with), [`write_with`](Async::write_with),
/// [`readable`](Async::readable) and [`writable`](Async::writable) keep one waker per
/// waiting call, so any number of tasks may wait at once, and a call dropped while
/// waiting releases its waker. The `poll_*` methods and the `AsyncRead`/`AsyncWrite`
/// impls keep one waker per direction, the latest poller's.
pub struct Async<T: AsFd> {
    source: Arc<Source>,
    reactor: Arc<Reactor>,
    /// Always `Some` until `into_inner` takes it out of a value that is then dropped.
    io: Option<T>,
}

// `Async` never pins its I/O object: every method reaches it through `&T` / `&mut T`.
impl<T: AsFd> Unpin for Async<T> {}

/// Puts `fd` in `O_NONBLOCK` mode (two `fcntl`s, one if it already is).
fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    let flags = fcntl_getfl(fd)?;
    if !flags.contains(OFlags::NONBLOCK) {
        fcntl_setfl(fd, flags | OFlags::NONBLOCK)?;
    }
    Ok(())
}

impl<T: AsFd> Async<T> {
    /// Puts `io` in non-blocking mode and registers it with `reactor`.
    ///
    /// Fails if the fd cannot be polled (a regular file under epoll, for instance) or is
    /// already registered.
    pub fn new(reactor: &Arc<Reactor>, io: T) -> io::Result<Async<T>> {
        set_nonblocking(io.as_fd())?;
        let source = reactor.register(io.as_fd())?;
        Ok(Async {
            source,
            reactor: Arc::clone(reactor),
            io: Some(io),
        })
    }

    /// The wrapped I/O object.
    pub fn get_ref(&self) -> &T {
        match &self.io {
            Some(io) => io,
            None => unreachable!("Async::io is only taken by into_inner, which consumes self"),
        }
    }

    /// The wrapped I/O object, mutably.
    ///
    /// Do not replace or close its fd through this reference: the registration is tied
    /// to the descriptor given to [`new`](Async::new).
    pub fn get_mut(&mut self) -> &mut T {
        match &mut self.io {
            Some(io) => io,
            None => unreachable!("Async::io is only taken by into_inner, which consumes self"),
        }
    }

    /// Deregisters the fd and returns the I/O object (still in non-blocking mode).
    pub fn into_inner(mut self) -> io::Result<T> {
        let io = self.io.take();
        self.reactor.deregister(&self.source)?;
        match io {
            Some(io) => Ok(io),
            None => unreachable!("Async::io is only taken by into_inner, which consumes self"),
        }
    }

    /// The reactor registration behind this object.
    pub fn source(&self) -> &Arc<Source> {
        &self.source
    }

    /// Waits until the fd is readable; see [`Source::readable`].
    pub fn readable(&self) -> Readable<'_> {
        self.source.readable()
    }

    /// Waits until the fd is writable; see [`Source::writable`].
    pub fn writable(&self) -> Writable<'_> {
        self.source.writable()
    }

    /// Polls for read readiness; see [`Source::poll_readable`].
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.source.poll_readable(cx)
    }

    /// Polls for write readiness; see [`Source::poll_writable`].
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.source.poll_writable(cx)
    }

    /// Runs a non-blocking read operation until it does not return `WouldBlock`.
    ///
    /// `op` is tried at once; on `WouldBlock` read readiness is cleared and the task
    /// waits for the next read event before trying again; `Interrupted` is retried.
    ///
    /// Any number of tasks may wait in `read_with` on one `Async` at once; a call that
    /// is dropped while waiting releases its waker.
    pub async fn read_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        let io = self.get_ref();
        let mut waiter = Waiter::new(&self.source, Direction::Read);
        poll_fn(|cx| waiter.poll_io(cx, || op(io))).await
    }

    /// Like [`read_with`](Async::read_with), with mutable access to the I/O object.
    pub async fn read_with_mut<R>(
        &mut self,
        mut op: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let source = Arc::clone(&self.source);
        let io = self.get_mut();
        let mut waiter = Waiter::new(&source, Direction::Read);
        poll_fn(|cx| waiter.poll_io(cx, || op(io))).await
    }

    /// Reads a byte stream (a TCP or Unix stream socket, a pipe) with `op`, which reads
    /// into a buffer of `len` bytes, until it does not return `WouldBlock`; like
    /// [`read_with`](Async::read_with), and a short read clears read readiness so
    /// the next read waits for an event without a syscall (see
    /// [`Source::poll_read_stream_with`] for when that is done).
    pub async fn read_stream_with(
        &self,
        len: usize,
        mut op: impl FnMut(&T) -> io::Result<usize>,
    ) -> io::Result<usize> {
        let io = self.get_ref();
        let mut waiter = Waiter::new(&self.source, Direction::Read);
        poll_fn(|cx| waiter.poll_read_stream(cx, len, || op(io))).await
    }

    /// Like [`read_stream_with`](Async::read_stream_with), with an `op` that also
    /// says whether the read left the receive queue empty (`Ok((n, emptied))`, see
    /// [`Source::poll_read_stream_hinted`]): such a read clears readiness even when
    /// it filled its buffer.
    pub async fn read_stream_hinted(
        &self,
        mut op: impl FnMut(&T) -> io::Result<(usize, bool)>,
    ) -> io::Result<usize> {
        let io = self.get_ref();
        let mut waiter = Waiter::new(&self.source, Direction::Read);
        poll_fn(|cx| waiter.poll_read_stream_hinted(cx, || op(io))).await
    }

    /// Runs a non-blocking write operation until it does not return `WouldBlock`; see
    /// [`read_with`](Async::read_with).
    pub async fn write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        let io = self.get_ref();
        let mut waiter = Waiter::new(&self.source, Direction::Write);
        poll_fn(|cx| waiter.poll_io(cx, || op(io))).await
    }

    /// Writes to a byte stream (a TCP or Unix stream socket, a pipe) with `op`, which
    /// writes from a buffer of `len` bytes, until it does not return `WouldBlock`;
    /// like [`write_with`](Async::write_with), and a partial write clears write
    /// readiness so the next write waits for an event without a syscall (see
    /// [`Source::poll_write_stream_with`], whose example shows the rule).
    pub async fn write_stream_with(
        &self,
        len: usize,
        mut op: impl FnMut(&T) -> io::Result<usize>,
    ) -> io::Result<usize> {
        let io = self.get_ref();
        let mut waiter = Waiter::new(&self.source, Direction::Write);
        poll_fn(|cx| waiter.poll_write_stream(cx, len, || op(io))).await
    }

    /// Like [`write_with`](Async::write_with), with mutable access to the I/O object.
    pub async fn write_with_mut<R>(
        &mut self,
        mut op: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let source = Arc::clone(&self.source);
        let io = self.get_mut();
        let mut waiter = Waiter::new(&source, Direction::Write);
        poll_fn(|cx| waiter.poll_io(cx, || op(io))).await
    }
}

impl<T: AsFd> Drop for Async<T> {
    fn drop(&mut self) {
        if self.io.is_some() {
            // Deregister while the fd is still open; `io` is closed right after this,
            // when the fields are dropped. Nothing useful can be done with an error here.
            let _ = self.reactor.deregister(&self.source);
        }
    }
}

impl<T: AsFd> AsFd for Async<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl<T: AsFd> AsRawFd for Async<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.source.raw()
    }
}

impl<T: AsFd + fmt::Debug> fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Async")
            .field("io", &self.io)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl<T: AsFd + Read> AsyncRead for Async<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let source = Arc::clone(&this.source);
        let io = this.get_mut();
        source.poll_read_with(cx, || io.read(buf))
    }
}

impl<T: AsFd + Write> AsyncWrite for Async<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let source = Arc::clone(&this.source);
        let io = this.get_mut();
        source.poll_write_with(cx, || io.write(buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let source = Arc::clone(&this.source);
        let io = this.get_mut();
        source.poll_write_with(cx, || io.flush())
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl<T: AsFd> AsyncRead for &Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this: &Async<T> = self.get_mut();
        let io = this.get_ref();
        this.source.poll_read_with(cx, || {
            let mut io = io;
            io.read(buf)
        })
    }
}

impl<T: AsFd> AsyncWrite for &Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this: &Async<T> = self.get_mut();
        let io = this.get_ref();
        this.source.poll_write_with(cx, || {
            let mut io = io;
            io.write(buf)
        })
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this: &Async<T> = self.get_mut();
        let io = this.get_ref();
        this.source.poll_write_with(cx, || {
            let mut io = io;
            io.flush()
        })
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}
