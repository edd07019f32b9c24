//! [`start_server`], [`start_unix_server`] and [`Server`]: asyncio's
//! server side of streams. One task accepts; each connection runs its
//! handler in a task of its own.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::catch_unwind::CatchUnwind;
use super::connect::{tcp_streams, unix_streams};
use super::{StreamReader, StreamWriter};
use crate::net::serving::{ConnectionCount, Listening, Serving, ACCEPT_ERROR_PAUSE};
use crate::net::{TcpListener, ToSocketAddrs, UnixListener};

/// A listening socket the server accepts on.
trait Listen: Send + Sync + 'static {
    /// The next connection, as asyncio's reader/writer pair.
    fn accept_streams(
        &self,
    ) -> impl Future<Output = io::Result<(StreamReader, StreamWriter)>> + Send + '_;
}

impl Listen for TcpListener {
    async fn accept_streams(&self) -> io::Result<(StreamReader, StreamWriter)> {
        let (stream, _peer) = self.accept().await?;
        Ok(tcp_streams(stream))
    }
}

/// A Unix listener, and the socket file to remove on close.
struct UnixServerSocket {
    listener: UnixListener,
    path: PathBuf,
}

impl Listen for UnixServerSocket {
    async fn accept_streams(&self) -> io::Result<(StreamReader, StreamWriter)> {
        let (stream, _) = self.listener.accept().await?;
        Ok(unix_streams(stream))
    }
}

impl Drop for UnixServerSocket {
    fn drop(&mut self) {
        // asyncio 3.13's cleanup_socket: the socket file goes with the server.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A running stream server (asyncio's `Server`), from [`start_server`] or
/// [`start_unix_server`].
///
/// | asyncio | corio |
/// |---|---|
/// | `server.sockets[0].getsockname()` | [`local_addr`](Self::local_addr)`()` |
/// | `await server.serve_forever()` | [`serve_forever`](Self::serve_forever)`().await` |
/// | `server.close()` | [`close`](Self::close)`()` |
/// | `await server.wait_closed()` | [`wait_closed`](Self::wait_closed)`().await` |
/// | `server.is_serving()` | [`is_serving`](Self::is_serving)`()` |
/// | `async with server:` | dropping the `Server` closes it |
///
/// It serves from the moment it is returned. Each connection's handler runs
/// in a task of its own; a handler that panics is logged (with `tracing`,
/// at error level) and ends that connection only.
///
/// Closing stops accepting and closes the listening socket; as in asyncio
/// 3.13, connections already accepted keep running.
/// [`wait_closed`](Self::wait_closed) then waits for them to finish. Dropping
/// the `Server` closes it too, so keep it alive (or await
/// [`serve_forever`](Self::serve_forever)) as long as it should accept.
pub struct Server {
    serving: Arc<Serving>,
    local: Option<SocketAddr>,
    path: Option<PathBuf>,
}

impl Server {
    fn start<L, H, Fut>(
        listener: L,
        handler: H,
        local: Option<SocketAddr>,
        path: Option<PathBuf>,
    ) -> Server
    where
        L: Listen,
        H: Fn(StreamReader, StreamWriter) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let serving = Serving::new();
        // The guard travels into the task as an argument, so it is dropped
        // (and the listener closed) even if the task is cancelled before its
        // first poll.
        let listening = Listening::new(listener, &serving);
        serving.set_accept_task(crate::create_task(accept_loop(handler, listening)));
        Server {
            serving,
            local,
            path,
        }
    }

    /// The address a TCP server listens on (useful after binding port 0);
    /// `None` for a Unix server.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local
    }

    /// The socket path of a Unix server; `None` for a TCP server.
    pub fn unix_path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Whether the server accepts connections: `true` until
    /// [`close`](Self::close).
    pub fn is_serving(&self) -> bool {
        self.serving.is_serving()
    }

    /// Stops accepting and closes the listening socket (asyncio's
    /// `close()`). Connections already accepted keep running. Idempotent.
    pub fn close(&self) {
        self.serving.close();
    }

    /// Serves until [`close`](Self::close) is called (from another task
    /// that shares the server, e.g. through an `Arc`) and the accept loop has
    /// stopped (asyncio's `serve_forever()`).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// corio::run(async {
    ///     let server = std::sync::Arc::new(
    ///         corio::start_server(|_r, _w| async {}, "127.0.0.1:0").await.unwrap(),
    ///     );
    ///     let closer = server.clone();
    ///     corio::create_task(async move {
    ///         corio::sleep(Duration::from_millis(20)).await;
    ///         closer.close();
    ///     });
    ///     server.serve_forever().await;
    ///     assert!(!server.is_serving());
    /// });
    /// ```
    pub async fn serve_forever(&self) {
        self.serving.serve_forever().await;
    }

    /// Waits until the server is closed, its accept loop has stopped, and
    /// every connection handler has finished (asyncio 3.12+'s
    /// `wait_closed()`). Does not close the server by itself.
    pub async fn wait_closed(&self) {
        self.serving.wait_closed().await;
    }

    /// The number of connection handlers still running.
    pub fn connections(&self) -> usize {
        self.serving.connections()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.serving.close();
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local)
            .field("unix_path", &self.path)
            .field("serving", &self.is_serving())
            .field("connections", &self.connections())
            .finish()
    }
}

async fn accept_loop<L, H, Fut>(handler: H, listening: Listening<L>)
where
    L: Listen,
    H: Fn(StreamReader, StreamWriter) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = listening.listener();
    loop {
        match listener.accept_streams().await {
            Ok((reader, writer)) => {
                let connection = ConnectionCount::new(listening.serving());
                let peer = writer.peer_addr();
                let handler = CatchUnwind::new(handler(reader, writer));
                crate::create_task(async move {
                    let _connection = connection;
                    if let Err(message) = handler.await {
                        tracing::error!(
                            peer = ?peer,
                            "corio stream server: a connection handler panicked: {message}; \
                             the server goes on serving"
                        );
                    }
                });
            }
            Err(err) => {
                tracing::error!("corio stream server: accept failed: {err}; retrying");
                crate::sleep(ACCEPT_ERROR_PAUSE).await;
            }
        }
    }
}

/// Starts a TCP server on `addr` (asyncio's `start_server(client_connected_cb,
/// host, port)`): `handler(reader, writer)` runs in a task of its own for
/// each connection. It serves at once; see [`Server`].
///
/// # Errors
///
/// [`TcpListener::bind`]'s (address in use, ...), with the address in the
/// message.
///
/// ```
/// use corio::{StreamReader, StreamWriter};
///
/// async fn shout(mut reader: StreamReader, mut writer: StreamWriter) {
///     if let Ok(line) = reader.readline().await {
///         writer.write(&line.to_ascii_uppercase());
///         let _ = writer.wait_closed().await;
///     }
/// }
///
/// corio::run(async {
///     let server = corio::start_server(shout, "127.0.0.1:0").await.unwrap();
///     let (mut reader, mut writer) = corio::open_connection(server.local_addr().unwrap()).await.unwrap();
///     writer.write(b"hi\n");
///     writer.drain().await.unwrap();
///     assert_eq!(reader.read_to_end().await.unwrap(), b"HI\n");
/// });
/// ```
pub async fn start_server<H, Fut, A>(handler: H, addr: A) -> io::Result<Server>
where
    H: Fn(StreamReader, StreamWriter) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
    A: ToSocketAddrs,
{
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr().ok();
    Ok(Server::start(listener, handler, local, None))
}

/// Starts a Unix-socket server at `path` (asyncio's `start_unix_server`).
/// A stale socket file at `path` is replaced (as asyncio does); the file is
/// removed when the server closes (asyncio 3.13's `cleanup_socket`).
///
/// # Errors
///
/// [`UnixListener::bind`]'s, with the path in the message; `AddrInUse`
/// when `path` exists and is not a socket.
///
/// See [`open_unix_connection`](super::open_unix_connection) for an example.
pub async fn start_unix_server<H, Fut, P>(handler: H, path: P) -> io::Result<Server>
where
    H: Fn(StreamReader, StreamWriter) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
    P: AsRef<Path>,
{
    use std::os::unix::fs::FileTypeExt;

    let path = path.as_ref().to_owned();
    let with_path =
        |err: io::Error| io::Error::new(err.kind(), format!("bind {}: {err}", path.display()));
    if let Ok(meta) = std::fs::symlink_metadata(&path) {
        if meta.file_type().is_socket() {
            std::fs::remove_file(&path).map_err(with_path)?;
        }
    }
    let listener = UnixListener::bind(&path)?;
    let socket = UnixServerSocket {
        listener,
        path: path.clone(),
    };
    Ok(Server::start(socket, handler, None, Some(path)))
}
