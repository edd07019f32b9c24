//! `tcp-stream`: one loopback connection streaming N chunks of 64 KiB
//! (the default N = 16,384 is 1 GiB) from a writer task to a reader task.
//!
//! One op is one 64 KiB chunk written and read; MiB/s is 64 KiB / (ns/op).

use std::time::Instant;

use super::Workload;
use crate::measure::Measurement;
use crate::runtime::{self, Threads};

/// The `tcp-stream` workload.
pub(super) const WORKLOAD: Workload = Workload {
    name: "tcp-stream",
    description: "one loopback connection streaming N x 64 KiB (default: 1 GiB)",
    default_size: 16_384,
    multi_threaded: true,
    corio,
    tokio,
    smol,
};

/// Bytes per chunk.
const CHUNK: usize = 64 * 1024;

/// `tcp-stream` on corio.
fn corio(threads: Threads, n: usize) -> Measurement {
    runtime::corio(threads, async move {
        let listener = corio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let start = Instant::now();
        let writer = corio::create_task(async move {
            let stream = corio::net::TcpStream::connect(addr).await.expect("connect");
            let chunk = vec![1u8; CHUNK];
            for _ in 0..n {
                stream.write_all(&chunk).await.expect("write");
            }
        });
        let (stream, _) = listener.accept().await.expect("accept");
        let mut buf = vec![0u8; CHUNK];
        let mut total = 0;
        while total < n * CHUNK {
            let read = stream.read(&mut buf).await.expect("read");
            assert!(read > 0, "early EOF");
            total += read;
        }
        writer.await.expect("writer");
        Measurement::new(n, start.elapsed())
    })
}

/// `tcp-stream` on tokio.
fn tokio(threads: Threads, n: usize) -> Measurement {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    runtime::tokio(threads).block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let start = Instant::now();
        let writer = tokio::spawn(async move {
            let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
            let chunk = vec![1u8; CHUNK];
            for _ in 0..n {
                stream.write_all(&chunk).await.expect("write");
            }
        });
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut buf = vec![0u8; CHUNK];
        let mut total = 0;
        while total < n * CHUNK {
            let read = stream.read(&mut buf).await.expect("read");
            assert!(read > 0, "early EOF");
            total += read;
        }
        writer.await.expect("writer");
        Measurement::new(n, start.elapsed())
    })
}

/// `tcp-stream` on smol.
fn smol(threads: Threads, n: usize) -> Measurement {
    use smol::io::{AsyncReadExt, AsyncWriteExt};
    crate::smol_run!(threads, |ex| async move {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let start = Instant::now();
        let writer = ex.spawn(async move {
            let mut stream = smol::net::TcpStream::connect(addr).await.expect("connect");
            let chunk = vec![1u8; CHUNK];
            for _ in 0..n {
                stream.write_all(&chunk).await.expect("write");
            }
        });
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut buf = vec![0u8; CHUNK];
        let mut total = 0;
        while total < n * CHUNK {
            let read = stream.read(&mut buf).await.expect("read");
            assert!(read > 0, "early EOF");
            total += read;
        }
        writer.await;
        Measurement::new(n, start.elapsed())
    })
}
