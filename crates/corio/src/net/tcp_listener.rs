//! TCP listeners: the [`TcpListener`] alias, what makes `std::net::TcpListener` a
//! [`ListenerSocket`], and the TCP-only methods (`bind` by address, `IP_TTL`).

use std::io;
use std::net::SocketAddr;

use super::addr::{each_addr, resolve, ToSocketAddrs};
use super::generic::{sealed, Listener, ListenerSocket, Socket};

/// A TCP server socket (what asyncio's `start_server` listens on): a [`Listener`]
/// over [`std::net::TcpListener`], whose [`accept`](Listener::accept) gives
/// [`TcpStream`](super::TcpStream)s.
///
/// ```
/// use corio::net::{TcpListener, TcpStream};
///
/// corio::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let client = corio::create_task(async move {
///         let stream = TcpStream::connect(addr).await.unwrap();
///         stream.write_all(b"hi").await.unwrap();
///     });
///     let (stream, peer) = listener.accept().await.unwrap();
///     assert_eq!(peer, stream.peer_addr().unwrap());
///     let mut buf = [0; 2];
///     let mut got = 0;
///     while got < 2 {
///         got += stream.read(&mut buf[got..]).await.unwrap();
///     }
///     assert_eq!(&buf, b"hi");
///     client.await.unwrap();
/// });
/// ```
pub type TcpListener = Listener<std::net::TcpListener>;

impl Listener<std::net::TcpListener> {
    /// Binds a listener to `addr` (port 0 picks a free port; see
    /// [`local_addr`](Listener::local_addr)).
    ///
    /// Each resolved address is tried in turn; the last error is returned, with the
    /// address in its message and its [`io::ErrorKind`] kept (`AddrInUse`, ...).
    /// `SO_REUSEADDR` is set, as std does on Unix.
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        let reactor = super::generic::reactor::<std::net::TcpListener>("bind");
        let listener = each_addr(
            resolve(&addr).await?,
            "binding",
            std::net::TcpListener::bind,
        )?;
        Listener::new(&reactor, listener)
    }

    /// Sets `IP_TTL` for accepted connections' packets.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io().get_ref().set_ttl(ttl)
    }

    /// The `IP_TTL` value.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io().get_ref().ttl()
    }
}

impl sealed::Sealed for std::net::TcpListener {}

impl Socket for std::net::TcpListener {
    type Addr = SocketAddr;
    const NAME: &'static str = "TcpListener";

    fn local_addr(&self) -> io::Result<SocketAddr> {
        std::net::TcpListener::local_addr(self)
    }

    fn take_error(&self) -> io::Result<Option<io::Error>> {
        std::net::TcpListener::take_error(self)
    }
}

impl ListenerSocket for std::net::TcpListener {
    type Stream = std::net::TcpStream;

    fn accept(&self) -> io::Result<(std::net::TcpStream, SocketAddr)> {
        std::net::TcpListener::accept(self)
    }
}
