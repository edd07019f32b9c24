//! `TaskGroupError` and `Failure`: asyncio's ExceptionGroup, as a value;
//! and `NestedGroupError`, a nested group's `TaskGroupError` that reached
//! its enclosing group without the code in between (`group/nesting.rs`).

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
    /// The task ran a nested `TaskGroup` scope that was dropped with
    /// failures collected (this group cancelled the task, or its code
    /// dropped the scope at an await): asyncio's nested `ExceptionGroup`.
    Nested {
        /// The task that ran the nested scope.
        task: TaskInfo,
        /// The nested group's failures.
        group: NestedGroupError,
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
            Failure::Error { task, .. }
            | Failure::Panic { task, .. }
            | Failure::Nested { task, .. } => task,
        }
    }

    /// The error, if the task returned one (not a panic).
    pub fn error(&self) -> Option<&E> {
        match self {
            Failure::Error { error, .. } => Some(error),
            Failure::Panic { .. } | Failure::Nested { .. } => None,
        }
    }

    /// The panic message, if the task panicked with a string.
    pub fn panic_message(&self) -> Option<String> {
        match self {
            Failure::Panic { payload, .. } => payload.message(),
            Failure::Error { .. } | Failure::Nested { .. } => None,
        }
    }

    /// The nested group's failures, if the task left a nested scope with
    /// failures behind.
    pub fn nested(&self) -> Option<&NestedGroupError> {
        match self {
            Failure::Nested { group, .. } => Some(group),
            Failure::Error { .. } | Failure::Panic { .. } => None,
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
            Failure::Panic { .. } | Failure::Nested { .. } => write_failure_tail(self, f),
        }
    }
}

/// What follows "task N 'name'" for a failure whose error need not be
/// `Display` (a panic, a nested group, or an error of a nested group).
fn write_failure_tail<E>(failure: &Failure<E>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match failure {
        Failure::Error { .. } => write!(f, " failed"),
        Failure::Panic { .. } => match failure.panic_message() {
            Some(message) => write!(f, " panicked: {message}"),
            None => write!(f, " panicked"),
        },
        Failure::Nested { group, .. } => write!(f, " left a nested {group}"),
    }
}

/// `Failure`'s header without `E: Display`: the task, and how it failed
/// (an `Err`'s value is not shown).
fn write_failure_summary<E>(failure: &Failure<E>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let task = failure.task();
    write!(f, "task {}", task.id())?;
    if let Some(name) = task.name() {
        write!(f, " '{name}'")?;
    }
    write_failure_tail(failure, f)
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
            Failure::Nested { task, group } => f
                .debug_struct("Nested")
                .field("task", &task.id())
                .field("name", &task.name())
                .field("group", group)
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

/// A nested [`TaskGroup`](crate::task::TaskGroup)'s [`TaskGroupError`],
/// whatever its error type: what [`Failure::Nested`] carries. Get the typed
/// error back with [`downcast`](NestedGroupError::downcast).
///
/// Kept behind a mutex, as [`PanicPayload`] is, so that a [`Failure`] is
/// `Sync` whatever the nested group's error type.
///
/// A runnable example (an outer and an inner group both failing, the
/// inner error read back with `downcast`) is in the TaskGroup guide,
/// `docs/taskgroup.md` (the nested-groups example after the mapping
/// table), which runs as a doctest.
pub struct NestedGroupError(Mutex<Box<dyn ErasedGroupError>>);

/// A `TaskGroupError<E>` with `E` erased.
trait ErasedGroupError: Any + Send {
    fn len(&self) -> usize;
    fn is_cancelled(&self) -> bool;
    fn summary(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

impl<E: Send + 'static> ErasedGroupError for TaskGroupError<E> {
    fn len(&self) -> usize {
        self.failures.len()
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled
    }

    fn summary(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskGroup with {} failure(s): [", self.failures.len())?;
        for (i, failure) in self.failures.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            write_failure_summary(failure, f)?;
        }
        write!(f, "]")
    }
}

impl NestedGroupError {
    pub(crate) fn new<E: Send + 'static>(error: TaskGroupError<E>) -> NestedGroupError {
        NestedGroupError(Mutex::new(Box::new(error)))
    }

    fn with<R>(&self, f: impl FnOnce(&dyn ErasedGroupError) -> R) -> R {
        f(&**self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// How many failures the nested group collected.
    pub fn len(&self) -> usize {
        self.with(|error| error.len())
    }

    /// Always false: a nested group is handed on only with failures.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the nested group had also been stopped by
    /// [`TaskGroup::cancel`](crate::task::TaskGroup::cancel).
    pub fn is_cancelled(&self) -> bool {
        self.with(|error| error.is_cancelled())
    }

    /// The nested group's error, when its error type is `E`; else `self`
    /// back.
    pub fn downcast<E: 'static>(self) -> Result<TaskGroupError<E>, NestedGroupError> {
        let is_e = self.with(|error| {
            let error: &dyn Any = error;
            error.is::<TaskGroupError<E>>()
        });
        if !is_e {
            return Err(self);
        }
        let erased: Box<dyn Any> = self.0.into_inner().unwrap_or_else(|e| e.into_inner());
        Ok(*erased
            .downcast::<TaskGroupError<E>>()
            .expect("checked just above"))
    }
}

/// The nested group's failures, one line: each task and how it failed (an
/// `Err`'s value is not shown: [`downcast`](NestedGroupError::downcast) to
/// see it).
impl fmt::Display for NestedGroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with(|error| error.summary(f))
    }
}

impl fmt::Debug for NestedGroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NestedGroupError")
            .field(&format_args!("{self}"))
            .finish()
    }
}
