//! A [`StreamReader`](super::StreamReader) fed by hand (asyncio's bare
//! `StreamReader()` with `feed_data`, `feed_eof` and `set_exception`):
//! [`StreamFeeder`], the feeding half, and the in-memory source the reader
//! reads from.
//!
//! The reader and its feeders share one [`Feed`] behind a mutex: the bytes
//! fed and not yet pulled into the reader's buffer, the end-of-stream flag,
//! the error set by `set_exception`, the waker of a read waiting for data,
//! and the number of live feeders. The waker is taken under the lock and
//! woken after releasing it (a waker is user code).

use std::error::Error;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures_io::AsyncRead;
use parking_lot::Mutex;

/// The state a fed reader and its feeders share.
pub(super) struct Feed {
    state: Mutex<FeedState>,
}

struct FeedState {
    /// `data[read..]` is fed and not yet read.
    data: Vec<u8>,
    read: usize,
    eof: bool,
    error: Option<SharedError>,
    /// The task of a read waiting for data.
    waker: Option<Waker>,
    /// Live `StreamFeeder`s; the last one dropped ends the stream.
    feeders: usize,
}

impl Feed {
    pub(super) fn new() -> Arc<Feed> {
        Arc::new(Feed {
            state: Mutex::new(FeedState {
                data: Vec::new(),
                read: 0,
                eof: false,
                error: None,
                waker: None,
                feeders: 1,
            }),
        })
    }

    /// The error set by `set_exception`, as a fresh `io::Error`.
    pub(super) fn exception(&self) -> Option<io::Error> {
        self.state.lock().error.as_ref().map(SharedError::to_io)
    }

    /// Whether the stream ended and every fed byte was pulled.
    pub(super) fn is_drained_eof(&self) -> bool {
        let state = self.state.lock();
        state.eof && state.read == state.data.len()
    }

    /// Changes the state, then wakes a waiting read (unlocked).
    fn update(&self, f: impl FnOnce(&mut FeedState)) {
        let waker = {
            let mut state = self.state.lock();
            f(&mut state);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The feeding half of a reader made by
/// [`StreamReader::new_fed`](super::StreamReader::new_fed): asyncio's
/// `reader.feed_data(data)`, `reader.feed_eof()` and
/// `reader.set_exception(exc)`, on a handle that can be cloned and sent
/// anywhere (a protocol callback, another task, another thread) while the
/// reader is read from.
///
/// Dropping the last feeder ends the stream, as if `feed_eof` were called
/// (asyncio's reader would wait forever instead).
///
/// ```
/// use corio::StreamReader;
///
/// corio::run(async {
///     let (mut reader, feeder) = StreamReader::new_fed();
///     feeder.feed_data(b"HELO there\r\nQU");
///     assert_eq!(reader.readline().await.unwrap(), b"HELO there\r\n");
///     // A read waits until the rest arrives.
///     let rest = corio::create_task({
///         let feeder = feeder.clone();
///         async move {
///             corio::yield_now().await;
///             feeder.feed_data(b"IT\r\n");
///             feeder.feed_eof();
///         }
///     });
///     assert_eq!(reader.readline().await.unwrap(), b"QUIT\r\n");
///     assert_eq!(reader.readline().await.unwrap(), b"");
///     assert!(reader.at_eof());
///     rest.await.unwrap();
/// });
/// ```
pub struct StreamFeeder {
    feed: Arc<Feed>,
}

impl StreamFeeder {
    pub(super) fn new(feed: Arc<Feed>) -> StreamFeeder {
        StreamFeeder { feed }
    }

    /// Appends `data` to the reader's input and wakes a read waiting for
    /// it (asyncio's `feed_data`). Empty `data` adds nothing and wakes
    /// no one.
    ///
    /// # Panics
    ///
    /// After [`feed_eof`](Self::feed_eof) (asyncio asserts the same:
    /// "feed_data after feed_eof").
    ///
    /// ```
    /// corio::run(async {
    ///     let (mut reader, feeder) = corio::StreamReader::new_fed();
    ///     feeder.feed_data(b"ab");
    ///     feeder.feed_data(b"");
    ///     feeder.feed_data(b"c");
    ///     assert_eq!(reader.read(10).await.unwrap(), b"abc");
    /// });
    /// ```
    pub fn feed_data(&self, data: &[u8]) {
        if data.is_empty() {
            // asyncio checks before looking at the data, so an empty feed
            // after the end panics too.
            assert!(!self.is_eof(), "feed_data after feed_eof");
            return;
        }
        self.feed.update(|state| {
            assert!(!state.eof, "feed_data after feed_eof");
            if state.read == state.data.len() {
                state.data.clear();
                state.read = 0;
            }
            state.data.extend_from_slice(data);
        });
    }

    /// Ends the stream (asyncio's `feed_eof`): once the bytes fed before
    /// are read, reads return the end of the stream and
    /// [`at_eof`](super::StreamReader::at_eof) is true. Calling it again
    /// does nothing.
    ///
    /// ```
    /// corio::run(async {
    ///     let (mut reader, feeder) = corio::StreamReader::new_fed();
    ///     feeder.feed_data(b"last");
    ///     feeder.feed_eof();
    ///     assert_eq!(reader.read_to_end().await.unwrap(), b"last");
    ///     assert!(reader.at_eof());
    /// });
    /// ```
    pub fn feed_eof(&self) {
        self.feed.update(|state| state.eof = true);
    }

    /// Makes the reader fail with `err` (asyncio's `set_exception`): as in
    /// asyncio, from now on *every* read method fails at once with it, even
    /// with bytes still buffered, and a read waiting for data is woken with
    /// it. A later call replaces the error.
    ///
    /// The reader returns a new [`io::Error`] each time, with `err`'s kind
    /// and message, and `err` itself as its
    /// [`source`](std::error::Error::source).
    ///
    /// ```
    /// use std::io;
    /// use corio::StreamReader;
    ///
    /// corio::run(async {
    ///     let (mut reader, feeder) = StreamReader::new_fed();
    ///     feeder.feed_data(b"partial line");
    ///     feeder.set_exception(io::Error::new(io::ErrorKind::ConnectionReset, "reset by peer"));
    ///     let err = reader.read(100).await.unwrap_err();
    ///     assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
    ///     assert_eq!(err.to_string(), "reset by peer");
    ///     assert!(reader.readline().await.is_err(), "it stays failed");
    ///     assert_eq!(reader.buffer(), b"", "nothing was pulled in");
    /// });
    /// ```
    pub fn set_exception(&self, err: io::Error) {
        let err = SharedError(Arc::new(err));
        self.feed.update(|state| state.error = Some(err));
    }

    /// Whether [`feed_eof`](Self::feed_eof) was called (or every other
    /// feeder was dropped).
    ///
    /// ```
    /// let (_reader, feeder) = corio::StreamReader::new_fed();
    /// assert!(!feeder.is_eof());
    /// feeder.feed_eof();
    /// assert!(feeder.is_eof());
    /// ```
    pub fn is_eof(&self) -> bool {
        self.feed.state.lock().eof
    }
}

impl Clone for StreamFeeder {
    fn clone(&self) -> StreamFeeder {
        self.feed.state.lock().feeders += 1;
        StreamFeeder {
            feed: Arc::clone(&self.feed),
        }
    }
}

impl Drop for StreamFeeder {
    fn drop(&mut self) {
        self.feed.update(|state| {
            state.feeders -= 1;
            if state.feeders == 0 {
                state.eof = true;
            }
        });
    }
}

impl fmt::Debug for StreamFeeder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.feed.state.lock();
        f.debug_struct("StreamFeeder")
            .field("unread", &(state.data.len() - state.read))
            .field("eof", &state.eof)
            .field("failed", &state.error.is_some())
            .finish()
    }
}

/// The reader's side of a [`Feed`]: an `AsyncRead` over the fed bytes.
pub(super) struct FeedSource(pub(super) Arc<Feed>);

impl AsyncRead for FeedSource {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut state = self.0.state.lock();
        if let Some(err) = &state.error {
            return Poll::Ready(Err(err.to_io()));
        }
        let unread = &state.data[state.read..];
        if !unread.is_empty() {
            let n = unread.len().min(out.len());
            out[..n].copy_from_slice(&unread[..n]);
            state.read += n;
            return Poll::Ready(Ok(n));
        }
        if state.eof {
            return Poll::Ready(Ok(0));
        }
        let old = match &state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => None,
            _ => state.waker.replace(cx.waker().clone()),
        };
        drop(state);
        drop(old);
        Poll::Pending
    }
}

/// The error given to `set_exception`, shared so that every read can
/// return it.
#[derive(Clone)]
struct SharedError(Arc<io::Error>);

impl SharedError {
    fn to_io(&self) -> io::Error {
        io::Error::new(self.0.kind(), self.clone())
    }
}

impl fmt::Debug for SharedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for SharedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl Error for SharedError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.0)
    }
}
