//! `--serve hyper`: an HTTP/1 hello-world server, for load tests.
//!
//! `cargo xtask bench` starts `corio-benches --serve hyper --runtime R --port
//! 0`, reads the `listening on 127.0.0.1:PORT` line it prints once the
//! listener is bound, points a load generator (`wrk`) at it, and kills it.
//!
//! The server is the same on every runtime it supports: hyper's HTTP/1
//! connection (keep-alive, hyper's defaults) with one service that answers
//! every request with `200 OK` and the body `Hello, World!`, one task per
//! accepted connection, `TCP_NODELAY` on each accepted socket, and the
//! runtime's own timer handed to hyper. Only the runtime differs:
//!
//! - `corio` / `corio-mt`: a corio runner with `workers(1)` (or `--workers N`),
//!   `corio::net::TcpListener`, each connection in `corio::create_task`, IO
//!   through `corio::hyper::HyperIo` with vectored writes on (as `TokioIo`
//!   has them for tokio's `TcpStream`), timers from `corio::hyper::CorioTimer`
//!   (as in `crates/corio/examples/hyper_server.rs`);
//! - `tokio-ct` / `tokio-mt`: tokio's current-thread runtime (or its
//!   multi-thread one with `--workers N`), `tokio::net::TcpListener`, each
//!   connection in `tokio::spawn`, IO through `hyper_util::rt::TokioIo`,
//!   timers from `hyper_util::rt::TokioTimer`.
//!
//! smol is not served: the load test compares corio with tokio only.

use std::convert::Infallible;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};

use crate::runtime::{self, Family, Runtime, Threads};

/// The servers `--serve` can run.
pub(crate) const SERVERS: &[&str] = &["hyper"];

/// The body of every response.
pub(crate) const BODY: &[u8] = b"Hello, World!";

/// The service: `200 OK`, `Hello, World!`, whatever the request.
async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(BODY))))
}

/// Runs the hyper hello-world server on `runtime` (with `workers` threads
/// if it is multi-threaded), on `127.0.0.1:port` (`0`: a free port the
/// system picks).
///
/// `ready` is called with the bound address once the listener accepts
/// connections. With `connections: None` it serves until the process is
/// killed; with `Some(n)` it returns after the `n`-th accepted connection
/// has been served to its end (that one runs on the accept loop itself, so
/// a test can serve exactly one and get the thread back).
///
/// # Errors
///
/// Binding or accepting fails, or `runtime` has no server here (smol).
pub(crate) fn hyper(
    runtime: Runtime,
    workers: usize,
    port: u16,
    connections: Option<usize>,
    ready: impl FnOnce(SocketAddr),
) -> io::Result<()> {
    let threads = runtime.threads(workers);
    match runtime.family() {
        Family::Corio => hyper_corio(threads, port, connections, ready),
        Family::Tokio => hyper_tokio(threads, port, connections, ready),
        Family::Smol => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "--serve hyper runs on corio, corio-mt, tokio-ct and tokio-mt only",
        )),
    }
}

/// The server on corio.
fn hyper_corio(
    threads: Threads,
    port: u16,
    connections: Option<usize>,
    ready: impl FnOnce(SocketAddr),
) -> io::Result<()> {
    use corio::hyper::{CorioTimer, HyperIo};

    runtime::corio(threads, async move {
        let listener = corio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
        ready(listener.local_addr()?);
        let mut accepted = 0;
        loop {
            let (stream, _peer) = listener.accept().await?;
            // Small responses: don't let Nagle hold them back.
            stream.set_nodelay(true)?;
            accepted += 1;
            let connection = async move {
                // corio's TcpStream writes vectors with one writev, as tokio's
                // TcpStream does (TokioIo forwards its `is_write_vectored`):
                // say so, so hyper queues the head and body rather than
                // copying both into one buffer.
                let mut io = HyperIo::new(stream);
                io.set_write_vectored(true);
                let connection = http1::Builder::new()
                    .timer(CorioTimer::new())
                    .serve_connection(io, service_fn(hello));
                // A client that goes away mid-request is the client's
                // business; the load generator counts its own errors.
                let _ = connection.await;
            };
            if connections == Some(accepted) {
                connection.await;
                return Ok(());
            }
            // Dropping the handle detaches the task.
            drop(corio::create_task(connection));
        }
    })
}

/// The server on tokio.
fn hyper_tokio(
    threads: Threads,
    port: u16,
    connections: Option<usize>,
    ready: impl FnOnce(SocketAddr),
) -> io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};

    runtime::tokio(threads).block_on(async move {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
        ready(listener.local_addr()?);
        let mut accepted = 0;
        loop {
            let (stream, _peer) = listener.accept().await?;
            // Small responses: don't let Nagle hold them back.
            stream.set_nodelay(true)?;
            accepted += 1;
            let connection = async move {
                let connection = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .serve_connection(TokioIo::new(stream), service_fn(hello));
                // As on corio: the load generator counts its own errors.
                let _ = connection.await;
            };
            if connections == Some(accepted) {
                connection.await;
                return Ok(());
            }
            drop(tokio::spawn(connection));
        }
    })
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::net::TcpStream;
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;

    use super::*;

    /// Starts the server on `runtime` in a thread for one connection, sends
    /// one HTTP/1.1 GET over it and returns the whole response.
    fn one_request(runtime: Runtime) -> String {
        let (tx, rx) = mpsc::channel();
        let server = thread::spawn(move || {
            hyper(runtime, 2, 0, Some(1), move |addr| tx.send(addr).unwrap())
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the server never said it was listening");
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        server.join().unwrap().unwrap();
        response
    }

    #[test]
    fn serves_hello_world_on_corio_and_tokio() {
        for runtime in [
            Runtime::Corio,
            Runtime::TokioCt,
            Runtime::CorioMt,
            Runtime::TokioMt,
        ] {
            let response = one_request(runtime);
            assert!(
                response.starts_with("HTTP/1.1 200 OK\r\n"),
                "{runtime}: {response}"
            );
            assert!(
                response.ends_with("\r\n\r\nHello, World!"),
                "{runtime}: {response}"
            );
        }
    }

    #[test]
    fn smol_is_not_served() {
        for runtime in [Runtime::SmolLocal, Runtime::SmolMt] {
            let err = hyper(runtime, 2, 0, Some(1), |_| {}).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::Unsupported);
        }
    }
}
