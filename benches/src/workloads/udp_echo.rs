//! `udp-echo`: 64 UDP client sockets, each connected to one server socket,
//! sending 64-byte datagrams and waiting for each echo before the next.
//!
//! One server task answers every client (`recv_from` then `send_to`); the
//! clients are tasks on the same runtime. One op is one round trip. At most
//! 64 datagrams are in flight, far below the loopback socket buffers, so
//! none is dropped (a drop would hang the run, not skew it).

use std::time::Instant;

use super::Workload;
use crate::measure::Measurement;
use crate::runtime::{self, Threads};

/// The `udp-echo` workload.
pub(super) const WORKLOAD: Workload = Workload {
    name: "udp-echo",
    description: "64 UDP clients, 64-byte datagram request/response round trips",
    default_size: 128_000,
    multi_threaded: false,
    corio,
    tokio,
    smol,
};

/// Client sockets.
const CLIENTS: usize = 64;
/// Bytes per datagram.
const MESSAGE: usize = 64;

/// `udp-echo` on corio.
fn corio(threads: Threads, n: usize) -> Measurement {
    let (clients, per_client) = super::split(n, CLIENTS);
    runtime::corio(threads, async move {
        let server = corio::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = server.local_addr().expect("local addr");
        let echo = corio::create_task(async move {
            let mut buf = [0u8; MESSAGE];
            loop {
                let Ok((len, from)) = server.recv_from(&mut buf).await else {
                    return;
                };
                if server.send_to(&buf[..len], from).await.is_err() {
                    return;
                }
            }
        });
        let start = Instant::now();
        let tasks: Vec<_> = (0..clients)
            .map(|_| {
                corio::create_task(async move {
                    let socket = corio::net::UdpSocket::bind("127.0.0.1:0")
                        .await
                        .expect("bind");
                    socket.connect(addr).await.expect("connect");
                    let mut buf = [7u8; MESSAGE];
                    for _ in 0..per_client {
                        socket.send(&buf).await.expect("send");
                        let len = socket.recv(&mut buf).await.expect("recv");
                        assert_eq!(len, MESSAGE);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("client");
        }
        let measured = Measurement::new(clients * per_client, start.elapsed());
        echo.cancel();
        measured
    })
}

/// `udp-echo` on tokio.
fn tokio(threads: Threads, n: usize) -> Measurement {
    let (clients, per_client) = super::split(n, CLIENTS);
    runtime::tokio(threads).block_on(async move {
        let server = tokio::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = server.local_addr().expect("local addr");
        let echo = tokio::spawn(async move {
            let mut buf = [0u8; MESSAGE];
            loop {
                let Ok((len, from)) = server.recv_from(&mut buf).await else {
                    return;
                };
                if server.send_to(&buf[..len], from).await.is_err() {
                    return;
                }
            }
        });
        let start = Instant::now();
        let tasks: Vec<_> = (0..clients)
            .map(|_| {
                tokio::spawn(async move {
                    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
                        .await
                        .expect("bind");
                    socket.connect(addr).await.expect("connect");
                    let mut buf = [7u8; MESSAGE];
                    for _ in 0..per_client {
                        socket.send(&buf).await.expect("send");
                        let len = socket.recv(&mut buf).await.expect("recv");
                        assert_eq!(len, MESSAGE);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("client");
        }
        let measured = Measurement::new(clients * per_client, start.elapsed());
        echo.abort();
        measured
    })
}

/// `udp-echo` on smol.
fn smol(threads: Threads, n: usize) -> Measurement {
    let (clients, per_client) = super::split(n, CLIENTS);
    crate::smol_run!(threads, |ex| async move {
        let server = smol::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = server.local_addr().expect("local addr");
        let echo = ex.spawn(async move {
            let mut buf = [0u8; MESSAGE];
            loop {
                let Ok((len, from)) = server.recv_from(&mut buf).await else {
                    return;
                };
                if server.send_to(&buf[..len], from).await.is_err() {
                    return;
                }
            }
        });
        let start = Instant::now();
        let tasks: Vec<_> = (0..clients)
            .map(|_| {
                ex.spawn(async move {
                    let socket = smol::net::UdpSocket::bind("127.0.0.1:0")
                        .await
                        .expect("bind");
                    socket.connect(addr).await.expect("connect");
                    let mut buf = [7u8; MESSAGE];
                    for _ in 0..per_client {
                        socket.send(&buf).await.expect("send");
                        let len = socket.recv(&mut buf).await.expect("recv");
                        assert_eq!(len, MESSAGE);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
        let measured = Measurement::new(clients * per_client, start.elapsed());
        drop(echo);
        measured
    })
}
