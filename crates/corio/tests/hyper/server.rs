//! `corio::hyper::serve(..).with_graceful_shutdown(..)`: it stops accepting
//! at once, lets requests in flight finish (HTTP/1 and HTTP/2), closes idle
//! connections, and resolves when the last connection is gone.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use corio::hyper::{client_builder, serve, Connector};
use corio::net::{TcpListener, TcpStream};
use corio::sync::{CancellationToken, Event};
use http_body_util::Empty;
use hyper::StatusCode;

use crate::common::{client, read, uri, LIMIT};

const SLOW: Duration = Duration::from_millis(400);

/// `/fast` answers at once; `/slow` sets `started`, then answers after [`SLOW`].
fn app(started: Arc<Event>) -> Router {
    Router::new()
        .route("/fast", get(|| async { "fast" }))
        .route(
            "/slow",
            get(move || async move {
                started.set();
                corio::sleep(SLOW).await;
                "slow done"
            }),
        )
}

/// A server stopped by `stop`, in a task returning serve's result.
async fn start(
    started: Arc<Event>,
    stop: &CancellationToken,
) -> (SocketAddr, corio::Task<std::io::Result<()>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let signal = stop.cancelled();
    let server = corio::create_task(async move {
        serve(listener, app(started))
            .with_graceful_shutdown(signal)
            .await
    });
    (addr, server)
}

/// Connects until refused (the listener closing takes one loop iteration);
/// panics if it never is.
async fn wait_until_refused(addr: SocketAddr) {
    for _ in 0..200 {
        match TcpStream::connect(addr).await {
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => return,
            // Connected into the backlog just as the listener closed (under
            // workers, the accept loop runs on another thread): try again.
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
            Err(e) => panic!("unexpected connect error: {e}"),
            Ok(_) => corio::sleep(Duration::from_millis(5)).await,
        }
    }
    panic!("{addr} still accepts connections after the shutdown signal");
}

async fn graceful_shutdown_waits_for_the_slow_request(http2: bool) {
    let started = Arc::new(Event::new());
    let stop = CancellationToken::new();
    let (addr, server) = start(started.clone(), &stop).await;
    let mut builder = client_builder();
    builder.http2_only(http2);
    let client = builder.build::<_, Empty<Bytes>>(Connector::new());

    let (status, body) = read(client.get(uri(addr, "/fast")).await.unwrap()).await;
    assert_eq!((status, &body[..]), (StatusCode::OK, &b"fast"[..]));

    let slow = corio::create_task({
        let client = client.clone();
        async move { read(client.get(uri(addr, "/slow")).await.unwrap()).await }
    });
    started.wait().await;
    let signalled = std::time::Instant::now();
    stop.cancel();

    // New connections are refused while the slow request is still running.
    wait_until_refused(addr).await;
    assert!(!slow.is_done(), "the slow request is still in flight");
    assert!(!server.is_done(), "the server waits for it");

    let (status, body) = slow.await.unwrap();
    assert_eq!((status, &body[..]), (StatusCode::OK, &b"slow done"[..]));
    corio::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server resolves once its connections are closed")
        .unwrap()
        .expect("a graceful shutdown is Ok");
    assert!(signalled.elapsed() >= SLOW / 2);

    // And the client can no longer reach it.
    let error = client.get(uri(addr, "/fast")).await.unwrap_err();
    assert!(error.is_connect(), "{error:?}");
}

#[test]
fn http1_graceful_shutdown_waits_for_the_request_in_flight_and_refuses_new_connections() {
    corio::run(async {
        corio::timeout(LIMIT, graceful_shutdown_waits_for_the_slow_request(false))
            .await
            .expect("within the limit");
    });
}

#[test]
fn http2_graceful_shutdown_waits_for_the_stream_in_flight() {
    corio::run(async {
        corio::timeout(LIMIT, graceful_shutdown_waits_for_the_slow_request(true))
            .await
            .expect("within the limit");
    });
}

#[test]
fn idle_keep_alive_connections_do_not_hold_up_the_shutdown() {
    corio::run(async {
        corio::timeout(LIMIT, async {
            let stop = CancellationToken::new();
            let (addr, server) = start(Arc::new(Event::new()), &stop).await;
            let client = client();
            // Three idle connections in the client's pool, and one that never sent a byte.
            let requests: Vec<_> = (0..3)
                .map(|_| {
                    let client = client.clone();
                    corio::create_task(async move {
                        read(client.get(uri(addr, "/fast")).await.unwrap()).await
                    })
                })
                .collect();
            for request in requests {
                assert_eq!(request.await.unwrap().0, StatusCode::OK);
            }
            let silent = TcpStream::connect(addr).await.unwrap();
            corio::sleep(Duration::from_millis(20)).await;

            let signalled = std::time::Instant::now();
            stop.cancel();
            corio::timeout(Duration::from_secs(5), server)
                .await
                .expect("idle connections are closed at once")
                .unwrap()
                .unwrap();
            // Well before hyper's 30 s header-read timeout would close the silent one.
            assert!(signalled.elapsed() < Duration::from_secs(5));
            let mut buf = [0; 1];
            assert_eq!(silent.read(&mut buf).await.unwrap_or(0), 0, "closed");
        })
        .await
        .expect("within the limit");
    });
}

#[test]
fn a_signal_that_already_fired_serves_nothing() {
    corio::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        serve(listener, app(Arc::new(Event::new())))
            .with_graceful_shutdown(async {})
            .await
            .unwrap();
        let error = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
    });
}
