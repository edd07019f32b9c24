//! [`StreamReader`]: asyncio's `StreamReader`, a buffered reader over the
//! read half of a connection, with framed reads (`readline`, `readuntil`,
//! `readexactly`) and a line limit.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncBufRead, AsyncRead};

use super::error::StreamError;

/// asyncio's default limit (`_DEFAULT_LIMIT`): 64 KiB.
const DEFAULT_LIMIT: usize = 64 * 1024;

/// The least free space a read from the underlying stream is offered.
const MIN_READ: usize = 16 * 1024;

/// A buffered reader over the read half of a stream (asyncio's
/// `StreamReader`), as returned by [`open_connection`](super::open_connection)
/// and handed to [`start_server`](super::start_server)'s handler.
///
/// | asyncio | corio |
/// |---|---|
/// | `await reader.read(n)` | [`read`](Self::read)`(n).await` |
/// | `await reader.read()` / `read(-1)` | [`read_to_end`](Self::read_to_end)`().await` |
/// | `await reader.readline()` | [`readline`](Self::readline)`().await` |
/// | `await reader.readuntil(sep)` | [`readuntil`](Self::readuntil)`(sep).await` |
/// | `await reader.readexactly(n)` | [`readexactly`](Self::readexactly)`(n).await` |
/// | `reader.at_eof()` | [`at_eof`](Self::at_eof)`()` |
/// | `StreamReader(limit=n)` | [`set_limit`](Self::set_limit)`(n)` |
///
/// Any [`futures_io::AsyncRead`] can be wrapped with [`StreamReader::new`];
/// the reader itself implements `AsyncRead` and `AsyncBufRead`, so it works
/// with the futures-io ecosystem.
///
/// **Cancellation.** Bytes are moved into the reader's buffer before they
/// are returned, so dropping a `read`, `readline`, `readuntil` or
/// `readexactly` future before it completes loses nothing: the next read
/// sees the same bytes. (The one exception is the discarding that follows a
/// [`LimitOverrun`](StreamError::LimitOverrun): dropped midway, the rest of
/// the overlong chunk is left to be read.)
///
/// ```
/// use corio::StreamReader;
///
/// corio::run(async {
///     // Any futures-io reader works; here, a byte slice.
///     let mut reader = StreamReader::new(&b"GET / HTTP/1.1\r\nHost: x\r\n\r\nbody"[..]);
///     assert_eq!(reader.readline().await.unwrap(), b"GET / HTTP/1.1\r\n");
///     assert_eq!(reader.readuntil(b"\r\n\r\n").await.unwrap(), b"Host: x\r\n\r\n");
///     assert_eq!(reader.readexactly(4).await.unwrap(), b"body");
///     assert_eq!(reader.read(100).await.unwrap(), b""); // the end of the stream
///     assert!(reader.at_eof());
/// });
/// ```
pub struct StreamReader {
    inner: Box<dyn AsyncRead + Send + Unpin>,
    /// `buf[start..end]` holds the unread bytes; the whole `buf` is
    /// initialized, so reads go straight into `buf[end..]`.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    limit: usize,
}

impl StreamReader {
    /// Wraps `inner` (any futures-io reader: the read half of a
    /// [`corio::net`](crate::net) stream, a pipe, a byte slice) with the
    /// default limit of 64 KiB.
    ///
    /// ```
    /// let reader = corio::StreamReader::new(&b"hello"[..]);
    /// assert_eq!(reader.limit(), 64 * 1024);
    /// ```
    pub fn new<R>(inner: R) -> StreamReader
    where
        R: AsyncRead + Send + Unpin + 'static,
    {
        StreamReader::with_limit(inner, DEFAULT_LIMIT)
    }

    /// Wraps `inner` with the given line limit (asyncio's `limit=`
    /// argument); see [`set_limit`](Self::set_limit).
    ///
    /// # Panics
    ///
    /// If `limit` is 0.
    pub fn with_limit<R>(inner: R, limit: usize) -> StreamReader
    where
        R: AsyncRead + Send + Unpin + 'static,
    {
        assert!(limit > 0, "StreamReader limit must be positive");
        StreamReader {
            inner: Box::new(inner),
            buf: Vec::new(),
            start: 0,
            end: 0,
            eof: false,
            limit,
        }
    }

    /// The limit on the length of a chunk [`readline`](Self::readline) and
    /// [`readuntil`](Self::readuntil) return, separator excluded (asyncio's
    /// `limit`, default 64 KiB).
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Sets the limit of [`readline`](Self::readline) and
    /// [`readuntil`](Self::readuntil): a chunk longer than `limit` bytes
    /// before its separator fails with
    /// [`LimitOverrun`](StreamError::LimitOverrun). Other reads are not
    /// limited.
    ///
    /// # Panics
    ///
    /// If `limit` is 0.
    pub fn set_limit(&mut self, limit: usize) {
        assert!(limit > 0, "StreamReader limit must be positive");
        self.limit = limit;
    }

    /// Whether the stream has ended and every byte of it was read (asyncio's
    /// `at_eof()`). The end is only seen by a read that returned it; until
    /// then this is `false`.
    pub fn at_eof(&self) -> bool {
        self.eof && self.start == self.end
    }

    /// The bytes read from the stream and not yet returned.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Reads up to `n` bytes (asyncio's `read(n)`): what is buffered, or else
    /// what one read of the underlying stream gives. Returns an empty vector
    /// at the end of the stream, or when `n` is 0.
    ///
    /// ```
    /// corio::run(async {
    ///     let mut reader = corio::StreamReader::new(&b"abcdef"[..]);
    ///     assert_eq!(reader.read(4).await.unwrap(), b"abcd");
    ///     assert_eq!(reader.read(4).await.unwrap(), b"ef");
    ///     assert!(reader.read(4).await.unwrap().is_empty()); // EOF
    /// });
    /// ```
    pub async fn read(&mut self, n: usize) -> io::Result<Vec<u8>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        poll_fn(|cx| self.poll_buffered(cx)).await?;
        Ok(self.take(n.min(self.end - self.start)))
    }

    /// Reads everything up to the end of the stream (asyncio's `read()` /
    /// `read(-1)`). Not subject to the limit.
    ///
    /// ```
    /// corio::run(async {
    ///     let mut reader = corio::StreamReader::new(&b"all of it"[..]);
    ///     assert_eq!(reader.read_to_end().await.unwrap(), b"all of it");
    /// });
    /// ```
    pub async fn read_to_end(&mut self) -> io::Result<Vec<u8>> {
        while !self.eof {
            poll_fn(|cx| self.poll_fill(cx)).await?;
        }
        Ok(self.take(self.end - self.start))
    }

    /// Reads one line, up to and including `b'\n'` (asyncio's `readline()`).
    /// At the end of the stream it returns the partial last line, which is
    /// empty once everything was read.
    ///
    /// # Errors
    ///
    /// [`LimitOverrun`](StreamError::LimitOverrun) when the line is longer
    /// than the [limit](Self::limit): the line is discarded through its
    /// `b'\n'` and the next `readline` returns the next line.
    /// [`Io`](StreamError::Io) when the stream fails.
    ///
    /// ```
    /// corio::run(async {
    ///     let mut reader = corio::StreamReader::new(&b"one\ntwo"[..]);
    ///     assert_eq!(reader.readline().await.unwrap(), b"one\n");
    ///     assert_eq!(reader.readline().await.unwrap(), b"two");
    ///     assert_eq!(reader.readline().await.unwrap(), b"");
    /// });
    /// ```
    pub async fn readline(&mut self) -> Result<Vec<u8>, StreamError> {
        match self.readuntil(b"\n").await {
            Err(StreamError::IncompleteRead { partial, .. }) => Ok(partial),
            other => other,
        }
    }

    /// Reads up to and including the separator `sep` (asyncio's
    /// `readuntil(separator)`).
    ///
    /// # Errors
    ///
    /// - [`IncompleteRead`](StreamError::IncompleteRead) when the stream
    ///   ends before `sep`: `partial` holds the remaining bytes, now
    ///   consumed, and `expected` is `None`.
    /// - [`LimitOverrun`](StreamError::LimitOverrun) when more than
    ///   [`limit`](Self::limit) bytes come before `sep`. Unlike asyncio
    ///   (which leaves the bytes buffered), the overlong chunk is discarded
    ///   through its separator — reading on as needed, never buffering much
    ///   more than the limit — so the reader is positioned at the start of
    ///   the next chunk. `consumed` counts the discarded bytes, separator
    ///   included.
    /// - [`Io`](StreamError::Io) when the stream fails, or with
    ///   [`InvalidInput`](io::ErrorKind::InvalidInput) when `sep` is empty.
    ///
    /// ```
    /// use corio::{StreamError, StreamReader};
    ///
    /// corio::run(async {
    ///     let mut reader = StreamReader::with_limit(&b"a very long record;ok;rest"[..], 8);
    ///     let err = reader.readuntil(b";").await.unwrap_err();
    ///     assert!(matches!(err, StreamError::LimitOverrun { consumed: 19 }));
    ///     assert_eq!(reader.readuntil(b";").await.unwrap(), b"ok;");
    ///     let err = reader.readuntil(b";").await.unwrap_err();
    ///     assert!(matches!(err, StreamError::IncompleteRead { ref partial, expected: None } if partial == b"rest"));
    /// });
    /// ```
    pub async fn readuntil(&mut self, sep: &[u8]) -> Result<Vec<u8>, StreamError> {
        if sep.is_empty() {
            return Err(StreamError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "readuntil: the separator must not be empty",
            )));
        }
        // Where the search resumes: bytes before it are known not to start
        // a separator.
        let mut searched = 0;
        loop {
            let buffered = &self.buf[self.start..self.end];
            if let Some(at) = find(&buffered[searched..], sep).map(|i| i + searched) {
                if at > self.limit {
                    let consumed = at + sep.len();
                    self.consume_buffered(consumed);
                    return Err(StreamError::LimitOverrun { consumed });
                }
                return Ok(self.take(at + sep.len()));
            }
            searched = (buffered.len() + 1).saturating_sub(sep.len());
            if searched > self.limit {
                return Err(self.discard_through(sep).await);
            }
            if self.eof {
                let partial = self.take(self.end - self.start);
                return Err(StreamError::IncompleteRead {
                    partial,
                    expected: None,
                });
            }
            poll_fn(|cx| self.poll_fill(cx)).await?;
        }
    }

    /// After a limit overrun: drops bytes until just past the next `sep`
    /// (or to the end of the stream), keeping at most `sep.len() - 1` bytes
    /// buffered between reads. Returns the `LimitOverrun` error, or the IO
    /// error that interrupted the discarding.
    async fn discard_through(&mut self, sep: &[u8]) -> StreamError {
        let mut consumed = 0;
        loop {
            let buffered = &self.buf[self.start..self.end];
            if let Some(at) = find(buffered, sep) {
                consumed += at + sep.len();
                self.consume_buffered(at + sep.len());
                return StreamError::LimitOverrun { consumed };
            }
            // Keep a tail that may be the start of a separator.
            let drop = (buffered.len() + 1).saturating_sub(sep.len());
            let drop = if self.eof { buffered.len() } else { drop };
            consumed += drop;
            self.consume_buffered(drop);
            if self.eof {
                return StreamError::LimitOverrun { consumed };
            }
            if let Err(err) = poll_fn(|cx| self.poll_fill(cx)).await {
                return StreamError::Io(err);
            }
        }
    }

    /// Reads exactly `n` bytes (asyncio's `readexactly(n)`).
    ///
    /// # Errors
    ///
    /// [`IncompleteRead`](StreamError::IncompleteRead) when the stream ends
    /// first: `partial` holds the bytes that were there (now consumed) and
    /// `expected` is `Some(n)`. [`Io`](StreamError::Io) when the stream fails.
    ///
    /// ```
    /// use corio::StreamError;
    ///
    /// corio::run(async {
    ///     let mut reader = corio::StreamReader::new(&b"\x00\x03abc\x00\x05de"[..]);
    ///     let len = reader.readexactly(2).await.unwrap();
    ///     assert_eq!(reader.readexactly(len[1].into()).await.unwrap(), b"abc");
    ///     let len = reader.readexactly(2).await.unwrap();
    ///     match reader.readexactly(len[1].into()).await {
    ///         Err(StreamError::IncompleteRead { partial, expected }) => {
    ///             assert_eq!((partial.as_slice(), expected), (&b"de"[..], Some(5)));
    ///         }
    ///         other => panic!("{other:?}"),
    ///     }
    /// });
    /// ```
    pub async fn readexactly(&mut self, n: usize) -> Result<Vec<u8>, StreamError> {
        while self.end - self.start < n {
            if self.eof {
                let partial = self.take(self.end - self.start);
                return Err(StreamError::IncompleteRead {
                    partial,
                    expected: Some(n),
                });
            }
            let want = n - (self.end - self.start);
            poll_fn(|cx| self.poll_fill_wanting(cx, want)).await?;
        }
        Ok(self.take(n))
    }

    /// Gives back the underlying reader and the bytes buffered but not yet
    /// read.
    pub fn into_parts(self) -> (Box<dyn AsyncRead + Send + Unpin>, Vec<u8>) {
        let rest = self.buf[self.start..self.end].to_vec();
        (self.inner, rest)
    }

    /// Removes and returns the first `n` buffered bytes.
    fn take(&mut self, n: usize) -> Vec<u8> {
        let out = self.buf[self.start..self.start + n].to_vec();
        self.consume_buffered(n);
        out
    }

    fn consume_buffered(&mut self, n: usize) {
        self.start += n;
        debug_assert!(self.start <= self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Ready once something is buffered or the stream has ended.
    fn poll_buffered(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.start == self.end && !self.eof {
            ready!(self.poll_fill(cx))?;
        }
        Poll::Ready(Ok(()))
    }

    /// One read of the underlying stream into the buffer; sets `eof` when it
    /// returns 0 bytes.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        self.poll_fill_wanting(cx, MIN_READ)
    }

    /// As `poll_fill`, making room for at least `want` bytes (capped at a
    /// sane size so a huge `readexactly` grows the buffer gradually).
    fn poll_fill_wanting(&mut self, cx: &mut Context<'_>, want: usize) -> Poll<io::Result<usize>> {
        if self.eof {
            return Poll::Ready(Ok(0));
        }
        self.make_room(want.clamp(MIN_READ, 4 * DEFAULT_LIMIT));
        loop {
            match Pin::new(&mut *self.inner).poll_read(cx, &mut self.buf[self.end..]) {
                Poll::Ready(Ok(0)) => {
                    self.eof = true;
                    return Poll::Ready(Ok(0));
                }
                Poll::Ready(Ok(n)) => {
                    self.end += n;
                    return Poll::Ready(Ok(n));
                }
                Poll::Ready(Err(err)) if err.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }

    /// Ensures `buf[end..]` has at least `room` bytes, moving the unread
    /// bytes to the front or growing the buffer.
    fn make_room(&mut self, room: usize) {
        if self.buf.len() - self.end >= room {
            return;
        }
        let unread = self.end - self.start;
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.start = 0;
            self.end = unread;
        }
        if self.buf.len() - self.end < room {
            self.buf.resize(self.end + room, 0);
        }
    }
}

/// The first index of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if let [byte] = needle {
        return haystack.iter().position(|b| b == byte);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamReader")
            .field("buffered", &(self.end - self.start))
            .field("eof", &self.eof)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl AsyncRead for StreamReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if out.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // A large read with nothing buffered bypasses the buffer.
        if this.start == this.end && out.len() >= MIN_READ && !this.eof {
            return loop {
                match Pin::new(&mut *this.inner).poll_read(cx, out) {
                    Poll::Ready(Ok(0)) => {
                        this.eof = true;
                        break Poll::Ready(Ok(0));
                    }
                    Poll::Ready(Err(err)) if err.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other,
                }
            };
        }
        let available = ready!(this.poll_fill_buf_inner(cx))?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        this.consume_buffered(n);
        Poll::Ready(Ok(n))
    }
}

impl StreamReader {
    fn poll_fill_buf_inner(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        ready!(self.poll_buffered(cx))?;
        Poll::Ready(Ok(&self.buf[self.start..self.end]))
    }
}

impl AsyncBufRead for StreamReader {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.get_mut().poll_fill_buf_inner(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        let amt = amt.min(this.end - this.start);
        this.consume_buffered(amt);
    }
}
