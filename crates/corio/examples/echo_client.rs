//! The TCP echo client of asyncio's streams docs, on corio: sends a
//! message, prints what comes back.
//!
//! ```text
//! cargo run -p corio --example echo_server &      # first, the server (127.0.0.1:8888)
//! cargo run -p corio --example echo_client                       # sends "Hello World!"
//! cargo run -p corio --example echo_client -- 127.0.0.1:8888 "another message"
//! ```

use std::io;

async fn tcp_echo_client(addr: &str, message: &str) -> io::Result<()> {
    let (mut reader, mut writer) = corio::open_connection(addr).await?;

    println!("Send: {message:?}");
    writer.write(message.as_bytes());
    writer.write(b"\n");
    writer.drain().await?;

    let data = reader.readline().await?;
    println!("Received: {:?}", String::from_utf8_lossy(&data).trim_end());

    println!("Close the connection");
    writer.close();
    writer.wait_closed().await
}

fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8888".to_owned());
    let message = args.next().unwrap_or_else(|| "Hello World!".to_owned());
    if let Err(err) = corio::run(tcp_echo_client(&addr, &message)) {
        eprintln!("echo_client: {err}");
        if err.kind() == io::ErrorKind::ConnectionRefused {
            eprintln!("(start the server first: cargo run -p corio --example echo_server)");
        }
        std::process::exit(1);
    }
}
