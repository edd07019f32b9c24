//! [`StreamWriter`]: asyncio's `StreamWriter`, a buffered writer over the
//! write half of a connection: `write` buffers, `drain` sends (vectored: one
//! `writev` of the buffered chunks, see `writer/chunks.rs`).

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::AsyncWrite;

mod chunks;

use chunks::Chunks;

/// asyncio's default high-water mark: 64 KiB.
const DEFAULT_HIGH: usize = 64 * 1024;
/// asyncio's default low-water mark: a quarter of the high one.
const DEFAULT_LOW: usize = DEFAULT_HIGH / 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Open,
    /// `write_eof` finished: the write direction is shut down.
    EofSent,
    /// `close` was called; `wait_closed` finishes the job.
    Closing,
    /// `wait_closed` closed the writer and dropped the write half.
    Closed,
}

/// A buffered writer over the write half of a stream (asyncio's
/// `StreamWriter`), as returned by [`open_connection`](super::open_connection)
/// and handed to [`start_server`](super::start_server)'s handler.
///
/// | asyncio | corio |
/// |---|---|
/// | `writer.write(data)` | [`write`](Self::write)`(data)` |
/// | `writer.writelines(lines)` | [`writelines`](Self::writelines)`(lines)` |
/// | `await writer.drain()` | [`drain`](Self::drain)`().await` |
/// | `writer.write_eof()` | [`write_eof`](Self::write_eof)`().await` |
/// | `writer.close()` | [`close`](Self::close)`()` |
/// | `await writer.wait_closed()` | [`wait_closed`](Self::wait_closed)`().await` |
/// | `writer.is_closing()` | [`is_closing`](Self::is_closing)`()` |
/// | `writer.get_extra_info("peername")` | [`peer_addr`](Self::peer_addr)`()` |
/// | `transport.set_write_buffer_limits(high, low)` | [`set_write_buffer_limits`](Self::set_write_buffer_limits)`(high, low)` |
///
/// **Where the bytes go out.** asyncio's transport sends in the background;
/// corio has no transport task, so [`write`](Self::write) only appends to
/// the buffer (it never blocks and never fails) and the bytes leave in
/// [`drain`](Self::drain), [`write_eof`](Self::write_eof) and
/// [`wait_closed`](Self::wait_closed). Write, then drain — the asyncio idiom
/// — and nothing stays behind. A writer dropped with bytes still buffered
/// loses them.
///
/// **Flow control.** asyncio's `drain()` waits while the buffer is above
/// the high-water mark, until it is back below the low-water mark. corio's
/// `drain()` sends the whole buffer, so it returns once the buffer is empty
/// (below any low-water mark): a slow reader makes `drain()` wait, and a
/// producer that drains after each write never holds more than one write's
/// worth of bytes. Because nothing sends in the background, `drain()` cannot
/// return with bytes left in the buffer without risking a deadlock (the
/// peer waiting for the tail of a request that nobody sends), so the water
/// marks set with [`set_write_buffer_limits`](Self::set_write_buffer_limits)
/// are advisory: [`is_above_high_water`](Self::is_above_high_water) tells a
/// producer that batches several writes when to drain.
///
/// **Cancellation.** Dropping a `drain` future midway loses nothing: what was
/// sent is accounted for, the rest stays buffered for the next `drain`.
///
/// ```
/// use corio::StreamWriter;
///
/// corio::run(async {
///     let mut writer = StreamWriter::new(futures_io_sink());
///     writer.write(b"hello ");
///     writer.writelines([&b"wor"[..], b"ld\n"]);
///     assert_eq!(writer.write_buffer_size(), 12);
///     writer.drain().await.unwrap();
///     assert_eq!(writer.write_buffer_size(), 0);
///     writer.close();
///     writer.wait_closed().await.unwrap();
/// });
/// # fn futures_io_sink() -> impl futures_io::AsyncWrite + Send + Unpin + 'static {
/// #     struct Sink;
/// #     impl futures_io::AsyncWrite for Sink {
/// #         fn poll_write(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>, b: &[u8]) -> std::task::Poll<std::io::Result<usize>> { std::task::Poll::Ready(Ok(b.len())) }
/// #         fn poll_flush(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> { std::task::Poll::Ready(Ok(())) }
/// #         fn poll_close(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> { std::task::Poll::Ready(Ok(())) }
/// #     }
/// #     Sink
/// # }
/// ```
pub struct StreamWriter {
    /// `None` once closed.
    inner: Option<Box<dyn AsyncWrite + Send + Unpin>>,
    /// What is still to be sent.
    buf: Chunks,
    high: usize,
    low: usize,
    state: State,
    /// Bytes were written after `write_eof`/`close`, and dropped.
    wrote_after_close: bool,
    /// The first error the write half gave; every later send fails with it.
    failed: Option<(io::ErrorKind, String)>,
    local: Option<SocketAddr>,
    peer: Option<SocketAddr>,
}

impl StreamWriter {
    /// Wraps `inner` (any futures-io writer: the write half of a
    /// [`corio::net`](crate::net) stream, a pipe) with asyncio's default
    /// water marks (64 KiB high, 16 KiB low) and no addresses.
    ///
    /// [`write_eof`](Self::write_eof) and [`wait_closed`](Self::wait_closed)
    /// end with `inner`'s `poll_close`, which for corio's socket halves shuts
    /// the write direction down.
    pub fn new<W>(inner: W) -> StreamWriter
    where
        W: AsyncWrite + Send + Unpin + 'static,
    {
        StreamWriter {
            inner: Some(Box::new(inner)),
            buf: Chunks::default(),
            high: DEFAULT_HIGH,
            low: DEFAULT_LOW,
            state: State::Open,
            wrote_after_close: false,
            failed: None,
            local: None,
            peer: None,
        }
    }

    /// Records the connection's addresses, for [`local_addr`](Self::local_addr)
    /// and [`peer_addr`](Self::peer_addr).
    pub fn with_addrs(
        mut self,
        local: Option<SocketAddr>,
        peer: Option<SocketAddr>,
    ) -> StreamWriter {
        self.local = local;
        self.peer = peer;
        self
    }

    /// The remote address of a TCP connection (asyncio's
    /// `get_extra_info("peername")`); `None` for Unix sockets and writers
    /// made with [`new`](Self::new).
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The local address of a TCP connection (asyncio's
    /// `get_extra_info("sockname")`); `None` for Unix sockets and writers
    /// made with [`new`](Self::new).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local
    }

    /// Appends `data` to the buffer (asyncio's `write`). Never blocks; the
    /// bytes are sent by the next [`drain`](Self::drain).
    ///
    /// After [`write_eof`](Self::write_eof) or [`close`](Self::close) the
    /// bytes are dropped and the next `drain` fails with
    /// [`BrokenPipe`](io::ErrorKind::BrokenPipe).
    pub fn write(&mut self, data: &[u8]) {
        if self.state != State::Open {
            self.wrote_after_close |= !data.is_empty();
            return;
        }
        if self.failed.is_some() {
            return; // The next drain reports the failure.
        }
        self.buf.push(data);
    }

    /// Writes each item in turn (asyncio's `writelines`).
    pub fn writelines<I>(&mut self, lines: I)
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        for line in lines {
            self.write(line.as_ref());
        }
    }

    /// The number of bytes buffered and not yet sent (asyncio's
    /// `transport.get_write_buffer_size()`).
    pub fn write_buffer_size(&self) -> usize {
        self.buf.len()
    }

    /// Sets the high- and low-water marks (asyncio's
    /// `transport.set_write_buffer_limits(high, low)`). See the type's docs
    /// on flow control: corio's `drain` always empties the buffer, so the
    /// marks only drive [`is_above_high_water`](Self::is_above_high_water).
    ///
    /// # Panics
    ///
    /// If `low > high` (asyncio raises `ValueError`).
    pub fn set_write_buffer_limits(&mut self, high: usize, low: usize) {
        assert!(
            low <= high,
            "set_write_buffer_limits: low ({low}) must not exceed high ({high})"
        );
        self.high = high;
        self.low = low;
    }

    /// The `(high, low)` water marks.
    pub fn write_buffer_limits(&self) -> (usize, usize) {
        (self.high, self.low)
    }

    /// Whether the buffer holds more than the high-water mark: time to
    /// [`drain`](Self::drain) (asyncio pauses the writer here).
    pub fn is_above_high_water(&self) -> bool {
        self.write_buffer_size() > self.high
    }

    /// Sends everything buffered and flushes the write half (asyncio's
    /// `drain()`). Waits as long as the peer is slow to read.
    ///
    /// # Errors
    ///
    /// The write half's error (the peer reset the connection, ...); once a
    /// send failed, every later `drain` fails with the same kind of error and
    /// buffered bytes are dropped. [`BrokenPipe`](io::ErrorKind::BrokenPipe)
    /// when bytes were written after [`write_eof`](Self::write_eof) or
    /// [`close`](Self::close).
    pub async fn drain(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_send_all(cx)).await?;
        if self.wrote_after_close {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "StreamWriter: write() after write_eof() or close(); the bytes were dropped",
            ));
        }
        Ok(())
    }

    /// Sends what is buffered, then shuts the write direction down so the
    /// peer reads the end of the stream (asyncio's `write_eof()`; async here
    /// because it sends the buffered bytes first). The reading direction
    /// stays open. Later writes are dropped (see [`write`](Self::write)).
    ///
    /// # Errors
    ///
    /// As [`drain`](Self::drain), and the write half's shutdown error.
    pub async fn write_eof(&mut self) -> io::Result<()> {
        if self.state != State::Open {
            return Ok(());
        }
        poll_fn(|cx| self.poll_send_all(cx)).await?;
        poll_fn(|cx| self.poll_close_inner(cx)).await?;
        self.state = State::EofSent;
        Ok(())
    }

    /// Whether the write direction can still be fed: neither
    /// [`write_eof`](Self::write_eof) nor [`close`](Self::close) was called.
    /// (asyncio's `can_write_eof()` is always true for sockets; this answers
    /// the more useful question.)
    pub fn is_open(&self) -> bool {
        self.state == State::Open
    }

    /// Starts closing the writer (asyncio's `close()`): later writes are
    /// dropped; [`wait_closed`](Self::wait_closed) sends what is buffered,
    /// shuts the write direction down and releases the write half.
    pub fn close(&mut self) {
        if matches!(self.state, State::Open | State::EofSent) {
            self.state = State::Closing;
        }
    }

    /// Whether [`close`](Self::close) was called (asyncio's `is_closing()`).
    pub fn is_closing(&self) -> bool {
        matches!(self.state, State::Closing | State::Closed)
    }

    /// Finishes closing (asyncio's `wait_closed()`): sends what is buffered,
    /// shuts the write direction down, and drops the write half (the socket
    /// closes once its read half is dropped too). Calls
    /// [`close`](Self::close) first if it was not called. Idempotent.
    ///
    /// # Errors
    ///
    /// As [`drain`](Self::drain); the write half is released even then.
    pub async fn wait_closed(&mut self) -> io::Result<()> {
        self.close();
        if self.state == State::Closed {
            return Ok(());
        }
        let sent = poll_fn(|cx| self.poll_send_all(cx)).await;
        let closed = match sent {
            Ok(()) => poll_fn(|cx| self.poll_close_inner(cx)).await,
            Err(err) => Err(err),
        };
        self.inner = None;
        self.state = State::Closed;
        self.buf = Chunks::default();
        closed
    }

    /// Sends the buffered chunks (vectored: as many as one `writev` takes),
    /// then flushes.
    fn poll_send_all(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some((kind, message)) = &self.failed {
            return Poll::Ready(Err(io::Error::new(*kind, message.clone())));
        }
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(Ok(())); // closed: the buffer is empty
        };
        while !self.buf.is_empty() {
            let written = self
                .buf
                .with_slices(|slices| Pin::new(&mut **inner).poll_write_vectored(cx, slices));
            match written {
                Poll::Ready(Ok(0)) => {
                    let err =
                        io::Error::new(io::ErrorKind::WriteZero, "the stream accepted no bytes");
                    return Poll::Ready(Err(self.fail(err)));
                }
                Poll::Ready(Ok(n)) => self.buf.consume(n),
                Poll::Ready(Err(err)) if err.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(err)) => return Poll::Ready(Err(self.fail(err))),
                Poll::Pending => return Poll::Pending,
            }
        }
        match Pin::new(&mut **inner).poll_flush(cx) {
            Poll::Ready(Err(err)) => Poll::Ready(Err(self.fail(err))),
            other => other,
        }
    }

    fn poll_close_inner(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.inner.as_mut() {
            Some(inner) => Pin::new(&mut **inner).poll_close(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    /// Records the first failure and drops the buffer.
    fn fail(&mut self, err: io::Error) -> io::Error {
        self.failed = Some((err.kind(), err.to_string()));
        self.buf = Chunks::default();
        err
    }
}

impl fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamWriter")
            .field("buffered", &self.write_buffer_size())
            .field("state", &self.state)
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}
