//! An HTTP/1 client: hyper on corio. GETs `/` and prints the status and body.
//!
//! ```text
//! cargo run -p corio --features hyper --example hyper_server &
//! cargo run -p corio --features hyper --example hyper_client [ADDR]
//! ```
//!
//! Connects to 127.0.0.1:3000, or to the address given as the first argument.

use bytes::Bytes;
use corio::hyper::HyperIo;
use corio::net::TcpStream;
use http_body_util::{BodyExt, Empty};
use hyper::Request;

type Error = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), Error> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    corio::run(async move {
        let stream = TcpStream::connect(addr.as_str()).await?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(HyperIo::new(stream)).await?;
        // The connection does the IO; it runs in its own task until closed.
        corio::create_task(async move {
            if let Err(error) = connection.await {
                eprintln!("connection error: {error}");
            }
        });

        let request = Request::get("/")
            .header(hyper::header::HOST, addr.as_str())
            .body(Empty::<Bytes>::new())?;
        let response = sender.send_request(request).await?;
        println!("status: {}", response.status());
        let body = response.into_body().collect().await?.to_bytes();
        println!("body: {}", String::from_utf8_lossy(&body));
        Ok(())
    })
}
