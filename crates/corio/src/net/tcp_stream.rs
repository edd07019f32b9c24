//! [`TcpStream`]: a TCP connection registered with the running loop's reactor.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use corio_reactor::Async;
use futures_io::{AsyncRead, AsyncWrite};
use socket2::{Domain, Protocol, Socket, Type};

use super::addr::{no_addresses, resolve, with_context, ToSocketAddrs};
use super::tcp_split::{OwnedReadHalf, OwnedWriteHalf};
use crate::runtime::context;

/// A TCP connection (asyncio's socket transport, without the protocol layer).
///
/// Every method takes `&self`: reads and writes may run at the same time from two
/// tasks sharing a reference, and `&TcpStream` implements [`AsyncRead`] and
/// [`AsyncWrite`] too. For two tasks that each *own* a direction, use
/// [`into_split`](TcpStream::into_split).
///
/// [`AsyncWrite::poll_close`] shuts the write direction down (the peer reads EOF);
/// flushing is a no-op, the kernel has the bytes once a write returns. Dropping the
/// stream closes the socket; the reactor wakes anything still waiting on it with an
/// error.
///
/// ```
/// use corio::net::{TcpListener, TcpStream};
///
/// corio::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let server = corio::create_task(async move {
///         let (stream, _peer) = listener.accept().await.unwrap();
///         let mut buf = [0; 5];
///         let n = stream.read(&mut buf).await.unwrap();
///         stream.write_all(&buf[..n]).await.unwrap();
///     });
///     let client = TcpStream::connect(addr).await.unwrap();
///     client.write_all(b"hello").await.unwrap();
///     let mut buf = [0; 5];
///     let n = client.read(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"hello");
///     server.await.unwrap();
/// });
/// ```
pub struct TcpStream {
    io: Async<std::net::TcpStream>,
}

impl TcpStream {
    /// Opens a TCP connection to `addr` (asyncio's `loop.sock_connect`).
    ///
    /// Host names are resolved on the blocking pool; each resolved address is tried in
    /// turn, as in std, and the last error is returned if none accepts. Errors keep
    /// their [`io::ErrorKind`] (a closed port gives
    /// [`ConnectionRefused`](io::ErrorKind::ConnectionRefused)) and name the address:
    /// `connecting to 127.0.0.1:1: Connection refused (os error 111)`.
    ///
    /// ```
    /// corio::run(async {
    ///     let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let stream = corio::net::TcpStream::connect(addr).await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), addr);
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        let reactor = context::reactor("corio::net::TcpStream::connect()");
        let addrs = resolve(&addr).await?;
        let mut last_error = None;
        for addr in addrs {
            match connect_one(&reactor, addr).await {
                Ok(io) => return Ok(TcpStream { io }),
                Err(e) => last_error = Some(with_context(e, format_args!("connecting to {addr}"))),
            }
        }
        Err(last_error.unwrap_or_else(no_addresses))
    }

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
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        let reactor = context::reactor("corio::net::TcpStream::from_std()");
        Ok(TcpStream {
            io: Async::new(&reactor, stream)?,
        })
    }

    pub(crate) fn from_async(io: Async<std::net::TcpStream>) -> TcpStream {
        TcpStream { io }
    }

    /// Deregisters the stream and returns the std stream (still non-blocking).
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        self.io.into_inner()
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Shuts down the read, write, or both directions (see [`std::net::Shutdown`]).
    ///
    /// After `Shutdown::Write` the peer reads EOF while this side can still read what
    /// it sends back; after `Shutdown::Read` (or `Both`) pending and later reads here
    /// return `Ok(0)`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm when `true`).
    ///
    /// ```
    /// corio::run(async {
    ///     let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = corio::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     stream.set_nodelay(true).unwrap();
    ///     assert!(stream.nodelay().unwrap());
    /// });
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Sets `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The `IP_TTL` value.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Waits until the stream may be readable (data, EOF, or an error).
    ///
    /// Readiness is a hint: a following [`try_read`](TcpStream::try_read) may still
    /// return `WouldBlock`, in which case wait again. Fails once the stream was
    /// deregistered.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.readable().await
    }

    /// Waits until the stream may be writable; see [`readable`](TcpStream::readable).
    pub async fn writable(&self) -> io::Result<()> {
        self.io.writable().await
    }

    /// Reads what is available now without waiting; `WouldBlock` if nothing is.
    ///
    /// A `WouldBlock` clears the reactor's read readiness (unless an event arrived
    /// meanwhile), so the usual loop is `readable().await` then `try_read` until
    /// `WouldBlock`; readiness is a hint, so expect an occasional spurious wake-up.
    /// [`read`](TcpStream::read) does all of this for you.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let tick = self.io.source().readable_tick();
        let mut io = self.io.get_ref();
        let result = io.read(buf);
        if matches!(&result, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.io.source().clear_readable_at(tick);
        }
        result
    }

    /// Writes what fits now without waiting; `WouldBlock` if nothing does.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        let tick = self.io.source().writable_tick();
        let mut io = self.io.get_ref();
        let result = io.write(buf);
        if matches!(&result, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.io.source().clear_writable_at(tick);
        }
        result
    }

    /// Reads into `buf`, waiting until at least one byte (or EOF, `Ok(0)`) is there.
    ///
    /// A connection reset by the peer is an error
    /// ([`ConnectionReset`](io::ErrorKind::ConnectionReset)), never a hang. At EOF every
    /// call returns `Ok(0)` at once.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_read_priv(cx, buf)).await
    }

    /// Reads into `buf` without removing the data from the socket's queue (`MSG_PEEK`).
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|s| s.peek(buf)).await
    }

    /// Writes some of `buf`, waiting until the socket takes at least one byte.
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_write_priv(cx, buf)).await
    }

    /// Writes all of `buf`.
    pub async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let n = self.write(buf).await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            buf = &buf[n..];
        }
        Ok(())
    }

    /// Splits the stream into a read half and a write half that can move to different
    /// tasks; both share the socket through an `Arc`.
    ///
    /// Dropping the [`OwnedWriteHalf`] shuts the write direction down (as tokio does),
    /// so the peer reads EOF; the socket itself closes when both halves are gone.
    /// [`OwnedReadHalf::reunite`] puts them back together.
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
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
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
        let io = self.io.get_ref();
        self.io.source().poll_read_with(cx, || {
            let mut io = io;
            io.read(buf)
        })
    }

    pub(crate) fn poll_write_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let io = self.io.get_ref();
        self.io.source().poll_write_with(cx, || {
            let mut io = io;
            io.write(buf)
        })
    }

    pub(crate) fn poll_write_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let io = self.io.get_ref();
        self.io.source().poll_write_with(cx, || {
            let mut io = io;
            io.write_vectored(bufs)
        })
    }

    /// `poll_close`: shut the write direction down. `NotConnected` (the peer already
    /// went away) counts as done.
    pub(crate) fn poll_shutdown_write(&self) -> Poll<io::Result<()>> {
        match self.shutdown(Shutdown::Write) {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
            result => Poll::Ready(result),
        }
    }
}

/// One non-blocking connect: socket, `connect` (usually `EINPROGRESS`), register, wait
/// for writability, then `SO_ERROR` tells how it went.
async fn connect_one(
    reactor: &Arc<corio_reactor::Reactor>,
    addr: SocketAddr,
) -> io::Result<Async<std::net::TcpStream>> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        Err(e) => return Err(e),
    }
    let io = Async::new(reactor, std::net::TcpStream::from(socket))?;
    loop {
        // Readiness is a hint: take the tick first, check, and only then clear.
        let tick = io.source().writable_tick();
        if let Some(e) = io.get_ref().take_error()? {
            return Err(e);
        }
        match io.get_ref().peer_addr() {
            Ok(_) => return Ok(io),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => {}
            Err(e) => return Err(e),
        }
        io.source().clear_writable_at(tick);
        io.writable().await?;
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

macro_rules! tcp_io_impls {
    ($ty:ty, $stream:ident => $get:expr) => {
        impl AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                let $stream = self.get_mut();
                let stream: &TcpStream = $get;
                stream.poll_read_priv(cx, buf)
            }
        }

        impl AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                let $stream = self.get_mut();
                let stream: &TcpStream = $get;
                stream.poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[io::IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                let $stream = self.get_mut();
                let stream: &TcpStream = $get;
                stream.poll_write_vectored_priv(cx, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                let $stream = self.get_mut();
                let stream: &TcpStream = $get;
                stream.poll_shutdown_write()
            }
        }
    };
}

tcp_io_impls!(TcpStream, s => s);
tcp_io_impls!(&TcpStream, s => s);
