//! The errors of the [`broadcast`](crate::broadcast()) channel: [`SendError`]
//! (no receiver left), [`RecvError`] and [`TryRecvError`] (closed, or lagged
//! behind by so many values).

use std::error::Error;
use std::fmt;

/// No [`Receiver`](super::Receiver) is left, so the value was not sent; it
/// is given back.
///
/// ```
/// let (tx, rx) = corio_sync::broadcast::<u8>(4);
/// drop(rx);
/// assert_eq!(tx.send(1), Err(corio_sync::broadcast::SendError(1)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// The value that was not sent.
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
        f.write_str("broadcast channel closed: no receiver is left")
    }
}

impl<T> Error for SendError<T> {}

/// Why [`recv`](super::Receiver::recv) returned no value.
///
/// ```
/// use corio_sync::broadcast::RecvError;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (tx, mut rx) = corio_sync::broadcast(2);
/// for i in 0..3 {
///     tx.send(i).unwrap();
/// }
/// drop(tx);
/// assert_eq!(rx.recv().await, Err(RecvError::Lagged(1))); // 0 was overwritten
/// assert_eq!(rx.recv().await, Ok(1));
/// assert_eq!(rx.recv().await, Ok(2));
/// assert_eq!(rx.recv().await, Err(RecvError::Closed));
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecvError {
    /// Every sender is gone and this receiver has seen every value.
    Closed,
    /// This receiver fell behind: that many values were overwritten before
    /// it read them. It now continues with the oldest value still held.
    Lagged(u64),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("broadcast channel closed"),
            RecvError::Lagged(n) => write!(f, "broadcast receiver lagged behind by {n} values"),
        }
    }
}

impl Error for RecvError {}

/// Why [`try_recv`](super::Receiver::try_recv) returned no value.
///
/// ```
/// use corio_sync::broadcast::TryRecvError;
/// let (tx, mut rx) = corio_sync::broadcast::<u8>(4);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TryRecvError {
    /// No value this receiver has not seen; senders remain.
    Empty,
    /// Every sender is gone and this receiver has seen every value.
    Closed,
    /// This receiver fell behind by that many values (see [`RecvError::Lagged`]).
    Lagged(u64),
}

impl From<RecvError> for TryRecvError {
    fn from(err: RecvError) -> Self {
        match err {
            RecvError::Closed => TryRecvError::Closed,
            RecvError::Lagged(n) => TryRecvError::Lagged(n),
        }
    }
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("broadcast channel is empty"),
            TryRecvError::Closed => f.write_str("broadcast channel closed"),
            TryRecvError::Lagged(n) => {
                write!(f, "broadcast receiver lagged behind by {n} values")
            }
        }
    }
}

impl Error for TryRecvError {}
