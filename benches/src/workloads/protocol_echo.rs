//! `protocol-echo`: `tcp-echo`'s shape (64 loopback connections, 64-byte
//! round trips, the same clients), with corio's server written as a
//! [`corio::protocol::Protocol`]: one task per connection reads into a
//! reused buffer and echoes from `data_received`, with no coroutine per
//! read (asyncio's fastest path). tokio and smol run `tcp-echo`'s stream
//! server, the best they have; compare the corio row with `tcp-echo`'s
//! corio row for what protocols save over streams.

use std::time::Instant;

use corio::protocol::{Protocol, Transport};

use super::tcp_echo::{self, CONNECTIONS, MESSAGE};
use super::Workload;
use crate::measure::Measurement;
use crate::runtime::{self, Threads};

/// The `protocol-echo` workload.
pub(super) const WORKLOAD: Workload = Workload {
    name: "protocol-echo",
    description: "tcp-echo with corio's server as a Protocol (tokio, smol: their stream server)",
    default_size: 640_000,
    multi_threaded: false,
    corio,
    tokio: tcp_echo::tokio,
    smol: tcp_echo::smol,
};

/// asyncio's `EchoServerProtocol`.
struct Echo(Option<Transport>);

impl Protocol for Echo {
    fn connection_made(&mut self, transport: Transport) {
        self.0 = Some(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        if let Some(transport) = &self.0 {
            transport.write(data);
        }
    }

    fn connection_lost(&mut self, _err: Option<std::io::Error>) {}
}

/// `protocol-echo` on corio: a protocol server, `tcp-echo`'s clients.
fn corio(threads: Threads, n: usize) -> Measurement {
    use smol::io::AsyncReadExt;
    let (connections, per_connection) = super::split(n, CONNECTIONS);
    runtime::corio(threads, async move {
        let server = corio::get_running_loop()
            .create_server(|| Echo(None), "127.0.0.1:0")
            .await
            .expect("create_server");
        let addr = server.local_addr();
        let start = Instant::now();
        let clients: Vec<_> = (0..connections)
            .map(|_| {
                corio::create_task(async move {
                    let mut stream = corio::net::TcpStream::connect(addr).await.expect("connect");
                    stream.set_nodelay(true).expect("nodelay");
                    let mut buf = [7u8; MESSAGE];
                    for _ in 0..per_connection {
                        stream.write_all(&buf).await.expect("write");
                        stream.read_exact(&mut buf).await.expect("read");
                    }
                })
            })
            .collect();
        for client in clients {
            client.await.expect("client");
        }
        let elapsed = start.elapsed();
        drop(server);
        Measurement::new(connections * per_connection, elapsed)
    })
}
