//! [`StreamReader::readuntil`] and [`StreamReader::readuntil_any`]: reads
//! through a separator, or the first of several (Python 3.13), with the
//! reader's limit; asyncio's `readuntil` algorithm, and the discarding corio
//! does after a limit overrun.

use std::future::poll_fn;
use std::io;

use super::StreamReader;
use crate::streams::StreamError;

impl StreamReader {
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
            return Err(invalid_input("readuntil: the separator must not be empty"));
        }
        self.read_through(&[sep]).await
    }

    /// Reads up to and including the first of several separators (Python
    /// 3.13's `readuntil((sep1, sep2, ...))`): the chunk returned is the
    /// shortest that ends with any of them. When two separators end at the
    /// same place (`b"\r\n"` and `b"\n"` in `b"line\r\n"`), the chunk is
    /// the same either way; for the limit, as in asyncio, the shorter one
    /// counts as the match, so the chunk's length before its separator is
    /// measured to the start of the shorter separator.
    ///
    /// # Errors
    ///
    /// As [`readuntil`](Self::readuntil): `IncompleteRead` when the stream
    /// ends before any separator, `LimitOverrun` when more than the limit
    /// comes before the matched separator (or no separator is found within
    /// the limit: the chunk is discarded through the first separator that
    /// follows), `Io` when the stream fails, or `InvalidInput` when `seps`
    /// is empty or holds an empty separator (asyncio's `ValueError`).
    ///
    /// ```
    /// corio::run(async {
    ///     let input = &b"unix\nwindows\r\nold mac\rrest"[..];
    ///     let mut reader = corio::StreamReader::new(input);
    ///     // Python: await reader.readuntil((b"\r\n", b"\n"))
    ///     assert_eq!(reader.readuntil_any(&[b"\r\n", b"\n"]).await.unwrap(), b"unix\n");
    ///     assert_eq!(reader.readuntil_any(&[b"\r\n", b"\n"]).await.unwrap(), b"windows\r\n");
    ///     // With `\r` a separator too, the first to end wins: `\r`.
    ///     let seps: &[&[u8]] = &[b"\r\n", b"\n", b"\r"];
    ///     assert_eq!(reader.readuntil_any(seps).await.unwrap(), b"old mac\r");
    ///     assert!(reader.readuntil_any(seps).await.unwrap_err().is_incomplete_read());
    /// });
    /// ```
    pub async fn readuntil_any(&mut self, seps: &[&[u8]]) -> Result<Vec<u8>, StreamError> {
        if seps.is_empty() || seps.iter().any(|sep| sep.is_empty()) {
            return Err(invalid_input(
                "readuntil_any: give at least one separator, none of them empty",
            ));
        }
        self.read_through(seps).await
    }

    /// `readuntil` with the separators checked: asyncio's algorithm.
    async fn read_through(&mut self, seps: &[&[u8]]) -> Result<Vec<u8>, StreamError> {
        self.check_exception()?;
        let max_len = seps.iter().map(|sep| sep.len()).max().unwrap_or(1);
        // Where the search resumes: bytes before it are known not to start
        // a separator.
        let mut searched = 0;
        loop {
            let buffered = &self.buf[self.start..self.end];
            if let Some(found) = find_any(buffered, searched, seps) {
                if found.start > self.limit {
                    self.consume_buffered(found.end);
                    return Err(StreamError::LimitOverrun {
                        consumed: found.end,
                    });
                }
                return Ok(self.take(found.end));
            }
            searched = (buffered.len() + 1).saturating_sub(max_len);
            if searched > self.limit {
                return Err(self.discard_through(seps, max_len).await);
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

    /// After a limit overrun: drops bytes until just past the next
    /// separator (or to the end of the stream), keeping at most
    /// `max_len - 1` bytes buffered between reads. Returns the
    /// `LimitOverrun` error, or the IO error that interrupted the
    /// discarding.
    async fn discard_through(&mut self, seps: &[&[u8]], max_len: usize) -> StreamError {
        let mut consumed = 0;
        loop {
            let buffered = &self.buf[self.start..self.end];
            if let Some(found) = find_any(buffered, 0, seps) {
                consumed += found.end;
                self.consume_buffered(found.end);
                return StreamError::LimitOverrun { consumed };
            }
            // Keep a tail that may be the start of a separator.
            let drop = (buffered.len() + 1).saturating_sub(max_len);
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
}

/// The first index of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if let [byte] = needle {
        return haystack.iter().position(|b| b == byte);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A separator found in the buffer: `buffer[start..end]` is the separator.
struct Found {
    start: usize,
    end: usize,
}

/// The separator match that ends first in `haystack[from..]`; among
/// matches ending at the same place, the shortest separator's (asyncio
/// 3.13 sorts the separators by length and keeps a later one only if it
/// ends strictly earlier).
fn find_any(haystack: &[u8], from: usize, seps: &[&[u8]]) -> Option<Found> {
    let rest = haystack.get(from..)?;
    let mut best: Option<Found> = None;
    for sep in seps {
        let Some(at) = find(rest, sep) else { continue };
        let found = Found {
            start: from + at,
            end: from + at + sep.len(),
        };
        let better = match &best {
            None => true,
            Some(b) => (found.end, found.end - found.start) < (b.end, b.end - b.start),
        };
        if better {
            best = Some(found);
        }
    }
    best
}

fn invalid_input(message: &'static str) -> StreamError {
    StreamError::Io(io::Error::new(io::ErrorKind::InvalidInput, message))
}
