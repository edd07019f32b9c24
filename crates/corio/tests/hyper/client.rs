//! hyper-util's pooled client on `corio::hyper::Connector`, against
//! `corio::hyper::serve`: connections are reused, HTTP/2 works, and
//! connector errors say what failed.

use std::collections::HashSet;
use std::io::ErrorKind;
use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use corio::hyper::{client_builder, ConnectInfo, Connector};
use http_body_util::Empty;
use hyper::{StatusCode, Version};
use tower_service::Service;

use crate::common::{client, io_error, read, start, uri, LIMIT};

/// A router that records each request's client address (one per accepted
/// connection) and answers with its path and HTTP version.
fn recording() -> (Router, Arc<Mutex<Vec<ConnectInfo>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new().route(
        "/{*path}",
        get({
            let seen = seen.clone();
            move |request: Request| async move {
                let info = *request.extensions().get::<ConnectInfo>().unwrap();
                seen.lock().unwrap().push(info);
                format!("{} {:?}", request.uri().path(), request.version())
            }
        }),
    );
    (app, seen)
}

fn distinct_peers(seen: &Mutex<Vec<ConnectInfo>>) -> usize {
    let seen = seen.lock().unwrap();
    seen.iter()
        .map(|i| i.remote_addr)
        .collect::<HashSet<_>>()
        .len()
}

#[test]
fn twenty_requests_reuse_one_pooled_connection() {
    corio::run(async {
        corio::timeout(LIMIT, async {
            let (app, seen) = recording();
            let addr = start(app).await;
            let client = client();
            let mut client_ports = HashSet::new();
            for i in 0..20 {
                let response = client.get(uri(addr, &format!("/n/{i}"))).await.unwrap();
                let info = *response.extensions().get::<ConnectInfo>().unwrap();
                assert_eq!(info.remote_addr, addr);
                client_ports.insert(info.local_addr);
                let (status, body) = read(response).await;
                assert_eq!(status, StatusCode::OK);
                assert_eq!(body, format!("/n/{i} HTTP/1.1"));
            }
            assert_eq!(seen.lock().unwrap().len(), 20);
            // The server accepted one connection, and the client opened one.
            // Under workers (CORIO_WORKERS=2) a finished connection goes back
            // to the pool from the worker running its dispatcher task, and
            // the next request can get there first and open another one (as
            // on tokio's multi-thread runtime); those are then reused too.
            let most = match std::env::var_os("CORIO_WORKERS") {
                Some(_) => 5,
                None => 1,
            };
            let accepted = distinct_peers(&seen);
            assert!((1..=most).contains(&accepted), "{accepted} connections");
            let server_saw: HashSet<_> =
                seen.lock().unwrap().iter().map(|i| i.remote_addr).collect();
            assert_eq!(server_saw, client_ports);
        })
        .await
        .expect("within the limit");
    });
}

#[test]
fn concurrent_requests_open_a_few_connections_then_reuse_them() {
    corio::run(async {
        corio::timeout(LIMIT, async {
            let (app, seen) = recording();
            let addr = start(app).await;
            let client = client();
            for round in 0..4 {
                let requests: Vec<_> = (0..5)
                    .map(|i| {
                        let client = client.clone();
                        corio::create_task(async move {
                            let response = client.get(uri(addr, &format!("/{round}/{i}"))).await;
                            read(response.unwrap()).await
                        })
                    })
                    .collect();
                for (i, request) in requests.into_iter().enumerate() {
                    let (status, body) = request.await.unwrap();
                    assert_eq!(status, StatusCode::OK);
                    assert_eq!(body, format!("/{round}/{i} HTTP/1.1"));
                }
            }
            // HTTP/1: at most one request per connection at a time, so at most
            // 5 connections for 20 requests, kept in the pool between rounds.
            let connections = distinct_peers(&seen);
            assert!((1..=5).contains(&connections), "{connections} connections");
        })
        .await
        .expect("within the limit");
    });
}

#[test]
fn http2_prior_knowledge_multiplexes_on_one_connection() {
    corio::run(async {
        corio::timeout(LIMIT, async {
            let (app, seen) = recording();
            let addr = start(app).await;
            let client = client_builder()
                .http2_only(true)
                .build::<_, Empty<Bytes>>(Connector::new());
            let requests: Vec<_> = (0..10)
                .map(|i| {
                    let client = client.clone();
                    corio::create_task(async move {
                        let response = client.get(uri(addr, &format!("/h2/{i}"))).await.unwrap();
                        assert_eq!(response.version(), Version::HTTP_2);
                        read(response).await
                    })
                })
                .collect();
            for (i, request) in requests.into_iter().enumerate() {
                let (status, body) = request.await.unwrap();
                assert_eq!(status, StatusCode::OK);
                assert_eq!(body, format!("/h2/{i} HTTP/2.0"));
            }
            assert_eq!(distinct_peers(&seen), 1, "one HTTP/2 connection for all");
        })
        .await
        .expect("within the limit");
    });
}

#[test]
fn refused_port_is_connection_refused_naming_the_address() {
    corio::run(async {
        // A port that was free a moment ago and has no listener now.
        let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);

        let error = Connector::new().connect(uri(addr, "/")).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
        assert!(
            error.to_string().contains(&format!("connecting to {addr}")),
            "{error}"
        );

        // Through the client: its error is a connect error with ours as the source.
        let error = client().get(uri(addr, "/")).await.unwrap_err();
        assert!(error.is_connect(), "{error:?}");
        let io = io_error(&error);
        assert_eq!(io.kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn unresolvable_host_names_the_host() {
    corio::run(async {
        corio::timeout(LIMIT, async {
            // `.invalid` never resolves (RFC 6761).
            let uri: hyper::Uri = "http://no-such-host.invalid:8080/".parse().unwrap();
            let error = Connector::new().connect(uri.clone()).await.unwrap_err();
            let message = error.to_string();
            assert!(message.contains("no-such-host.invalid:8080"), "{message}");
            assert_ne!(error.kind(), ErrorKind::ConnectionRefused);

            let error = client().get(uri).await.unwrap_err();
            assert!(error.is_connect(), "{error:?}");
            assert!(io_error(&error)
                .to_string()
                .contains("no-such-host.invalid"));
        })
        .await
        .expect("the resolver answers within the limit");
    });
}

#[test]
fn https_is_refused_with_a_pointer_to_tls_connectors() {
    corio::run(async {
        let uri: hyper::Uri = "https://example.com/".parse().unwrap();
        let error = Connector::new().connect(uri.clone()).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        let message = error.to_string();
        assert!(message.starts_with("https://example.com/: "), "{message}");
        assert!(message.contains("TLS connector"), "{message}");
        assert!(message.contains("set_enforce_http(false)"), "{message}");

        // The same through tower's Service, which the client calls.
        let mut connector = Connector::new();
        let error = connector.call(uri.clone()).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);

        let error = client().get(uri).await.unwrap_err();
        assert!(error.is_connect());
        assert!(io_error(&error).to_string().contains("TLS connector"));

        // Other schemes and hostless URIs are refused too.
        for bad in ["ftp://example.com/", "/relative"] {
            let error = Connector::new()
                .connect(bad.parse().unwrap())
                .await
                .unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{bad}: {error}");
        }
    });
}

#[test]
fn without_enforce_http_an_https_uri_gets_a_tcp_connection_for_the_tls_layer() {
    corio::run(async {
        let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut connector = Connector::new();
        connector
            .set_enforce_http(false)
            .set_nodelay(false)
            .set_connect_timeout(Some(LIMIT));
        let uri: hyper::Uri = format!("https://localhost:{port}/").parse().unwrap();
        let connection = connector.connect(uri).await.unwrap();
        assert_eq!(connection.info().remote_addr.port(), port);
        assert!(!connection.get_ref().nodelay().unwrap());
        let (accepted, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, connection.info().local_addr);
        drop(accepted);
    });
}

#[test]
fn ipv6_literal_hosts_connect() {
    corio::run(async {
        let Ok(listener) = corio::net::TcpListener::bind("[::1]:0").await else {
            eprintln!("no IPv6 loopback here: skipped");
            return;
        };
        let addr = listener.local_addr().unwrap();
        let connection = Connector::new()
            .connect(format!("http://[::1]:{}/", addr.port()).parse().unwrap())
            .await
            .unwrap();
        assert_eq!(connection.info().remote_addr, addr);
    });
}

#[test]
fn hyper_utils_own_builder_chain_works_and_the_pool_timer_closes_idle_connections() {
    use corio::hyper::{CorioExecutor, CorioTimer, HyperIo};
    use corio::sync::Event;
    use hyper_util::client::legacy::Client;

    corio::run(async {
        corio::timeout(LIMIT, async {
            // A server that reports when its one connection ends.
            let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let closed = Arc::new(Event::new());
            corio::create_task({
                let closed = closed.clone();
                async move {
                    let (stream, _) = listener.accept().await.unwrap();
                    let hello = hyper::service::service_fn(|_| async {
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(
                            http_body_util::Full::new(Bytes::from("hi")),
                        ))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(HyperIo::new(stream), hello)
                        .await;
                    closed.set();
                }
            });

            let client: Client<Connector, Empty<Bytes>> = Client::builder(CorioExecutor)
                .timer(CorioTimer)
                .pool_timer(CorioTimer)
                .pool_idle_timeout(std::time::Duration::from_millis(50))
                .build(Connector::new());
            let (status, body) = read(client.get(uri(addr, "/")).await.unwrap()).await;
            assert_eq!((status, &body[..]), (StatusCode::OK, &b"hi"[..]));
            // No more requests: the pool's idle task, on CorioTimer, drops the
            // connection (the client is still alive, so nothing else would).
            corio::timeout(std::time::Duration::from_secs(5), closed.wait())
                .await
                .expect("the idle connection is closed by the pool timer");
            drop(client);
        })
        .await
        .expect("within the limit");
    });
}

#[test]
fn connect_timeout_gives_timed_out() {
    corio::run(async {
        corio::timeout(LIMIT, async {
            // A listener that never accepts, with the shortest backlog: once its
            // queue is full, Linux drops new SYNs and connects hang.
            let socket =
                socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
            let any: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
            socket.bind(&any.into()).unwrap();
            socket.listen(0).unwrap();
            let addr = socket.local_addr().unwrap().as_socket().unwrap();

            let limit = std::time::Duration::from_millis(100);
            let mut connector = Connector::new();
            connector.set_connect_timeout(Some(limit));
            let mut held = Vec::new();
            for _ in 0..16 {
                let start = std::time::Instant::now();
                match connector.connect(uri(addr, "/")).await {
                    Ok(connection) => held.push(connection),
                    Err(error) => {
                        assert_eq!(error.kind(), ErrorKind::TimedOut, "{error}");
                        assert!(error.to_string().contains(&format!("connecting to {addr}")));
                        assert!(start.elapsed() >= limit);
                        return;
                    }
                }
            }
            panic!("{} connects went through a full backlog", held.len());
        })
        .await
        .expect("within the limit");
    });
}
