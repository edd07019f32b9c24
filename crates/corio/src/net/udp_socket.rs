//! UDP sockets: the [`UdpSocket`] alias, what makes `std::net::UdpSocket` a
//! [`DatagramSocket`], and the UDP-only methods (`bind` and `connect` by address,
//! `send_to`, `peek_from`, broadcast, TTL, multicast).

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use super::addr::{each_addr, no_addresses, resolve, ToSocketAddrs};
use super::generic::{sealed, Datagram, DatagramSocket, Socket};

/// A UDP socket (asyncio's `create_datagram_endpoint`, as a socket): a [`Datagram`]
/// socket over [`std::net::UdpSocket`].
///
/// Every method takes `&self`, so one socket can be shared (in an `Arc`) by a task
/// that sends and one that receives.
///
/// ```
/// use corio::net::UdpSocket;
///
/// corio::run(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"ping");
///     assert_eq!(from, a.local_addr().unwrap());
/// });
/// ```
pub type UdpSocket = Datagram<std::net::UdpSocket>;

impl Datagram<std::net::UdpSocket> {
    /// Binds a socket to `addr` (port 0 picks a free port). Each resolved address is
    /// tried in turn; errors name the address and keep their kind.
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        let reactor = super::generic::reactor::<std::net::UdpSocket>("bind");
        let socket = each_addr(resolve(&addr).await?, "binding", std::net::UdpSocket::bind)?;
        Datagram::new(&reactor, socket)
    }

    /// Sets the default peer: [`send`](Datagram::send) goes there and
    /// [`recv`](Datagram::recv) only accepts datagrams from there. Each resolved
    /// address is tried in turn.
    ///
    /// ```
    /// use corio::net::UdpSocket;
    ///
    /// corio::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.connect(b.local_addr().unwrap()).await.unwrap();
    ///     b.connect(a.local_addr().unwrap()).await.unwrap();
    ///     a.send(b"hello").await.unwrap();
    ///     let mut buf = [0; 16];
    ///     let n = b.recv(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], b"hello");
    ///     assert_eq!(b.peer_addr().unwrap(), a.local_addr().unwrap());
    /// });
    /// ```
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        let socket = self.io().get_ref();
        each_addr(resolve(&addr).await?, "connecting to", |addr| {
            socket.connect(addr)
        })
    }

    /// Sends a datagram to `target` (the first address it resolves to); returns the
    /// number of bytes sent.
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let addrs = resolve(&target).await?;
        let Some(&addr) = addrs.first() else {
            return Err(no_addresses());
        };
        self.io().write_with(|s| s.send_to(buf, addr)).await
    }

    /// Like [`recv_from`](Datagram::recv_from), leaving the datagram queued.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io().read_with(|s| s.peek_from(buf)).await
    }

    /// Sets `SO_BROADCAST`.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io().get_ref().set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is set.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io().get_ref().broadcast()
    }

    /// Sets `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io().get_ref().set_ttl(ttl)
    }

    /// The `IP_TTL` value.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io().get_ref().ttl()
    }

    /// Sets `IP_MULTICAST_LOOP`.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io().get_ref().set_multicast_loop_v4(on)
    }

    /// Joins an IPv4 multicast group on `interface` (`0.0.0.0`: the default one).
    pub fn join_multicast_v4(&self, group: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io().get_ref().join_multicast_v4(&group, &interface)
    }

    /// Leaves an IPv4 multicast group.
    pub fn leave_multicast_v4(&self, group: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io().get_ref().leave_multicast_v4(&group, &interface)
    }

    /// Joins an IPv6 multicast group on interface index `interface` (0: default).
    pub fn join_multicast_v6(&self, group: Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io().get_ref().join_multicast_v6(&group, interface)
    }

    /// Leaves an IPv6 multicast group.
    pub fn leave_multicast_v6(&self, group: Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io().get_ref().leave_multicast_v6(&group, interface)
    }
}

impl sealed::Sealed for std::net::UdpSocket {}

impl Socket for std::net::UdpSocket {
    type Addr = SocketAddr;
    const NAME: &'static str = "UdpSocket";

    fn local_addr(&self) -> io::Result<SocketAddr> {
        std::net::UdpSocket::local_addr(self)
    }

    fn take_error(&self) -> io::Result<Option<io::Error>> {
        std::net::UdpSocket::take_error(self)
    }
}

impl DatagramSocket for std::net::UdpSocket {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        std::net::UdpSocket::peer_addr(self)
    }

    fn send(&self, buf: &[u8]) -> io::Result<usize> {
        std::net::UdpSocket::send(self, buf)
    }

    fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        std::net::UdpSocket::recv(self, buf)
    }

    fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        std::net::UdpSocket::recv_from(self, buf)
    }
}
