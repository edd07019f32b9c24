//! [`Spawner`]: spawning onto a [`LocalExecutor`](crate::LocalExecutor) or
//! a multi-threaded [`Executor`](crate::Executor) from any thread, and
//! acting on its tasks. One handle type for both, so code above the
//! executor (the corio facade) is written once.

use std::future::Future;
use std::panic::Location;
use std::sync::Arc;

use crate::raw::current::{replace_context, ContextData};
use crate::raw::{AbortHandle, Builder, LocalScheduler, MultiScheduler, Task};
use crate::TaskInfo;

/// Which executor a spawner spawns onto.
#[derive(Clone)]
enum Core {
    Local(Arc<LocalScheduler>),
    Multi(Arc<MultiScheduler>),
}

/// A `Send + Sync` handle that spawns tasks onto a [`LocalExecutor`](crate::LocalExecutor)
/// or an [`Executor`](crate::Executor) from any thread. Spawning after the
/// executor closed gives an already-cancelled task (cancelled right after
/// the `Drop` that spawned it returns, when it was spawned from a `Drop` the
/// closing executor runs).
#[derive(Clone)]
pub struct Spawner {
    core: Core,
}

impl Spawner {
    /// How deep eager first steps nest on one thread before a new eager
    /// task is scheduled instead (see [`spawn_eager_with`](Self::spawn_eager_with)).
    pub const MAX_EAGER_DEPTH: u32 = crate::raw::current::MAX_EAGER_DEPTH;

    pub(crate) fn local(scheduler: Arc<LocalScheduler>) -> Spawner {
        Spawner {
            core: Core::Local(scheduler),
        }
    }

    pub(crate) fn multi(scheduler: Arc<MultiScheduler>) -> Spawner {
        Spawner {
            core: Core::Multi(scheduler),
        }
    }

    /// Spawns a `Send` task.
    #[track_caller]
    #[inline]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_with(Builder::new().location(Location::caller()), future)
    }

    /// Spawns a `Send` task with options. On a multi-threaded executor it
    /// may run on any worker.
    #[track_caller]
    #[inline]
    pub fn spawn_with<F>(&self, builder: Builder, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.core {
            Core::Local(scheduler) => scheduler.spawn(builder, future),
            Core::Multi(scheduler) => scheduler.spawn(builder, future),
        }
    }

    /// Spawns a task that need not be `Send`: onto the executor's thread
    /// (a `LocalExecutor`), or pinned to the calling worker thread (an
    /// `Executor`: a worker's, or the thread that created it), never stolen.
    ///
    /// # Panics
    ///
    /// If called from any other thread.
    #[track_caller]
    #[inline]
    pub fn spawn_local_with<F>(&self, builder: Builder, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        match &self.core {
            Core::Local(scheduler) => scheduler.spawn_local(builder, future),
            Core::Multi(scheduler) => scheduler.spawn_local(builder, future),
        }
    }

    /// Spawns a `Send` task *eagerly* (asyncio's eager tasks): its first
    /// step (the poll up to its first `Pending`) runs now, on the calling
    /// thread, inside this call, as the current task; if it completes
    /// there, nothing is queued and the returned task is already done. If it
    /// pends, it goes on as any task. A panic in that step is the task's
    /// (stored in it), never the caller's.
    ///
    /// It runs in place only on a thread that runs the executor's tasks
    /// (see [`is_executor_thread`](Self::is_executor_thread)) and while
    /// fewer than [`MAX_EAGER_DEPTH`](Self::MAX_EAGER_DEPTH) eager steps
    /// are nested on this thread (each is a poll inside the one that
    /// created it); otherwise the task is scheduled as by
    /// [`spawn_with`](Self::spawn_with).
    ///
    /// ```
    /// use corio_executor::{Builder, LocalExecutor, ThreadPark};
    ///
    /// let ex = LocalExecutor::new();
    /// let spawner = ex.spawner();
    /// let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    /// let log = order.clone();
    /// let task = spawner.spawn_eager_with(Builder::new(), async move {
    ///     log.lock().unwrap().push("first step");
    ///     7
    /// });
    /// order.lock().unwrap().push("spawned");
    /// assert!(task.is_done()); // finished inside spawn: nothing was queued
    /// assert!(ex.is_idle());
    /// assert_eq!(*order.lock().unwrap(), ["first step", "spawned"]);
    /// assert_eq!(ex.block_on(task, &mut ThreadPark).unwrap(), 7);
    /// ```
    #[track_caller]
    #[inline]
    pub fn spawn_eager_with<F>(&self, builder: Builder, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.core {
            Core::Local(scheduler) => scheduler.spawn_eager(builder, future),
            Core::Multi(scheduler) => scheduler.spawn_eager(builder, future),
        }
    }

    /// [`spawn_local_with`](Self::spawn_local_with), eagerly (see
    /// [`spawn_eager_with`](Self::spawn_eager_with)).
    ///
    /// # Panics
    ///
    /// As [`spawn_local_with`](Self::spawn_local_with).
    #[track_caller]
    #[inline]
    pub fn spawn_local_eager_with<F>(&self, builder: Builder, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        match &self.core {
            Core::Local(scheduler) => scheduler.spawn_local_eager(builder, future),
            Core::Multi(scheduler) => scheduler.spawn_local_eager(builder, future),
        }
    }

    /// Whether the executor's tasks should be created eagerly by default
    /// (a setting the runtime above reads: asyncio's `eager_task_factory`
    /// on a loop). Off unless [`set_eager_tasks`](Self::set_eager_tasks).
    #[inline]
    pub fn eager_tasks(&self) -> bool {
        match &self.core {
            Core::Local(scheduler) => scheduler.eager_tasks(),
            Core::Multi(scheduler) => scheduler.eager_tasks(),
        }
    }

    /// Sets [`eager_tasks`](Self::eager_tasks) for every spawner of this executor.
    pub fn set_eager_tasks(&self, on: bool) {
        match &self.core {
            Core::Local(scheduler) => scheduler.set_eager_tasks(on),
            Core::Multi(scheduler) => scheduler.set_eager_tasks(on),
        }
    }

    /// The low-level hook under the runtime's context variables: installs
    /// `data`, with identity `id`, as the calling thread's *task context*,
    /// and returns the one it replaces.
    ///
    /// Every task spawned on either executor captures the context current
    /// where it is spawned (a copy: the same `data`, identity 0), and each
    /// of its polls, and its drop, runs with it installed; what a poll
    /// leaves installed is the task's context from then on, and the
    /// context around the poll is restored after it. The executor never
    /// looks into `data`; identity 0 means "none assigned yet". `block_on`'s
    /// future captures its caller's context, and the loop runs from an empty
    /// one. Callers must restore what they replace (as a scope).
    pub fn replace_context(data: ContextData, id: u64) -> (ContextData, u64) {
        replace_context(data, id)
    }

    /// Snapshots of the executor's live tasks (hidden ones left out). `None`
    /// when called off a `LocalExecutor`'s thread; an `Executor` lists every
    /// worker's tasks from anywhere.
    pub fn tasks(&self) -> Option<Vec<TaskInfo>> {
        match &self.core {
            Core::Local(scheduler) => {
                let owned = scheduler.owned()?;
                Some(scheduler.tasks(owned))
            }
            Core::Multi(scheduler) => Some(scheduler.tasks()),
        }
    }

    /// Cancels the task and, when called where its future may be dropped
    /// (the executor's thread for a `LocalExecutor`; anywhere for a `Send`
    /// task of an `Executor`, its worker for a local one) and it is neither
    /// being polled nor being dropped right now, drops its future before
    /// returning (so its `Drop` has run). Otherwise the future is dropped at
    /// the next scheduling point, as with [`AbortHandle::cancel`]. Returns
    /// whether the future was dropped here.
    #[inline]
    pub fn cancel_now(&self, task: &AbortHandle) -> bool {
        match &self.core {
            Core::Local(scheduler) => scheduler.cancel_now(task),
            Core::Multi(scheduler) => scheduler.cancel_now(task),
        }
    }

    /// Whether the calling thread runs this executor's tasks: the
    /// `LocalExecutor`'s thread, or one of an `Executor`'s workers or the
    /// thread that created it.
    #[inline]
    pub fn is_executor_thread(&self) -> bool {
        match &self.core {
            Core::Local(scheduler) => scheduler.is_owner(),
            Core::Multi(scheduler) => scheduler.current_slot().is_some(),
        }
    }

    /// The index of the worker thread calling this, on a multi-threaded
    /// executor; `None` elsewhere.
    #[inline]
    pub fn current_worker(&self) -> Option<usize> {
        match &self.core {
            Core::Local(_) => None,
            Core::Multi(scheduler) => scheduler.worker_slot(),
        }
    }

    /// How many worker threads run the executor's tasks (1 for a `LocalExecutor`).
    #[inline]
    pub fn workers(&self) -> usize {
        match &self.core {
            Core::Local(_) => 1,
            Core::Multi(scheduler) => scheduler.workers,
        }
    }

    /// Whether the executor has been closed.
    #[inline]
    pub fn is_closed(&self) -> bool {
        match &self.core {
            Core::Local(scheduler) => scheduler.is_closed(),
            Core::Multi(scheduler) => scheduler.is_closed(),
        }
    }

    /// Wakes the executor: calls a `LocalExecutor`'s unpark callback; wakes
    /// whichever `Executor` worker sleeps in the driver.
    pub fn unpark(&self) {
        match &self.core {
            Core::Local(scheduler) => scheduler.unpark(),
            Core::Multi(scheduler) => (scheduler.unpark_driver)(),
        }
    }

    /// Whether `self` and `other` spawn onto the same executor.
    pub fn same_executor(&self, other: &Spawner) -> bool {
        match (&self.core, &other.core) {
            (Core::Local(a), Core::Local(b)) => Arc::ptr_eq(a, b),
            (Core::Multi(a), Core::Multi(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl std::fmt::Debug for Spawner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spawner")
            .field("workers", &self.workers())
            .field("closed", &self.is_closed())
            .finish()
    }
}
