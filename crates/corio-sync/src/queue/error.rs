//! The errors of [`Queue`](crate::Queue), [`LifoQueue`](crate::LifoQueue) and
//! [`PriorityQueue`](crate::PriorityQueue).
//!
//! asyncio raises `QueueFull`, `QueueEmpty`, `QueueShutDown` and a
//! `ValueError` from `task_done()`. Here each method returns exactly the
//! failures it can have, and every error of a put gives the item back:
//!
//! | method | error |
//! |---|---|
//! | `put(item).await` | [`QueueShutDown<T>`] (the item back) |
//! | `put_nowait(item)` | [`TryPutError<T>`]: `Full(item)` or `ShutDown(item)` |
//! | `get().await` | [`QueueShutDown`] (that is, `QueueShutDown<()>`) |
//! | `get_nowait()` | [`TryGetError`]: `Empty` or `ShutDown` |
//! | `task_done()` | [`TaskDoneError`] |
//!
//! `Debug` does not print the item, so the errors are `Debug` and
//! [`Error`](std::error::Error) whatever `T` is (as tokio's channel errors).

use std::error::Error;
use std::fmt;

/// The queue was shut down ([`Queue::shutdown`](crate::Queue::shutdown)).
///
/// Returned by `put(item).await`, carrying the item back (`QueueShutDown<T>`),
/// and by `get().await` once the queue is shut down and has nothing left for
/// it (`QueueShutDown`, that is `QueueShutDown<()>`). asyncio's `QueueShutDown`.
///
/// ```
/// use corio_sync::{Queue, QueueShutDown};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let queue = Queue::new(0);
/// queue.shutdown(false);
/// assert_eq!(queue.put("job").await, Err(QueueShutDown("job")));
/// assert_eq!(queue.get().await, Err(QueueShutDown(())));
/// # });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct QueueShutDown<T = ()>(pub T);

impl<T> QueueShutDown<T> {
    /// The item that could not be put (`()` for a get).
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueShutDown(..)")
    }
}

impl<T> fmt::Display for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is shut down")
    }
}

impl<T> Error for QueueShutDown<T> {}

/// Why `put_nowait(item)` failed; each variant gives the item back.
///
/// ```
/// use corio_sync::{Queue, TryPutError};
///
/// let queue = Queue::new(1);
/// assert_eq!(queue.put_nowait(1), Ok(()));
/// assert_eq!(queue.put_nowait(2), Err(TryPutError::Full(2)));
/// queue.shutdown(false);
/// assert_eq!(queue.put_nowait(3), Err(TryPutError::ShutDown(3)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum TryPutError<T> {
    /// The queue holds `maxsize` items (asyncio's `QueueFull`), or putters
    /// already wait for room and a `put_nowait` does not overtake them.
    Full(T),
    /// The queue was shut down (asyncio's `QueueShutDown`).
    ShutDown(T),
}

impl<T> TryPutError<T> {
    /// The item that could not be put.
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::Full(item) | TryPutError::ShutDown(item) => item,
        }
    }

    /// Whether the queue was full.
    pub fn is_full(&self) -> bool {
        matches!(self, TryPutError::Full(_))
    }

    /// Whether the queue was shut down.
    pub fn is_shut_down(&self) -> bool {
        matches!(self, TryPutError::ShutDown(_))
    }
}

impl<T> From<QueueShutDown<T>> for TryPutError<T> {
    fn from(err: QueueShutDown<T>) -> Self {
        TryPutError::ShutDown(err.0)
    }
}

impl<T> fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("Full(..)"),
            TryPutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("queue is full"),
            TryPutError::ShutDown(_) => f.write_str("queue is shut down"),
        }
    }
}

impl<T> Error for TryPutError<T> {}

/// Why `get_nowait()` failed.
///
/// ```
/// use corio_sync::{Queue, TryGetError};
///
/// let queue = Queue::new(0);
/// assert_eq!(queue.get_nowait(), Err::<u8, _>(TryGetError::Empty));
/// queue.put_nowait(7).unwrap();
/// queue.shutdown(false);
/// assert_eq!(queue.get_nowait(), Ok(7)); // what is left drains
/// assert_eq!(queue.get_nowait(), Err(TryGetError::ShutDown));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TryGetError {
    /// Nothing to take (asyncio's `QueueEmpty`). Items already promised to
    /// getters that wait do not count: a `get_nowait` does not overtake them.
    Empty,
    /// Nothing to take and the queue was shut down, so nothing will come
    /// (asyncio's `QueueShutDown`).
    ShutDown,
}

impl From<QueueShutDown> for TryGetError {
    fn from(_: QueueShutDown) -> Self {
        TryGetError::ShutDown
    }
}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryGetError::Empty => f.write_str("queue is empty"),
            TryGetError::ShutDown => f.write_str("queue is shut down"),
        }
    }
}

impl Error for TryGetError {}

/// `task_done()` was called more times than items were put (asyncio raises
/// `ValueError` there). The count of unfinished items is left at zero.
///
/// ```
/// use corio_sync::{Queue, TaskDoneError};
///
/// let queue = Queue::new(0);
/// queue.put_nowait("a").unwrap();
/// queue.get_nowait().unwrap();
/// assert_eq!(queue.task_done(), Ok(()));
/// assert_eq!(queue.task_done(), Err(TaskDoneError));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called more times than items were put")
    }
}

impl Error for TaskDoneError {}
