//! [`Connector`]: hyper-util's pooled client on corio's own sockets, and the
//! [`TcpConnection`] it gives the client.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::io::{self, IoSlice};
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};

use super::{CorioExecutor, CorioTimer, HyperIo};
use crate::net::TcpStream;

/// The `Service<Uri>` that opens plain TCP connections for
/// [hyper-util's pooled client](hyper_util::client::legacy::Client), on
/// corio's resolver and sockets: what hyper-util's `HttpConnector` does on
/// tokio's. Its connections are [`TcpConnection`]s.
///
/// For each new connection the client asks for, it resolves the URI's host
/// ([`lookup_host`](crate::net::lookup_host), on the blocking pool; an IP
/// literal is used as is) and tries the addresses in order until one
/// accepts (no happy eyeballs). Errors are `io::Error`s that keep their
/// [`ErrorKind`](io::ErrorKind) (a closed port is `ConnectionRefused`, the
/// connect timeout `TimedOut`) and say what failed: `connecting to
/// 127.0.0.1:1: Connection refused (os error 111)`. The client returns them
/// as the [`source`](std::error::Error::source) of its own error.
///
/// Only `http` URIs are accepted by default. For `https`, wrap the connector
/// in a TLS connector (hyper-rustls's `HttpsConnector`, hyper-tls's, or your
/// own around futures-rustls and [`TcpConnection::into_inner`]) and call
/// [`set_enforce_http(false)`](Self::set_enforce_http) so that it lets the
/// `https` URIs the TLS layer hands it through.
///
/// ```
/// use bytes::Bytes;
/// use http_body_util::{BodyExt, Empty};
///
/// corio::run(async {
///     # let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
///     # let addr = listener.local_addr().unwrap();
///     # let app = axum::Router::new().route("/", axum::routing::get(|| async { "hi" }));
///     # corio::create_task(async move { corio::hyper::serve(listener, app).await });
///     let client = corio::hyper::client_builder().build(corio::hyper::Connector::new());
///     let uri: hyper::Uri = format!("http://{addr}/").parse().unwrap();
///     let response = client.get(uri).await.unwrap();
///     let body = response.into_body().collect().await.unwrap().to_bytes();
///     # let _: &hyper_util::client::legacy::Client<corio::hyper::Connector, Empty<Bytes>> = &client;
///     assert_eq!(body, "hi");
/// });
/// ```
#[derive(Clone, Debug)]
pub struct Connector {
    connect_timeout: Option<Duration>,
    nodelay: bool,
    enforce_http: bool,
}

impl Default for Connector {
    fn default() -> Connector {
        Connector::new()
    }
}

impl Connector {
    /// A connector with no connect timeout, `TCP_NODELAY` on, and only
    /// `http` URIs accepted.
    ///
    /// `TCP_NODELAY` is on by default (hyper-util's `HttpConnector` leaves it
    /// off; reqwest turns it on): hyper writes each message in as few
    /// writes as it can, so Nagle's algorithm only adds delay.
    pub fn new() -> Connector {
        Connector {
            connect_timeout: None,
            nodelay: true,
            enforce_http: true,
        }
    }

    /// Bounds how long connecting may take (`None`, the default: as long as
    /// the OS lets it). When a host resolves to several addresses the time
    /// is divided evenly between them, as hyper-util's `HttpConnector` does.
    /// Resolving the host is not included. A connect that runs out of time
    /// fails with [`io::ErrorKind::TimedOut`].
    ///
    /// ```
    /// let mut connector = corio::hyper::Connector::new();
    /// connector.set_connect_timeout(Some(std::time::Duration::from_secs(3)));
    /// ```
    pub fn set_connect_timeout(&mut self, timeout: Option<Duration>) -> &mut Connector {
        self.connect_timeout = timeout;
        self
    }

    /// Sets `TCP_NODELAY` on each new connection (default `true`).
    ///
    /// ```
    /// let mut connector = corio::hyper::Connector::new();
    /// connector.set_nodelay(false);
    /// ```
    pub fn set_nodelay(&mut self, nodelay: bool) -> &mut Connector {
        self.nodelay = nodelay;
        self
    }

    /// Whether only `http` URIs are accepted (default `true`). Turn it off
    /// when a TLS connector wraps this one and passes it `https` URIs (the
    /// connector then opens the TCP connection, port 443 by default, and the
    /// TLS layer does the handshake over it). With it off, any scheme is
    /// connected to, with the URI's port or the scheme's default one.
    ///
    /// ```
    /// let mut connector = corio::hyper::Connector::new();
    /// connector.set_enforce_http(false);
    /// // hyper_rustls::HttpsConnector::from((connector, tls_config)) ...
    /// ```
    pub fn set_enforce_http(&mut self, enforce: bool) -> &mut Connector {
        self.enforce_http = enforce;
        self
    }

    /// Connects to `uri`'s host and port (what [`Service::call`](tower_service::Service::call)
    /// does, as a plain async function).
    ///
    /// ```
    /// corio::run(async {
    ///     let error = corio::hyper::Connector::new()
    ///         .connect("https://example.com/".parse().unwrap())
    ///         .await
    ///         .unwrap_err();
    ///     assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    ///     assert!(error.to_string().contains("TLS connector"));
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub async fn connect(&self, uri: Uri) -> io::Result<TcpConnection> {
        let (host, port) = self.destination(&uri)?;
        let addrs = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => {
                let addrs = crate::net::lookup_host(&format!("{host}:{port}")).await?;
                if addrs.is_empty() {
                    return Err(io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("resolving {host}:{port}: no addresses"),
                    ));
                }
                addrs
            }
        };
        let per_address = self
            .connect_timeout
            .map(|total| total / u32::try_from(addrs.len()).unwrap_or(u32::MAX));
        let mut last_error = None;
        for addr in addrs {
            match connect_one(addr, per_address).await {
                Ok(stream) => {
                    if self.nodelay {
                        stream
                            .set_nodelay(true)
                            .map_err(|e| context(e, format_args!("TCP_NODELAY on {addr}")))?;
                    }
                    return TcpConnection::new(stream);
                }
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.expect("at least one address was tried"))
    }

    /// The host (brackets stripped from an IPv6 literal) and port to connect
    /// to, or the error saying why `uri` can't be.
    fn destination<'u>(&self, uri: &'u Uri) -> io::Result<(&'u str, u16)> {
        let scheme = uri.scheme_str();
        if self.enforce_http && scheme != Some("http") {
            let message = match scheme {
                Some("https") => format!(
                    "{uri}: corio::hyper::Connector speaks plain http; for https, wrap it in a TLS \
                     connector (hyper-rustls's HttpsConnector, or one of your own around \
                     futures-rustls) and call set_enforce_http(false) on it"
                ),
                Some(other) => format!("{uri}: unsupported scheme {other:?} (only http)"),
                None => format!("{uri}: the URI has no scheme (expected http://host/...)"),
            };
            return Err(io::Error::new(io::ErrorKind::InvalidInput, message));
        }
        let host = uri.host().filter(|h| !h.is_empty()).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{uri}: the URI has no host"),
            )
        })?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let port = match (uri.port_u16(), scheme) {
            (Some(port), _) => port,
            (None, Some("http")) => 80,
            (None, Some("https")) => 443,
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{uri}: no port, and no default port for its scheme"),
                ))
            }
        };
        Ok((host, port))
    }
}

/// One connect attempt, bounded by `limit` if there is one.
async fn connect_one(addr: SocketAddr, limit: Option<Duration>) -> io::Result<TcpStream> {
    match limit {
        None => TcpStream::connect(addr).await,
        Some(limit) => match crate::timeout(limit, TcpStream::connect(addr)).await {
            Ok(result) => result,
            Err(_elapsed) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("connecting to {addr}: timed out after {limit:?}"),
            )),
        },
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = TcpConnection;
    type Error = io::Error;
    type Future = Connecting;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), io::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Connecting {
        let connector = self.clone();
        Connecting {
            inner: Box::pin(async move { connector.connect(uri).await }),
        }
    }
}

/// The future of [`Connector`]'s `Service::call`: a connection being opened.
///
/// ```
/// use tower_service::Service;
///
/// corio::run(async {
///     let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let uri = format!("http://{}/", listener.local_addr().unwrap()).parse().unwrap();
///     let connecting: corio::hyper::Connecting = corio::hyper::Connector::new().call(uri);
///     let connection = connecting.await.unwrap();
///     assert!(connection.get_ref().nodelay().unwrap());
/// });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Connecting {
    inner: Pin<Box<dyn Future<Output = io::Result<TcpConnection>> + Send>>,
}

impl fmt::Debug for Connecting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connecting").finish_non_exhaustive()
    }
}

impl Future for Connecting {
    type Output = io::Result<TcpConnection>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

/// The addresses of a [`Connector`]'s connection. hyper-util's client puts
/// it in each response's extensions:
/// `response.extensions().get::<corio::hyper::ConnectInfo>()`.
///
/// ```
/// # use bytes::Bytes;
/// # use http_body_util::Empty;
/// corio::run(async {
///     # let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
///     # let addr = listener.local_addr().unwrap();
///     # let app = axum::Router::new().route("/", axum::routing::get(|| async { "hi" }));
///     # corio::create_task(async move { corio::hyper::serve(listener, app).await });
///     let client = corio::hyper::client_builder().build::<_, Empty<Bytes>>(corio::hyper::Connector::new());
///     let response = client.get(format!("http://{addr}/").parse().unwrap()).await.unwrap();
///     let info = response.extensions().get::<corio::hyper::ConnectInfo>().unwrap();
///     assert_eq!(info.remote_addr, addr);
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectInfo {
    /// The server's address (the one that accepted, of those the host resolved to).
    pub remote_addr: SocketAddr,
    /// The local end's address.
    pub local_addr: SocketAddr,
}

/// A TCP connection opened by [`Connector`]: a corio
/// [`TcpStream`] behind hyper's [`rt::Read`](hyper::rt::Read) and
/// [`rt::Write`](hyper::rt::Write) (through [`HyperIo`]), and hyper-util's
/// [`Connection`], which tells the pool it is a direct (not proxied)
/// connection and hands it the [`ConnectInfo`].
///
/// ```
/// corio::run(async {
///     let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let connection = corio::hyper::Connector::new()
///         .connect(format!("http://{addr}/").parse().unwrap())
///         .await
///         .unwrap();
///     assert_eq!(connection.info().remote_addr, addr);
///     // For a TLS handshake of your own (futures-rustls), take the stream back:
///     let stream: corio::net::TcpStream = connection.into_inner();
///     assert!(stream.nodelay().unwrap());
/// });
/// ```
#[derive(Debug)]
pub struct TcpConnection {
    io: HyperIo<TcpStream>,
    info: ConnectInfo,
}

impl TcpConnection {
    fn new(stream: TcpStream) -> io::Result<TcpConnection> {
        let info = ConnectInfo {
            remote_addr: stream.peer_addr()?,
            local_addr: stream.local_addr()?,
        };
        let mut io = HyperIo::new(stream);
        // corio's TcpStream writes vectors with one writev.
        io.set_write_vectored(true);
        Ok(TcpConnection { io, info })
    }

    /// The connection's addresses.
    pub fn info(&self) -> ConnectInfo {
        self.info
    }

    /// The stream.
    pub fn get_ref(&self) -> &TcpStream {
        self.io.get_ref()
    }

    /// Unwraps the stream (to run a TLS handshake over it, say).
    pub fn into_inner(self) -> TcpStream {
        self.io.into_inner()
    }
}

impl Connection for TcpConnection {
    fn connected(&self) -> Connected {
        Connected::new().extra(self.info)
    }
}

impl hyper::rt::Read for TcpConnection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        cursor: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, cursor)
    }
}

impl hyper::rt::Write for TcpConnection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        hyper::rt::Write::is_write_vectored(&self.io)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }
}

/// A [hyper-util client](hyper_util::client::legacy::Client) builder set up
/// for corio: [`CorioExecutor`] runs its connection tasks, and
/// [`CorioTimer`] is both its HTTP/2 timer (`timer`) and its pool's timer
/// (`pool_timer`, which evicts idle connections after `pool_idle_timeout`,
/// 90 s by default). Finish it with `.build(`[`Connector::new()`]`)`; like
/// any `Builder`, it can be configured further first (`.http2_only(true)`,
/// `.pool_max_idle_per_host(n)`, ...).
///
/// The same as
/// `Client::builder(CorioExecutor).timer(CorioTimer).pool_timer(CorioTimer)`.
///
/// ```
/// use bytes::Bytes;
/// use corio::hyper::Connector;
/// use http_body_util::Full;
/// use hyper_util::client::legacy::Client;
///
/// let client: Client<Connector, Full<Bytes>> = corio::hyper::client_builder()
///     .pool_max_idle_per_host(8)
///     .build(Connector::new());
/// ```
pub fn client_builder() -> hyper_util::client::legacy::Builder {
    let mut builder = hyper_util::client::legacy::Client::builder(CorioExecutor);
    builder.timer(CorioTimer).pool_timer(CorioTimer);
    builder
}

/// `error` with what was being done (`"{context}: {error}"`), its kind kept
/// and the original as its `source()`.
pub(super) fn context(error: io::Error, context: fmt::Arguments<'_>) -> io::Error {
    io::Error::new(
        error.kind(),
        ContextError {
            context: context.to_string(),
            source: error,
        },
    )
}

#[derive(Debug)]
struct ContextError {
    context: String,
    source: io::Error,
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.context, self.source)
    }
}

impl StdError for ContextError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.source)
    }
}
