//! Helpers shared by the modules: a server on a free port, a pooled client,
//! and reading a response.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use corio::hyper::{client_builder, serve, Connector};
use corio::net::TcpListener;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::{Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;

/// Every test's time limit.
pub(crate) const LIMIT: Duration = Duration::from_secs(30);

/// Serves `app` with `corio::hyper::serve` on 127.0.0.1:0 from a detached task.
pub(crate) async fn start(app: axum::Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    corio::create_task(async move { serve(listener, app).await });
    addr
}

/// A pooled client on corio's connector.
pub(crate) fn client() -> Client<Connector, Empty<Bytes>> {
    client_builder().build(Connector::new())
}

/// `http://{addr}{path}`.
pub(crate) fn uri(addr: SocketAddr, path: &str) -> Uri {
    format!("http://{addr}{path}").parse().unwrap()
}

/// The status and whole body of `response`.
pub(crate) async fn read(response: Response<Incoming>) -> (StatusCode, Bytes) {
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, body)
}

/// The `std::io::Error` somewhere in `error`'s source chain.
pub(crate) fn io_error<'e>(error: &'e (dyn std::error::Error + 'static)) -> &'e std::io::Error {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(io) = error.downcast_ref::<std::io::Error>() {
            return io;
        }
        next = error.source();
    }
    panic!("no io::Error in the chain of {error:?}")
}
