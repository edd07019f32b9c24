//! Sockets on the running loop's reactor: asyncio's low-level networking
//! (`loop.create_connection`'s sockets, `loop.getaddrinfo`), as types.
//!
//! | asyncio / socket | corio::net |
//! |---|---|
//! | `loop.sock_connect` / `create_connection` | [`TcpStream::connect`] |
//! | `loop.create_server` (the socket) | [`TcpListener::bind`], [`TcpListener::accept`] |
//! | `loop.create_datagram_endpoint` | [`UdpSocket`] |
//! | `loop.create_unix_connection` / `create_unix_server` | [`UnixStream`], [`UnixListener`] |
//! | `socket.socketpair(AF_UNIX, SOCK_DGRAM)` | [`UnixDatagram::pair`] |
//! | `loop.getaddrinfo(host, port)` | [`lookup_host`] |
//!
//! Streams implement `futures_io::AsyncRead` and `AsyncWrite`, so the futures-io
//! ecosystem (`futures-util`'s `AsyncReadExt`, codecs, TLS adapters) works on them;
//! they also have inherent `read`/`write`/`write_all` so none of that is needed for
//! the basics. Every socket is registered with the loop that was running when it was
//! created, and must be used on that loop.
//!
//! Errors keep the OS error's [`std::io::ErrorKind`]; where an address is involved
//! (connect, bind) the message names it.
//!
//! Each type names one of three generic wrappers in [`generic`], written once for
//! every socket family: [`TcpStream`] is `generic::Stream<std::net::TcpStream>`,
//! [`UdpSocket`] is `generic::Datagram<std::net::UdpSocket>`, [`UnixListener`] is
//! `generic::Listener<std::os::unix::net::UnixListener>`. What only one family has
//! (`TcpStream::set_nodelay`, `UnixStream::pair`, UDP multicast, connecting by
//! address or by path) is on that family's type.
//!
//! ```
//! use corio::net::{TcpListener, TcpStream};
//!
//! corio::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     corio::create_task(async move {
//!         loop {
//!             let (stream, _) = listener.accept().await.unwrap();
//!             corio::create_task(async move {
//!                 let mut buf = [0; 1024];
//!                 loop {
//!                     match stream.read(&mut buf).await {
//!                         Ok(0) | Err(_) => break,
//!                         Ok(n) => stream.write_all(&buf[..n]).await.unwrap(),
//!                     }
//!                 }
//!             });
//!         }
//!     });
//!     let client = TcpStream::connect(addr).await.unwrap();
//!     client.write_all(b"echo").await.unwrap();
//!     let mut buf = [0; 4];
//!     let mut got = 0;
//!     while got < 4 {
//!         got += client.read(&mut buf[got..]).await.unwrap();
//!     }
//!     assert_eq!(&buf, b"echo");
//! });
//! ```

mod addr;
pub mod generic;
pub(crate) mod serving;
mod tcp_listener;
mod tcp_stream;
mod udp_socket;
mod unix_datagram;
mod unix_listener;
mod unix_stream;

pub use addr::{lookup_host, ToSocketAddrs};
pub use std::net::Shutdown;
pub use tcp::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
pub use tcp_listener::TcpListener;
pub use tcp_stream::TcpStream;
pub use udp_socket::UdpSocket;
pub use unix_datagram::UnixDatagram;
pub use unix_listener::UnixListener;
pub use unix_stream::UnixStream;

/// The owned halves of a [`TcpStream`], from [`TcpStream::into_split`] (tokio's
/// `corio::net::tcp::OwnedReadHalf` path; the same types are re-exported as
/// [`corio::net::OwnedReadHalf`](OwnedReadHalf) and friends).
pub mod tcp {
    use super::generic;

    /// The read half of a [`TcpStream`](super::TcpStream), from
    /// [`TcpStream::into_split`](super::TcpStream::into_split).
    ///
    /// Implements [`futures_io::AsyncRead`] and has the stream's `read`, `try_read`,
    /// `readable` and `peek`; `AsRef<TcpStream>` reaches every `&self` method of the
    /// stream (addresses, options, `shutdown`).
    pub type OwnedReadHalf = generic::OwnedReadHalf<std::net::TcpStream>;

    /// The write half of a [`TcpStream`](super::TcpStream), from
    /// [`TcpStream::into_split`](super::TcpStream::into_split).
    ///
    /// Implements [`futures_io::AsyncWrite`] (`poll_close` shuts the write direction
    /// down). Dropping it also shuts the write direction down, so the peer reads EOF;
    /// the read half keeps working.
    pub type OwnedWriteHalf = generic::OwnedWriteHalf<std::net::TcpStream>;

    /// The halves given to [`OwnedReadHalf::reunite`](generic::OwnedReadHalf::reunite)
    /// came from different TCP streams; both are handed back (`.0` and `.1`).
    pub type ReuniteError = generic::ReuniteError<std::net::TcpStream>;
}

/// The owned halves of a [`UnixStream`], from [`UnixStream::into_split`], and the
/// Unix address type.
pub mod unix {
    use super::generic;

    pub use std::os::unix::net::SocketAddr;

    /// The read half of a [`UnixStream`](super::UnixStream), from
    /// [`UnixStream::into_split`](super::UnixStream::into_split).
    ///
    /// Implements [`futures_io::AsyncRead`] and has the stream's `read`, `try_read`
    /// and `readable`; `AsRef<UnixStream>` reaches every `&self` method of the stream.
    pub type OwnedReadHalf = generic::OwnedReadHalf<std::os::unix::net::UnixStream>;

    /// The write half of a [`UnixStream`](super::UnixStream), from
    /// [`UnixStream::into_split`](super::UnixStream::into_split).
    ///
    /// Implements [`futures_io::AsyncWrite`] (`poll_close` shuts the write direction
    /// down). Dropping it also shuts the write direction down, so the peer reads EOF;
    /// the read half keeps working.
    pub type OwnedWriteHalf = generic::OwnedWriteHalf<std::os::unix::net::UnixStream>;

    /// The halves given to [`OwnedReadHalf::reunite`](generic::OwnedReadHalf::reunite)
    /// came from different Unix streams; both are handed back (`.0` and `.1`).
    pub type ReuniteError = generic::ReuniteError<std::os::unix::net::UnixStream>;
}
