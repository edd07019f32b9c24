//! A pooled HTTP client on corio, no tokio: hyper-util's `Client` with
//! corio's connector, executor and timer. Sends N GETs to one URL (several
//! at a time), reusing pooled connections, and prints what it saw.
//!
//! ```text
//! cargo run -p corio --features hyper --example hyper_axum &
//! cargo run -p corio --features hyper --example hyper_client [URL] [N]
//! ```
//!
//! URL defaults to http://127.0.0.1:3000/ and N to 20. An `https` URL is
//! refused with an error naming the fix (a TLS connector around corio's).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use bytes::Bytes;
use corio::hyper::{client_builder, ConnectInfo, Connector};
use http_body_util::{BodyExt, Empty};
use hyper::Uri;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// How many requests are in flight at once.
const CONCURRENCY: usize = 4;

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let uri: Uri = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:3000/".to_owned())
        .parse()?;
    let count: usize = match args.next() {
        Some(n) => n.parse()?,
        None => 20,
    };
    corio::run(async move {
        let mut connector = Connector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        let client = client_builder()
            .pool_idle_timeout(Duration::from_secs(30))
            .build::<_, Empty<Bytes>>(connector);

        let start = Instant::now();
        let mut workers = Vec::new();
        for worker in 0..CONCURRENCY {
            let client = client.clone();
            let uri = uri.clone();
            workers.push(corio::create_task(async move {
                let mut seen = Vec::new();
                for _ in (worker..count).step_by(CONCURRENCY) {
                    let response = client.get(uri.clone()).await?;
                    let status = response.status();
                    // Which TCP connection carried it (the client's local port tells).
                    let local = response
                        .extensions()
                        .get::<ConnectInfo>()
                        .map(|i| i.local_addr);
                    let body = response.into_body().collect().await?.to_bytes();
                    seen.push((status, local, body));
                }
                Ok::<_, Error>(seen)
            }));
        }
        let mut connections = HashSet::new();
        let mut last = None;
        for worker in workers {
            for (status, local, body) in worker.await?? {
                connections.extend(local);
                last = Some((status, body));
            }
        }
        if let Some((status, body)) = last {
            println!("last response: {status}");
            println!("{}", String::from_utf8_lossy(&body).trim_end());
        }
        println!(
            "{count} requests in {:.1?} over {} pooled connection(s)",
            start.elapsed(),
            connections.len()
        );
        Ok(())
    })
}
