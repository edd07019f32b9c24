//! Task identity and the error a task's handle reports: [`TaskId`], [`TaskError`].

use std::any::Any;
use std::fmt;
use std::num::NonZeroU64;

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
pub enum TaskError {
    /// The task was cancelled: its future was dropped before it finished.
    Cancelled {
        /// The task's id.
        id: TaskId,
        /// The task's name, if it had one.
        name: Option<Box<str>>,
    },
    /// The task panicked; `payload` is what the panic carried.
    Panicked {
        /// The task's id.
        id: TaskId,
        /// The task's name, if it had one.
        name: Option<Box<str>>,
        /// The panic payload, as `std::panic::catch_unwind` returns it.
        payload: Box<dyn Any + Send + 'static>,
    },
}

impl TaskError {
    pub(crate) fn cancelled(header: &Header) -> TaskError {
        TaskError::Cancelled {
            id: header.id(),
            name: header.name().map(Into::into),
        }
    }

    pub(crate) fn panicked(header: &Header, payload: Box<dyn Any + Send>) -> TaskError {
        TaskError::Panicked {
            id: header.id(),
            name: header.name().map(Into::into),
            payload,
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

    /// The panic payload, to re-raise with `std::panic::resume_unwind`.
    ///
    /// # Panics
    ///
    /// If the task was cancelled rather than panicked.
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        match self {
            TaskError::Panicked { payload, .. } => payload,
            TaskError::Cancelled { id, .. } => panic!("task {id} was cancelled, it did not panic"),
        }
    }

    /// The panic payload if the task panicked, else the error back.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, TaskError> {
        match self {
            TaskError::Panicked { payload, .. } => Ok(payload),
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
            TaskError::Cancelled { .. } => write!(f, " was cancelled"),
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
            TaskError::Cancelled { id, name } => f
                .debug_struct("Cancelled")
                .field("id", id)
                .field("name", name)
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

impl From<TaskError> for std::io::Error {
    fn from(error: TaskError) -> std::io::Error {
        std::io::Error::other(error.to_string())
    }
}
