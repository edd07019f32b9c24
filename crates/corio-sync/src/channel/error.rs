//! The errors of the [`channel`](crate::channel) halves: [`SendError`],
//! [`TrySendError`] and [`TryRecvError`].
//!
//! | method | error |
//! |---|---|
//! | `Sender::send(item).await` | [`SendError<T>`] (the item back): the receiver is gone or closed |
//! | `Sender::try_send(item)` | [`TrySendError<T>`]: `Full(item)` or `Closed(item)` |
//! | `Receiver::recv().await` | none: `None` once every sender is gone and the channel is drained |
//! | `Receiver::try_recv()` | [`TryRecvError`]: `Empty` or `Disconnected` |
//!
//! `Debug` does not print the item, so the errors are `Debug` and
//! [`Error`](std::error::Error) whatever `T` is (as the queue's errors).

use std::error::Error;
use std::fmt;

/// The receiver was dropped or [closed](crate::Receiver::close), so the item
/// can never be received; it is given back.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (tx, rx) = corio_sync::channel::<&str>(4);
/// drop(rx);
/// assert_eq!(tx.send("job").await, Err(corio_sync::SendError("job")));
/// # });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// The item that could not be sent.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel closed: the receiver is gone")
    }
}

impl<T> Error for SendError<T> {}

/// Why [`try_send`](crate::Sender::try_send) failed; each variant gives the
/// item back.
///
/// ```
/// use corio_sync::TrySendError;
///
/// let (tx, rx) = corio_sync::channel(1);
/// assert_eq!(tx.try_send(1), Ok(()));
/// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
/// drop(rx);
/// assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrySendError<T> {
    /// The channel holds `capacity` items, or senders already wait for room
    /// and a `try_send` does not overtake them.
    Full(T),
    /// The receiver was dropped or closed.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The item that could not be sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(item) | TrySendError::Closed(item) => item,
        }
    }

    /// Whether the channel was full.
    pub fn is_full(&self) -> bool {
        matches!(self, TrySendError::Full(_))
    }

    /// Whether the receiver was gone or closed.
    pub fn is_closed(&self) -> bool {
        matches!(self, TrySendError::Closed(_))
    }
}

impl<T> From<SendError<T>> for TrySendError<T> {
    fn from(err: SendError<T>) -> Self {
        TrySendError::Closed(err.0)
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("channel is full"),
            TrySendError::Closed(_) => f.write_str("channel closed: the receiver is gone"),
        }
    }
}

impl<T> Error for TrySendError<T> {}

/// Why [`try_recv`](crate::Receiver::try_recv) failed.
///
/// ```
/// use corio_sync::TryRecvError;
///
/// let (tx, mut rx) = corio_sync::channel::<u8>(4);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// tx.try_send(7).unwrap();
/// drop(tx);
/// assert_eq!(rx.try_recv(), Ok(7)); // what was sent drains first
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TryRecvError {
    /// Nothing to take right now; senders are still there.
    Empty,
    /// Nothing to take, and nothing will come: every sender is gone (or the
    /// receiver closed the channel).
    Disconnected,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("channel is empty"),
            TryRecvError::Disconnected => f.write_str("channel is empty and closed"),
        }
    }
}

impl Error for TryRecvError {}
