//! The TCP echo server of asyncio's streams docs, on corio: every line a
//! client sends comes straight back.
//!
//! ```text
//! cargo run -p corio --example echo_server                   # 127.0.0.1:8888, until Ctrl-C
//! cargo run -p corio --example echo_server -- 0.0.0.0:9000   # another address
//! cargo run -p corio --example echo_server -- --once         # exit after the first client
//! ```
//!
//! Then, in another terminal, `cargo run -p corio --example echo_client`.

use std::sync::Arc;

use corio::sync::Event;
use corio::{StreamReader, StreamWriter};

/// Echoes lines until the client sends EOF or goes away.
async fn handle_echo(mut reader: StreamReader, mut writer: StreamWriter) {
    let peer = writer.peer_addr();
    loop {
        let line = match reader.readline().await {
            Ok(line) if line.is_empty() => break, // EOF
            Ok(line) => line,
            Err(err) => {
                eprintln!("{peer:?}: {err}");
                break;
            }
        };
        println!(
            "Received {:?} from {peer:?}",
            String::from_utf8_lossy(&line)
        );
        writer.write(&line);
        if let Err(err) = writer.drain().await {
            eprintln!("{peer:?}: {err}");
            break;
        }
    }
    println!("Close the connection to {peer:?}");
    let _ = writer.wait_closed().await;
}

fn main() {
    let mut addr = "127.0.0.1:8888".to_owned();
    let mut once = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--once" => once = true,
            _ => addr = arg,
        }
    }
    corio::run(async move {
        let served_one = Arc::new(Event::new());
        let handler = {
            let served_one = served_one.clone();
            move |reader, writer| {
                let served_one = served_one.clone();
                async move {
                    handle_echo(reader, writer).await;
                    served_one.set();
                }
            }
        };
        let server = match corio::start_server(handler, addr.as_str()).await {
            Ok(server) => server,
            Err(err) => {
                eprintln!("echo_server: {err}");
                std::process::exit(1);
            }
        };
        println!(
            "Serving on {}",
            server.local_addr().expect("a TCP server has an address")
        );
        if once {
            served_one.wait().await;
            server.close();
            server.wait_closed().await;
        } else {
            server.serve_forever().await;
        }
    });
}
