//! An axum Router served by `corio::hyper::serve` on a plain corio loop:
//! JSON in and out, path parameters, state, and the connection's address.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use bytes::Bytes;
use corio::hyper::{client_builder, ConnectInfo, Connector};
use http_body_util::Full;
use hyper::{header, Method, Request, StatusCode};
use serde_json::{json, Value};

use crate::common::{read, start, uri, LIMIT};

fn app() -> Router {
    let hits = Arc::new(AtomicUsize::new(0));
    Router::new()
        .route(
            "/users/{id}",
            get(
                |Path(id): Path<u64>, State(hits): State<Arc<AtomicUsize>>| async move {
                    let hit = hits.fetch_add(1, Ordering::Relaxed) + 1;
                    Json(json!({ "id": id, "name": format!("user {id}"), "hit": hit }))
                },
            ),
        )
        .route(
            "/sum",
            post(|Json(numbers): Json<Vec<i64>>| async move {
                Json(json!({ "sum": numbers.iter().sum::<i64>() }))
            }),
        )
        .route(
            "/whoami",
            get(|Extension(info): Extension<ConnectInfo>| async move {
                info.remote_addr.to_string()
            }),
        )
        .with_state(hits)
}

#[test]
fn axum_router_answers_json_routes() {
    corio::run(async {
        corio::timeout(LIMIT, async {
            let addr = start(app()).await;
            let client = client_builder().build::<_, Full<Bytes>>(Connector::new());

            for hit in 1..=2 {
                let response = client.get(uri(addr, "/users/42")).await.unwrap();
                assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
                let (status, body) = read(response).await;
                assert_eq!(status, StatusCode::OK);
                let value: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(value, json!({ "id": 42, "name": "user 42", "hit": hit }));
            }

            let request = Request::builder()
                .method(Method::POST)
                .uri(uri(addr, "/sum"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from_static(b"[1, 2, 39]")))
                .unwrap();
            let (status, body) = read(client.request(request).await.unwrap()).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(
                serde_json::from_slice::<Value>(&body).unwrap(),
                json!({ "sum": 42 })
            );

            // axum's own rejections and fallbacks work as well.
            let request = Request::builder()
                .method(Method::POST)
                .uri(uri(addr, "/sum"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from_static(b"not json")))
                .unwrap();
            let (status, _) = read(client.request(request).await.unwrap()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            let (status, _) = read(client.get(uri(addr, "/nope")).await.unwrap()).await;
            assert_eq!(status, StatusCode::NOT_FOUND);

            // The server put the connection's ConnectInfo in the request.
            let response = client.get(uri(addr, "/whoami")).await.unwrap();
            let client_addr = response
                .extensions()
                .get::<ConnectInfo>()
                .unwrap()
                .local_addr;
            let (_, body) = read(response).await;
            assert_eq!(body, client_addr.to_string());
        })
        .await
        .expect("within the limit");
    });
}
