//! What a poll runs inside: the opt-in per-task `tracing` span (the cache
//! lives in `task_spans.rs`) and the debug hooks (slow polls, panics never
//! retrieved).
//!
//! Whether a poll runs in its task's span is decided once per iteration:
//! the executor has task spans on and a subscriber may want INFO. An
//! iteration without spans and without a slow-poll hook runs the plain
//! loop. Nothing here holds a task pointer: what a hook reports is copied
//! out of the header before the poll, and the task may be freed by the time
//! the span exits or the hook runs.

use std::panic::Location;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};

use super::task_spans::{self, TaskSpans};
use crate::raw::Runnable;

/// The `tracing` target of the per-task span (`task{id=.. name=..}`, level
/// INFO, no parent) that polls run in when task spans are on
/// ([`LocalExecutor::set_task_spans`](crate::LocalExecutor::set_task_spans),
/// [`ExecutorBuilder::task_spans`](crate::ExecutorBuilder::task_spans); off
/// by default). A filter on the target turns them off again, e.g.
/// `RUST_LOG=info,corio::task=off` with an `EnvFilter`.
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

/// Whether any subscriber may want the task spans (INFO): checked once per
/// iteration, and only by an executor with task spans on. No subscriber, or
/// a stricter level: the iteration runs without them. A subscriber
/// installed during an iteration sees spans from the next one.
#[inline]
pub(crate) fn task_spans_enabled() -> bool {
    tracing::Level::INFO <= STATIC_MAX_LEVEL && tracing::Level::INFO <= LevelFilter::current()
}

/// The task spans this thread's run loop wants for its polls: its cache if
/// it has task spans on and a subscriber may want them.
#[inline]
pub(crate) fn spans_for_iteration() -> Option<Arc<TaskSpans>> {
    if task_spans_enabled() {
        task_spans::active()
    } else {
        None
    }
}

/// A slow-poll hook as a poll sees it: the threshold and the report.
pub(crate) type TimedBy<'a> = (Duration, &'a dyn Fn(&SlowPoll));

/// Polls `runnable`, in its task's span when `spans` is given, timed when
/// `hook` is. Returns whether the task finished.
#[inline]
pub(crate) fn run_hooked(
    runnable: Runnable,
    spans: Option<&TaskSpans>,
    hook: Option<TimedBy<'_>>,
    worker: Option<usize>,
) -> bool {
    let poll = |runnable: Runnable| match hook {
        Some((threshold, report)) => run_timed(runnable, threshold, worker, report),
        None => runnable.run(),
    };
    match spans {
        Some(spans) => spans.run(runnable, poll),
        None => poll(runnable),
    }
}

/// Runs one poll, timing it; reports it to `hook` if it took `threshold` or more.
pub(crate) fn run_timed(
    runnable: Runnable,
    threshold: Duration,
    worker: Option<usize>,
    hook: &dyn Fn(&SlowPoll),
) -> bool {
    let header = runnable.header();
    // Copied before running: a task that completes may be freed by `run`.
    let hidden = header.is_hidden();
    let (id, location) = (header.id(), header.location());
    let name: Option<Box<str>> = header.name().map(Into::into);
    let started = std::time::Instant::now();
    let done = runnable.run();
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
    done
}

/// Runs an eager task's first step (see `Spawner::spawn_eager_with`) in
/// place: in its own span when the run loop on this thread has task spans
/// on, so what it logs names it. It is not timed on its own: it runs inside
/// whatever poll created the task, and its time counts in that poll's, as
/// asyncio counts an eager step in the step that called `create_task`.
#[inline]
pub(crate) fn run_step(runnable: Runnable) {
    match spans_for_iteration() {
        Some(spans) => {
            spans.run(runnable, Runnable::run);
        }
        None => {
            runnable.run();
        }
    }
}
