//! [`UnixStream`]: a Unix-domain stream socket registered with the running loop's
//! reactor.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use corio_reactor::Async;
use futures_io::{AsyncRead, AsyncWrite};

use super::addr::with_context;
use super::unix_split::{OwnedReadHalf, OwnedWriteHalf};
use crate::runtime::context;

/// A Unix-domain stream connection (asyncio's `open_unix_connection` socket).
///
/// The same shape as [`TcpStream`](super::TcpStream): `&self` methods, inherent
/// `read`/`write`/`write_all`, [`AsyncRead`]/[`AsyncWrite`] on `UnixStream` and
/// `&UnixStream` (`poll_close` shuts the write direction down), and
/// [`into_split`](UnixStream::into_split) into owned halves.
///
/// ```
/// use corio::net::UnixStream;
///
/// corio::run(async {
///     let (a, b) = UnixStream::pair().unwrap();
///     a.write_all(b"hello").await.unwrap();
///     let mut buf = [0; 5];
///     let n = b.read(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"hello");
/// });
/// ```
pub struct UnixStream {
    io: Async<std::os::unix::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path`.
    ///
    /// A Unix-domain connect completes at once (or fails) unless the listener's
    /// backlog is full, in which case this waits for room. Errors keep their kind and
    /// name the path.
    ///
    /// ```
    /// use corio::net::{UnixListener, UnixStream};
    ///
    /// corio::run(async {
    ///     let path = std::env::temp_dir().join(format!("corio-doc-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let listener = UnixListener::bind(&path).unwrap();
    ///     let client = UnixStream::connect(&path).await.unwrap();
    ///     let (server, _) = listener.accept().await.unwrap();
    ///     client.write_all(b"hi").await.unwrap();
    ///     let mut buf = [0; 2];
    ///     let n = server.read(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], b"hi");
    ///     std::fs::remove_file(&path).unwrap();
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub async fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        let reactor = context::reactor("corio::net::UnixStream::connect()");
        let path = path.as_ref();
        let io = connect_path(&reactor, path)
            .await
            .map_err(|e| with_context(e, format_args!("connecting to {}", path.display())))?;
        Ok(UnixStream { io })
    }

    /// A connected pair of streams (`socketpair(AF_UNIX, SOCK_STREAM)`).
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let reactor = context::reactor("corio::net::UnixStream::pair()");
        let (a, b) = std::os::unix::net::UnixStream::pair()?;
        Ok((
            UnixStream {
                io: Async::new(&reactor, a)?,
            },
            UnixStream {
                io: Async::new(&reactor, b)?,
            },
        ))
    }

    /// Registers a connected std stream with the running loop (switching it to
    /// non-blocking mode).
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        let reactor = context::reactor("corio::net::UnixStream::from_std()");
        Ok(UnixStream {
            io: Async::new(&reactor, stream)?,
        })
    }

    pub(crate) fn from_async(io: Async<std::os::unix::net::UnixStream>) -> UnixStream {
        UnixStream { io }
    }

    /// Deregisters the stream and returns the std stream (still non-blocking).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
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
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Waits until the stream may be readable (data, EOF, or an error).
    ///
    /// Readiness is a hint: a following [`try_read`](UnixStream::try_read) may still
    /// return `WouldBlock`, in which case wait again. Fails once the stream was
    /// deregistered.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.readable().await
    }

    /// Waits until the stream may be writable; see [`readable`](UnixStream::readable).
    pub async fn writable(&self) -> io::Result<()> {
        self.io.writable().await
    }

    /// Reads what is available now without waiting; `WouldBlock` if nothing is.
    ///
    /// A `WouldBlock` clears the reactor's read readiness (unless an event arrived
    /// meanwhile), so the usual loop is `readable().await` then `try_read` until
    /// `WouldBlock`; readiness is a hint, so expect an occasional spurious wake-up.
    /// [`read`](UnixStream::read) does all of this for you.
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
    /// [`OwnedReadHalf::reunite`] puts them back together. The halves live in
    /// [`corio::net::unix`](super::unix).
    ///
    /// ```
    /// corio::run(async {
    ///     let (client, server) = corio::net::UnixStream::pair().unwrap();
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

/// A Unix-domain connect: non-blocking via socket2, so a full backlog (`EAGAIN`)
/// waits for writability instead of blocking the loop.
async fn connect_path(
    reactor: &Arc<corio_reactor::Reactor>,
    path: &Path,
) -> io::Result<Async<std::os::unix::net::UnixStream>> {
    use socket2::{Domain, SockAddr, Socket, Type};

    let addr = SockAddr::unix(path)?;
    loop {
        let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
        socket.set_nonblocking(true)?;
        let result = socket.connect(&addr);
        let io = Async::new(
            reactor,
            std::os::unix::net::UnixStream::from(std::os::fd::OwnedFd::from(socket)),
        )?;
        match result {
            Ok(()) => return Ok(io),
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {
                io.writable().await?;
                return match io.get_ref().take_error()? {
                    Some(e) => Err(e),
                    None => Ok(io),
                };
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                // Backlog full: Linux does not queue the attempt; retry shortly.
                drop(io);
                crate::sleep(std::time::Duration::from_millis(1)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

macro_rules! unix_io_impls {
    ($ty:ty, $stream:ident => $get:expr) => {
        impl AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                let $stream = self.get_mut();
                let stream: &UnixStream = $get;
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
                let stream: &UnixStream = $get;
                stream.poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[io::IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                let $stream = self.get_mut();
                let stream: &UnixStream = $get;
                stream.poll_write_vectored_priv(cx, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                let $stream = self.get_mut();
                let stream: &UnixStream = $get;
                stream.poll_shutdown_write()
            }
        }
    };
}

unix_io_impls!(UnixStream, s => s);
unix_io_impls!(&UnixStream, s => s);
