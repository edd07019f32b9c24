//! [`Listener<L>`]: a listening socket registered with the running loop's reactor,
//! written once for TCP and Unix listeners (`TcpListener` and `UnixListener` are
//! aliases of it); each family's module has its `bind`.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::Arc;

use corio_reactor::{Async, Reactor};

use super::{ListenerSocket, Stream};

/// A server socket: [`TcpListener`](crate::net::TcpListener) or
/// [`UnixListener`](crate::net::UnixListener) (what asyncio's `start_server` and
/// `start_unix_server` listen on).
pub struct Listener<L: ListenerSocket> {
    io: Async<L>,
}

impl<L: ListenerSocket> Listener<L> {
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
    #[track_caller]
    pub fn from_std(listener: L) -> io::Result<Listener<L>> {
        Self::new(&super::reactor::<L>("from_std"), listener)
    }

    /// Registers `listener` with `reactor`.
    pub(crate) fn new(reactor: &Arc<Reactor>, listener: L) -> io::Result<Listener<L>> {
        Ok(Listener {
            io: Async::new(reactor, listener)?,
        })
    }

    /// Deregisters the listener and returns the std listener (still non-blocking).
    pub fn into_std(self) -> io::Result<L> {
        self.io.into_inner()
    }

    /// The registered socket, for the family-specific methods (options).
    pub(crate) fn io(&self) -> &Async<L> {
        &self.io
    }

    /// Waits for a connection and returns it with the peer's address (for a Unix
    /// listener, usually unnamed).
    ///
    /// Several tasks may accept on one listener at once (`&self`); each connection
    /// goes to one of them. Dropping the listener wakes anything still waiting with an
    /// error.
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub async fn accept(&self) -> io::Result<(Stream<L::Stream>, L::Addr)> {
        let reactor = super::reactor::<L>("accept");
        let (stream, addr) = self.io.read_with(|listener| listener.accept()).await?;
        Ok((Stream::from_async(Async::new(&reactor, stream)?), addr))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<L::Addr> {
        self.io.get_ref().local_addr()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl<L: ListenerSocket> fmt::Debug for Listener<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(L::NAME)
            .field("local", &self.local_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}

impl<L: ListenerSocket> AsFd for Listener<L> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl<L: ListenerSocket> AsRawFd for Listener<L> {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}
