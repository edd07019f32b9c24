//! The errors of the [`watch`](crate::watch) channel: [`SendError`] (no
//! receiver left) and [`RecvError`] (the sender is gone).

use std::error::Error;
use std::fmt;

/// Every [`Receiver`](super::Receiver) is gone, so
/// [`send`](super::Sender::send) did not store the value; it is given back.
/// ([`send_replace`](super::Sender::send_replace) stores it regardless.)
///
/// ```
/// let (tx, rx) = corio_sync::watch(0);
/// drop(rx);
/// assert_eq!(tx.send(1), Err(corio_sync::watch::SendError(1)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// The value that was not stored.
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
        f.write_str("watch channel closed: every receiver is gone")
    }
}

impl<T> Error for SendError<T> {}

/// The [`Sender`](super::Sender) is gone and the receiver has seen its last
/// value: nothing will change any more.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (tx, mut rx) = corio_sync::watch(0);
/// drop(tx);
/// assert_eq!(rx.changed().await, Err(corio_sync::watch::RecvError));
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("watch channel closed: the sender is gone")
    }
}

impl Error for RecvError {}
