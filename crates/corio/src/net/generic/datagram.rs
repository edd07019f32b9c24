//! [`Datagram<D>`]: a datagram socket registered with the running loop's reactor,
//! written once for UDP and Unix datagram sockets (`UdpSocket` and `UnixDatagram`
//! are aliases of it). How a socket binds, connects and addresses `send_to` differs
//! per family and lives in the family's module.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::Arc;

use corio_reactor::{Async, Reactor};

use super::DatagramSocket;

/// A datagram socket: [`UdpSocket`](crate::net::UdpSocket) or
/// [`UnixDatagram`](crate::net::UnixDatagram) (asyncio's
/// `create_datagram_endpoint`, as a socket).
///
/// Every method takes `&self`, so one socket can be shared (in an `Arc`) by a task
/// that sends and one that receives.
pub struct Datagram<D: DatagramSocket> {
    io: Async<D>,
}

impl<D: DatagramSocket> Datagram<D> {
    /// Registers a std socket with the running loop (switching it to non-blocking
    /// mode).
    ///
    /// ```
    /// corio::run(async {
    ///     let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     let socket = corio::net::UdpSocket::from_std(std_socket).unwrap();
    ///     assert!(socket.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    #[track_caller]
    pub fn from_std(socket: D) -> io::Result<Datagram<D>> {
        Self::new(&super::reactor::<D>("from_std"), socket)
    }

    /// Registers `socket` with `reactor`.
    pub(crate) fn new(reactor: &Arc<Reactor>, socket: D) -> io::Result<Datagram<D>> {
        Ok(Datagram {
            io: Async::new(reactor, socket)?,
        })
    }

    /// Deregisters the socket and returns the std socket (still non-blocking).
    pub fn into_std(self) -> io::Result<D> {
        self.io.into_inner()
    }

    /// The registered socket, for the family-specific methods (`send_to`, options).
    pub(crate) fn io(&self) -> &Async<D> {
        &self.io
    }

    /// Receives a datagram; returns its length and sender. A datagram longer than
    /// `buf` is truncated.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, D::Addr)> {
        self.io.read_with(|s| s.recv_from(buf)).await
    }

    /// Sends a datagram to the connected peer (set by `connect`, or by `pair`).
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

    /// The connected peer's address (`NotConnected` if none).
    pub fn peer_addr(&self) -> io::Result<D::Addr> {
        self.io.get_ref().peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<D::Addr> {
        self.io.get_ref().local_addr()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl<D: DatagramSocket> fmt::Debug for Datagram<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(D::NAME)
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}

impl<D: DatagramSocket> AsFd for Datagram<D> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl<D: DatagramSocket> AsRawFd for Datagram<D> {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}
