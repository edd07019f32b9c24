//! [`Spawner`]: spawning onto a [`LocalExecutor`](crate::LocalExecutor)
//! from any thread, and acting on its tasks.

use std::future::Future;
use std::panic::Location;
use std::sync::Arc;

use crate::raw::{AbortHandle, Builder, LocalScheduler, Task};
use crate::TaskInfo;

/// A `Send + Sync` handle that spawns tasks onto a [`LocalExecutor`](crate::LocalExecutor)
/// from any thread. Spawning after the executor closed gives an
/// already-cancelled task (cancelled right after the `Drop` that spawned it
/// returns, when it was spawned from a `Drop` the closing executor runs).
#[derive(Clone)]
pub struct Spawner {
    scheduler: Arc<LocalScheduler>,
}

impl Spawner {
    pub(super) fn new(scheduler: Arc<LocalScheduler>) -> Spawner {
        Spawner { scheduler }
    }

    /// Spawns a `Send` task.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_with(Builder::new().location(Location::caller()), future)
    }

    /// Spawns a `Send` task with options.
    #[track_caller]
    pub fn spawn_with<F>(&self, builder: Builder, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.scheduler.spawn(builder, future)
    }

    /// Spawns a task that need not be `Send`, onto the executor's thread.
    ///
    /// # Panics
    ///
    /// If called from any other thread than the executor's.
    #[track_caller]
    pub fn spawn_local_with<F>(&self, builder: Builder, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.scheduler.spawn_local(builder, future)
    }

    /// Snapshots of the executor's live tasks (hidden ones left out), or
    /// `None` when called off the executor's thread.
    pub fn tasks(&self) -> Option<Vec<TaskInfo>> {
        let owned = self.scheduler.owned()?;
        Some(self.scheduler.tasks(owned))
    }

    /// Cancels the task and, when called on the executor's thread for one of
    /// its tasks that is neither being polled nor being dropped right now,
    /// drops its future before returning (so its `Drop` has run). Otherwise
    /// the future is dropped at the next scheduling point, as with
    /// [`AbortHandle::cancel`]. Returns whether the future was dropped here.
    pub fn cancel_now(&self, task: &AbortHandle) -> bool {
        self.scheduler.cancel_now(task)
    }

    /// Whether the calling thread is the executor's own thread.
    pub fn is_executor_thread(&self) -> bool {
        self.scheduler.is_owner()
    }

    /// Whether the executor has been closed.
    pub fn is_closed(&self) -> bool {
        self.scheduler.is_closed()
    }

    /// Calls the executor's unpark callback (wakes a parked executor).
    pub fn unpark(&self) {
        self.scheduler.unpark()
    }

    /// Whether `self` and `other` spawn onto the same executor.
    pub fn same_executor(&self, other: &Spawner) -> bool {
        Arc::ptr_eq(&self.scheduler, &other.scheduler)
    }
}

impl std::fmt::Debug for Spawner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spawner")
            .field("closed", &self.is_closed())
            .finish()
    }
}
