//! The generic socket types behind `corio::net`'s names, and the sealed traits
//! that tell the socket families apart.
//!
//! Every corio socket is one of three wrappers around a std socket registered with
//! the running loop's reactor ([`corio_reactor::Async`]): a [`Stream`] (with its
//! [`OwnedReadHalf`] and [`OwnedWriteHalf`]), a [`Datagram`] socket, or a
//! [`Listener`]. Each is written once, generic over the std type; what differs
//! between TCP, UDP and Unix sockets is the small trait that std type implements
//! ([`StreamSocket`], [`DatagramSocket`], [`ListenerSocket`], all extending
//! [`Socket`]), plus the methods only one family has (TCP's `set_nodelay`, Unix's
//! `pair`, UDP's multicast, how each binds and connects), which live on the concrete
//! type in that family's module.
//!
//! The names you use are aliases of these: [`TcpStream`](super::TcpStream) is
//! `Stream<std::net::TcpStream>`, [`UnixDatagram`](super::UnixDatagram) is
//! `Datagram<std::os::unix::net::UnixDatagram>`, and so on. The traits are sealed:
//! only the six std socket types implement them.
//!
//! | alias | generic type |
//! |---|---|
//! | [`TcpStream`](super::TcpStream), [`UnixStream`](super::UnixStream) | [`Stream<S>`](Stream) |
//! | [`tcp::OwnedReadHalf`](super::tcp::OwnedReadHalf), [`unix::OwnedReadHalf`](super::unix::OwnedReadHalf) | [`OwnedReadHalf<S>`](OwnedReadHalf) |
//! | [`tcp::OwnedWriteHalf`](super::tcp::OwnedWriteHalf), [`unix::OwnedWriteHalf`](super::unix::OwnedWriteHalf) | [`OwnedWriteHalf<S>`](OwnedWriteHalf) |
//! | [`UdpSocket`](super::UdpSocket), [`UnixDatagram`](super::UnixDatagram) | [`Datagram<D>`](Datagram) |
//! | [`TcpListener`](super::TcpListener), [`UnixListener`](super::UnixListener) | [`Listener<L>`](Listener) |

use std::fmt;
use std::io;
use std::os::fd::AsFd;

mod datagram;
mod listener;
mod split;
mod stream;

pub use datagram::Datagram;
pub use listener::Listener;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
pub use stream::Stream;

/// What every std socket type corio wraps has: an address type, and the calls the
/// generic wrappers make on it. Sealed; implemented by the six std socket types.
pub trait Socket: AsFd + Sized + sealed::Sealed {
    /// The address type: [`std::net::SocketAddr`] for TCP and UDP,
    /// [`std::os::unix::net::SocketAddr`] for Unix sockets.
    type Addr: fmt::Debug;

    /// The corio name of the wrapped type (`"TcpStream"`), for `Debug` output and
    /// panic messages.
    #[doc(hidden)]
    const NAME: &'static str;

    #[doc(hidden)]
    fn local_addr(&self) -> io::Result<Self::Addr>;

    #[doc(hidden)]
    fn take_error(&self) -> io::Result<Option<io::Error>>;
}

/// A connected byte stream: [`std::net::TcpStream`] or
/// [`std::os::unix::net::UnixStream`]. Sealed.
pub trait StreamSocket: Socket + Into<std::os::fd::OwnedFd> {
    #[doc(hidden)]
    fn peer_addr(&self) -> io::Result<Self::Addr>;

    #[doc(hidden)]
    fn shutdown(&self, how: std::net::Shutdown) -> io::Result<()>;

    #[doc(hidden)]
    fn read(&self, buf: &mut [u8]) -> io::Result<usize>;

    /// Reads into `buf`; also says whether the read left the receive queue empty
    /// (the reader may then wait for the next event without trying another read).
    /// By default only a short read is known to have: TCP on Linux asks the kernel
    /// (the `TCP_INQ` hint, see [`set_read_hint`](StreamSocket::set_read_hint)).
    #[doc(hidden)]
    fn read_hinted(&self, buf: &mut [u8]) -> io::Result<(usize, bool)> {
        let n = self.read(buf)?;
        Ok((n, n < buf.len()))
    }

    /// Turns the receive-queue hint of [`read_hinted`](StreamSocket::read_hinted) on
    /// (when the stream is registered) or off (when it is handed back by
    /// `into_std`). Best effort: without it, reads fall back to the short-read rule.
    #[doc(hidden)]
    fn set_read_hint(&self, _on: bool) {}

    #[doc(hidden)]
    fn write(&self, buf: &[u8]) -> io::Result<usize>;

    #[doc(hidden)]
    fn write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize>;
}

/// A datagram socket: [`std::net::UdpSocket`] or
/// [`std::os::unix::net::UnixDatagram`]. Sealed.
pub trait DatagramSocket: Socket {
    #[doc(hidden)]
    fn peer_addr(&self) -> io::Result<Self::Addr>;

    #[doc(hidden)]
    fn send(&self, buf: &[u8]) -> io::Result<usize>;

    #[doc(hidden)]
    fn recv(&self, buf: &mut [u8]) -> io::Result<usize>;

    #[doc(hidden)]
    fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, Self::Addr)>;
}

/// A listening socket: [`std::net::TcpListener`] or
/// [`std::os::unix::net::UnixListener`]. Sealed.
pub trait ListenerSocket: Socket {
    /// The std stream type its connections have.
    type Stream: StreamSocket<Addr = Self::Addr>;

    #[doc(hidden)]
    fn accept(&self) -> io::Result<(Self::Stream, Self::Addr)>;
}

pub(crate) mod sealed {
    /// Keeps the socket traits to the std types corio implements them for.
    pub trait Sealed {}
}

/// The running loop's reactor, for `Type::method()` of the socket type `S`.
///
/// # Panics
///
/// Outside a running loop, naming `corio::net::{S::NAME}::{method}()`; the name is
/// formatted only then.
#[track_caller]
pub(crate) fn reactor<S: Socket>(method: &str) -> std::sync::Arc<corio_reactor::Reactor> {
    if crate::runtime::context::is_running() {
        crate::runtime::context::reactor(S::NAME)
    } else {
        crate::runtime::context::reactor(&format!("corio::net::{}::{method}()", S::NAME))
    }
}
