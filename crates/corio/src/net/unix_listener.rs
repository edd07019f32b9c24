//! Unix-domain listeners: the [`UnixListener`] alias, what makes
//! `std::os::unix::net::UnixListener` a [`ListenerSocket`], and `bind` by path.

use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use super::addr::with_context;
use super::generic::{reactor, sealed, Listener, ListenerSocket, Socket};

/// A Unix-domain server socket (what asyncio's `start_unix_server` listens on): a
/// [`Listener`] over [`std::os::unix::net::UnixListener`], whose
/// [`accept`](Listener::accept) gives [`UnixStream`](super::UnixStream)s.
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
pub type UnixListener = Listener<std::os::unix::net::UnixListener>;

type StdUnixListener = std::os::unix::net::UnixListener;

impl Listener<std::os::unix::net::UnixListener> {
    /// Binds a listener to `path` (which must not exist yet). Errors keep their kind
    /// and name the path.
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        let reactor = reactor::<StdUnixListener>("bind");
        let path = path.as_ref();
        let listener = StdUnixListener::bind(path)
            .map_err(|e| with_context(e, format_args!("binding {}", path.display())))?;
        Listener::new(&reactor, listener)
    }
}

impl sealed::Sealed for StdUnixListener {}

impl Socket for StdUnixListener {
    type Addr = SocketAddr;
    const NAME: &'static str = "UnixListener";

    fn local_addr(&self) -> io::Result<SocketAddr> {
        StdUnixListener::local_addr(self)
    }

    fn take_error(&self) -> io::Result<Option<io::Error>> {
        StdUnixListener::take_error(self)
    }
}

impl ListenerSocket for StdUnixListener {
    type Stream = std::os::unix::net::UnixStream;

    fn accept(&self) -> io::Result<(std::os::unix::net::UnixStream, SocketAddr)> {
        StdUnixListener::accept(self)
    }
}
