//! [`StreamError`]: what [`StreamReader`](super::StreamReader)'s framed reads
//! (`readline`, `readuntil`, `readexactly`) fail with — asyncio's
//! `IncompleteReadError` and `LimitOverrunError`, plus IO errors.

use std::error::Error;
use std::fmt;
use std::io;

/// An error from a framed read of a [`StreamReader`](super::StreamReader).
///
/// | asyncio | corio |
/// |---|---|
/// | `OSError` | [`StreamError::Io`] |
/// | `IncompleteReadError(partial, expected)` | [`StreamError::IncompleteRead`] |
/// | `LimitOverrunError(message, consumed)` | [`StreamError::LimitOverrun`] |
///
/// It converts into an [`io::Error`] (so `?` works in functions returning
/// `io::Result`): `IncompleteRead` becomes [`io::ErrorKind::UnexpectedEof`],
/// `LimitOverrun` becomes [`io::ErrorKind::InvalidData`], both keeping this
/// error as their source; `Io` gives back the original error.
///
/// ```
/// use corio::StreamError;
/// use std::io;
///
/// let err = StreamError::IncompleteRead { partial: b"ab".to_vec(), expected: Some(4) };
/// assert_eq!(err.to_string(), "2 bytes read on a total of 4 expected bytes");
/// let io_err: io::Error = err.into();
/// assert_eq!(io_err.kind(), io::ErrorKind::UnexpectedEof);
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum StreamError {
    /// The underlying stream failed (reset, broken pipe, ...).
    Io(io::Error),
    /// The stream ended before the read was complete (asyncio's
    /// `IncompleteReadError`). `partial` holds every byte that was read and
    /// is now consumed from the reader; `expected` is the number of bytes
    /// asked for (`readexactly`), or `None` when the read was waiting for a
    /// separator (`readuntil`).
    IncompleteRead {
        /// The bytes read before the end of the stream.
        partial: Vec<u8>,
        /// How many bytes `readexactly` asked for; `None` for `readuntil`.
        expected: Option<usize>,
    },
    /// The separator was not found within the reader's
    /// [limit](super::StreamReader::limit) (asyncio's `LimitOverrunError`).
    ///
    /// The overlong chunk has been discarded, up to and including its
    /// separator (or up to the end of the stream), so the reader is
    /// positioned at the start of the next chunk and stays usable.
    /// `consumed` is the number of bytes discarded.
    LimitOverrun {
        /// The number of bytes discarded.
        consumed: usize,
    },
}

impl StreamError {
    /// Whether this is an [`IncompleteRead`](StreamError::IncompleteRead).
    pub fn is_incomplete_read(&self) -> bool {
        matches!(self, StreamError::IncompleteRead { .. })
    }

    /// Whether this is a [`LimitOverrun`](StreamError::LimitOverrun).
    pub fn is_limit_overrun(&self) -> bool {
        matches!(self, StreamError::LimitOverrun { .. })
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Io(err) => fmt::Display::fmt(err, f),
            StreamError::IncompleteRead {
                partial,
                expected: Some(expected),
            } => write!(
                f,
                "{} bytes read on a total of {expected} expected bytes",
                partial.len()
            ),
            StreamError::IncompleteRead {
                partial,
                expected: None,
            } => write!(
                f,
                "{} bytes read on a total of undefined expected bytes (the stream ended before the separator)",
                partial.len()
            ),
            StreamError::LimitOverrun { consumed } => write!(
                f,
                "separator not found within the limit: {consumed} bytes discarded"
            ),
        }
    }
}

impl Error for StreamError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            StreamError::Io(err) => Some(err),
            _ => None,
        }
    }
}

impl From<io::Error> for StreamError {
    fn from(err: io::Error) -> StreamError {
        StreamError::Io(err)
    }
}

impl From<StreamError> for io::Error {
    fn from(err: StreamError) -> io::Error {
        match err {
            StreamError::Io(err) => err,
            StreamError::IncompleteRead { .. } => io::Error::new(io::ErrorKind::UnexpectedEof, err),
            StreamError::LimitOverrun { .. } => io::Error::new(io::ErrorKind::InvalidData, err),
        }
    }
}
