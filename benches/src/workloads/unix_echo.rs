//! `unix-echo`: `tcp-echo` over Unix-domain stream sockets: 64 socket pairs,
//! one end of each echoed by a server task, the other driven by a client
//! task sending 64-byte messages and reading each echo back before the next.
//! One op is one round trip. No TCP stack: what is left is the runtime, the
//! poller and the Unix socket syscalls.

use std::time::Instant;

use super::Workload;
use crate::measure::Measurement;
use crate::runtime::{self, Threads};

/// The `unix-echo` workload.
pub(super) const WORKLOAD: Workload = Workload {
    name: "unix-echo",
    description: "64 Unix stream socket pairs, 64-byte request/echo round trips",
    default_size: 320_000,
    multi_threaded: false,
    corio,
    tokio,
    smol,
};

/// Socket pairs.
const PAIRS: usize = 64;
/// Bytes per message.
const MESSAGE: usize = 64;

/// `unix-echo` on corio.
fn corio(threads: Threads, n: usize) -> Measurement {
    use smol::io::AsyncReadExt;
    let (pairs, per_pair) = super::split(n, PAIRS);
    runtime::corio(threads, async move {
        let start = Instant::now();
        let clients: Vec<_> = (0..pairs)
            .map(|_| {
                let (mut client, mut server) = corio::net::UnixStream::pair().expect("pair");
                corio::create_task(async move {
                    let mut buf = [0u8; MESSAGE];
                    while server.read_exact(&mut buf).await.is_ok() {
                        if server.write_all(&buf).await.is_err() {
                            return;
                        }
                    }
                });
                corio::create_task(async move {
                    let mut buf = [7u8; MESSAGE];
                    for _ in 0..per_pair {
                        client.write_all(&buf).await.expect("write");
                        client.read_exact(&mut buf).await.expect("read");
                    }
                })
            })
            .collect();
        for client in clients {
            client.await.expect("client");
        }
        Measurement::new(pairs * per_pair, start.elapsed())
    })
}

/// `unix-echo` on tokio.
fn tokio(threads: Threads, n: usize) -> Measurement {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (pairs, per_pair) = super::split(n, PAIRS);
    runtime::tokio(threads).block_on(async move {
        let start = Instant::now();
        let clients: Vec<_> = (0..pairs)
            .map(|_| {
                let (mut client, mut server) = tokio::net::UnixStream::pair().expect("pair");
                tokio::spawn(async move {
                    let mut buf = [0u8; MESSAGE];
                    while server.read_exact(&mut buf).await.is_ok() {
                        if server.write_all(&buf).await.is_err() {
                            return;
                        }
                    }
                });
                tokio::spawn(async move {
                    let mut buf = [7u8; MESSAGE];
                    for _ in 0..per_pair {
                        client.write_all(&buf).await.expect("write");
                        client.read_exact(&mut buf).await.expect("read");
                    }
                })
            })
            .collect();
        for client in clients {
            client.await.expect("client");
        }
        Measurement::new(pairs * per_pair, start.elapsed())
    })
}

/// `unix-echo` on smol.
fn smol(threads: Threads, n: usize) -> Measurement {
    use smol::io::{AsyncReadExt, AsyncWriteExt};
    let (pairs, per_pair) = super::split(n, PAIRS);
    crate::smol_run!(threads, |ex| async move {
        let start = Instant::now();
        let clients: Vec<_> = (0..pairs)
            .map(|_| {
                let (mut client, mut server) = smol::net::unix::UnixStream::pair().expect("pair");
                ex.spawn(async move {
                    let mut buf = [0u8; MESSAGE];
                    while server.read_exact(&mut buf).await.is_ok() {
                        if server.write_all(&buf).await.is_err() {
                            return;
                        }
                    }
                })
                .detach();
                ex.spawn(async move {
                    let mut buf = [7u8; MESSAGE];
                    for _ in 0..per_pair {
                        client.write_all(&buf).await.expect("write");
                        client.read_exact(&mut buf).await.expect("read");
                    }
                })
            })
            .collect();
        for client in clients {
            client.await;
        }
        Measurement::new(pairs * per_pair, start.elapsed())
    })
}
