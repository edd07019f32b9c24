//! The loop's exception handler (asyncio's `set_exception_handler`,
//! `call_exception_handler`, `default_exception_handler`): where errors go
//! that have nobody to return to, namely a callback that panicked and a
//! task panic never retrieved. Also `run_callback`, which runs every loop
//! callback and reports what goes wrong in it.

use std::fmt;
use std::panic::{AssertUnwindSafe, Location};
use std::sync::Arc;
use std::time::Duration;

use corio_executor::{TaskId, UnretrievedPanic};
use parking_lot::Mutex;

/// What went wrong, for a loop's exception handler (asyncio's `context`
/// dict: `message`, `exception`, `task`, `handle`).
///
/// ```
/// let error = corio::LoopError::new("lost a heartbeat");
/// assert_eq!(error.message(), "lost a heartbeat");
/// assert_eq!(error.kind(), corio::LoopErrorKind::Reported);
/// assert!(error.panic_message().is_none());
/// ```
#[derive(Clone, Debug)]
pub struct LoopError {
    kind: LoopErrorKind,
    message: String,
    panic: Option<String>,
    task: Option<(TaskId, Option<String>)>,
    location: Option<&'static Location<'static>>,
}

/// Which kind of error a [`LoopError`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LoopErrorKind {
    /// A `call_soon`/`call_later`/`call_at`/signal callback panicked.
    CallbackPanicked,
    /// A task panicked and its result was never taken: the task was
    /// detached or its handle dropped unread (asyncio's "Task exception was
    /// never retrieved").
    TaskPanicNeverRetrieved,
    /// Closing the loop waited its `blocking_shutdown_timeout` for
    /// `to_thread` jobs, and some were still running.
    BlockingPoolTimedOut,
    /// Made by user code with [`LoopError::new`] and passed to
    /// [`LoopHandle::call_exception_handler`](crate::LoopHandle::call_exception_handler).
    Reported,
}

impl LoopError {
    /// An error to report with
    /// [`call_exception_handler`](crate::LoopHandle::call_exception_handler).
    pub fn new(message: impl Into<String>) -> LoopError {
        LoopError {
            kind: LoopErrorKind::Reported,
            message: message.into(),
            panic: None,
            task: None,
            location: None,
        }
    }

    /// What kind of error this is.
    pub fn kind(&self) -> LoopErrorKind {
        self.kind
    }

    /// A one-line description (asyncio's `context["message"]`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The panic's message, for a panic with a string payload.
    pub fn panic_message(&self) -> Option<&str> {
        self.panic.as_deref()
    }

    /// The task it concerns (asyncio's `context["task"]`).
    pub fn task_id(&self) -> Option<TaskId> {
        self.task.as_ref().map(|(id, _)| *id)
    }

    /// That task's name, if it has one.
    pub fn task_name(&self) -> Option<&str> {
        self.task.as_ref().and_then(|(_, name)| name.as_deref())
    }

    /// Where the callback was scheduled or the task spawned (asyncio's
    /// `context["handle"]` / `source_traceback`).
    pub fn location(&self) -> Option<&'static Location<'static>> {
        self.location
    }

    fn callback_panicked(location: &'static Location<'static>, panic: Option<&str>) -> LoopError {
        let panic = panic.unwrap_or("<non-string panic payload>");
        LoopError {
            kind: LoopErrorKind::CallbackPanicked,
            message: format!("callback scheduled at {location} panicked: {panic}"),
            panic: Some(panic.to_owned()),
            task: None,
            location: Some(location),
        }
    }

    pub(crate) fn blocking_pool_timed_out(
        timeout: Duration,
        threads: usize,
        queued: usize,
    ) -> LoopError {
        LoopError {
            kind: LoopErrorKind::BlockingPoolTimedOut,
            message: format!(
                "the loop closed with to_thread jobs still running: {threads} thread(s) busy and \
                 {queued} job(s) queued after waiting {timeout:?} (Builder::blocking_shutdown_timeout); \
                 they finish on their own"
            ),
            panic: None,
            task: None,
            location: None,
        }
    }

    fn task_panic_never_retrieved(panic: &UnretrievedPanic) -> LoopError {
        let name = panic.name.as_deref().map(str::to_owned);
        let message = panic
            .message
            .as_deref()
            .unwrap_or("<non-string panic payload>");
        LoopError {
            kind: LoopErrorKind::TaskPanicNeverRetrieved,
            message: format!(
                "task panic never retrieved: task {} '{}' spawned at {} panicked: {}",
                panic.id,
                name.as_deref().unwrap_or("<unnamed>"),
                panic.location,
                message
            ),
            panic: panic.message.clone(),
            task: Some((panic.id, name)),
            location: Some(panic.location),
        }
    }
}

impl fmt::Display for LoopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for LoopError {}

type Handler = Arc<dyn Fn(&LoopError) + Send + Sync>;

/// A loop's handler slot, shared by the loop and its executor's hooks.
pub(crate) struct ExceptionHandler {
    handler: Mutex<Option<Handler>>,
    /// Debug mode: the default handler also logs unretrieved task panics.
    debug: bool,
}

impl ExceptionHandler {
    pub(crate) fn new(debug: bool) -> ExceptionHandler {
        ExceptionHandler {
            handler: Mutex::new(None),
            debug,
        }
    }

    pub(crate) fn set(&self, handler: Option<Handler>) {
        let old = std::mem::replace(&mut *self.handler.lock(), handler);
        drop(old); // outside the lock: its Drop may call back in
    }

    /// Hands `error` to the handler, or to the default one. A handler that
    /// panics is reported by the default handler, and the loop goes on
    /// (asyncio logs an exception raised by the handler the same way).
    pub(crate) fn report(&self, error: &LoopError) {
        let handler = self.handler.lock().clone();
        let Some(handler) = handler else {
            self.default_report(error);
            return;
        };
        if let Err(payload) = std::panic::catch_unwind(AssertUnwindSafe(|| handler(error))) {
            let message =
                corio_executor::payload_message(&*payload).unwrap_or("<non-string panic payload>");
            tracing::error!(
                target: "corio",
                "the loop's exception handler panicked ({message}) while handling: {error}"
            );
        }
    }

    /// The executor's hook for task panics nobody retrieved.
    pub(crate) fn report_unretrieved_panic(&self, panic: &UnretrievedPanic) {
        self.report(&LoopError::task_panic_never_retrieved(panic));
    }

    fn default_report(&self, error: &LoopError) {
        match error.kind {
            // Rust's panic hook already printed the panic; the report adds
            // that nobody looked, in debug mode only (as before handlers).
            LoopErrorKind::TaskPanicNeverRetrieved => {
                if self.debug {
                    default_exception_handler(error);
                }
            }
            _ => default_exception_handler(error),
        }
    }
}

/// The default exception handler (asyncio's `default_exception_handler`):
/// logs the error with `tracing` under the target `corio`, at ERROR for a
/// panicked callback or a reported error, at WARN for a task panic never
/// retrieved. A handler set with
/// [`set_exception_handler`](crate::LoopHandle::set_exception_handler) may
/// call it to keep the default logging.
pub fn default_exception_handler(error: &LoopError) {
    let location = error.location.map(|l| l.to_string());
    match error.kind {
        LoopErrorKind::TaskPanicNeverRetrieved => tracing::warn!(
            target: "corio",
            task_id = error.task_id().map(TaskId::as_u64),
            task_name = error.task_name(),
            spawned_at = location.as_deref(),
            "{}",
            error.message
        ),
        _ => tracing::error!(
            target: "corio",
            callback = location.as_deref(),
            "{}",
            error.message
        ),
    }
}

/// How loop callbacks are run: the debug threshold for slow ones, and the
/// loop's exception handler for panics.
#[derive(Clone)]
pub(crate) struct CallbackReporting {
    pub(crate) slow: Option<Duration>,
    pub(crate) errors: Arc<ExceptionHandler>,
}

/// Runs a callback body, reporting a panic to the loop's exception handler
/// (a callback has nobody to return it to) and, in debug mode, a callback
/// that blocked the loop too long.
pub(crate) fn run_callback(
    f: impl FnOnce(),
    location: &'static Location<'static>,
    reporting: &CallbackReporting,
) {
    let started = reporting.slow.map(|_| std::time::Instant::now());
    // Each call runs in a context of its own (empty unless the callback was
    // bound to its scheduler's context): what it sets never reaches the
    // next callback run by the same task (the callback queue under
    // workers, a signal handler's loop) nor the task itself.
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| crate::context::isolated(f)));
    if let (Some(threshold), Some(started)) = (reporting.slow, started) {
        let took = started.elapsed();
        if took >= threshold {
            tracing::warn!(
                target: "corio",
                callback = %location,
                duration_ms = took.as_secs_f64() * 1e3,
                "callback scheduled at {location} blocked the event loop for {took:?}"
            );
        }
    }
    if let Err(payload) = result {
        let panic = corio_executor::payload_message(&*payload);
        let error = LoopError::callback_panicked(location, panic);
        drop(payload);
        reporting.errors.report(&error);
    }
}
