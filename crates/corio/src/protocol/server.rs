//! [`Server`] and `LoopHandle::create_server`: asyncio's protocol server.
//! One task accepts; each connection gets a protocol from the factory, a
//! transport, and a task of its own (`driver.rs`).

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::panic::Location;
use std::sync::Arc;

use corio_executor::Builder as TaskBuilder;
use corio_reactor::Async;

use super::Protocol;
use crate::net::serving::{ConnectionCount, Listening, Serving, ACCEPT_ERROR_PAUSE};
use crate::net::ToSocketAddrs;
use crate::LoopHandle;

/// A protocol server (asyncio's `Server` from `loop.create_server`).
///
/// | asyncio | corio |
/// |---|---|
/// | `server.sockets[0].getsockname()` | [`local_addr`](Self::local_addr)`()` |
/// | `server.close()` / `is_serving()` | [`close`](Self::close)`()` / [`is_serving`](Self::is_serving)`()` |
/// | `await server.wait_closed()` | [`wait_closed`](Self::wait_closed)`().await` |
/// | `await server.serve_forever()` | [`serve_forever`](Self::serve_forever)`().await` |
///
/// It serves from the moment it is returned. Closing stops accepting and
/// closes the listening socket; connections already accepted go on (as in
/// asyncio), and `wait_closed` waits for them to be lost. Dropping the
/// `Server` closes it.
pub struct Server {
    serving: Arc<Serving>,
    local: SocketAddr,
}

impl Server {
    /// The address the server listens on (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Whether the server accepts connections: `true` until `close`.
    pub fn is_serving(&self) -> bool {
        self.serving.is_serving()
    }

    /// Stops accepting and closes the listening socket. Idempotent.
    pub fn close(&self) {
        self.serving.close();
    }

    /// Waits until [`close`](Self::close) was called and the listener is closed.
    pub async fn serve_forever(&self) {
        self.serving.serve_forever().await;
    }

    /// Waits until the server is closed and every connection it accepted
    /// has been lost (asyncio 3.12+'s `wait_closed`). Does not close it.
    pub async fn wait_closed(&self) {
        self.serving.wait_closed().await;
    }

    /// Connections accepted and not yet lost.
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
            .field("serving", &self.is_serving())
            .field("connections", &self.connections())
            .finish()
    }
}

impl LoopHandle {
    /// Listens on `addr`; each connection gets a protocol from `factory`
    /// and a transport (asyncio's `loop.create_server(protocol_factory,
    /// host, port)`). Accepted sockets get `TCP_NODELAY`, as in asyncio.
    ///
    /// ```
    /// use corio::protocol::{Protocol, Transport};
    ///
    /// struct Echo(Option<Transport>);
    ///
    /// impl Protocol for Echo {
    ///     fn connection_made(&mut self, transport: Transport) {
    ///         self.0 = Some(transport);
    ///     }
    ///     fn data_received(&mut self, data: &[u8]) {
    ///         self.0.as_ref().unwrap().write(data);
    ///     }
    ///     fn connection_lost(&mut self, _err: Option<std::io::Error>) {}
    /// }
    ///
    /// corio::run(async {
    ///     let handle = corio::get_running_loop();
    ///     let server = handle.create_server(|| Echo(None), "127.0.0.1:0").await.unwrap();
    ///     let (mut r, mut w) = corio::open_connection(server.local_addr()).await.unwrap();
    ///     w.write(b"ping");
    ///     w.drain().await.unwrap();
    ///     assert_eq!(r.readexactly(4).await.unwrap(), b"ping");
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// [`TcpListener::bind`](crate::net::TcpListener::bind)'s.
    #[track_caller]
    pub fn create_server<P, F, A>(
        &self,
        factory: F,
        addr: A,
    ) -> impl Future<Output = io::Result<Server>>
    where
        P: Protocol,
        F: Fn() -> P + Send + 'static,
        A: ToSocketAddrs,
    {
        let location = Location::caller();
        let handle = self.clone();
        async move {
            let listener = crate::net::TcpListener::bind(addr).await?.into_std()?;
            let local = listener.local_addr()?;
            let listener = Async::new(&handle.shared.reactor, listener)?;
            let serving = Serving::new();
            // The guard travels into the task as an argument, so the
            // listener is closed even if the task is cancelled before its
            // first poll.
            let listening = Listening::new(listener, &serving);
            let builder = TaskBuilder::new().hidden(true).location(location);
            let accept = accept_loop(handle.clone(), factory, listening, location);
            serving.set_accept_task(handle.shared.spawner.spawn_with(builder, accept));
            Ok(Server { serving, local })
        }
    }
}

async fn accept_loop<P, F>(
    handle: LoopHandle,
    factory: F,
    listening: Listening<Async<std::net::TcpListener>>,
    location: &'static Location<'static>,
) where
    P: Protocol,
    F: Fn() -> P + Send + 'static,
{
    let listener = listening.listener();
    loop {
        match listener.read_with(|l| l.accept()).await {
            Ok((stream, _peer)) => {
                let _ = stream.set_nodelay(true);
                let connection = ConnectionCount::new(listening.serving());
                match handle.start_stream(
                    stream,
                    Counted {
                        protocol: factory(),
                        _connection: connection,
                    },
                    location,
                ) {
                    Ok((_transport, task)) => drop(task),
                    Err(err) => {
                        tracing::error!(
                            "corio protocol server: registering a connection failed: {err}"
                        );
                    }
                }
            }
            Err(err) => {
                tracing::error!("corio protocol server: accept failed: {err}; retrying");
                crate::sleep(ACCEPT_ERROR_PAUSE).await;
            }
        }
    }
}

/// A server's protocol with its connection count: the count drops with the
/// protocol, when the connection's task ends (or the loop closes).
struct Counted<P> {
    protocol: P,
    _connection: ConnectionCount,
}

impl<P: Protocol> Protocol for Counted<P> {
    fn connection_made(&mut self, transport: super::Transport) {
        self.protocol.connection_made(transport);
    }
    fn data_received(&mut self, data: &[u8]) {
        self.protocol.data_received(data);
    }
    fn eof_received(&mut self) -> bool {
        self.protocol.eof_received()
    }
    fn connection_lost(&mut self, err: Option<io::Error>) {
        self.protocol.connection_lost(err);
    }
    fn pause_writing(&mut self) {
        self.protocol.pause_writing();
    }
    fn resume_writing(&mut self) {
        self.protocol.resume_writing();
    }
}

/// [`LoopHandle::create_server`] on the running loop.
///
/// # Panics
///
/// Outside a running loop.
#[track_caller]
pub fn create_server<P, F, A>(factory: F, addr: A) -> impl Future<Output = io::Result<Server>>
where
    P: Protocol,
    F: Fn() -> P + Send + 'static,
    A: ToSocketAddrs,
{
    crate::get_running_loop().create_server(factory, addr)
}
