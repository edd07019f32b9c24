//! Eager spawns on the local executor: a new task's first step runs in
//! place, inside the caller (see `Spawner::spawn_eager_with`).

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::LocalScheduler;
use crate::raw::current::{spawn_in_context, EagerStep};
use crate::raw::{Builder, Runnable, Task};
use crate::teardown;

impl LocalScheduler {
    /// Whether the facade creates this executor's tasks eagerly.
    pub(crate) fn eager_tasks(&self) -> bool {
        self.eager_tasks.load(Ordering::Relaxed)
    }

    pub(crate) fn set_eager_tasks(&self, on: bool) {
        self.eager_tasks.store(on, Ordering::Relaxed);
    }

    /// Spawns a `Send` task whose first step runs now, on the owner thread
    /// (see [`Spawner::spawn_eager_with`](crate::Spawner::spawn_eager_with));
    /// from any other thread it is scheduled as usual.
    #[track_caller]
    pub(crate) fn spawn_eager<F>(self: &Arc<Self>, builder: Builder, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (runnable, task) = spawn_in_context!(future, |f| builder.spawn(f, self.clone()));
        self.submit_eager(runnable);
        task
    }

    /// Spawns a task that need not be `Send`, its first step run now.
    ///
    /// # Panics
    ///
    /// Off the owner thread.
    #[track_caller]
    pub(crate) fn spawn_local_eager<F>(
        self: &Arc<Self>,
        builder: Builder,
        future: F,
    ) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        assert!(
            self.is_owner(),
            "a local (!Send) task can only be spawned on its executor's thread"
        );
        // SAFETY: as in `spawn_local`: 'static, on the owner thread, which
        // alone polls and drops it (the eager step below runs here too).
        let (runnable, task) =
            unsafe { spawn_in_context!(future, |f| builder.spawn_unchecked(f, self.clone())) };
        self.submit_eager(runnable);
        task
    }

    /// A new task's first Runnable, run in place: listed first (as its
    /// first queueing would), then polled on this stack, inside the
    /// caller's poll if there is one. Queued as usual when that cannot be:
    /// off the owner thread, or [`MAX_EAGER_DEPTH`](super::current::MAX_EAGER_DEPTH)
    /// eager steps deep. Cancelled at once if closed.
    fn submit_eager(&self, runnable: Runnable) {
        if self.is_closed() {
            return teardown::drop_rejected(runnable);
        }
        let Some(owned) = self.owned() else {
            return self.push_remote(runnable);
        };
        let Some(step) = EagerStep::enter() else {
            return self.schedule_runnable(runnable);
        };
        // A fresh task: neither completed nor listed.
        self.register(owned, runnable.header(), true);
        // No borrow is held: the step may spawn, wake, cancel or close.
        crate::local::run_step(runnable);
        drop(step);
    }
}
