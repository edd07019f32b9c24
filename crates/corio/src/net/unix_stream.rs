//! Unix-domain streams: the [`UnixStream`] alias, what makes
//! `std::os::unix::net::UnixStream` a [`StreamSocket`], and the Unix-only methods
//! (`connect` by path, `pair`).

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use corio_reactor::Async;

use super::addr::with_context;
use super::generic::{sealed, Socket, Stream, StreamSocket};

/// A Unix-domain stream connection (asyncio's `open_unix_connection` socket): a
/// [`Stream`] over [`std::os::unix::net::UnixStream`].
///
/// The same shape as [`TcpStream`](super::TcpStream): `&self` methods, inherent
/// `read`/`write`/`write_all`, [`AsyncRead`](futures_io::AsyncRead) and
/// [`AsyncWrite`](futures_io::AsyncWrite) on `UnixStream` and `&UnixStream`
/// (`poll_close` shuts the write direction down), and
/// [`into_split`](Stream::into_split) into owned halves,
/// [`unix::OwnedReadHalf`](super::unix::OwnedReadHalf) and
/// [`unix::OwnedWriteHalf`](super::unix::OwnedWriteHalf).
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
pub type UnixStream = Stream<std::os::unix::net::UnixStream>;

impl Stream<std::os::unix::net::UnixStream> {
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
        let reactor = super::generic::reactor::<std::os::unix::net::UnixStream>("connect");
        let path = path.as_ref();
        let io = connect_path(&reactor, path)
            .await
            .map_err(|e| with_context(e, format_args!("connecting to {}", path.display())))?;
        Ok(Stream::from_async(io))
    }

    /// A connected pair of streams (`socketpair(AF_UNIX, SOCK_STREAM)`).
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let reactor = super::generic::reactor::<std::os::unix::net::UnixStream>("pair");
        let (a, b) = std::os::unix::net::UnixStream::pair()?;
        Ok((
            Stream::from_async(Async::new(&reactor, a)?),
            Stream::from_async(Async::new(&reactor, b)?),
        ))
    }
}

/// A Unix-domain connect: non-blocking via socket2, so a full backlog (`EAGAIN`)
/// waits for writability instead of blocking the loop.
async fn connect_path(
    reactor: &Arc<corio_reactor::Reactor>,
    path: &Path,
) -> io::Result<Async<std::os::unix::net::UnixStream>> {
    use socket2::{Domain, SockAddr, Socket as RawSocket, Type};

    let addr = SockAddr::unix(path)?;
    loop {
        let socket = RawSocket::new(Domain::UNIX, Type::STREAM, None)?;
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

impl sealed::Sealed for std::os::unix::net::UnixStream {}

impl Socket for std::os::unix::net::UnixStream {
    type Addr = SocketAddr;
    const NAME: &'static str = "UnixStream";

    fn local_addr(&self) -> io::Result<SocketAddr> {
        std::os::unix::net::UnixStream::local_addr(self)
    }

    fn take_error(&self) -> io::Result<Option<io::Error>> {
        std::os::unix::net::UnixStream::take_error(self)
    }
}

impl StreamSocket for std::os::unix::net::UnixStream {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        std::os::unix::net::UnixStream::peer_addr(self)
    }

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        std::os::unix::net::UnixStream::shutdown(self, how)
    }

    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        Read::read(&mut &*self, buf)
    }

    fn write(&self, buf: &[u8]) -> io::Result<usize> {
        Write::write(&mut &*self, buf)
    }

    fn write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        Write::write_vectored(&mut &*self, bufs)
    }
}
