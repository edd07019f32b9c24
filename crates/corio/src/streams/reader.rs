//! [`StreamReader`]: asyncio's `StreamReader`, a buffered reader over the
//! read half of a connection, or over bytes fed by hand
//! ([`StreamReader::new_fed`]), with framed reads (`readline`, `readuntil`,
//! `readuntil_any`, `readexactly`) and a line limit.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncBufRead, AsyncRead};

use super::error::StreamError;
use super::reader_feed::{Feed, FeedSource, StreamFeeder};

// readuntil, readuntil_any and their separator search.
#[path = "reader_until.rs"]
mod until;

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
/// | `await reader.readuntil((sep1, sep2))` (3.13) | [`readuntil_any`](Self::readuntil_any)`(&[sep1, sep2]).await` |
/// | `await reader.readexactly(n)` | [`readexactly`](Self::readexactly)`(n).await` |
/// | `reader.at_eof()` | [`at_eof`](Self::at_eof)`()` |
/// | `StreamReader(limit=n)` | [`set_limit`](Self::set_limit)`(n)` |
/// | `StreamReader()` + `feed_data` / `feed_eof` / `set_exception` | [`new_fed`](Self::new_fed)`()` → (`StreamReader`, [`StreamFeeder`]) |
/// | `reader.exception()` | [`exception`](Self::exception)`()` |
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
    /// For a reader made by `new_fed`: the feed `inner` reads from, whose
    /// error and end-of-stream the reader checks directly (asyncio's rules).
    feed: Option<Arc<Feed>>,
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
            feed: None,
        }
    }

    /// A reader fed by hand (asyncio's bare `StreamReader()`), and the
    /// [`StreamFeeder`] that feeds it: `feed_data`, `feed_eof`,
    /// `set_exception`. For tests and protocol parsers: every read method
    /// works on it, and a read waiting for data is woken by `feed_data`.
    ///
    /// The reader's methods take `&mut self`, so the feeding half is a
    /// separate handle (cloneable, `Send + Sync`) rather than methods on the
    /// reader. Differences from asyncio: bytes fed move into the reader's
    /// buffer when a read needs them (so [`buffer`](Self::buffer) shows
    /// only what was pulled in), and dropping the last feeder ends the
    /// stream. [`at_eof`](Self::at_eof) is asyncio's: true once `feed_eof`
    /// was called and every byte was read.
    ///
    /// ```
    /// use corio::{StreamError, StreamReader};
    ///
    /// corio::run(async {
    ///     let (mut reader, feeder) = StreamReader::new_fed();
    ///     feeder.feed_data(b"\x00\x05hel");
    ///     let len = reader.readexactly(2).await.unwrap();
    ///     feeder.feed_data(b"lo");
    ///     assert_eq!(reader.readexactly(len[1].into()).await.unwrap(), b"hello");
    ///     feeder.feed_eof();
    ///     assert!(reader.at_eof());
    ///     let err = reader.readexactly(1).await.unwrap_err();
    ///     assert!(matches!(err, StreamError::IncompleteRead { expected: Some(1), .. }));
    /// });
    /// ```
    pub fn new_fed() -> (StreamReader, StreamFeeder) {
        StreamReader::new_fed_with_limit(DEFAULT_LIMIT)
    }

    /// [`new_fed`](Self::new_fed) with the given line limit (asyncio's
    /// `StreamReader(limit=n)`).
    ///
    /// ```
    /// let (reader, _feeder) = corio::StreamReader::new_fed_with_limit(16);
    /// assert_eq!(reader.limit(), 16);
    /// ```
    ///
    /// # Panics
    ///
    /// If `limit` is 0.
    pub fn new_fed_with_limit(limit: usize) -> (StreamReader, StreamFeeder) {
        let feed = Feed::new();
        let mut reader = StreamReader::with_limit(FeedSource(Arc::clone(&feed)), limit);
        reader.feed = Some(Arc::clone(&feed));
        (reader, StreamFeeder::new(feed))
    }

    /// The error set by [`StreamFeeder::set_exception`] on a fed reader
    /// (asyncio's `exception()`); `None` otherwise. A reader over a stream
    /// returns its IO errors from the read that hit them instead.
    ///
    /// ```
    /// use std::io;
    ///
    /// let (reader, feeder) = corio::StreamReader::new_fed();
    /// assert!(reader.exception().is_none());
    /// feeder.set_exception(io::ErrorKind::BrokenPipe.into());
    /// assert_eq!(reader.exception().unwrap().kind(), io::ErrorKind::BrokenPipe);
    /// ```
    pub fn exception(&self) -> Option<io::Error> {
        self.feed.as_ref()?.exception()
    }

    /// asyncio's rule for a fed reader's error: every read method fails
    /// with it at once, whatever is buffered.
    fn check_exception(&self) -> io::Result<()> {
        match self.exception() {
            Some(err) => Err(err),
            None => Ok(()),
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
    /// `at_eof()`). Over a stream, the end is only seen by a read that
    /// returned it; until then this is `false`. A fed reader knows at once
    /// when [`feed_eof`](StreamFeeder::feed_eof) was called.
    pub fn at_eof(&self) -> bool {
        self.start == self.end
            && (self.eof || self.feed.as_ref().is_some_and(|feed| feed.is_drained_eof()))
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
        self.check_exception()?;
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
        self.check_exception()?;
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
        self.check_exception()?;
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
        this.check_exception()?;
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
        self.check_exception()?;
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
