//! [`serve`]: tower and axum services over HTTP/1 and HTTP/2 on corio's
//! [`TcpListener`], one task per connection, with graceful shutdown (what
//! `axum::serve` does, without tokio).

use std::convert::Infallible;
use std::error::Error as StdError;
use std::fmt;
use std::future::{poll_fn, Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::{Request, Response};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;

use super::connect::{context, ConnectInfo};
use super::{CorioExecutor, CorioTimer, HyperIo};
use crate::net::TcpListener;
use crate::sync::CancellationToken;

type BoxError = Box<dyn StdError + Send + Sync>;
type Signal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// How long the accept loop pauses after running out of file descriptors
/// (or memory), as axum and hyper's examples do, so it does not spin while
/// connections close.
const EXHAUSTED_PAUSE: Duration = Duration::from_secs(1);

/// Serves `service` on `listener`: HTTP/1 and HTTP/2 (told apart by the
/// HTTP/2 preface, hyper-util's `auto` server), each connection in its own
/// corio task with its own clone of `service`, and no tokio anywhere.
///
/// `service` is any tower service for `Request<hyper::body::Incoming>` that
/// is `Clone` (an [axum](https://docs.rs/axum) `Router` is one, and so is
/// `tower::service_fn(f)` for a `Clone` closure). For a hyper service
/// (`hyper::service::service_fn`), drive hyper's connection builders over
/// [`HyperIo`] yourself, as the [module docs](super) show.
///
/// Await the returned [`Serve`] to run the server: it runs until accepting
/// fails for good (the error names the listener's address). Resource
/// exhaustion (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`) is logged and
/// retried after a second, and a connection aborted before it was accepted
/// is skipped. Errors on a connection are logged at `debug` level and end
/// only that connection. [`Serve::with_graceful_shutdown`] stops it.
///
/// Each request carries its connection's [`ConnectInfo`] in its extensions
/// (`request.extensions().get::<ConnectInfo>()`, or axum's
/// `Extension<ConnectInfo>` extractor): `remote_addr` is the client's.
///
/// Each accepted stream gets `TCP_NODELAY` (see [`Serve::tcp_nodelay`]).
/// Both protocols get [`CorioTimer`] (hyper's HTTP/1 header-read timeout,
/// 30 s, needs it) and [`CorioExecutor`] (HTTP/2 streams run as tasks).
///
/// ```
/// use axum::{routing::get, Json, Router};
/// use corio::net::TcpListener;
///
/// corio::run(async {
///     let app = Router::new().route("/", get(|| async { Json(serde_json::json!({"ok": true})) }));
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let stop = corio::sync::CancellationToken::new();
///     let server = corio::create_task({
///         let stop = stop.clone();
///         async move {
///             corio::hyper::serve(listener, app)
///                 .with_graceful_shutdown(stop.cancelled())
///                 .await
///         }
///     });
///     stop.cancel();
///     server.await.unwrap().unwrap();
/// });
/// ```
///
/// # Panics
///
/// Awaiting it outside a running loop.
pub fn serve<S, B>(listener: TcpListener, service: S) -> Serve<S>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let mut builder = auto::Builder::new(CorioExecutor);
    builder.http1().timer(CorioTimer);
    builder.http2().timer(CorioTimer);
    Serve {
        listener,
        service,
        builder,
        nodelay: true,
    }
}

/// A server that [`serve`] returned: await it (it is
/// [`IntoFuture`]), or first configure it.
///
/// Dropping it, or the future it becomes, stops accepting (the listener is
/// closed); connections already accepted keep running in their tasks.
///
/// ```
/// use std::future::IntoFuture;
///
/// use axum::{routing::get, Router};
///
/// corio::run(async {
///     let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let server: corio::hyper::Serve<Router> =
///         corio::hyper::serve(listener, Router::new().route("/", get(|| async { "hi" })))
///             .tcp_nodelay(true);
///     // Serve for a while, then stop accepting.
///     let result = corio::timeout(std::time::Duration::from_millis(10), server.into_future()).await;
///     assert!(result.is_err(), "a server without a shutdown signal runs until dropped");
/// });
/// ```
#[must_use = "a server does nothing until awaited"]
pub struct Serve<S> {
    listener: TcpListener,
    service: S,
    builder: auto::Builder<CorioExecutor>,
    nodelay: bool,
}

impl<S> fmt::Debug for Serve<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener)
            .field("nodelay", &self.nodelay)
            .finish_non_exhaustive()
    }
}

impl<S> Serve<S> {
    /// The address the server listens on.
    ///
    /// ```
    /// # use axum::Router;
    /// corio::run(async {
    ///     let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let server = corio::hyper::serve(listener, Router::new());
    ///     assert_eq!(server.local_addr().unwrap(), addr);
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Whether accepted streams get `TCP_NODELAY` (default `true`: a small
    /// response should not wait for the client's ACK of the previous one).
    ///
    /// ```
    /// # use axum::Router;
    /// corio::run(async {
    ///     let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let _server = corio::hyper::serve(listener, Router::new()).tcp_nodelay(false);
    /// });
    /// ```
    pub fn tcp_nodelay(mut self, nodelay: bool) -> Serve<S> {
        self.nodelay = nodelay;
        self
    }

    /// hyper-util's connection builder, to configure either protocol
    /// (`.http1().keep_alive(false)`, `.http2().max_concurrent_streams(..)`),
    /// or to serve only one (`*builder = builder.clone().http1_only()`).
    /// It comes with [`CorioTimer`] set on both protocols.
    ///
    /// ```
    /// # use axum::Router;
    /// corio::run(async {
    ///     let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut server = corio::hyper::serve(listener, Router::new());
    ///     server.builder_mut().http1().header_read_timeout(std::time::Duration::from_secs(5));
    ///     server.builder_mut().http2().max_concurrent_streams(64);
    /// });
    /// ```
    pub fn builder_mut(&mut self) -> &mut auto::Builder<CorioExecutor> {
        &mut self.builder
    }

    /// Stops the server gracefully when `signal` completes: the listener
    /// is closed at once (new connections are refused), every open
    /// connection is told to finish (hyper's `graceful_shutdown`: an idle
    /// HTTP/1 keep-alive connection closes, one with a request in flight
    /// closes once its response is written, HTTP/2 sends `GOAWAY` and lets
    /// open streams finish), and the server's future resolves when the
    /// last connection has closed.
    ///
    /// To bound the wait, put a [`corio::timeout`](crate::timeout) around
    /// the awaited server; connections still open when it is dropped keep
    /// running in their tasks.
    ///
    /// ```no_run
    /// # use axum::Router;
    /// corio::run(async {
    ///     let listener = corio::net::TcpListener::bind("127.0.0.1:3000").await?;
    ///     corio::hyper::serve(listener, Router::new())
    ///         .with_graceful_shutdown(async {
    ///             let _ = corio::signal::ctrl_c().await;
    ///         })
    ///         .await
    /// })
    /// # .unwrap();
    /// ```
    pub fn with_graceful_shutdown<F>(self, signal: F) -> WithGracefulShutdown<S>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        WithGracefulShutdown {
            serve: self,
            signal: Box::pin(signal),
        }
    }
}

/// A server with a shutdown signal, from [`Serve::with_graceful_shutdown`]:
/// await it (it is [`IntoFuture`]); it resolves to `Ok(())` once the signal
/// has fired and the last connection has closed.
///
/// ```
/// use axum::Router;
/// use corio::hyper::WithGracefulShutdown;
///
/// corio::run(async {
///     let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let server: WithGracefulShutdown<Router> = corio::hyper::serve(listener, Router::new())
///         .with_graceful_shutdown(corio::sleep(std::time::Duration::from_millis(5)));
///     server.await.unwrap();
/// });
/// ```
#[must_use = "a server does nothing until awaited"]
pub struct WithGracefulShutdown<S> {
    serve: Serve<S>,
    signal: Signal,
}

impl<S> fmt::Debug for WithGracefulShutdown<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithGracefulShutdown")
            .field("serve", &self.serve)
            .finish_non_exhaustive()
    }
}

/// The future of an awaited [`Serve`] or [`WithGracefulShutdown`]: the
/// accept loop. `Ok(())` after a graceful shutdown; an error if accepting
/// failed for good. It is `Send`, so it can be a task of its own:
///
/// ```
/// use std::future::IntoFuture;
///
/// use axum::Router;
///
/// corio::run(async {
///     let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let stop = corio::sync::CancellationToken::new();
///     let future: corio::hyper::ServeFuture = corio::hyper::serve(listener, Router::new())
///         .with_graceful_shutdown(stop.cancelled())
///         .into_future();
///     let server = corio::create_task(future);
///     stop.cancel();
///     server.await.unwrap().unwrap();
/// });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct ServeFuture {
    inner: Pin<Box<dyn Future<Output = io::Result<()>> + Send>>,
}

impl fmt::Debug for ServeFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServeFuture").finish_non_exhaustive()
    }
}

impl Future for ServeFuture {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.as_mut().poll(cx)
    }
}

impl<S, B> IntoFuture for Serve<S>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Output = io::Result<()>;
    type IntoFuture = ServeFuture;

    fn into_future(self) -> ServeFuture {
        ServeFuture {
            inner: Box::pin(run(self, Box::pin(std::future::pending()))),
        }
    }
}

impl<S, B> IntoFuture for WithGracefulShutdown<S>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Output = io::Result<()>;
    type IntoFuture = ServeFuture;

    fn into_future(self) -> ServeFuture {
        ServeFuture {
            inner: Box::pin(run(self.serve, self.signal)),
        }
    }
}

/// The accept loop, then the graceful shutdown once `signal` completes.
async fn run<S, B>(serve: Serve<S>, mut signal: Signal) -> io::Result<()>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let Serve {
        listener,
        service,
        builder,
        nodelay,
    } = serve;
    let builder = Arc::new(builder);
    let local_addr = listener
        .local_addr()
        .map_err(|e| context(e, format_args!("serving: the listener's address")))?;
    let shutdown = CancellationToken::new();
    // Each connection task holds a sender; `recv` returns `None` once the
    // last one is gone (nothing is ever sent).
    let (alive, mut all_closed) = crate::sync::channel::<Infallible>(1);
    loop {
        let Some(accepted) = unless_signalled(&mut signal, listener.accept()).await else {
            break;
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) if is_connection_error(&error) => continue,
            Err(error) if is_exhaustion(&error) => {
                tracing::error!(%error, "corio::hyper::serve: accept failed; retrying in 1s");
                let pause = crate::sleep(EXHAUSTED_PAUSE);
                if unless_signalled(&mut signal, pause).await.is_none() {
                    break;
                }
                continue;
            }
            Err(error) => return Err(context(error, format_args!("accepting on {local_addr}"))),
        };
        if nodelay {
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%peer, %error, "corio::hyper::serve: TCP_NODELAY failed");
            }
        }
        let info = ConnectInfo {
            remote_addr: peer,
            local_addr: stream.local_addr().unwrap_or(local_addr),
        };
        let mut io = HyperIo::new(stream);
        // corio's TcpStream writes vectors with one writev.
        io.set_write_vectored(true);
        let service = WithConnectInfo {
            service: TowerToHyperService::new(service.clone()),
            info,
        };
        let builder = builder.clone();
        let stop = shutdown.clone();
        let alive = alive.clone();
        crate::create_task(async move {
            let _alive = alive;
            let mut connection = pin!(builder.serve_connection_with_upgrades(io, service));
            let mut stopped = pin!(stop.cancelled());
            let mut stopping = false;
            let result = poll_fn(|cx| {
                if !stopping && stopped.as_mut().poll(cx).is_ready() {
                    // Once: finish what is in flight, then close.
                    stopping = true;
                    connection.as_mut().graceful_shutdown();
                }
                connection.as_mut().poll(cx)
            })
            .await;
            if let Err(error) = result {
                tracing::debug!(%peer, %error, "corio::hyper::serve: connection error");
            }
        });
    }
    // Stop accepting: new connections are refused from here on.
    drop(listener);
    shutdown.cancel();
    drop(alive);
    // Nothing is ever sent: this waits for the last connection to close.
    let _ = all_closed.recv().await;
    Ok(())
}

/// The service each connection runs: the user's tower service as a hyper
/// one, with the connection's [`ConnectInfo`] put in each request's
/// extensions.
struct WithConnectInfo<S> {
    service: TowerToHyperService<S>,
    info: ConnectInfo,
}

impl<S> hyper::service::Service<Request<Incoming>> for WithConnectInfo<S>
where
    TowerToHyperService<S>: hyper::service::Service<Request<Incoming>>,
{
    type Response =
        <TowerToHyperService<S> as hyper::service::Service<Request<Incoming>>>::Response;
    type Error = <TowerToHyperService<S> as hyper::service::Service<Request<Incoming>>>::Error;
    type Future = <TowerToHyperService<S> as hyper::service::Service<Request<Incoming>>>::Future;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        request.extensions_mut().insert(self.info);
        self.service.call(request)
    }
}

/// `future`'s output, or `None` if `signal` completes first (`signal` is
/// polled first, so a completed signal wins).
async fn unless_signalled<T>(signal: &mut Signal, future: impl Future<Output = T>) -> Option<T> {
    let mut future = pin!(future);
    poll_fn(|cx| {
        if signal.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        future.as_mut().poll(cx).map(Some)
    })
    .await
}

/// An error about one incoming connection, not the listener: skip it.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    ) || error.raw_os_error() == Some(libc::EPROTO)
}

/// Out of file descriptors or memory: wait for some to be freed.
fn is_exhaustion(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}
