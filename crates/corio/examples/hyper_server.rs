//! An HTTP/1 hello-world server: hyper on corio, one task per connection.
//!
//! ```text
//! cargo run -p corio --features hyper --example hyper_server [PORT]
//! curl http://127.0.0.1:3000/
//! ```
//!
//! Listens on 127.0.0.1:3000, or on the port given as the first argument.

use std::convert::Infallible;

use bytes::Bytes;
use corio::hyper::{CorioTimer, HyperIo};
use corio::net::TcpListener;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};

async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, World!\n",
    ))))
}

fn main() -> std::io::Result<()> {
    let port: u16 = match std::env::args().nth(1) {
        Some(arg) => arg.parse().expect("usage: hyper_server [PORT]"),
        None => 3000,
    };
    corio::run(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        println!("listening on http://{}", listener.local_addr()?);
        loop {
            let (stream, _peer) = listener.accept().await?;
            // Small responses: don't let Nagle hold them back.
            stream.set_nodelay(true)?;
            corio::create_task(async move {
                let connection = http1::Builder::new()
                    .timer(CorioTimer::new())
                    .serve_connection(HyperIo::new(stream), service_fn(hello));
                if let Err(error) = connection.await {
                    eprintln!("connection error: {error}");
                }
            });
        }
    })
}
