//! Address resolution: the [`ToSocketAddrs`] trait every `bind`/`connect` takes,
//! [`lookup_host`] (DNS on the loop's blocking pool), trying each resolved address,
//! and the error context helper that puts the address into IO error messages.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Something that names one or more socket addresses: what [`TcpStream::connect`],
/// [`TcpListener::bind`], [`UdpSocket::bind`] and friends accept.
///
/// Like [`std::net::ToSocketAddrs`], with one difference: a host name
/// (`"localhost:80"`, `("example.com", 443)`) is resolved on the loop's blocking
/// pool (see [`lookup_host`]), never on the loop thread. Literal addresses
/// (`"127.0.0.1:8080"`, a [`SocketAddr`], `(IpAddr, u16)`) are parsed in place.
///
/// Implemented for [`SocketAddr`], [`SocketAddrV4`], [`SocketAddrV6`],
/// `(IpAddr, u16)`, `(Ipv4Addr, u16)`, `(Ipv6Addr, u16)`, `(&str, u16)`,
/// `(String, u16)`, `&str`, `String`, `&String`, `&[SocketAddr]`, `Vec<SocketAddr>`
/// and references to any of these. It is sealed: the resolution step is private.
///
/// [`TcpStream::connect`]: crate::net::TcpStream::connect
/// [`TcpListener::bind`]: crate::net::TcpListener::bind
/// [`UdpSocket::bind`]: crate::net::UdpSocket::bind
pub trait ToSocketAddrs: sealed::ToSocketAddrsPriv {}

pub(crate) mod sealed {
    use std::net::SocketAddr;

    /// What an address argument turns into before any `await`: literal addresses,
    /// or a `host:port` string still to be resolved off the loop.
    #[derive(Debug)]
    pub enum Resolved {
        /// Already socket addresses.
        Addrs(Vec<SocketAddr>),
        /// A `host:port` string for the blocking pool.
        Host(String),
    }

    /// The private half of [`super::ToSocketAddrs`].
    pub trait ToSocketAddrsPriv {
        /// Converts `self` without blocking.
        fn to_resolved(&self) -> std::io::Result<Resolved>;
    }
}

use sealed::{Resolved, ToSocketAddrsPriv};

macro_rules! literal_addr {
    ($($ty:ty),*) => {$(
        impl ToSocketAddrs for $ty {}
        impl ToSocketAddrsPriv for $ty {
            fn to_resolved(&self) -> io::Result<Resolved> {
                Ok(Resolved::Addrs(vec![SocketAddr::from(*self)]))
            }
        }
    )*};
}

literal_addr!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16)
);

/// `"host:port"`: parsed as a literal address if it is one, else resolved later.
fn host_port(s: &str) -> io::Result<Resolved> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(Resolved::Addrs(vec![addr]));
    }
    Ok(Resolved::Host(s.to_owned()))
}

/// `(host, port)`: a literal IP, or a host name resolved later.
fn host_and_port(host: &str, port: u16) -> io::Result<Resolved> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(Resolved::Addrs(vec![SocketAddr::new(ip, port)]));
    }
    // `[::1]`-style brackets are not part of an IPv6 literal here, as in std.
    Ok(Resolved::Host(format!("{host}:{port}")))
}

impl ToSocketAddrs for str {}
impl ToSocketAddrsPriv for str {
    fn to_resolved(&self) -> io::Result<Resolved> {
        host_port(self)
    }
}

impl ToSocketAddrs for String {}
impl ToSocketAddrsPriv for String {
    fn to_resolved(&self) -> io::Result<Resolved> {
        host_port(self)
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl ToSocketAddrsPriv for (&str, u16) {
    fn to_resolved(&self) -> io::Result<Resolved> {
        host_and_port(self.0, self.1)
    }
}

impl ToSocketAddrs for (String, u16) {}
impl ToSocketAddrsPriv for (String, u16) {
    fn to_resolved(&self) -> io::Result<Resolved> {
        host_and_port(&self.0, self.1)
    }
}

impl ToSocketAddrs for [SocketAddr] {}
impl ToSocketAddrsPriv for [SocketAddr] {
    fn to_resolved(&self) -> io::Result<Resolved> {
        Ok(Resolved::Addrs(self.to_vec()))
    }
}

impl ToSocketAddrs for Vec<SocketAddr> {}
impl ToSocketAddrsPriv for Vec<SocketAddr> {
    fn to_resolved(&self) -> io::Result<Resolved> {
        Ok(Resolved::Addrs(self.clone()))
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrsPriv + ?Sized> ToSocketAddrsPriv for &T {
    fn to_resolved(&self) -> io::Result<Resolved> {
        (**self).to_resolved()
    }
}

/// Turns `addr` into socket addresses, resolving host names on the blocking pool.
///
/// The conversion happens before the first `await`, so the returned future does not
/// borrow `addr`.
pub(crate) fn resolve<A: ToSocketAddrs + ?Sized>(
    addr: &A,
) -> impl std::future::Future<Output = io::Result<Vec<SocketAddr>>> + 'static {
    let resolved = addr.to_resolved();
    async move {
        match resolved? {
            Resolved::Addrs(addrs) => Ok(addrs),
            Resolved::Host(host) => lookup_owned(host).await,
        }
    }
}

/// Resolves a `"host:port"` string to socket addresses (asyncio's
/// `loop.getaddrinfo`), on the loop's blocking pool so the loop keeps running while
/// the system resolver works.
///
/// Errors keep the resolver's [`io::ErrorKind`] and name the host.
///
/// ```
/// corio::run(async {
///     let addrs = corio::net::lookup_host("localhost:80").await.unwrap();
///     assert!(addrs.iter().any(|a| a.ip().is_loopback() && a.port() == 80));
/// });
/// ```
///
/// # Panics
///
/// Outside a running loop.
pub async fn lookup_host(host_port: &str) -> io::Result<Vec<SocketAddr>> {
    lookup_owned(host_port.to_owned()).await
}

async fn lookup_owned(host: String) -> io::Result<Vec<SocketAddr>> {
    let task = crate::to_thread(move || {
        std::net::ToSocketAddrs::to_socket_addrs(host.as_str())
            .map(Iterator::collect::<Vec<_>>)
            .map_err(|e| with_context(e, format_args!("resolving {host}")))
    });
    match task.await {
        Ok(result) => result,
        Err(e) => Err(io::Error::other(format!("host lookup failed: {e}"))),
    }
}

/// Runs `op` on each address in turn until one succeeds, as std does; otherwise
/// returns the last error, naming its address (`"{doing} {addr}: ..."`, e.g.
/// `binding 127.0.0.1:80: Address in use`).
pub(crate) fn each_addr<T>(
    addrs: Vec<SocketAddr>,
    doing: &str,
    mut op: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last_error = None;
    for addr in addrs {
        match op(addr) {
            Ok(value) => return Ok(value),
            Err(e) => last_error = Some(with_context(e, format_args!("{doing} {addr}"))),
        }
    }
    Err(last_error.unwrap_or_else(no_addresses))
}

/// The error for an address argument that named no address at all.
pub(crate) fn no_addresses() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "could not resolve to any addresses",
    )
}

/// An IO error with what was being done when it happened; keeps the original as
/// its `source()`.
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

impl std::error::Error for ContextError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Wraps `error` with `context` ("connecting to 127.0.0.1:1"), keeping its kind.
pub(crate) fn with_context(error: io::Error, context: fmt::Arguments<'_>) -> io::Error {
    let kind = error.kind();
    io::Error::new(
        kind,
        ContextError {
            context: context.to_string(),
            source: error,
        },
    )
}
