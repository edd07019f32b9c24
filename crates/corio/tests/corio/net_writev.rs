//! Vectored writes: `StreamWriter::drain` hands its buffered chunks to the stream as
//! one `poll_write_vectored`, and a stream that takes only part of them (a capped
//! mock, a real socket whose send buffer fills) gets the rest, in order, later.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use corio::net::{TcpListener, TcpStream};
use corio::StreamWriter;
use futures_io::AsyncWrite;

/// Takes at most `cap` bytes per call and records each call's slice count.
#[derive(Clone)]
struct Capped {
    cap: usize,
    out: Arc<Mutex<Vec<u8>>>,
    calls: Arc<Mutex<Vec<usize>>>,
}

impl AsyncWrite for Capped {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.calls.lock().unwrap().push(1);
        let n = buf.len().min(self.cap);
        self.out.lock().unwrap().extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.calls.lock().unwrap().push(bufs.len());
        let mut left = self.cap;
        let mut out = self.out.lock().unwrap();
        for buf in bufs {
            let n = buf.len().min(left);
            out.extend_from_slice(&buf[..n]);
            left -= n;
            if left == 0 {
                break;
            }
        }
        Poll::Ready(Ok(self.cap - left))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// `count` writes of varied sizes (some above the 16 KiB chunk size), and all their bytes.
fn pieces(count: usize) -> (Vec<Vec<u8>>, Vec<u8>) {
    let pieces: Vec<Vec<u8>> = (0..count)
        .map(|i| {
            let len = if i % 7 == 6 {
                20_000 + i
            } else {
                1 + i * 131 % 3_000
            };
            (0..len).map(|b| (b * 7 + i) as u8).collect()
        })
        .collect();
    let all = pieces.concat();
    (pieces, all)
}

#[test]
fn drain_sends_chunks_vectored_and_resumes_after_partial_writes() {
    let (pieces, all) = pieces(60);
    let mock = Capped {
        cap: 10_007,
        out: Arc::default(),
        calls: Arc::default(),
    };
    corio::run({
        let mock = mock.clone();
        async move {
            let mut writer = StreamWriter::new(mock);
            for piece in &pieces {
                writer.write(piece);
            }
            writer.drain().await.unwrap();
            assert_eq!(writer.write_buffer_size(), 0);
        }
    });
    assert_eq!(*mock.out.lock().unwrap(), all, "bytes lost or reordered");
    let calls = mock.calls.lock().unwrap();
    // Every call was vectored and filled to the cap (the last one excepted):
    // no call stopped at a chunk boundary.
    assert_eq!(calls.len(), all.len().div_ceil(10_007));
    assert!(
        calls.iter().any(|&slices| slices > 1),
        "never vectored: {calls:?}"
    );
}

#[test]
fn drain_over_a_slow_reader_delivers_every_byte_in_order() {
    let (pieces, all) = pieces(1_200);
    let expected = all.clone();
    let got = corio::run(async move {
        corio::timeout(Duration::from_secs(20), async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let reader = corio::create_task(async move {
                let (stream, _) = listener.accept().await.unwrap();
                let mut got = Vec::new();
                let mut buf = vec![0u8; 7_000];
                loop {
                    // Slow: the writer's socket buffer fills and writev comes back short.
                    corio::sleep(Duration::from_micros(200)).await;
                    match stream.read(&mut buf).await.unwrap() {
                        0 => return got,
                        n => got.extend_from_slice(&buf[..n]),
                    }
                }
            });
            let stream = TcpStream::connect(addr).await.unwrap();
            let (_, write) = stream.into_split();
            let mut writer = StreamWriter::new(write);
            for piece in &pieces {
                writer.write(piece);
            }
            assert_eq!(writer.write_buffer_size(), all.len());
            writer.drain().await.unwrap();
            writer.wait_closed().await.unwrap();
            reader.await.unwrap()
        })
        .await
        .expect("timed out")
    });
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "bytes lost or reordered");
}
