//! What a poll runs inside: the per-task `tracing` span and the debug hooks
//! (slow polls, panics never retrieved).
//!
//! Each poll runs in a `task{id=.. name=..}` span (target
//! [`TASK_SPAN_TARGET`]); whether INFO is enabled at all is checked once per
//! iteration, and an iteration without it, and without a slow-poll hook,
//! runs the plain loop. Nothing here holds a task pointer: what a hook
//! reports is copied out of the header before the poll, and the task may be
//! freed by the time the span exits or the hook runs.

use std::panic::Location;
use std::rc::Rc;
use std::time::Duration;

use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};

use crate::raw::{Header, Runnable};

/// The `tracing` target of the span each task poll runs in (`task{id=..
/// name=..}`, level INFO). Filter it out to turn the spans off, e.g.
/// `RUST_LOG=info,corio::task=off` with an `EnvFilter`, or
/// `Targets::new().with_target("corio::task", LevelFilter::OFF)`.
pub const TASK_SPAN_TARGET: &str = "corio::task";

/// A task panicked and its result was dropped unread (the task was detached,
/// or its handle dropped): asyncio's "Task exception was never retrieved".
#[derive(Debug, Clone)]
pub struct UnretrievedPanic {
    /// The task's id.
    pub id: crate::TaskId,
    /// The task's name, if it has one.
    pub name: Option<Box<str>>,
    /// Where the task was spawned.
    pub location: &'static Location<'static>,
    /// The panic message, when the payload is a string.
    pub message: Option<String>,
}

/// A task poll that took at least the threshold given to
/// [`LocalExecutor::set_slow_poll_hook`](crate::LocalExecutor::set_slow_poll_hook):
/// which task, and how long.
#[derive(Debug, Clone)]
pub struct SlowPoll {
    /// The task's id.
    pub id: crate::TaskId,
    /// The task's name, if it has one.
    pub name: Option<Box<str>>,
    /// Where the task was spawned.
    pub location: &'static Location<'static>,
    /// How long the poll ran.
    pub duration: Duration,
    /// The worker thread that ran it (its index), under the multi-threaded
    /// [`Executor`](crate::Executor); `None` on a `LocalExecutor` and on the
    /// thread that runs `Executor::block_on`.
    pub worker: Option<usize>,
}

/// The slow-poll hook and its threshold.
#[derive(Clone)]
pub(super) struct SlowPollHook {
    pub(super) threshold: Duration,
    pub(super) report: Rc<dyn Fn(&SlowPoll)>,
}

/// Whether task polls run in spans: whether any subscriber may want INFO.
/// Checked once per iteration (no subscriber, or a stricter level: the
/// iteration runs the plain loop, no per-poll cost at all). A subscriber
/// installed during an iteration sees spans from the next one.
#[inline]
pub(crate) fn task_spans_enabled() -> bool {
    tracing::Level::INFO <= STATIC_MAX_LEVEL && tracing::Level::INFO <= LevelFilter::current()
}

/// The span a poll of `task` runs in: `task{id=.. name=..}` at INFO, target
/// [`TASK_SPAN_TARGET`]; none for hidden (internal) tasks. The macro asks the
/// subscriber (once per callsite, then cached), so a filter on the target
/// turns the span off.
#[inline]
pub(crate) fn poll_span(task: &Header) -> tracing::Span {
    if !task.is_hidden() {
        tracing::info_span!(
            target: TASK_SPAN_TARGET,
            "task",
            id = task.id().as_u64(),
            name = task.name()
        )
    } else {
        tracing::Span::none()
    }
}

/// Runs one poll, timing it; reports it to `hook` if it took `threshold` or more.
pub(crate) fn run_timed(
    runnable: Runnable,
    threshold: Duration,
    worker: Option<usize>,
    hook: &dyn Fn(&SlowPoll),
) {
    let header = runnable.header();
    // Copied before running: a task that completes may be freed by `run`.
    let hidden = header.is_hidden();
    let (id, location) = (header.id(), header.location());
    let name: Option<Box<str>> = header.name().map(Into::into);
    let started = std::time::Instant::now();
    runnable.run();
    let duration = started.elapsed();
    if duration >= threshold && !hidden {
        hook(&SlowPoll {
            id,
            name,
            location,
            duration,
            worker,
        });
    }
}

/// Runs an eager task's first step (see `Spawner::spawn_eager_with`) in
/// place: in its own span when spans are on, so what it logs names it. It
/// is not timed on its own: it runs inside whatever poll created the task,
/// and its time counts in that poll's, as asyncio counts an eager step in
/// the step that called `create_task`.
#[inline]
pub(crate) fn run_step(runnable: Runnable) {
    if task_spans_enabled() {
        let _span = poll_span(runnable.header()).entered();
        runnable.run();
    } else {
        runnable.run();
    }
}
