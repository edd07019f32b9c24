//! [`TcpListener`]: a listening TCP socket registered with the running loop's reactor.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use corio_reactor::Async;

use super::addr::{no_addresses, resolve, with_context, ToSocketAddrs};
use super::TcpStream;
use crate::runtime::context;

/// A TCP server socket (what asyncio's `start_server` listens on).
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
pub struct TcpListener {
    io: Async<std::net::TcpListener>,
}

impl TcpListener {
    /// Binds a listener to `addr` (port 0 picks a free port; see
    /// [`local_addr`](TcpListener::local_addr)).
    ///
    /// Each resolved address is tried in turn; the last error is returned, with the
    /// address in its message and its [`io::ErrorKind`] kept (`AddrInUse`, ...).
    /// `SO_REUSEADDR` is set, as std does on Unix.
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        let reactor = context::reactor("corio::net::TcpListener::bind()");
        let addrs = resolve(&addr).await?;
        let mut last_error = None;
        for addr in addrs {
            match std::net::TcpListener::bind(addr) {
                Ok(listener) => {
                    return Ok(TcpListener {
                        io: Async::new(&reactor, listener)?,
                    })
                }
                Err(e) => last_error = Some(with_context(e, format_args!("binding {addr}"))),
            }
        }
        Err(last_error.unwrap_or_else(no_addresses))
    }

    /// Registers a bound, listening std listener with the running loop (switching it
    /// to non-blocking mode).
    ///
    /// ```
    /// corio::run(async {
    ///     let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let listener = corio::net::TcpListener::from_std(std_listener).unwrap();
    ///     assert!(listener.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        let reactor = context::reactor("corio::net::TcpListener::from_std()");
        Ok(TcpListener {
            io: Async::new(&reactor, listener)?,
        })
    }

    /// Deregisters the listener and returns the std listener (still non-blocking).
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        self.io.into_inner()
    }

    /// Waits for a connection and returns it with the peer's address.
    ///
    /// Several tasks may accept on one listener at once (`&self`); each connection
    /// goes to one of them. Dropping the listener wakes anything still waiting with an
    /// error.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let reactor = context::reactor("corio::net::TcpListener::accept()");
        let (stream, addr) = self.io.read_with(|listener| listener.accept()).await?;
        Ok((TcpStream::from_async(Async::new(&reactor, stream)?), addr))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets `IP_TTL` for accepted connections' packets.
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
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local", &self.local_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}
