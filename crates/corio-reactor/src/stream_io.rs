//! The byte-stream rules over [`Source`]'s retry loop (`Source::poll_io`): a
//! stream read that emptied the receive queue (a short read, or a full one the
//! kernel's hint says left nothing, see [`inq`](crate::inq)) clears read
//! readiness where the backend reports EOF as an event, and a partial stream
//! write (the send buffer is full) clears write readiness on every backend; so
//! the next operation waits for an event instead of a syscall that can only
//! fail. Only for byte streams (TCP and Unix stream sockets, pipes).

use std::io;
use std::task::{Context, Poll};

use crate::source::Direction;
use crate::Source;

/// Whether a hinted stream read (`(bytes, emptied the queue)`) left the direction
/// drained: it read something and nothing is left.
pub(crate) fn stream_read_emptied(&(n, emptied): &(usize, bool)) -> bool {
    n > 0 && emptied
}

/// Whether a stream write of `len` bytes that wrote `n` left the send buffer
/// full: it wrote something, but not everything.
pub(crate) fn partial_write(len: usize) -> impl Fn(&usize) -> bool {
    move |&n| n > 0 && n < len
}

impl Source {
    /// Drives a non-blocking *stream* read into a buffer of `len` bytes: like
    /// [`poll_read_with`](Source::poll_read_with), and a short read (`0 < n < len`)
    /// clears read readiness as a `WouldBlock` would, so the next read waits for an
    /// event instead of making a syscall that can only fail.
    ///
    /// Only for byte streams whose short read means the receive queue is empty (TCP
    /// and Unix stream sockets, pipes); not for datagram sockets (a short read is one
    /// small datagram) or terminals (one line). The clearing happens only where the
    /// backend reports the peer's EOF as its own event ([`Backend::Epoll`]
    /// registers `EPOLLRDHUP`), never once the read side is known closed, and,
    /// like every clear, only if no event arrived since the read began: an EOF that
    /// came with the last bytes is still read as `Ok(0)`.
    ///
    /// [`Backend::Epoll`]: crate::Backend::Epoll
    pub fn poll_read_stream_with(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        mut op: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_read_stream_hinted(cx, || op().map(|n| (n, n < len)))
    }

    /// Drives a non-blocking stream read whose `op` also says whether it left the
    /// receive queue empty: `Ok((n, emptied))`, where `emptied` holds for a short
    /// read and for a read that filled its buffer when the kernel said nothing was
    /// left (the TCP receive-queue hint, [`inq`](crate::inq)). A read of `n > 0`
    /// bytes that `emptied` the queue clears read readiness exactly as a short read
    /// does in [`poll_read_stream_with`](Source::poll_read_stream_with) (same
    /// conditions: a backend that reports EOF as an event, the read side not known
    /// closed, no event since the read began). `Ok((0, _))` is EOF.
    pub fn poll_read_stream_hinted(
        &self,
        cx: &mut Context<'_>,
        op: impl FnMut() -> io::Result<(usize, bool)>,
    ) -> Poll<io::Result<usize>> {
        self.poll_io(Direction::Read, cx, None, op, stream_read_emptied)
            .map(|r| r.map(|(n, _)| n))
    }

    /// Drives a non-blocking *stream* write of `len` bytes: like
    /// [`poll_write_with`](Source::poll_write_with), and a partial write
    /// (`0 < n < len`) clears write readiness as a `WouldBlock` would, so the next
    /// write waits for the kernel's next writable event instead of making a syscall
    /// that can only fail.
    ///
    /// Only for byte streams (TCP and Unix stream sockets, pipes), where a partial
    /// write means the send buffer is full and the kernel reports writability again
    /// when space frees up; not for datagram sockets. Unlike the read side this
    /// holds on every backend: a write direction has no EOF that could go
    /// unreported, and hang-ups and errors are always reported. Like every clear,
    /// it is skipped if an event arrived since the write began.
    ///
    /// ```
    /// use std::io::Write;
    /// use std::os::fd::AsFd;
    /// use std::os::unix::net::UnixStream;
    /// use std::sync::Arc;
    /// use std::task::{Context, Poll, Wake, Waker};
    ///
    /// struct Ignore;
    /// impl Wake for Ignore {
    ///     fn wake(self: Arc<Self>) {}
    /// }
    ///
    /// let reactor = corio_reactor::Reactor::new()?;
    /// let (ours, _peer) = UnixStream::pair()?;
    /// ours.set_nonblocking(true)?;
    /// let source = reactor.register(ours.as_fd())?;
    /// let waker = Waker::from(Arc::new(Ignore));
    /// let mut cx = Context::from_waker(&waker);
    ///
    /// // More than the socket buffer holds: the socket takes part of it.
    /// let data = vec![7u8; 16 << 20];
    /// let Poll::Ready(sent) = source.poll_write_stream_with(&mut cx, data.len(), || {
    ///     (&ours).write(&data)
    /// }) else {
    ///     unreachable!("the first write is tried at once")
    /// };
    /// let sent = sent?;
    /// assert!(0 < sent && sent < data.len());
    ///
    /// // The buffer is full: the next write waits for the writable event
    /// // without trying the syscall.
    /// let mut tried = false;
    /// let rest = &data[sent..];
    /// let next = source.poll_write_stream_with(&mut cx, rest.len(), || {
    ///     tried = true;
    ///     (&ours).write(rest)
    /// });
    /// assert!(next.is_pending() && !tried);
    /// reactor.deregister(&source)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_write_stream_with(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        op: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_io(Direction::Write, cx, None, op, partial_write(len))
    }
}
