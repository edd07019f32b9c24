//! [`UnixListener`]: a listening Unix-domain socket registered with the running
//! loop's reactor.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;

use corio_reactor::Async;

use super::addr::with_context;
use super::UnixStream;
use crate::runtime::context;

/// A Unix-domain server socket (what asyncio's `start_unix_server` listens on).
///
/// Binding creates the socket file; it is not removed when the listener is dropped
/// (as in std and asyncio): remove it yourself.
///
/// ```
/// use corio::net::{UnixListener, UnixStream};
///
/// corio::run(async {
///     let path = std::env::temp_dir().join(format!("corio-doc-l-{}.sock", std::process::id()));
///     let _ = std::fs::remove_file(&path);
///     let listener = UnixListener::bind(&path).unwrap();
///     let client = UnixStream::connect(&path).await.unwrap();
///     let (server, _addr) = listener.accept().await.unwrap();
///     server.write_all(b"welcome").await.unwrap();
///     let mut buf = [0; 7];
///     let mut got = 0;
///     while got < 7 {
///         got += client.read(&mut buf[got..]).await.unwrap();
///     }
///     assert_eq!(&buf, b"welcome");
///     std::fs::remove_file(&path).unwrap();
/// });
/// ```
pub struct UnixListener {
    io: Async<std::os::unix::net::UnixListener>,
}

impl UnixListener {
    /// Binds a listener to `path` (which must not exist yet). Errors keep their kind
    /// and name the path.
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        let reactor = context::reactor("corio::net::UnixListener::bind()");
        let path = path.as_ref();
        let listener = std::os::unix::net::UnixListener::bind(path)
            .map_err(|e| with_context(e, format_args!("binding {}", path.display())))?;
        Ok(UnixListener {
            io: Async::new(&reactor, listener)?,
        })
    }

    /// Registers a bound, listening std listener with the running loop (switching it
    /// to non-blocking mode).
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        let reactor = context::reactor("corio::net::UnixListener::from_std()");
        Ok(UnixListener {
            io: Async::new(&reactor, listener)?,
        })
    }

    /// Deregisters the listener and returns the std listener (still non-blocking).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        self.io.into_inner()
    }

    /// Waits for a connection and returns it with the peer's address (usually
    /// unnamed).
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let reactor = context::reactor("corio::net::UnixListener::accept()");
        let (stream, addr) = self.io.read_with(|listener| listener.accept()).await?;
        Ok((UnixStream::from_async(Async::new(&reactor, stream)?), addr))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("local", &self.local_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}
