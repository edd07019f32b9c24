//! tokio-based libraries running unchanged on a plain corio loop, with
//! corio's `tokio` feature: reqwest, axum (`axum::serve`), hyper-util's
//! pooled legacy client with its `HttpConnector`, sqlx (SQLite) and tonic.
//! Without the feature each of these panics with "there is no reactor
//! running, must be called from the context of a Tokio 1.x runtime".

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};

/// A hello-world server on corio's own sockets (corio::hyper), no tokio.
async fn corio_hyper_server() -> SocketAddr {
    let listener = corio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    corio::create_task(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            corio::create_task(async move {
                let service =
                    hyper::service::service_fn(|request: hyper::Request<Incoming>| async move {
                        let body = format!("hello from corio, {}", request.uri().path());
                        Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(body))))
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(corio::hyper::HyperIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// An axum app served by `axum::serve` on a tokio listener, inside corio.
async fn axum_server() -> SocketAddr {
    use axum::routing::get;
    let app = axum::Router::new()
        .route("/", get(|| async { "hello from axum" }))
        .route(
            "/add/{a}/{b}",
            get(
                |axum::extract::Path((a, b)): axum::extract::Path<(u32, u32)>| async move {
                    (a + b).to_string()
                },
            ),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    corio::create_task(async move {
        axum::serve(listener, app).await.unwrap();
    });
    addr
}

#[test]
fn reqwest_gets_from_a_corio_hyper_server() {
    corio::run(async {
        let addr = corio_hyper_server().await;
        let client = reqwest::Client::new();
        for path in ["/a", "/b"] {
            let body = client
                .get(format!("http://{addr}{path}"))
                .timeout(Duration::from_secs(10))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(body, format!("hello from corio, {path}"));
        }
    });
}

#[test]
fn axum_serve_answers_reqwest_and_hyper_util_pooled_client() {
    corio::run(async {
        let addr = axum_server().await;
        let text = reqwest::get(format!("http://{addr}/add/2/40"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(text, "42");

        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<Empty<Bytes>>();
        for _ in 0..3 {
            let response = client
                .get(format!("http://{addr}/").parse().unwrap())
                .await
                .unwrap();
            assert!(response.status().is_success());
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(&body[..], b"hello from axum");
        }
    });
}

#[test]
fn axum_and_reqwest_work_under_workers() {
    let mut runner = corio::Runner::builder().workers(2).build().unwrap();
    runner.run(async {
        let addr = axum_server().await;
        let tasks: Vec<_> = (0..8u32)
            .map(|i| {
                corio::create_task(async move {
                    reqwest::get(format!("http://{addr}/add/{i}/1"))
                        .await
                        .unwrap()
                        .text()
                        .await
                        .unwrap()
                })
            })
            .collect();
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap(), (i + 1).to_string());
        }
    });
}

#[test]
fn sqlx_sqlite_round_trip_with_transactions() {
    use sqlx::Connection;
    corio::run(async {
        let mut db = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::query("CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL)")
            .execute(&mut db)
            .await
            .unwrap();

        let mut tx = db.begin().await.unwrap();
        sqlx::query("INSERT INTO orders (item) VALUES (?), (?)")
            .bind("tea")
            .bind("cake")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let mut tx = db.begin().await.unwrap();
        sqlx::query("INSERT INTO orders (item) VALUES (?)")
            .bind("rolled back")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.rollback().await.unwrap();

        let items: Vec<(i64, String)> = sqlx::query_as("SELECT id, item FROM orders ORDER BY id")
            .fetch_all(&mut db)
            .await
            .unwrap();
        assert_eq!(items, [(1, "tea".to_owned()), (2, "cake".to_owned())]);
        db.close().await.unwrap();
    });
}

#[test]
fn tonic_unary_call_between_a_server_and_a_client_on_corio() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;
    corio::run(async {
        let (reporter, service) = tonic_health::server::health_reporter();
        reporter
            .set_service_status("orders", tonic_health::ServingStatus::Serving)
            .await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let incoming = tonic::transport::server::TcpIncoming::from(listener);
        corio::create_task(async move {
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(incoming)
                .await
                .unwrap();
        });
        let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut client = HealthClient::new(channel);
        let reply = client
            .check(HealthCheckRequest {
                service: "orders".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(reply.status(), ServingStatus::Serving);
        let unknown = client
            .check(HealthCheckRequest {
                service: "nope".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(unknown.code(), tonic::Code::NotFound);
    });
}

#[test]
fn the_tokio_runtime_stops_with_the_loop() {
    let mut runner = corio::Runner::new();
    let addr = runner.run(axum_server());
    runner.close();
    // The server's listener went with the tokio runtime.
    let refused = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2));
    assert!(
        refused.is_err(),
        "the axum server still accepts after close"
    );
}
