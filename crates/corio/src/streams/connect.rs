//! [`open_connection`] and [`open_unix_connection`]: asyncio's client-side
//! stream constructors.

use std::io;
use std::path::Path;

use super::{StreamReader, StreamWriter};
use crate::net::{TcpStream, ToSocketAddrs, UnixStream};

/// Connects to `addr` over TCP and returns the connection's reader and
/// writer (asyncio's `open_connection(host, port)`). Like asyncio, it turns
/// Nagle's algorithm off (`TCP_NODELAY`): a `drain` goes out at once.
///
/// `addr` is anything [`corio::net::ToSocketAddrs`](crate::net::ToSocketAddrs)
/// takes: `"127.0.0.1:8888"`, `("localhost", 8888)`, a [`SocketAddr`](std::net::SocketAddr).
///
/// # Errors
///
/// [`TcpStream::connect`]'s: e.g. [`ConnectionRefused`](io::ErrorKind::ConnectionRefused)
/// with the address in the message.
///
/// ```
/// corio::run(async {
///     let server = corio::start_server(
///         |_reader, mut writer: corio::StreamWriter| async move {
///             writer.write(b"welcome\n");
///             let _ = writer.wait_closed().await;
///         },
///         "127.0.0.1:0",
///     )
///     .await
///     .unwrap();
///     let (mut reader, writer) = corio::open_connection(server.local_addr().unwrap()).await.unwrap();
///     assert_eq!(reader.readline().await.unwrap(), b"welcome\n");
///     assert_eq!(writer.peer_addr(), server.local_addr());
/// });
/// ```
pub async fn open_connection<A: ToSocketAddrs>(
    addr: A,
) -> io::Result<(StreamReader, StreamWriter)> {
    let stream = TcpStream::connect(addr).await?;
    Ok(tcp_streams(stream))
}

/// Splits a connected TCP stream into asyncio's reader/writer pair.
pub(crate) fn tcp_streams(stream: TcpStream) -> (StreamReader, StreamWriter) {
    // As asyncio does for every TCP transport; an error here changes nothing
    // the caller could act on.
    let _ = stream.set_nodelay(true);
    let local = stream.local_addr().ok();
    let peer = stream.peer_addr().ok();
    let (read, write) = stream.into_split();
    let reader = StreamReader::new(read);
    let writer = StreamWriter::new(write).with_addrs(local, peer);
    (reader, writer)
}

/// Connects to the Unix socket at `path` and returns the connection's reader
/// and writer (asyncio's `open_unix_connection(path)`). The writer has no
/// [`peer_addr`](StreamWriter::peer_addr).
///
/// # Errors
///
/// The connect error, with the path in the message (e.g.
/// [`NotFound`](io::ErrorKind::NotFound) when nothing listens there).
///
/// ```
/// corio::run(async {
///     let path = std::env::temp_dir().join(format!("corio-doc-{}.sock", std::process::id()));
///     let server = corio::start_unix_server(
///         |mut reader: corio::StreamReader, mut writer: corio::StreamWriter| async move {
///             let line = reader.readline().await.unwrap();
///             writer.write(&line);
///             let _ = writer.drain().await;
///         },
///         &path,
///     )
///     .await
///     .unwrap();
///     let (mut reader, mut writer) = corio::open_unix_connection(&path).await.unwrap();
///     writer.write(b"ping\n");
///     writer.drain().await.unwrap();
///     assert_eq!(reader.readline().await.unwrap(), b"ping\n");
///     server.close();
///     server.wait_closed().await;
/// });
/// ```
pub async fn open_unix_connection<P: AsRef<Path>>(
    path: P,
) -> io::Result<(StreamReader, StreamWriter)> {
    let stream = UnixStream::connect(path).await?;
    Ok(unix_streams(stream))
}

/// Splits a connected Unix stream into asyncio's reader/writer pair.
pub(crate) fn unix_streams(stream: UnixStream) -> (StreamReader, StreamWriter) {
    let (read, write) = stream.into_split();
    (StreamReader::new(read), StreamWriter::new(write))
}
