//! [`PromiseError`]: how a [`Promise`](crate::Promise) can fail — cancelled
//! (asyncio's `CancelledError`, with `cancel(msg)`'s message) or given an
//! error by [`set_exception`](crate::Promise::set_exception) — and
//! [`Cancelled`], the plain "it was cancelled" marker.

use std::error::Error;
use std::fmt;
use std::io;
use std::sync::Arc;

/// The marker of a cancelled [`Promise`](crate::Promise): converts into
/// [`PromiseError::Cancelled`] without a message, and compares equal to any
/// `PromiseError::Cancelled`.
///
/// ```
/// use corio_sync::{Cancelled, PromiseError};
///
/// let err = PromiseError::from(Cancelled);
/// assert!(err.is_cancelled());
/// assert_eq!(err, Cancelled);
/// assert_eq!(Cancelled.to_string(), "promise cancelled");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Cancelled;

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("promise cancelled")
    }
}

impl Error for Cancelled {}

/// Why a [`Promise`](crate::Promise) has no value: what
/// [`wait`](crate::Promise::wait) and
/// [`try_result`](crate::Promise::try_result) return instead of one.
///
/// | asyncio | corio |
/// |---|---|
/// | `fut.cancel()` / `fut.cancel(msg)` → `CancelledError(msg)` | [`PromiseError::Cancelled`] |
/// | `fut.set_exception(exc)` → `exc` | [`PromiseError::Failed`] |
///
/// It is cheap to clone (every waiter gets a clone that shares the same
/// error), and converts from the usual Rust errors so that
/// [`set_exception`](crate::Promise::set_exception) takes them directly:
/// an [`io::Error`], a `Box<dyn Error + Send + Sync>` or an
/// `Arc<dyn Error + Send + Sync>`, a `String` or `&str` message, or
/// [`Cancelled`]. Any other error type goes through
/// [`PromiseError::failed`]. (A blanket `From<E: Error>` is impossible
/// because `PromiseError` is itself an `Error`.)
///
/// Two `Failed` errors are equal when they share the same error (one
/// `set_exception`, cloned); two `Cancelled` errors when their messages are.
///
/// ```
/// use std::io;
/// use corio_sync::{Promise, PromiseError};
///
/// let promise: Promise<u32> = Promise::new();
/// promise.set_exception(io::Error::new(io::ErrorKind::NotFound, "no such key")).unwrap();
/// let err = promise.try_result().unwrap().unwrap_err();
/// assert!(!err.is_cancelled());
/// assert_eq!(err.to_string(), "no such key");
/// let io_err = err.downcast_ref::<io::Error>().unwrap();
/// assert_eq!(io_err.kind(), io::ErrorKind::NotFound);
/// ```
#[derive(Clone)]
pub enum PromiseError {
    /// The promise was cancelled ([`cancel`](crate::Promise::cancel) or
    /// [`cancel_with`](crate::Promise::cancel_with)).
    Cancelled {
        /// The message given to `cancel_with`, if any.
        message: Option<Arc<str>>,
    },
    /// The promise was given this error by
    /// [`set_exception`](crate::Promise::set_exception).
    Failed(Arc<dyn Error + Send + Sync + 'static>),
}

impl PromiseError {
    /// A [`Failed`](PromiseError::Failed) error holding `err`, for error
    /// types without a `From` conversion.
    ///
    /// ```
    /// use corio_sync::PromiseError;
    ///
    /// let err = PromiseError::failed(std::fmt::Error);
    /// assert!(err.downcast_ref::<std::fmt::Error>().is_some());
    /// ```
    pub fn failed(err: impl Error + Send + Sync + 'static) -> PromiseError {
        PromiseError::Failed(Arc::new(err))
    }

    /// Whether the promise was cancelled (rather than failed).
    ///
    /// ```
    /// use corio_sync::{Cancelled, PromiseError};
    ///
    /// assert!(PromiseError::from(Cancelled).is_cancelled());
    /// assert!(!PromiseError::from("failed").is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, PromiseError::Cancelled { .. })
    }

    /// The message the promise was cancelled with, if it was cancelled by
    /// [`cancel_with`](crate::Promise::cancel_with).
    ///
    /// ```
    /// use corio_sync::Promise;
    ///
    /// let promise: Promise<()> = Promise::new();
    /// promise.cancel_with("shutting down");
    /// let err = promise.try_result().unwrap().unwrap_err();
    /// assert_eq!(err.cancel_message(), Some("shutting down"));
    /// assert_eq!(err.to_string(), "promise cancelled: shutting down");
    /// ```
    pub fn cancel_message(&self) -> Option<&str> {
        match self {
            PromiseError::Cancelled { message } => message.as_deref(),
            PromiseError::Failed(_) => None,
        }
    }

    /// The error given to [`set_exception`](crate::Promise::set_exception),
    /// if the promise failed.
    ///
    /// ```
    /// use corio_sync::{Cancelled, PromiseError};
    ///
    /// let err = PromiseError::from("disk full");
    /// assert_eq!(err.failure().unwrap().to_string(), "disk full");
    /// assert!(PromiseError::from(Cancelled).failure().is_none());
    /// ```
    pub fn failure(&self) -> Option<&(dyn Error + Send + Sync + 'static)> {
        match self {
            PromiseError::Failed(err) => Some(&**err),
            PromiseError::Cancelled { .. } => None,
        }
    }

    /// The failure as a concrete error type, if it failed with one of that
    /// type (asyncio's `except SomeError`).
    ///
    /// ```
    /// use std::io;
    /// use corio_sync::PromiseError;
    ///
    /// let err = PromiseError::from(io::Error::from(io::ErrorKind::NotFound));
    /// assert_eq!(err.downcast_ref::<io::Error>().unwrap().kind(), io::ErrorKind::NotFound);
    /// assert!(err.downcast_ref::<std::fmt::Error>().is_none());
    /// ```
    pub fn downcast_ref<E: Error + 'static>(&self) -> Option<&E> {
        self.failure()?.downcast_ref::<E>()
    }
}

impl fmt::Debug for PromiseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PromiseError::Cancelled { message } => f
                .debug_struct("Cancelled")
                .field("message", message)
                .finish(),
            PromiseError::Failed(err) => f.debug_tuple("Failed").field(err).finish(),
        }
    }
}

impl fmt::Display for PromiseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PromiseError::Cancelled { message: None } => f.write_str("promise cancelled"),
            PromiseError::Cancelled {
                message: Some(message),
            } => write!(f, "promise cancelled: {message}"),
            // Transparent: the failure is the error.
            PromiseError::Failed(err) => fmt::Display::fmt(err, f),
        }
    }
}

impl Error for PromiseError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            PromiseError::Failed(err) => err.source(),
            PromiseError::Cancelled { .. } => None,
        }
    }
}

impl PartialEq for PromiseError {
    fn eq(&self, other: &PromiseError) -> bool {
        match (self, other) {
            (PromiseError::Cancelled { message: a }, PromiseError::Cancelled { message: b }) => {
                a == b
            }
            (PromiseError::Failed(a), PromiseError::Failed(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl PartialEq<Cancelled> for PromiseError {
    fn eq(&self, _: &Cancelled) -> bool {
        self.is_cancelled()
    }
}

impl From<Cancelled> for PromiseError {
    fn from(_: Cancelled) -> PromiseError {
        PromiseError::Cancelled { message: None }
    }
}

impl From<io::Error> for PromiseError {
    fn from(err: io::Error) -> PromiseError {
        PromiseError::failed(err)
    }
}

impl From<Arc<dyn Error + Send + Sync + 'static>> for PromiseError {
    fn from(err: Arc<dyn Error + Send + Sync + 'static>) -> PromiseError {
        PromiseError::Failed(err)
    }
}

impl From<Box<dyn Error + Send + Sync + 'static>> for PromiseError {
    fn from(err: Box<dyn Error + Send + Sync + 'static>) -> PromiseError {
        PromiseError::Failed(Arc::from(err))
    }
}

impl From<String> for PromiseError {
    fn from(message: String) -> PromiseError {
        PromiseError::from(Box::<dyn Error + Send + Sync>::from(message))
    }
}

impl From<&str> for PromiseError {
    fn from(message: &str) -> PromiseError {
        PromiseError::from(Box::<dyn Error + Send + Sync>::from(message))
    }
}
