//! An axum app served by corio (no tokio runtime): a JSON API over HTTP/1
//! and HTTP/2, stopped gracefully with Ctrl-C.
//!
//! ```text
//! cargo run -p corio --features hyper --example hyper_axum [PORT]
//! curl http://127.0.0.1:3000/
//! curl http://127.0.0.1:3000/users/7
//! curl -X POST -d 'hello' http://127.0.0.1:3000/echo
//! curl --http2-prior-knowledge http://127.0.0.1:3000/slow   # then Ctrl-C: it still answers
//! ```
//!
//! Listens on 127.0.0.1:3000, or on the port given as the first argument.
//! On Ctrl-C it stops accepting, lets requests in flight finish, and exits.

use std::time::Duration;

use axum::extract::Path;
use axum::routing::{get, post};
use axum::{Json, Router};
use corio::net::TcpListener;
use serde_json::{json, Value};

async fn index() -> Json<Value> {
    Json(json!({ "service": "corio + axum", "routes": ["/", "/users/{id}", "/echo", "/slow"] }))
}

async fn user(Path(id): Path<u64>) -> Json<Value> {
    Json(json!({ "id": id, "name": format!("user {id}") }))
}

async fn echo(body: String) -> String {
    body
}

async fn slow() -> &'static str {
    // axum handlers are plain futures: corio's timers work in them.
    corio::sleep(Duration::from_secs(3)).await;
    "finished after 3 s\n"
}

fn main() -> std::io::Result<()> {
    let port: u16 = match std::env::args().nth(1) {
        Some(arg) => arg.parse().expect("usage: hyper_axum [PORT]"),
        None => 3000,
    };
    let app = Router::new()
        .route("/", get(index))
        .route("/users/{id}", get(user))
        .route("/echo", post(echo))
        .route("/slow", get(slow));
    corio::run(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        println!("listening on http://{}", listener.local_addr()?);
        corio::hyper::serve(listener, app)
            .with_graceful_shutdown(async {
                if let Err(error) = corio::signal::ctrl_c().await {
                    eprintln!("cannot watch Ctrl-C ({error}); serving until killed");
                    std::future::pending::<()>().await;
                }
                println!("Ctrl-C: finishing requests in flight");
            })
            .await?;
        println!("stopped");
        Ok(())
    })
}
