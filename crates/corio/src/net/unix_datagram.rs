//! [`UnixDatagram`]: a Unix-domain datagram socket registered with the running
//! loop's reactor.

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;

use corio_reactor::Async;

use super::addr::with_context;
use crate::runtime::context;

/// A Unix-domain datagram socket.
///
/// Every method takes `&self`, so one socket can be shared by a sending and a
/// receiving task.
///
/// ```
/// use corio::net::UnixDatagram;
///
/// corio::run(async {
///     let (a, b) = UnixDatagram::pair().unwrap();
///     a.send(b"one").await.unwrap();
///     let mut buf = [0; 8];
///     let n = b.recv(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"one");
/// });
/// ```
pub struct UnixDatagram {
    io: Async<std::os::unix::net::UnixDatagram>,
}

impl UnixDatagram {
    /// Binds a socket to `path` (which must not exist yet); the file is not removed
    /// on drop. Errors keep their kind and name the path.
    ///
    /// ```
    /// use corio::net::UnixDatagram;
    ///
    /// corio::run(async {
    ///     let path = std::env::temp_dir().join(format!("corio-doc-d-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let server = UnixDatagram::bind(&path).unwrap();
    ///     let client = UnixDatagram::unbound().unwrap();
    ///     client.send_to(b"hi", &path).await.unwrap();
    ///     let mut buf = [0; 8];
    ///     let (n, _from) = server.recv_from(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], b"hi");
    ///     std::fs::remove_file(&path).unwrap();
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixDatagram> {
        let path = path.as_ref();
        let socket = std::os::unix::net::UnixDatagram::bind(path)
            .map_err(|e| with_context(e, format_args!("binding {}", path.display())))?;
        Self::register(socket, "corio::net::UnixDatagram::bind()")
    }

    /// A socket bound to no address (it can send, and receive replies to an
    /// autobound name only where the platform does that).
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub fn unbound() -> io::Result<UnixDatagram> {
        let socket = std::os::unix::net::UnixDatagram::unbound()?;
        Self::register(socket, "corio::net::UnixDatagram::unbound()")
    }

    /// A connected pair of sockets (`socketpair(AF_UNIX, SOCK_DGRAM)`).
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = std::os::unix::net::UnixDatagram::pair()?;
        Ok((
            Self::register(a, "corio::net::UnixDatagram::pair()")?,
            Self::register(b, "corio::net::UnixDatagram::pair()")?,
        ))
    }

    /// Registers a std socket with the running loop (switching it to non-blocking
    /// mode).
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Self::register(socket, "corio::net::UnixDatagram::from_std()")
    }

    #[track_caller]
    fn register(socket: std::os::unix::net::UnixDatagram, what: &str) -> io::Result<UnixDatagram> {
        let reactor = context::reactor(what);
        Ok(UnixDatagram {
            io: Async::new(&reactor, socket)?,
        })
    }

    /// Deregisters the socket and returns the std socket (still non-blocking).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        self.io.into_inner()
    }

    /// Sets the default peer for [`send`](UnixDatagram::send) and
    /// [`recv`](UnixDatagram::recv).
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        let path = path.as_ref();
        self.io
            .get_ref()
            .connect(path)
            .map_err(|e| with_context(e, format_args!("connecting to {}", path.display())))
    }

    /// Sends a datagram to the socket at `path`.
    pub async fn send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let path = path.as_ref();
        self.io.write_with(|s| s.send_to(buf, path)).await
    }

    /// Receives a datagram; returns its length and sender.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_with(|s| s.recv_from(buf)).await
    }

    /// Sends a datagram to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.write_with(|s| s.send(buf)).await
    }

    /// Receives a datagram from the connected peer.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|s| s.recv(buf)).await
    }

    /// Waits until a datagram may be readable.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.readable().await
    }

    /// Waits until the socket may be writable.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.writable().await
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down the read, write, or both directions.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}
