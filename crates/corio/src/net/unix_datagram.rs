//! Unix-domain datagram sockets: the [`UnixDatagram`] alias, what makes
//! `std::os::unix::net::UnixDatagram` a [`DatagramSocket`], and the Unix-only
//! methods (`bind`, `connect` and `send_to` by path, `unbound`, `pair`, `shutdown`).

use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use super::addr::with_context;
use super::generic::{reactor, sealed, Datagram, DatagramSocket, Socket};

/// A Unix-domain datagram socket: a [`Datagram`] socket over
/// [`std::os::unix::net::UnixDatagram`].
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
pub type UnixDatagram = Datagram<std::os::unix::net::UnixDatagram>;

type StdUnixDatagram = std::os::unix::net::UnixDatagram;

impl Datagram<std::os::unix::net::UnixDatagram> {
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
        let reactor = reactor::<StdUnixDatagram>("bind");
        let path = path.as_ref();
        let socket = StdUnixDatagram::bind(path)
            .map_err(|e| with_context(e, format_args!("binding {}", path.display())))?;
        Datagram::new(&reactor, socket)
    }

    /// A socket bound to no address (it can send, and receive replies to an
    /// autobound name only where the platform does that).
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub fn unbound() -> io::Result<UnixDatagram> {
        let reactor = reactor::<StdUnixDatagram>("unbound");
        Datagram::new(&reactor, StdUnixDatagram::unbound()?)
    }

    /// A connected pair of sockets (`socketpair(AF_UNIX, SOCK_DGRAM)`).
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let reactor = reactor::<StdUnixDatagram>("pair");
        let (a, b) = StdUnixDatagram::pair()?;
        Ok((Datagram::new(&reactor, a)?, Datagram::new(&reactor, b)?))
    }

    /// Sets the default peer for [`send`](Datagram::send) and
    /// [`recv`](Datagram::recv).
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        let path = path.as_ref();
        self.io()
            .get_ref()
            .connect(path)
            .map_err(|e| with_context(e, format_args!("connecting to {}", path.display())))
    }

    /// Sends a datagram to the socket at `path`.
    pub async fn send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let path = path.as_ref();
        self.io().write_with(|s| s.send_to(buf, path)).await
    }

    /// Shuts down the read, write, or both directions.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io().get_ref().shutdown(how)
    }
}

impl sealed::Sealed for StdUnixDatagram {}

impl Socket for StdUnixDatagram {
    type Addr = SocketAddr;
    const NAME: &'static str = "UnixDatagram";

    fn local_addr(&self) -> io::Result<SocketAddr> {
        StdUnixDatagram::local_addr(self)
    }

    fn take_error(&self) -> io::Result<Option<io::Error>> {
        StdUnixDatagram::take_error(self)
    }
}

impl DatagramSocket for StdUnixDatagram {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        StdUnixDatagram::peer_addr(self)
    }

    fn send(&self, buf: &[u8]) -> io::Result<usize> {
        StdUnixDatagram::send(self, buf)
    }

    fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        StdUnixDatagram::recv(self, buf)
    }

    fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        StdUnixDatagram::recv_from(self, buf)
    }
}
