//! asyncio streams on corio: `StreamReader`'s framed reads over input that
//! arrives in pieces, its limit and end-of-stream errors, `StreamWriter`'s
//! drain and shutdown, and `start_server`/`open_connection` (TCP and Unix)
//! end to end, faults included.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use corio::{StreamError, StreamReader, StreamWriter};
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

// ---------------------------------------------------------------------------
// StreamReader

#[test]
fn read_returns_what_has_arrived_and_empty_at_eof() {
    run_bounded(async {
        let mut reader = chunked(&[b"abc", b"defgh"], 1024);
        assert_eq!(reader.read(100).await.unwrap(), b"abc");
        assert_eq!(reader.read(2).await.unwrap(), b"de");
        assert_eq!(reader.read(100).await.unwrap(), b"fgh");
        assert!(
            !reader.at_eof(),
            "the end is not seen before a read returns it"
        );
        assert_eq!(reader.read(100).await.unwrap(), b"");
        assert!(reader.at_eof());
        assert_eq!(reader.read(0).await.unwrap(), b"");
    });
}

#[test]
fn readline_assembles_lines_from_one_byte_pieces() {
    run_bounded(async {
        let text = b"first line\nsecond\n\nlast without newline";
        let mut reader = chunked(&pieces(text, 1), 1024);
        assert_eq!(reader.readline().await.unwrap(), b"first line\n");
        assert_eq!(reader.readline().await.unwrap(), b"second\n");
        assert_eq!(reader.readline().await.unwrap(), b"\n");
        assert_eq!(reader.readline().await.unwrap(), b"last without newline");
        assert!(reader.at_eof());
        assert_eq!(reader.readline().await.unwrap(), b"");
    });
}

#[test]
fn readuntil_finds_a_separator_split_across_pieces() {
    run_bounded(async {
        let mut reader = chunked(&[b"HEAD\r", b"\n\r", b"\nbody--", b"--end"], 1024);
        assert_eq!(
            reader.readuntil(b"\r\n\r\n").await.unwrap(),
            b"HEAD\r\n\r\n"
        );
        assert_eq!(reader.readuntil(b"----").await.unwrap(), b"body----");
        assert_eq!(reader.read_to_end().await.unwrap(), b"end");
    });
}

#[test]
fn readuntil_at_eof_without_separator_gives_incomplete_read() {
    run_bounded(async {
        let mut reader = chunked(&[b"no ", b"separator"], 1024);
        match reader.readuntil(b";").await {
            Err(StreamError::IncompleteRead { partial, expected }) => {
                assert_eq!(partial, b"no separator");
                assert_eq!(expected, None);
            }
            other => panic!("expected IncompleteRead, got {other:?}"),
        }
        assert!(reader.at_eof(), "the partial bytes were consumed");
    });
}

#[test]
fn readuntil_rejects_an_empty_separator() {
    run_bounded(async {
        let mut reader = chunked(&[b"x"], 1024);
        let err = reader.readuntil(b"").await.unwrap_err();
        assert!(matches!(err, StreamError::Io(ref e) if e.kind() == io::ErrorKind::InvalidInput));
    });
}

#[test]
fn readexactly_waits_for_every_byte_across_pieces() {
    run_bounded(async {
        let frame: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        let mut input = vec![0x13, 0x88]; // 5000, big-endian
        input.extend_from_slice(&frame);
        let mut reader = chunked(&pieces(&input, 7), 1024);
        let header = reader.readexactly(2).await.unwrap();
        let len = usize::from(u16::from_be_bytes([header[0], header[1]]));
        assert_eq!(reader.readexactly(len).await.unwrap(), frame);
        assert_eq!(reader.readexactly(0).await.unwrap(), b"");
    });
}

#[test]
fn readexactly_at_eof_gives_incomplete_read_with_the_partial_bytes() {
    run_bounded(async {
        let mut reader = chunked(&[b"12", b"345"], 1024);
        match reader.readexactly(8).await {
            Err(StreamError::IncompleteRead { partial, expected }) => {
                assert_eq!(partial, b"12345");
                assert_eq!(expected, Some(8));
            }
            other => panic!("expected IncompleteRead, got {other:?}"),
        }
        assert!(reader.at_eof());
        let err = reader.readexactly(1).await.unwrap_err();
        assert!(err.is_incomplete_read());
        let io_err: io::Error = err.into();
        assert_eq!(io_err.kind(), io::ErrorKind::UnexpectedEof);
    });
}

#[test]
fn a_line_longer_than_the_limit_overruns_and_the_next_line_still_reads() {
    run_bounded(async {
        let mut text = b"short\n".to_vec();
        text.extend_from_slice(&[b'x'; 1000]);
        text.extend_from_slice(b"\nnext line\n");
        // The long line arrives in small pieces: the reader must not buffer
        // it all, and must discard exactly through its newline.
        let mut reader = chunked(&pieces(&text, 13), 64);
        assert_eq!(reader.limit(), 64);
        assert_eq!(reader.readline().await.unwrap(), b"short\n");
        match reader.readline().await {
            Err(StreamError::LimitOverrun { consumed }) => assert_eq!(consumed, 1001),
            other => panic!("expected LimitOverrun, got {other:?}"),
        }
        assert!(
            reader.buffer().len() <= 64 + 13,
            "the overlong line was not buffered whole"
        );
        assert_eq!(reader.readline().await.unwrap(), b"next line\n");
        assert_eq!(reader.readline().await.unwrap(), b"");
    });
}

#[test]
fn a_line_of_exactly_the_limit_is_accepted() {
    run_bounded(async {
        let mut reader = chunked(&[b"12345678\n123456789\nok\n"], 8);
        assert_eq!(reader.readline().await.unwrap(), b"12345678\n");
        let err = reader.readline().await.unwrap_err();
        assert!(matches!(err, StreamError::LimitOverrun { consumed: 10 }));
        let io_err: io::Error = err.into();
        assert_eq!(io_err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(reader.readline().await.unwrap(), b"ok\n");
    });
}

#[test]
fn set_limit_changes_the_limit_between_reads() {
    run_bounded(async {
        let mut reader = chunked(&[b"0123456789\n0123456789\n"], 4);
        assert!(reader.readline().await.unwrap_err().is_limit_overrun());
        reader.set_limit(16);
        assert_eq!(reader.readline().await.unwrap(), b"0123456789\n");
    });
}

#[test]
fn a_cancelled_readline_loses_no_bytes() {
    run_bounded(async {
        let (read, mut write) = pipe(1024);
        let mut reader = StreamReader::new(read);
        std::future::poll_fn(|cx| Pin::new(&mut write).poll_write(cx, b"partial "))
            .await
            .unwrap();
        // The line is incomplete: the read times out and is dropped.
        let timed_out = corio::timeout(Duration::from_millis(20), reader.readline()).await;
        assert!(timed_out.is_err());
        std::future::poll_fn(|cx| Pin::new(&mut write).poll_write(cx, b"line\n"))
            .await
            .unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"partial line\n");
    });
}

#[test]
fn the_reader_works_as_a_futures_io_buf_reader() {
    use futures_util::io::{AsyncBufReadExt, AsyncReadExt};
    run_bounded(async {
        let mut reader = chunked(&[b"alpha\nbe", b"ta\n", b"gamma"], 1024);
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        assert_eq!(line, "alpha\n");
        assert_eq!(reader.readline().await.unwrap(), b"beta\n");
        let mut rest = Vec::new();
        AsyncReadExt::read_to_end(&mut reader, &mut rest)
            .await
            .unwrap();
        assert_eq!(rest, b"gamma");
    });
}

// ---------------------------------------------------------------------------
// StreamWriter

#[test]
fn write_buffers_and_drain_sends() {
    run_bounded(async {
        let (read, write) = pipe(1 << 16);
        let mut reader = StreamReader::new(read);
        let mut writer = StreamWriter::new(write);
        writer.write(b"one ");
        writer.writelines([b"two ".as_slice(), b"three\n"]);
        assert_eq!(writer.write_buffer_size(), 14);
        writer.drain().await.unwrap();
        assert_eq!(writer.write_buffer_size(), 0);
        assert_eq!(reader.readline().await.unwrap(), b"one two three\n");
    });
}

#[test]
fn a_slow_reader_makes_drain_wait() {
    run_bounded(async {
        let (read, write) = pipe(1024); // the "socket" holds 1 KiB
        let mut writer = StreamWriter::new(write);
        writer.set_write_buffer_limits(4096, 1024);
        assert_eq!(writer.write_buffer_limits(), (4096, 1024));
        let payload: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
        writer.write(&payload);
        assert!(writer.is_above_high_water());

        let read_so_far = Arc::new(AtomicUsize::new(0));
        let consumer = corio::create_task({
            let read_so_far = read_so_far.clone();
            async move {
                let mut reader = StreamReader::new(read);
                let mut got = Vec::new();
                loop {
                    corio::sleep(Duration::from_millis(1)).await; // a slow reader
                    let chunk = reader.read(4096).await.unwrap();
                    if chunk.is_empty() {
                        return got;
                    }
                    got.extend_from_slice(&chunk);
                    read_so_far.store(got.len(), Ordering::SeqCst);
                }
            }
        });
        // drain cannot finish before the reader took all but the pipe's worth.
        writer.drain().await.unwrap();
        assert!(
            read_so_far.load(Ordering::SeqCst) >= payload.len() - 1024 - 4096,
            "drain returned before the reader caught up"
        );
        assert_eq!(writer.write_buffer_size(), 0);
        assert!(!writer.is_above_high_water());
        writer.close();
        writer.wait_closed().await.unwrap();
        assert_eq!(consumer.await.unwrap(), payload);
    });
}

#[test]
fn a_cancelled_drain_loses_no_bytes() {
    run_bounded(async {
        let (read, write) = pipe(100);
        let mut writer = StreamWriter::new(write);
        let payload: Vec<u8> = (0..250u8).collect();
        writer.write(&payload);
        // Nobody reads: the drain stalls after 100 bytes and is dropped.
        assert!(corio::timeout(Duration::from_millis(20), writer.drain())
            .await
            .is_err());
        assert_eq!(writer.write_buffer_size(), 150);
        let consumer =
            corio::create_task(async move { StreamReader::new(read).read_to_end().await.unwrap() });
        writer.wait_closed().await.unwrap();
        assert_eq!(consumer.await.unwrap(), payload);
    });
}

#[test]
#[should_panic(expected = "must not exceed high")]
fn water_marks_reject_low_above_high() {
    let (_read, write) = pipe(16);
    StreamWriter::new(write).set_write_buffer_limits(10, 20);
}

#[test]
fn write_eof_sends_the_buffer_then_the_end_of_the_stream() {
    run_bounded(async {
        let (read, write) = pipe(1024);
        let mut reader = StreamReader::new(read);
        let mut writer = StreamWriter::new(write);
        writer.write(b"last words");
        writer.write_eof().await.unwrap();
        assert!(!writer.is_open());
        assert!(!writer.is_closing(), "write_eof is not close");
        assert_eq!(reader.read_to_end().await.unwrap(), b"last words");
        assert!(reader.at_eof());
    });
}

#[test]
fn writing_after_close_is_reported_by_drain() {
    run_bounded(async {
        let (_read, write) = pipe(1024);
        let mut writer = StreamWriter::new(write);
        writer.close();
        assert!(writer.is_closing());
        writer.write(b"too late");
        let err = writer.drain().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        writer.wait_closed().await.unwrap();
        writer.wait_closed().await.unwrap(); // idempotent
    });
}

#[test]
fn a_failed_send_fails_every_later_drain() {
    run_bounded(async {
        let (read, write) = pipe(1024);
        drop(read); // the peer is gone
        let mut writer = StreamWriter::new(write);
        writer.write(b"into the void");
        let err = writer.drain().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        assert_eq!(writer.write_buffer_size(), 0, "the buffer is dropped");
        writer.write(b"again");
        let err = writer.drain().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        assert!(writer.wait_closed().await.is_err());
    });
}

// ---------------------------------------------------------------------------
// TCP: start_server + open_connection

async fn echo(mut reader: StreamReader, mut writer: StreamWriter) {
    loop {
        match reader.readline().await {
            Ok(line) if line.is_empty() => break,
            Ok(line) => {
                writer.write(&line);
                if writer.drain().await.is_err() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let _ = writer.wait_closed().await;
}

#[test]
fn an_echo_server_round_trips_lines_for_several_clients() {
    run_bounded(async {
        let server = corio::start_server(echo, "127.0.0.1:0").await.unwrap();
        assert!(server.is_serving());
        let addr = server.local_addr().unwrap();
        let clients: Vec<_> = (0..5)
            .map(|i| {
                corio::create_task(async move {
                    let (mut reader, mut writer) = corio::open_connection(addr).await.unwrap();
                    assert_eq!(writer.peer_addr(), Some(addr));
                    assert!(writer.local_addr().is_some());
                    for j in 0..20 {
                        let line = format!("client {i} line {j}\n");
                        writer.write(line.as_bytes());
                        writer.drain().await.unwrap();
                        assert_eq!(reader.readline().await.unwrap(), line.as_bytes());
                    }
                    writer.write_eof().await.unwrap();
                    assert_eq!(
                        reader.read_to_end().await.unwrap(),
                        b"",
                        "the server closes after our EOF"
                    );
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
        server.close();
        server.wait_closed().await;
        assert_eq!(server.connections(), 0);
    });
}

#[test]
fn a_large_transfer_survives_flow_control_both_ways() {
    run_bounded(async {
        let server = corio::start_server(
            |mut reader: StreamReader, mut writer: StreamWriter| async move {
                // Echo in 64 KiB pieces until EOF.
                loop {
                    let chunk = reader.read(65536).await.unwrap();
                    if chunk.is_empty() {
                        break;
                    }
                    writer.write(&chunk);
                    writer.drain().await.unwrap();
                }
                writer.wait_closed().await.unwrap();
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut reader, mut writer) = corio::open_connection(server.local_addr().unwrap())
            .await
            .unwrap();
        let payload: Vec<u8> = (0..=250u8).cycle().take(8 << 20).collect();
        let sender = corio::create_task({
            let payload = payload.clone();
            async move {
                for piece in payload.chunks(100_000) {
                    writer.write(piece);
                    writer.drain().await.unwrap();
                }
                writer.write_eof().await.unwrap();
            }
        });
        let echoed = reader.read_to_end().await.unwrap();
        sender.await.unwrap();
        assert!(echoed == payload, "echoed bytes differ");
    });
}

#[test]
fn the_server_keeps_serving_when_a_handler_panics() {
    run_bounded(async {
        let server = corio::start_server(
            |mut reader: StreamReader, mut writer: StreamWriter| async move {
                let line = reader.readline().await.unwrap();
                if line == b"panic\n" {
                    panic!("handler told to panic");
                }
                writer.write(b"fine\n");
                writer.wait_closed().await.unwrap();
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let addr = server.local_addr().unwrap();
        for _ in 0..2 {
            let (mut reader, mut writer) = corio::open_connection(addr).await.unwrap();
            writer.write(b"panic\n");
            writer.drain().await.unwrap();
            // The panicking handler's connection is dropped: we read EOF.
            assert_eq!(reader.read_to_end().await.unwrap(), b"");
        }
        let (mut reader, mut writer) = corio::open_connection(addr).await.unwrap();
        writer.write(b"hello\n");
        writer.drain().await.unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"fine\n");
        assert!(server.is_serving());
        server.close();
        server.wait_closed().await;
    });
}

#[test]
fn close_stops_accepting_and_wait_closed_waits_for_running_handlers() {
    run_bounded(async {
        let finished = Arc::new(AtomicUsize::new(0));
        let server = corio::start_server(
            {
                let finished = finished.clone();
                move |mut reader: StreamReader, mut writer: StreamWriter| {
                    let finished = finished.clone();
                    async move {
                        // Serve until the client sends its end.
                        let _ = reader.read_to_end().await;
                        writer.write(b"bye\n");
                        let _ = writer.wait_closed().await;
                        finished.fetch_add(1, Ordering::SeqCst);
                    }
                }
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let addr = server.local_addr().unwrap();
        let (mut reader, mut writer) = corio::open_connection(addr).await.unwrap();
        writer.write(b"hi");
        writer.drain().await.unwrap();
        while server.connections() == 0 {
            corio::sleep(Duration::from_millis(1)).await;
        }

        server.close();
        assert!(!server.is_serving());
        server.serve_forever().await; // returns at once once closed
                                      // New connections are refused; the existing one keeps running.
        let refused = corio::open_connection(addr).await;
        assert_eq!(
            refused.unwrap_err().kind(),
            io::ErrorKind::ConnectionRefused
        );
        assert!(
            corio::timeout(Duration::from_millis(30), server.wait_closed())
                .await
                .is_err(),
            "wait_closed must wait for the running handler"
        );
        assert_eq!(finished.load(Ordering::SeqCst), 0);

        writer.write_eof().await.unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"bye\n");
        server.wait_closed().await;
        assert_eq!(finished.load(Ordering::SeqCst), 1);
        assert_eq!(server.connections(), 0);
    });
}

#[test]
fn a_server_closed_at_once_still_finishes_closing() {
    run_bounded(async {
        // Closed before its accept task ever ran.
        let server = corio::start_server(echo, "127.0.0.1:0").await.unwrap();
        server.close();
        server.wait_closed().await;
        assert!(!server.is_serving());
    });
}

#[test]
fn dropping_the_server_stops_accepting() {
    run_bounded(async {
        let server = corio::start_server(echo, "127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        drop(server);
        corio::sleep(Duration::from_millis(5)).await; // the accept task is dropped
        let err = corio::open_connection(addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    });
}

#[test]
fn connecting_to_a_closed_port_is_refused_naming_the_address() {
    run_bounded(async {
        // Bind then free a port, so nothing listens on it.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let err = corio::open_connection(addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        assert!(
            err.to_string().contains(&addr.to_string()),
            "message without the address: {err}"
        );
    });
}

#[test]
fn a_peer_that_vanishes_mid_line_gives_the_partial_line() {
    run_bounded(async {
        let server = corio::start_server(
            |_reader: StreamReader, mut writer: StreamWriter| async move {
                writer.write(b"no newline here");
                let _ = writer.wait_closed().await;
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut reader, _writer) = corio::open_connection(server.local_addr().unwrap())
            .await
            .unwrap();
        assert!(reader
            .readuntil(b"\n")
            .await
            .unwrap_err()
            .is_incomplete_read());
        assert!(reader.at_eof());
    });
}

// ---------------------------------------------------------------------------
// Unix sockets

fn socket_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("corio-streams-{}-{name}.sock", std::process::id()))
}

#[test]
fn a_unix_echo_server_round_trips_and_cleans_up_its_socket() {
    run_bounded(async {
        let path = socket_path("echo");
        let server = corio::start_unix_server(echo, &path).await.unwrap();
        assert_eq!(server.unix_path(), Some(path.as_path()));
        assert_eq!(server.local_addr(), None);
        let (mut reader, mut writer) = corio::open_unix_connection(&path).await.unwrap();
        assert_eq!(writer.peer_addr(), None);
        for line in [&b"one\n"[..], b"two\n"] {
            writer.write(line);
            writer.drain().await.unwrap();
            assert_eq!(reader.readline().await.unwrap(), line);
        }
        writer.write_eof().await.unwrap();
        assert_eq!(reader.read_to_end().await.unwrap(), b"");
        server.close();
        server.wait_closed().await;
        assert!(!path.exists(), "the socket file is removed on close");
        let err = corio::open_unix_connection(&path).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains(&path.display().to_string()));
    });
}

#[test]
fn a_stale_unix_socket_file_is_replaced() {
    run_bounded(async {
        let path = socket_path("stale");
        let stale = std::os::unix::net::UnixListener::bind(&path).unwrap();
        drop(stale); // leaves the file behind
        assert!(path.exists());
        let server = corio::start_unix_server(echo, &path).await.unwrap();
        let (mut reader, mut writer) = corio::open_unix_connection(&path).await.unwrap();
        writer.write(b"fresh\n");
        writer.drain().await.unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"fresh\n");
        drop(server);
    });
}
