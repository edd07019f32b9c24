//! [`Stream<S>`]: a connected stream socket registered with the running loop's
//! reactor, written once for TCP and Unix streams (`TcpStream` and `UnixStream` are
//! aliases of it).
//!
//! Reads and writes go through `Source::poll_read_stream_hinted`/`poll_write_stream_with`,
//! which own EINTR and the "clear readiness only if no new edge arrived" rule; a
//! partial write (the send buffer is full) clears write readiness, and a read
//! that emptied the receive queue (a short read, or on Linux a TCP read after which
//! the kernel's `TCP_INQ` count says nothing is left) clears read readiness too where
//! the reactor reports EOF as an event, so the next read waits without a syscall that
//! can only fail. No bytes are ever read ahead: what a read did not ask for stays in
//! the socket, so `into_std`, the raw fd and a `dup` see the stream exactly where
//! corio left it. The `try_*` methods apply the `WouldBlock` rule by hand with a
//! readiness tick.
//!
//! With the `io-uring` feature, on a loop built with `Builder::io_uring(true)`
//! (Linux), reads and writes go through the reactor's ring instead
//! ([`corio_reactor::uring::RingStream`]): reads are buffered once a `recv` is
//! in flight, writes are copied and sent in the background, and `poll_flush`
//! waits until the kernel has every byte. `into_std` then refuses a stream
//! with bytes buffered or operations in flight, and a dropped stream's socket
//! closes once its queued bytes were sent.

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use corio_reactor::Async;
use futures_io::{AsyncRead, AsyncWrite};

use super::{OwnedReadHalf, OwnedWriteHalf, StreamSocket};

/// A connected stream socket: [`TcpStream`](crate::net::TcpStream) or
/// [`UnixStream`](crate::net::UnixStream) (asyncio's socket transport, without the
/// protocol layer).
///
/// Every method takes `&self`: reads and writes may run at the same time from two
/// tasks sharing a reference, and `&Stream` implements [`AsyncRead`] and
/// [`AsyncWrite`] too. For two tasks that each *own* a direction, use
/// [`into_split`](Stream::into_split).
///
/// [`AsyncWrite::poll_close`] shuts the write direction down (the peer reads EOF);
/// flushing is a no-op, the kernel has the bytes once a write returns. Dropping the
/// stream closes the socket; the reactor wakes anything still waiting on it with an
/// error.
pub struct Stream<S: StreamSocket> {
    /// The reads and writes through the loop's io_uring, when it has one.
    #[cfg(all(target_os = "linux", feature = "io-uring"))]
    ring: Option<corio_reactor::uring::RingStream>,
    /// The socket; taken only by `into_std` and `Drop`.
    io: Option<Async<S>>,
}

/// Runs `$ring` with the stream's ring when it has one (`io-uring` feature),
/// else falls through to the readiness path after the macro.
macro_rules! on_ring {
    ($stream:expr, |$ring:ident| $body:expr) => {
        #[cfg(all(target_os = "linux", feature = "io-uring"))]
        if let Some($ring) = &$stream.ring {
            return $body;
        }
    };
}

impl<S: StreamSocket> Stream<S> {
    /// Registers a connected std stream with the running loop (it is switched to
    /// non-blocking mode).
    ///
    /// ```
    /// corio::run(async {
    ///     let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let std_stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    ///     let stream = corio::net::TcpStream::from_std(std_stream).unwrap();
    ///     assert!(stream.peer_addr().is_ok());
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    #[track_caller]
    pub fn from_std(stream: S) -> io::Result<Stream<S>> {
        let reactor = super::reactor::<S>("from_std");
        Ok(Stream::from_async(Async::new(&reactor, stream)?))
    }

    pub(crate) fn from_async(io: Async<S>) -> Stream<S> {
        #[cfg(all(target_os = "linux", feature = "io-uring"))]
        let ring = crate::runtime::context::try_with(|handle| {
            let reactor = &handle?.shared.reactor;
            corio_reactor::uring::RingStream::new(reactor, io.as_fd())
        });
        #[cfg(all(target_os = "linux", feature = "io-uring"))]
        if ring.is_none() {
            io.get_ref().set_read_hint(true);
        }
        #[cfg(not(all(target_os = "linux", feature = "io-uring")))]
        io.get_ref().set_read_hint(true);
        Stream {
            #[cfg(all(target_os = "linux", feature = "io-uring"))]
            ring,
            io: Some(io),
        }
    }

    /// Deregisters the stream and returns the std stream (still non-blocking).
    ///
    /// corio keeps no bytes of its own: everything not yet read is still in the
    /// socket (reads are never read ahead), so nothing is lost. On Linux a TCP
    /// stream's `TCP_INQ` option, which corio turns on to learn when a read emptied
    /// the receive queue, is turned off again.
    ///
    /// On a loop with io_uring (the `io-uring` feature), a stream that has
    /// bytes buffered, a read in flight or bytes not yet sent cannot be handed
    /// back: that is an `InvalidInput` error, and the stream is dropped.
    pub fn into_std(mut self) -> io::Result<S> {
        #[cfg(all(target_os = "linux", feature = "io-uring"))]
        if let Some(ring) = &self.ring {
            if !ring.is_idle() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{}::into_std: the loop's io_uring holds bytes of this stream \
                         (read ahead, or queued for sending); read them and flush first",
                        S::NAME
                    ),
                ));
            }
        }
        let io = self
            .io
            .take()
            .expect("a Stream holds its socket until it is dropped");
        let stream = io.into_inner()?;
        stream.set_read_hint(false);
        Ok(stream)
    }

    /// The registered socket, for the family-specific methods (socket options,
    /// `peek`).
    pub(crate) fn io(&self) -> &Async<S> {
        self.io
            .as_ref()
            .expect("a Stream holds its socket until it is dropped")
    }

    /// The stream's io_uring reads and writes, on a loop that has a ring.
    #[cfg(all(target_os = "linux", feature = "io-uring"))]
    pub(crate) fn ring(&self) -> Option<&corio_reactor::uring::RingStream> {
        self.ring.as_ref()
    }

    /// The remote address ([`std::net::SocketAddr`] for TCP,
    /// [`std::os::unix::net::SocketAddr`] for Unix streams).
    pub fn peer_addr(&self) -> io::Result<S::Addr> {
        self.io().get_ref().peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<S::Addr> {
        self.io().get_ref().local_addr()
    }

    /// Shuts down the read, write, or both directions (see [`std::net::Shutdown`]).
    ///
    /// After `Shutdown::Write` the peer reads EOF while this side can still read what
    /// it sends back; after `Shutdown::Read` (or `Both`) pending and later reads here
    /// return `Ok(0)`.
    ///
    /// On a loop with io_uring, shutting the write side down while bytes are
    /// still queued for sending shuts it down once they were sent.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        on_ring!(self, |ring| ring.shutdown(how));
        self.io().get_ref().shutdown(how)
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io().get_ref().take_error()
    }

    /// Waits until the stream may be readable (data, EOF, or an error).
    ///
    /// Readiness is a hint: a following [`try_read`](Stream::try_read) may still
    /// return `WouldBlock`, in which case wait again. Fails once the stream was
    /// deregistered.
    pub async fn readable(&self) -> io::Result<()> {
        on_ring!(self, |ring| ring.readable().await);
        self.io().readable().await
    }

    /// Waits until the stream may be writable; see [`readable`](Stream::readable).
    pub async fn writable(&self) -> io::Result<()> {
        on_ring!(self, |ring| ring.writable().await);
        self.io().writable().await
    }

    /// Reads what is available now without waiting; `WouldBlock` if nothing is.
    ///
    /// A `WouldBlock` clears the reactor's read readiness (unless an event arrived
    /// meanwhile), so the usual loop is `readable().await` then `try_read` until
    /// `WouldBlock`; readiness is a hint, so expect an occasional spurious wake-up.
    /// [`read`](Stream::read) does all of this for you.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        on_ring!(self, |ring| ring.try_read(buf));
        let io = self.io();
        let tick = io.source().readable_tick();
        let result = io.get_ref().read(buf);
        if matches!(&result, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            io.source().clear_readable_at(tick);
        }
        result
    }

    /// Writes what fits now without waiting; `WouldBlock` if nothing does.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        on_ring!(self, |ring| ring.try_write(buf));
        let io = self.io();
        let tick = io.source().writable_tick();
        let result = io.get_ref().write(buf);
        let send_buffer_full = match &result {
            Ok(n) => *n > 0 && *n < buf.len(),
            Err(e) => e.kind() == io::ErrorKind::WouldBlock,
        };
        if send_buffer_full {
            io.source().clear_writable_at(tick);
        }
        result
    }

    /// Reads into `buf`, waiting until at least one byte (or EOF, `Ok(0)`) is there.
    ///
    /// A connection reset by the peer is an error
    /// ([`ConnectionReset`](io::ErrorKind::ConnectionReset)), never a hang. At EOF every
    /// call returns `Ok(0)` at once.
    ///
    /// Several tasks may read one stream at once: each call waits with its
    /// own waker, and a cancelled call takes its waker back.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        on_ring!(self, |ring| ring.read(buf).await);
        self.io().read_stream_hinted(|io| io.read_hinted(buf)).await
    }

    /// Writes some of `buf`, waiting until the socket takes at least one byte.
    /// Like [`read`](Self::read), each call waits with its own waker.
    ///
    /// On a loop with io_uring, the bytes are copied and sent in the
    /// background; a send error shows on a later write.
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        on_ring!(self, |ring| ring.write(buf).await);
        self.io()
            .write_stream_with(buf.len(), |io| io.write(buf))
            .await
    }

    /// Writes all of `buf`.
    ///
    /// On a loop with io_uring it also waits until the kernel has taken every
    /// byte (a flush), so when it returns the bytes are where a readiness
    /// loop's `write_all` leaves them.
    pub async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let n = self.write(buf).await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            buf = &buf[n..];
        }
        on_ring!(self, |ring| ring.flush().await);
        Ok(())
    }

    /// Splits the stream into a read half and a write half that can move to different
    /// tasks; both share the socket through an `Arc`.
    ///
    /// Dropping the [`OwnedWriteHalf`] shuts the write direction down (as tokio does),
    /// so the peer reads EOF; the socket itself closes when both halves are gone.
    /// [`OwnedReadHalf::reunite`] puts them back together. The halves are named
    /// [`corio::net::tcp::OwnedReadHalf`](crate::net::tcp::OwnedReadHalf) and
    /// [`corio::net::unix::OwnedReadHalf`](crate::net::unix::OwnedReadHalf) (and
    /// `OwnedWriteHalf`).
    ///
    /// ```
    /// corio::run(async {
    ///     let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = corio::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (server, _) = listener.accept().await.unwrap();
    ///     let (read, write) = client.into_split();
    ///     let writer = corio::create_task(async move { write.write_all(b"ping").await });
    ///     let mut buf = [0; 4];
    ///     server.read(&mut buf).await.unwrap();
    ///     server.write_all(&buf).await.unwrap();
    ///     let n = read.read(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], b"ping");
    ///     writer.await.unwrap().unwrap();
    /// });
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf<S>, OwnedWriteHalf<S>) {
        let shared = Arc::new(self);
        (
            OwnedReadHalf::new(Arc::clone(&shared)),
            OwnedWriteHalf::new(shared),
        )
    }

    pub(crate) fn poll_read_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        on_ring!(self, |ring| ring.poll_read(cx, buf));
        let registered = self.io();
        let io = registered.get_ref();
        registered
            .source()
            .poll_read_stream_hinted(cx, || io.read_hinted(buf))
    }

    pub(crate) fn poll_write_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        on_ring!(self, |ring| ring.poll_write(cx, buf));
        let registered = self.io();
        let io = registered.get_ref();
        registered
            .source()
            .poll_write_stream_with(cx, buf.len(), || io.write(buf))
    }

    pub(crate) fn poll_write_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        on_ring!(self, |ring| ring.poll_write_vectored(cx, bufs));
        let registered = self.io();
        let io = registered.get_ref();
        let len = bufs.iter().map(|b| b.len()).sum();
        registered
            .source()
            .poll_write_stream_with(cx, len, || io.write_vectored(bufs))
    }

    /// `poll_flush`: nothing to do on the readiness path (the kernel has the bytes
    /// once a write returned); on a ring, waits until every queued byte was sent.
    #[allow(unused_variables)]
    pub(crate) fn poll_flush_priv(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        on_ring!(self, |ring| ring.poll_flush(cx));
        Poll::Ready(Ok(()))
    }

    /// `poll_close`: shut the write direction down (on a ring, once the queued
    /// bytes were sent). `NotConnected` (the peer already went away) counts as
    /// done.
    #[allow(unused_variables)]
    pub(crate) fn poll_shutdown_write(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        on_ring!(self, |ring| ring.poll_shutdown_write(cx));
        match self.shutdown(Shutdown::Write) {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
            result => Poll::Ready(result),
        }
    }
}

impl<S: StreamSocket> fmt::Debug for Stream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(S::NAME)
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}

impl<S: StreamSocket> AsFd for Stream<S> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io().as_fd()
    }
}

impl<S: StreamSocket> AsRawFd for Stream<S> {
    fn as_raw_fd(&self) -> RawFd {
        self.io().as_raw_fd()
    }
}

/// On a ring, a stream with operations in flight hands its socket to the ring,
/// which closes it once they completed (queued bytes sent, the read cancelled).
#[cfg(all(target_os = "linux", feature = "io-uring"))]
impl<S: StreamSocket> Drop for Stream<S> {
    fn drop(&mut self) {
        let (Some(ring), Some(io)) = (&self.ring, self.io.take()) else {
            return;
        };
        match io.into_inner() {
            Ok(socket) => ring.close(socket.into()),
            Err(e) => tracing::debug!("corio: deregistering a closed stream failed: {e}"),
        }
    }
}

impl<S: StreamSocket> AsyncRead for &Stream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_priv(cx, buf)
    }
}

impl<S: StreamSocket> AsyncWrite for &Stream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_priv(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_priv(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush_priv(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_shutdown_write(cx)
    }
}

/// The owned stream reads and writes exactly as `&Stream` does.
impl<S: StreamSocket> AsyncRead for Stream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_priv(cx, buf)
    }
}

/// The owned stream reads and writes exactly as `&Stream` does.
impl<S: StreamSocket> AsyncWrite for Stream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_priv(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_priv(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush_priv(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_shutdown_write(cx)
    }
}
