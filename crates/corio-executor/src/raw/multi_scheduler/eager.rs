//! Eager spawns on the work-stealing executor: a new task's first step runs
//! in place on the calling thread, when it is one of the executor's (see
//! `Spawner::spawn_eager_with`).

use std::future::Future;
use std::sync::Arc;

use super::{local_spawn_off_thread, polling, MultiScheduler, Pinned};
use crate::raw::current::{spawn_in_context, EagerStep};
use crate::raw::{Builder, Header, Runnable, Task};

impl MultiScheduler {
    /// Whether the facade creates this executor's tasks eagerly.
    pub(crate) fn eager_tasks(&self) -> bool {
        self.eager_tasks.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn set_eager_tasks(&self, on: bool) {
        self.eager_tasks
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Spawns a `Send` task whose first step runs now, on the calling
    /// thread if it is one of the executor's (else it is scheduled).
    #[track_caller]
    pub(crate) fn spawn_eager<F>(self: &Arc<Self>, builder: Builder, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (runnable, task) = spawn_in_context!(future, |f| builder.spawn(f, self.clone()));
        if let Some(runnable) = self.list_send(runnable) {
            match (self.current_slot(), EagerStep::enter()) {
                (Some(_), Some(step)) => {
                    run_eager(runnable);
                    drop(step);
                }
                _ => self.schedule_send(runnable),
            }
        }
        task
    }

    /// Spawns a task that need not be `Send`, pinned to the calling
    /// thread's slot, its first step run now.
    ///
    /// # Panics
    ///
    /// As [`spawn_local`](Self::spawn_local).
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
        let Some(slot) = self.current_slot() else {
            local_spawn_off_thread()
        };
        let pinned = Pinned {
            scheduler: self.clone(),
            slot,
        };
        // SAFETY: as in `spawn_local`; the eager step runs on this thread too.
        let (runnable, task) =
            unsafe { spawn_in_context!(future, |f| builder.spawn_unchecked(f, pinned)) };
        if let Some(runnable) = self.list_pinned(slot, runnable) {
            match EagerStep::enter() {
                Some(step) => {
                    run_eager(runnable);
                    drop(step);
                }
                None => self.push_pinned(slot, runnable),
            }
        }
        task
    }
}

/// Runs an eager task's first step in place, marked as the task this
/// thread polls (its self-wakes go to the back of the queue; its creator's
/// marking comes back after).
#[inline]
fn run_eager(runnable: Runnable) {
    let task = runnable.header() as *const Header as usize;
    polling(task, || crate::local::run_step(runnable));
}
