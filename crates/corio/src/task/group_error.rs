//! `TaskGroupError` and `Failure`: asyncio's ExceptionGroup, as a value.

use std::any::Any;
use std::fmt;
use std::sync::Mutex;

use corio_executor::{payload_message, TaskInfo};

/// One failure inside a [`TaskGroup`](crate::task::TaskGroup): a child (or
/// the body) returned `Err`, or panicked.
pub enum Failure<E> {
    /// The task returned `Err(error)`.
    Error {
        /// Which task failed.
        task: TaskInfo,
        /// What it returned.
        error: E,
    },
    /// The task panicked; `payload` is what the panic carried.
    Panic {
        /// Which task panicked.
        task: TaskInfo,
        /// The panic payload.
        payload: PanicPayload,
    },
}

/// A caught panic's payload. Kept behind a mutex so that [`Failure`] and
/// [`TaskGroupError`] are `Sync`, and so convert into
/// `Box<dyn Error + Send + Sync>` (and `anyhow::Error`).
pub struct PanicPayload(Mutex<Box<dyn Any + Send + 'static>>);

impl PanicPayload {
    pub(crate) fn new(payload: Box<dyn Any + Send + 'static>) -> PanicPayload {
        PanicPayload(Mutex::new(payload))
    }

    /// The panic message, when the payload is a string (as `panic!` makes).
    pub fn message(&self) -> Option<String> {
        let payload = self.0.lock().unwrap_or_else(|e| e.into_inner());
        payload_message(&**payload).map(str::to_owned)
    }

    /// The payload, to re-raise with `std::panic::resume_unwind`.
    pub fn into_inner(self) -> Box<dyn Any + Send + 'static> {
        self.0.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for PanicPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PanicPayload")
            .field(&self.message())
            .finish()
    }
}

impl<E> Failure<E> {
    /// The task that failed.
    pub fn task(&self) -> &TaskInfo {
        match self {
            Failure::Error { task, .. } | Failure::Panic { task, .. } => task,
        }
    }

    /// The error, if the task returned one (not a panic).
    pub fn error(&self) -> Option<&E> {
        match self {
            Failure::Error { error, .. } => Some(error),
            Failure::Panic { .. } => None,
        }
    }

    /// The panic message, if the task panicked with a string.
    pub fn panic_message(&self) -> Option<String> {
        match self {
            Failure::Panic { payload, .. } => payload.message(),
            Failure::Error { .. } => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for Failure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let task = self.task();
        write!(f, "task {}", task.id())?;
        if let Some(name) = task.name() {
            write!(f, " '{name}'")?;
        }
        match self {
            Failure::Error { error, .. } => write!(f, " failed: {error}"),
            Failure::Panic { .. } => match self.panic_message() {
                Some(message) => write!(f, " panicked: {message}"),
                None => write!(f, " panicked"),
            },
        }
    }
}

impl<E: fmt::Debug> fmt::Debug for Failure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Error { task, error } => f
                .debug_struct("Error")
                .field("task", &task.id())
                .field("name", &task.name())
                .field("error", error)
                .finish(),
            Failure::Panic { task, .. } => f
                .debug_struct("Panic")
                .field("task", &task.id())
                .field("name", &task.name())
                .field("message", &self.panic_message())
                .finish(),
        }
    }
}

/// Why a [`TaskGroup`](crate::task::TaskGroup) scope failed: every failure of
/// its body and children, in the order they happened (asyncio's
/// `ExceptionGroup`), and whether [`TaskGroup::cancel`](crate::task::TaskGroup::cancel)
/// stopped it.
pub struct TaskGroupError<E> {
    failures: Vec<Failure<E>>,
    cancelled: bool,
}

impl<E> TaskGroupError<E> {
    pub(crate) fn new(failures: Vec<Failure<E>>, cancelled: bool) -> TaskGroupError<E> {
        TaskGroupError {
            failures,
            cancelled,
        }
    }

    /// The failures, in the order they happened. Empty when the group was
    /// only cancelled.
    pub fn errors(&self) -> &[Failure<E>] {
        &self.failures
    }

    /// The failures, owned.
    pub fn into_errors(self) -> Vec<Failure<E>> {
        self.failures
    }

    /// Whether the group was stopped by [`TaskGroup::cancel`](crate::task::TaskGroup::cancel).
    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }
}

impl<E: fmt::Display> fmt::Display for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.cancelled, self.failures.len()) {
            (true, 0) => return write!(f, "the task group was cancelled"),
            (true, n) => write!(f, "the task group was cancelled after {n} failure(s)")?,
            (false, 1) => write!(f, "a task of the group failed")?,
            (false, n) => write!(f, "{n} tasks of the group failed")?,
        }
        for failure in &self.failures {
            write!(f, "\n  {failure}")?;
        }
        Ok(())
    }
}

impl<E: fmt::Debug> fmt::Debug for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupError")
            .field("failures", &self.failures)
            .field("cancelled", &self.cancelled)
            .finish()
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for TaskGroupError<E> {}
