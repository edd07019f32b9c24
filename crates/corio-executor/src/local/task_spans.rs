//! Opt-in per-task `tracing` spans (`LocalExecutor::set_task_spans`,
//! `ExecutorBuilder::task_spans`): one `task{id, name}` span per visible
//! task, created at its first poll with no parent, cached, and entered
//! around each poll.
//!
//! Off by default, for two reasons (measured and argued in the crate docs,
//! "Tracing"):
//!
//! - Truth: whatever span a poll runs in becomes the parent of every span
//!   created during that poll, and a span goes wherever its future goes. A
//!   future `.in_current_span()`ed (or `.instrument(span)`ed with a span
//!   made) inside task 1 and spawned as task 2 keeps `task{id=1}` in its
//!   scope (`#[instrument]` on an `async fn` makes its span at the first
//!   poll, so inside task 2: that one is right), so task 2's
//!   lines would read `task{id=1}:request{..}`. No span entered by the
//!   executor can fix that: a subscriber shows an event inside the innermost
//!   span's scope, which is the user's. The task that wrote a line is the
//!   current task at the moment it is written (`current_task_id()`, set for
//!   exactly the poll), which a formatter can print (the
//!   `corio::debug` module docs show one; `corio/tests/corio/task_logs.rs`).
//! - Cost (`examples/task_span_cost.rs`): a span per poll made a yield
//!   ~195 ns under a `fmt` subscriber at INFO, against ~15 ns; the cached
//!   span still adds ~45 ns (an enter and an exit through the subscriber).
//!
//! When on, the span has `parent: None` (a task is no child of whatever span
//! the loop or its spawner was in), so a task's own lines carry exactly its
//! span, and a subscriber sees one span per task: its busy time, one trace
//! per task. Spans live in a cache keyed by task id, sharded by id; a task's
//! span is removed when a poll finishes the task, and the rest when the
//! executor closes. The cache is reached through a thread-local the run
//! loops set (`activate`), so eager first steps, which run inside another
//! task's poll, find it too. No lock is held while the subscriber runs
//! (creating, entering, closing a span is its code).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use super::hooks::TASK_SPAN_TARGET;
use crate::raw::{Header, Runnable};

const SHARDS: usize = 16;

/// The spans of one executor's tasks.
pub(crate) struct TaskSpans {
    shards: [Mutex<HashMap<u64, Arc<tracing::Span>>>; SHARDS],
}

thread_local! {
    /// The cache of the executor whose run loop is running on this thread.
    static ACTIVE: RefCell<Option<Arc<TaskSpans>>> = const { RefCell::new(None) };
}

impl TaskSpans {
    pub(crate) fn new() -> Arc<TaskSpans> {
        Arc::new(TaskSpans {
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
        })
    }

    fn shard(&self, id: u64) -> &Mutex<HashMap<u64, Arc<tracing::Span>>> {
        &self.shards[id as usize % SHARDS]
    }

    /// The task's span, created (outside the lock) on first use.
    fn span_of(&self, task: &Header) -> Arc<tracing::Span> {
        let id = task.id().as_u64();
        if let Some(span) = self.shard(id).lock().get(&id) {
            return span.clone();
        }
        let span = Arc::new(tracing::info_span!(
            target: TASK_SPAN_TARGET,
            parent: None,
            "task",
            id,
            name = task.name()
        ));
        // A task is polled by one thread at a time: nobody raced us here.
        self.shard(id).lock().insert(id, span.clone());
        span
    }

    /// Runs `poll(runnable)` inside the task's span; forgets the span if the
    /// poll finished the task (`poll` returns whether it did).
    #[inline]
    pub(crate) fn run(&self, runnable: Runnable, poll: impl FnOnce(Runnable) -> bool) -> bool {
        let header = runnable.header();
        if header.is_hidden() {
            return poll(runnable);
        }
        // Copied before the poll: a task that completes may be freed by it.
        let id = header.id().as_u64();
        let span = self.span_of(header);
        let done = {
            let _entered = span.enter();
            poll(runnable)
        };
        if done {
            // Dropped after the lock is released: closing is subscriber code.
            let removed = self.shard(id).lock().remove(&id);
            drop(removed);
        }
        done
    }

    /// Forgets every span (the executor is closing).
    pub(crate) fn clear(&self) {
        for shard in &self.shards {
            let spans = std::mem::take(&mut *shard.lock());
            drop(spans);
        }
    }
}

/// Makes `spans` the cache polls on this thread use until the guard drops
/// (it restores the previous one: run loops nest under `block_on`).
pub(crate) fn activate(spans: Option<Arc<TaskSpans>>) -> Activated {
    Activated(ACTIVE.with(|active| active.replace(spans)))
}

/// Restores the thread's previous cache.
pub(crate) struct Activated(Option<Arc<TaskSpans>>);

impl Drop for Activated {
    fn drop(&mut self) {
        let previous = self.0.take();
        let ours = ACTIVE.with(|active| active.replace(previous));
        drop(ours);
    }
}

/// The cache of the run loop on this thread, if it has task spans on.
#[inline]
pub(crate) fn active() -> Option<Arc<TaskSpans>> {
    ACTIVE.with(|active| active.borrow().clone())
}
