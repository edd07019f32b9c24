//! `tcp-echo`: 64 connections over loopback, each sending 64-byte messages
//! and reading each echo back before sending the next.
//!
//! One server task per accepted connection echoes what it reads; the 64
//! clients run as tasks on the same runtime (on one thread, or spread over
//! the workers of a multi-threaded one). One op is one
//! round trip (64 bytes out, 64 bytes back). The default size, 640,000, is
//! the 64 connections × 10,000 messages.

use std::time::Instant;

use super::Workload;
use crate::measure::Measurement;
use crate::runtime::{self, Threads};

/// The `tcp-echo` workload.
pub(super) const WORKLOAD: Workload = Workload {
    name: "tcp-echo",
    description: "64 loopback connections, 64-byte request/echo round trips",
    default_size: 640_000,
    multi_threaded: true,
    corio,
    tokio,
    smol,
};

/// Concurrent connections.
pub(super) const CONNECTIONS: usize = 64;
/// Bytes per message.
pub(super) const MESSAGE: usize = 64;

/// `tcp-echo` on corio.
fn corio(threads: Threads, n: usize) -> Measurement {
    use smol::io::AsyncReadExt;
    let (connections, per_connection) = super::split(n, CONNECTIONS);
    runtime::corio(threads, async move {
        let listener = corio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        corio::create_task(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                corio::create_task(async move {
                    let mut buf = [0u8; MESSAGE];
                    while stream.read_exact(&mut buf).await.is_ok() {
                        if stream.write_all(&buf).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
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
        Measurement::new(connections * per_connection, start.elapsed())
    })
}

/// `tcp-echo` on tokio.
pub(super) fn tokio(threads: Threads, n: usize) -> Measurement {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (connections, per_connection) = super::split(n, CONNECTIONS);
    runtime::tokio(threads).block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let mut buf = [0u8; MESSAGE];
                    while stream.read_exact(&mut buf).await.is_ok() {
                        if stream.write_all(&buf).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        let start = Instant::now();
        let clients: Vec<_> = (0..connections)
            .map(|_| {
                tokio::spawn(async move {
                    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
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
        Measurement::new(connections * per_connection, start.elapsed())
    })
}

/// `tcp-echo` on smol.
pub(super) fn smol(threads: Threads, n: usize) -> Measurement {
    use smol::io::{AsyncReadExt, AsyncWriteExt};
    let (connections, per_connection) = super::split(n, CONNECTIONS);
    crate::smol_run!(threads, |ex| async move {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let server_ex = ex.clone();
        ex.spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                server_ex
                    .spawn(async move {
                        let mut buf = [0u8; MESSAGE];
                        while stream.read_exact(&mut buf).await.is_ok() {
                            if stream.write_all(&buf).await.is_err() {
                                return;
                            }
                        }
                    })
                    .detach();
            }
        })
        .detach();
        let start = Instant::now();
        let clients: Vec<_> = (0..connections)
            .map(|_| {
                ex.spawn(async move {
                    let mut stream = smol::net::TcpStream::connect(addr).await.expect("connect");
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
            client.await;
        }
        Measurement::new(connections * per_connection, start.elapsed())
    })
}
