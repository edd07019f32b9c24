//! Running [hyper](https://docs.rs/hyper) 1.x on corio (the `hyper` feature).
//!
//! hyper is runtime-agnostic: it asks for IO that implements its
//! [`rt::Read`](::hyper::rt::Read) / [`rt::Write`](::hyper::rt::Write), an
//! [`rt::Executor`](::hyper::rt::Executor) to spawn background futures
//! (HTTP/2 streams, client pools), and an [`rt::Timer`](::hyper::rt::Timer)
//! for its timeouts. This module provides all three:
//!
//! | hyper needs | corio gives |
//! |---|---|
//! | `rt::Read + rt::Write` | [`HyperIo`]`::new(stream)` around any `futures_io::AsyncRead + AsyncWrite + Unpin` (corio's TCP and Unix streams and their halves) |
//! | `rt::Executor` | [`CorioExecutor`] ([`create_task`](crate::create_task)), [`CorioLocalExecutor`] ([`create_local_task`](crate::create_local_task)) for `!Send` futures |
//! | `rt::Timer` | [`CorioTimer`] (the running loop's timers; its futures are [`CorioSleep`]) |
//!
//! Enable it with `corio = { version = "...", features = ["hyper"] }` and
//! add `hyper` with the protocol features you use (`server`, `client`,
//! `http1`, `http2`).
//!
//! Serving one connection with HTTP/1, each connection in its own task
//! (`stream` is any corio stream, such as an accepted TCP stream):
//!
//! ```
//! use std::convert::Infallible;
//!
//! use bytes::Bytes;
//! use corio::hyper::{CorioTimer, HyperIo};
//! use http_body_util::Full;
//! use hyper::{server::conn::http1, service::service_fn, Request, Response};
//!
//! async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
//!     Ok(Response::new(Full::new(Bytes::from("Hello, World!"))))
//! }
//!
//! fn serve<S>(stream: S) -> corio::Task<()>
//! where
//!     S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin + Send + 'static,
//! {
//!     corio::create_task(async move {
//!         let connection = http1::Builder::new()
//!             .timer(CorioTimer::new())
//!             .serve_connection(HyperIo::new(stream), service_fn(hello));
//!         if let Err(error) = connection.await {
//!             eprintln!("connection error: {error}");
//!         }
//!     })
//! }
//! # let _ = serve::<futures_io_stub::Stub>;
//! # mod futures_io_stub {
//! #     use std::{io, pin::Pin, task::{Context, Poll}};
//! #     pub struct Stub;
//! #     impl futures_io::AsyncRead for Stub {
//! #         fn poll_read(self: Pin<&mut Self>, _: &mut Context<'_>, _: &mut [u8]) -> Poll<io::Result<usize>> { Poll::Ready(Ok(0)) }
//! #     }
//! #     impl futures_io::AsyncWrite for Stub {
//! #         fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> { Poll::Ready(Ok(b.len())) }
//! #         fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> { Poll::Ready(Ok(())) }
//! #         fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> { Poll::Ready(Ok(())) }
//! #     }
//! # }
//! ```
//!
//! A client is the mirror image: `hyper::client::conn::http1::handshake(HyperIo::new(stream))`,
//! then drive the returned connection in a task and send requests on the
//! `SendRequest`. `examples/hyper_server.rs` is a complete program.
//!
//! # Batteries: a pooled client and `serve`, without tokio
//!
//! hyper-util's pooled client and axum's `serve` are written against
//! tokio's sockets and need a tokio runtime (corio's `tokio` feature gives
//! them one). This module has the same two things on corio's own sockets,
//! with no tokio runtime at all:
//!
//! | tokio ecosystem | corio, `hyper` feature |
//! |---|---|
//! | `hyper_util::client::legacy::connect::HttpConnector` | [`Connector`] (its connections: [`TcpConnection`]) |
//! | `Client::builder(TokioExecutor::new())` | [`client_builder()`] (executor, HTTP/2 timer and pool timer set) |
//! | `axum::serve(listener, app)` | [`serve`]`(listener, app)`: HTTP/1 and HTTP/2, one task per connection |
//! | `.with_graceful_shutdown(signal)` | [`Serve::with_graceful_shutdown`] |
//!
//! ```
//! use axum::{routing::get, Router};
//! use bytes::Bytes;
//! use corio::hyper::{client_builder, serve, Connector};
//! use http_body_util::{BodyExt, Empty};
//!
//! corio::run(async {
//!     let app = Router::new().route("/", get(|| async { "Hello from axum on corio" }));
//!     let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     corio::create_task(async move { serve(listener, app).await });
//!
//!     let client = client_builder().build::<_, Empty<Bytes>>(Connector::new());
//!     for _ in 0..3 {
//!         // One TCP connection, reused from the pool.
//!         let response = client.get(format!("http://{addr}/").parse().unwrap()).await.unwrap();
//!         let body = response.into_body().collect().await.unwrap().to_bytes();
//!         assert_eq!(body, "Hello from axum on corio");
//!     }
//! });
//! ```
//!
//! For `https`, wrap [`Connector`] in a TLS connector (see its docs).
//! `examples/hyper_axum.rs` and `examples/hyper_client.rs` are complete
//! programs.

mod connect;
mod exec;
mod io;
mod server;
#[cfg(test)]
mod tests;
mod timer;

pub use connect::{client_builder, ConnectInfo, Connecting, Connector, TcpConnection};
pub use exec::{CorioExecutor, CorioLocalExecutor};
pub use io::HyperIo;
pub use server::{serve, Serve, ServeFuture, WithGracefulShutdown};
pub use timer::{CorioSleep, CorioTimer};
