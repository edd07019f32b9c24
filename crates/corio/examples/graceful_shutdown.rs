//! A TCP server that shuts down gracefully on SIGTERM or Ctrl-C: it stops
//! accepting, gives open connections a grace period to finish, then exits 0.
//!
//! ```text
//! cargo run -p corio --example graceful_shutdown        # 127.0.0.1:8889
//! printf 'hello\n' | nc 127.0.0.1 8889                 # one request
//! kill -TERM <pid>                                      # or Ctrl-C
//! ```

use std::time::Duration;

use corio::signal::{Signals, SIGINT, SIGTERM};
use corio::{StreamReader, StreamWriter};

/// How long open connections get to finish after the shutdown signal.
const GRACE: Duration = Duration::from_secs(5);

/// Answers each line with its upper-case form until the client closes.
async fn serve(mut reader: StreamReader, mut writer: StreamWriter) {
    while let Ok(line) = reader.readline().await {
        if line.is_empty() {
            break;
        }
        writer.write(&line.to_ascii_uppercase());
        if writer.drain().await.is_err() {
            break;
        }
    }
    let _ = writer.wait_closed().await;
}

/// The program (public so `tests/ctrl_c.rs` can run it).
pub(crate) fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8889".to_owned());
    corio::run(async move {
        // Listen before serving, so a signal that comes early is not lost.
        let mut signals = Signals::new([SIGTERM, SIGINT]).expect("listen for SIGTERM");
        let server = corio::start_server(serve, addr.as_str())
            .await
            .expect("bind the server");
        println!(
            "listening on {} (pid {})",
            server.local_addr().unwrap(),
            std::process::id()
        );
        let signal = signals.recv().await;
        println!("got signal {signal:?}: no new connections, {GRACE:?} for open ones");
        server.close();
        match corio::timeout(GRACE, server.wait_closed()).await {
            Ok(()) => println!("all connections finished; stopped"),
            Err(_) => println!("grace period over; stopped"),
        }
    });
}
