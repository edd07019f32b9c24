//! Task identity and the error a task's handle reports: [`TaskId`], [`TaskError`].

use std::any::Any;
use std::fmt;
use std::num::NonZeroU64;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::raw::Header;

/// A task's id: unique among all tasks of the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(NonZeroU64);

impl TaskId {
    pub(crate) fn from_raw(n: u64) -> TaskId {
        TaskId(NonZeroU64::new(n).expect("task ids start at 1"))
    }

    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Why awaiting a task gave no value: it was cancelled, or it panicked.
///
/// Each variant names the task, so the `Display` output says which task failed.
///
/// `TaskError` is `Send + Sync + Clone + 'static`, so `task.await?` converts
/// into `anyhow::Error` or `Box<dyn Error + Send + Sync>`, and a
/// [`SharedTask`](crate::SharedTask) hands the same error to every waiter.
///
/// ```
/// use corio_executor::{LocalExecutor, ThreadPark};
///
/// fn run() -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
///     let ex = LocalExecutor::new();
///     let task = ex.spawn(async { 7 });
///     Ok(ex.block_on(async { task.await }, &mut ThreadPark)?)
/// }
/// assert_eq!(run().unwrap(), 7);
/// ```
#[doc(alias = "JoinError")]
pub enum TaskError {
    /// The task was cancelled: its future was dropped before it finished.
    #[non_exhaustive]
    Cancelled {
        /// The task's id.
        id: TaskId,
        /// The task's name, if it had one.
        name: Option<Box<str>>,
        /// The message of the first `cancel_with` (asyncio's `cancel(msg)`), if any.
        message: Option<Arc<str>>,
    },
    /// The task panicked; `payload` is what the panic carried.
    #[non_exhaustive]
    Panicked {
        /// The task's id.
        id: TaskId,
        /// The task's name, if it had one.
        name: Option<Box<str>>,
        /// The panic payload. A `&'static str` or `String` payload (what
        /// `panic!` makes) is stored as itself, so it downcasts as it would
        /// from `std::panic::catch_unwind`. Any other payload is not known to
        /// be `Sync` and is kept behind a lock, shared by the clones of this
        /// error: see [`TaskError::into_panic`].
        payload: Box<dyn Any + Send + Sync + 'static>,
    },
}

/// A panic payload that is neither `&'static str` nor `String`: not known to
/// be `Sync` or `Clone`, so it sits behind a mutex shared by the clones of
/// one `TaskError`. The first `into_panic` takes it out.
struct OtherPayload(Arc<Mutex<Option<Box<dyn Any + Send + 'static>>>>);

/// What `into_panic` gives when a clone of the error took the payload first.
const PAYLOAD_TAKEN: &str = "a task panicked with a payload that is neither &str nor String; \
     another clone of its TaskError took the payload";

impl TaskError {
    pub(crate) fn cancelled(header: &Header) -> TaskError {
        TaskError::Cancelled {
            id: header.id(),
            name: header.name().map(Into::into),
            message: header.meta.cancel_message(),
        }
    }

    pub(crate) fn panicked(header: &Header, payload: Box<dyn Any + Send>) -> TaskError {
        TaskError::Panicked {
            id: header.id(),
            name: header.name().map(Into::into),
            payload: shareable(payload),
        }
    }

    /// Whether the task was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, TaskError::Cancelled { .. })
    }

    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, TaskError::Panicked { .. })
    }

    /// The message the task was cancelled with ([`Task::cancel_with`]), if
    /// it was cancelled and a message was given (the first one wins, as in
    /// asyncio). `None` for a panic.
    ///
    /// [`Task::cancel_with`]: crate::Task::cancel_with
    pub fn cancel_message(&self) -> Option<&str> {
        match self {
            TaskError::Cancelled { message, .. } => message.as_deref(),
            TaskError::Panicked { .. } => None,
        }
    }

    /// The panic payload, to re-raise with `std::panic::resume_unwind`.
    ///
    /// A `&'static str` or `String` payload comes back as itself from every
    /// clone of the error. Any other payload comes back as itself from the
    /// first clone that asks; later ones get a `Box<String>` saying so.
    ///
    /// # Panics
    ///
    /// If the task was cancelled rather than panicked.
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        match self.try_into_panic() {
            Ok(payload) => payload,
            Err(error) => panic!("task {} was cancelled, it did not panic", error.id()),
        }
    }

    /// The panic payload if the task panicked (as [`into_panic`](Self::into_panic)
    /// gives it), else the error back.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, TaskError> {
        match self {
            TaskError::Panicked { payload, .. } => Ok(match payload.downcast::<OtherPayload>() {
                Ok(other) => match other.0.lock().take() {
                    Some(original) => original,
                    None => Box::new(PAYLOAD_TAKEN.to_owned()),
                },
                Err(payload) => payload,
            }),
            other => Err(other),
        }
    }

    /// The panic message when the payload is a string (as `panic!("...")` makes).
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            TaskError::Panicked { payload, .. } => payload_message(&**payload),
            TaskError::Cancelled { .. } => None,
        }
    }

    /// The id of the task that failed.
    pub fn id(&self) -> TaskId {
        match self {
            TaskError::Cancelled { id, .. } | TaskError::Panicked { id, .. } => *id,
        }
    }

    /// The name of the task that failed, if it had one.
    pub fn name(&self) -> Option<&str> {
        match self {
            TaskError::Cancelled { name, .. } | TaskError::Panicked { name, .. } => name.as_deref(),
        }
    }

    fn describe_task(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "task {} '{}'", self.id(), name),
            None => write!(f, "task {}", self.id()),
        }
    }
}

/// Stores a caught payload so that the error is `Sync` and `Clone`: string
/// payloads as themselves, anything else behind a shared lock.
fn shareable(payload: Box<dyn Any + Send>) -> Box<dyn Any + Send + Sync> {
    let payload = match payload.downcast::<&'static str>() {
        Ok(text) => return text,
        Err(payload) => payload,
    };
    match payload.downcast::<String>() {
        Ok(text) => text,
        Err(other) => Box::new(OtherPayload(Arc::new(Mutex::new(Some(other))))),
    }
}

/// A copy of a stored payload: only the three kinds `shareable` makes exist
/// (the variants are `#[non_exhaustive]`, so no other crate builds one).
fn clone_payload(payload: &(dyn Any + Send + Sync)) -> Box<dyn Any + Send + Sync> {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        Box::new(*text)
    } else if let Some(text) = payload.downcast_ref::<String>() {
        Box::new(text.clone())
    } else if let Some(other) = payload.downcast_ref::<OtherPayload>() {
        Box::new(OtherPayload(other.0.clone()))
    } else {
        unreachable!("TaskError payloads are made by `shareable`")
    }
}

impl Clone for TaskError {
    fn clone(&self) -> TaskError {
        match self {
            TaskError::Cancelled { id, name, message } => TaskError::Cancelled {
                id: *id,
                name: name.clone(),
                message: message.clone(),
            },
            TaskError::Panicked { id, name, payload } => TaskError::Panicked {
                id: *id,
                name: name.clone(),
                payload: clone_payload(&**payload),
            },
        }
    }
}

/// The message of a panic payload made by `panic!` with a string.
pub fn payload_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.describe_task(f)?;
        match self {
            TaskError::Cancelled { message: None, .. } => write!(f, " was cancelled"),
            TaskError::Cancelled {
                message: Some(message),
                ..
            } => write!(f, " was cancelled: {message}"),
            TaskError::Panicked { .. } => match self.panic_message() {
                Some(message) => write!(f, " panicked: {message}"),
                None => write!(f, " panicked"),
            },
        }
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Cancelled { id, name, message } => f
                .debug_struct("Cancelled")
                .field("id", id)
                .field("name", name)
                .field("message", message)
                .finish(),
            TaskError::Panicked { id, name, .. } => f
                .debug_struct("Panicked")
                .field("id", id)
                .field("name", name)
                .field("message", &self.panic_message())
                .finish(),
        }
    }
}

impl std::error::Error for TaskError {}

// `task.await?` into `anyhow::Error` / `Box<dyn Error + Send + Sync>` needs these.
const _: fn() = || {
    fn bounds<E: std::error::Error + Send + Sync + Clone + 'static>() {}
    bounds::<TaskError>();
};

impl From<TaskError> for std::io::Error {
    fn from(error: TaskError) -> std::io::Error {
        std::io::Error::other(error.to_string())
    }
}
