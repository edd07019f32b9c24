//! asyncio streams on corio: `StreamReader`'s framed reads over input that
//! arrives in pieces, its limit and end-of-stream errors, `StreamWriter`'s
//! drain and shutdown, and `start_server`/`open_connection` (TCP and Unix)
//! end to end, faults included.
//!
//! This module holds the test doubles (an in-memory pipe with back-pressure,
//! a reader fed in pieces); each submodule one side of the API.

mod reader;
mod server;
mod writer;

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use corio::StreamReader;
use futures_io::{AsyncRead, AsyncWrite};

/// Every test body runs under this bound: a hang is a failure, not a stuck CI.
const BOUND: Duration = Duration::from_secs(10);

fn run_bounded<F: Future>(body: F) -> F::Output {
    corio::run(async move {
        corio::timeout(BOUND, body)
            .await
            .expect("test timed out: something hangs")
    })
}

// ---------------------------------------------------------------------------
// An in-memory pipe with a bounded capacity: the writer end blocks while it
// is full, so a slow reader backs pressure up into `drain`.

#[derive(Default)]
struct PipeState {
    bytes: VecDeque<u8>,
    capacity: usize,
    closed: bool,
    reader_gone: bool,
    reader: Option<Waker>,
    writer: Option<Waker>,
}

struct PipeReader(Arc<Mutex<PipeState>>);
struct PipeWriter(Arc<Mutex<PipeState>>);

fn pipe(capacity: usize) -> (PipeReader, PipeWriter) {
    let state = Arc::new(Mutex::new(PipeState {
        capacity,
        ..PipeState::default()
    }));
    (PipeReader(state.clone()), PipeWriter(state))
}

impl AsyncRead for PipeReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut state = self.0.lock().unwrap();
        if state.bytes.is_empty() {
            if state.closed {
                return Poll::Ready(Ok(0));
            }
            state.reader = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = buf.len().min(state.bytes.len());
        for (slot, byte) in buf.iter_mut().zip(state.bytes.drain(..n)) {
            *slot = byte;
        }
        if let Some(waker) = state.writer.take() {
            waker.wake();
        }
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for PipeWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut state = self.0.lock().unwrap();
        if state.closed || state.reader_gone {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let room = state.capacity - state.bytes.len();
        if room == 0 {
            state.writer = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = room.min(buf.len());
        state.bytes.extend(&buf[..n]);
        if let Some(waker) = state.reader.take() {
            waker.wake();
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut state = self.0.lock().unwrap();
        state.closed = true;
        if let Some(waker) = state.reader.take() {
            waker.wake();
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for PipeReader {
    fn drop(&mut self) {
        let mut state = self.0.lock().unwrap();
        state.reader_gone = true;
        if let Some(waker) = state.writer.take() {
            waker.wake();
        }
    }
}

impl Drop for PipeWriter {
    fn drop(&mut self) {
        let mut state = self.0.lock().unwrap();
        state.closed = true;
        if let Some(waker) = state.reader.take() {
            waker.wake();
        }
    }
}

/// A reader fed by a task that writes `chunks` one at a time, yielding to
/// the loop between them, then ends the stream.
fn chunked(chunks: &[&[u8]], limit: usize) -> StreamReader {
    let (read, mut write) = pipe(1 << 20);
    let chunks: Vec<Vec<u8>> = chunks.iter().map(|c| c.to_vec()).collect();
    corio::create_task(async move {
        for chunk in chunks {
            let mut sent = 0;
            while sent < chunk.len() {
                sent +=
                    std::future::poll_fn(|cx| Pin::new(&mut write).poll_write(cx, &chunk[sent..]))
                        .await
                        .unwrap();
            }
            corio::yield_now().await;
            corio::yield_now().await;
        }
        drop(write);
    });
    StreamReader::with_limit(read, limit)
}

/// `text` split into pieces of `size` bytes.
fn pieces(text: &[u8], size: usize) -> Vec<&[u8]> {
    text.chunks(size).collect()
}
