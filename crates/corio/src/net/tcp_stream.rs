//! TCP streams: the [`TcpStream`] alias, what makes `std::net::TcpStream` a
//! [`StreamSocket`], and the TCP-only methods (`connect` by address, `peek`,
//! `TCP_NODELAY`, `IP_TTL`).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;

use corio_reactor::Async;
use socket2::{Domain, Protocol, Socket as RawSocket, Type};
#[cfg(any(target_os = "linux", target_os = "android"))]
use std::os::fd::AsFd as _;

use super::addr::{no_addresses, resolve, with_context, ToSocketAddrs};
use super::generic::{sealed, OwnedReadHalf, Socket, Stream, StreamSocket};

/// A TCP connection (asyncio's socket transport, without the protocol layer): a
/// [`Stream`] over [`std::net::TcpStream`].
///
/// Every method takes `&self`: reads and writes may run at the same time from two
/// tasks sharing a reference, and `&TcpStream` implements
/// [`AsyncRead`](futures_io::AsyncRead) and [`AsyncWrite`](futures_io::AsyncWrite)
/// too. For two tasks that each *own* a direction, use
/// [`into_split`](Stream::into_split); the halves are
/// [`tcp::OwnedReadHalf`](super::tcp::OwnedReadHalf) and
/// [`tcp::OwnedWriteHalf`](super::tcp::OwnedWriteHalf).
///
/// `poll_close` shuts the write direction down (the peer reads EOF); flushing is a
/// no-op, the kernel has the bytes once a write returns. Dropping the stream closes
/// the socket; the reactor wakes anything still waiting on it with an error.
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
pub type TcpStream = Stream<std::net::TcpStream>;

impl Stream<std::net::TcpStream> {
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
        let reactor = super::generic::reactor::<std::net::TcpStream>("connect");
        let addrs = resolve(&addr).await?;
        let mut last_error = None;
        for addr in addrs {
            match connect_one(&reactor, addr).await {
                Ok(io) => return Ok(Stream::from_async(io)),
                Err(e) => last_error = Some(with_context(e, format_args!("connecting to {addr}"))),
            }
        }
        Err(last_error.unwrap_or_else(no_addresses))
    }

    /// Reads into `buf` without removing the data from the socket's queue (`MSG_PEEK`).
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(all(target_os = "linux", feature = "io-uring"))]
        if let Some(ring) = self.ring() {
            return ring.peek(buf).await;
        }
        self.io().read_with(|s| s.peek(buf)).await
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
        self.io().get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io().get_ref().nodelay()
    }

    /// Sets `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io().get_ref().set_ttl(ttl)
    }

    /// The `IP_TTL` value.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io().get_ref().ttl()
    }
}

impl OwnedReadHalf<std::net::TcpStream> {
    /// Reads without consuming; see [`TcpStream::peek`](Stream::peek).
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.as_ref().peek(buf).await
    }
}

/// One non-blocking connect: socket, `connect` (usually `EINPROGRESS`), register, wait
/// for writability, then `SO_ERROR` tells how it went.
async fn connect_one(
    reactor: &Arc<corio_reactor::Reactor>,
    addr: SocketAddr,
) -> io::Result<Async<std::net::TcpStream>> {
    let socket = RawSocket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
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

impl sealed::Sealed for std::net::TcpStream {}

impl Socket for std::net::TcpStream {
    type Addr = SocketAddr;
    const NAME: &'static str = "TcpStream";

    fn local_addr(&self) -> io::Result<SocketAddr> {
        std::net::TcpStream::local_addr(self)
    }

    fn take_error(&self) -> io::Result<Option<io::Error>> {
        std::net::TcpStream::take_error(self)
    }
}

/// The largest read that asks the kernel for the receive-queue hint: framed
/// reads (a header, a length-prefixed message, `tcp-echo`'s 64-byte
/// `read_exact`) are small and often fill their buffer exactly.
#[cfg(any(target_os = "linux", target_os = "android"))]
const HINTED_READ_MAX: usize = 2048;

impl StreamSocket for std::net::TcpStream {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        std::net::TcpStream::peer_addr(self)
    }

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        std::net::TcpStream::shutdown(self, how)
    }

    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        Read::read(&mut &*self, buf)
    }

    /// For a small buffer, one `recvmsg` that also returns the kernel's count of
    /// bytes left queued (`TCP_INQ`): a read that filled `buf` with nothing left
    /// behind it needs no second read to learn that the queue is empty. A large
    /// buffer is one plain `recv`: such reads mostly come back short (which says
    /// the same), and `recvmsg`'s header and control message cost more than the
    /// rare `EAGAIN` they would save.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn read_hinted(&self, buf: &mut [u8]) -> io::Result<(usize, bool)> {
        if buf.len() > HINTED_READ_MAX {
            let n = self.read(buf)?;
            return Ok((n, n < buf.len()));
        }
        let (n, queued) = corio_reactor::inq::recv(self.as_fd(), buf)?;
        Ok((n, n < buf.len() || queued == Some(0)))
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn set_read_hint(&self, on: bool) {
        // Best effort: a kernel without TCP_INQ (before 4.18) reports no count, and
        // reads fall back to the short-read rule.
        let _ = corio_reactor::inq::enable(self.as_fd(), on);
    }

    fn write(&self, buf: &[u8]) -> io::Result<usize> {
        Write::write(&mut &*self, buf)
    }

    fn write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        Write::write_vectored(&mut &*self, bufs)
    }
}
