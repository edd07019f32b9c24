//! `MultiScheduler`: the core the work-stealing [`Executor`](crate::Executor),
//! its `Spawner`s and its tasks share.
//!
//! It owns one *slot* per worker thread plus one for the executor's owner
//! thread (the one that runs `block_on`), the global injector, the sharded
//! registry of live `Send` tasks, the idle-worker bookkeeping and the shared
//! driver (the [`Park`] whichever idle worker sleeps in). Invariants:
//!
//! - **Where Runnables go.** A `Send` task woken on one of this executor's
//!   workers goes to that worker's local queue (others may steal it);
//!   woken anywhere else, to the injector. A local (`!Send`) task has a
//!   [`Pinned`] scheduler naming its slot: its Runnables go only to that
//!   slot's pinned queue, which only the slot's thread pops, so it is polled
//!   and dropped only there (a wake into a closed pinned queue leaks the
//!   future rather than drop it elsewhere).
//! - **Registered tasks are alive** (see `task_list.rs`). A `Send` task is
//!   listed in the shard its id picks, under that shard's lock, before its
//!   first Runnable is queued; a local task in its slot's list, on the
//!   slot's thread. Each is unlisted by `release`, before it completes.
//! - **Re-entrancy.** No lock is held while user code runs: closing pops one
//!   counted task at a time and drops it with every lock released.
//!
//! The worker loop itself (what to run next, stealing, sleeping) is safe
//! code in `crate::multi`. Introspection, cancellation and closing are in
//! `multi_scheduler/closing.rs`.

mod closing;
mod eager;
mod schedule;

use std::cell::Cell;
use std::future::Future;
use std::sync::{Arc, OnceLock};

use concurrent_queue::{ConcurrentQueue, PushError};
use parking_lot::Mutex;

use super::current::{spawn_in_context, ClearedContext};
use super::local_scheduler::{current_thread, EndOfBorrow};
use super::task_list::TaskList;
use super::{AbortHandle, Builder, Header, Runnable, Task};
use crate::loom::{AtomicBool, AtomicUsize, Ordering};
use crate::multi::{Idle, Parker};
use crate::park::Park;
use crate::{teardown, UnretrievedPanic};

/// How many Runnables a worker's local queue holds; a push beyond goes to
/// the injector.
#[cfg(not(loom))]
pub(crate) const LOCAL_QUEUE_CAPACITY: usize = 256;
/// Under loom, four: the models overflow it with five tasks, and a steal
/// of three moves one into the stealer's queue.
#[cfg(loom)]
pub(crate) const LOCAL_QUEUE_CAPACITY: usize = 4;

/// How many shards the registry of `Send` tasks has (a power of two).
const SHARDS: usize = 16;

/// What `set_unretrieved_panic_hook` stores.
type UnretrievedPanicHook = Box<dyn Fn(&UnretrievedPanic) + Send + Sync>;

#[cfg(not(loom))]
thread_local! {
    /// The scheduler (its address) and slot this thread is a worker of, set
    /// by [`MultiScheduler::enter_worker`] for the worker loop's lifetime.
    static WORKER: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
    /// The header address of the task this worker is polling (0: none): a
    /// task that wakes itself (a yield) goes to the back of the queue, not
    /// into the LIFO slot.
    static POLLING: Cell<usize> = const { Cell::new(0) };
}

// Under loom every modelled thread runs on one OS thread: the marking must
// be loom's per-model-thread local, or a foreign thread of a model would
// take itself for the worker (`multi/idle/` models).
#[cfg(loom)]
loom::thread_local! {
    static WORKER: Cell<(usize, usize)> = Cell::new((0, 0));
    static POLLING: Cell<usize> = Cell::new(0);
}

/// Runs `poll` with `task` (a header address) marked as the one this
/// worker polls, then marks the one before again: an eager task's first
/// step runs nested inside its creator's poll.
#[inline]
pub(crate) fn polling<R>(task: usize, poll: impl FnOnce() -> R) -> R {
    let previous = POLLING.with(|polling| polling.replace(task));
    let result = poll();
    POLLING.with(|polling| polling.set(previous));
    result
}

/// One worker's (or the owner thread's) queues and parker.
pub(crate) struct Slot {
    /// Runnables of `Send` tasks, popped by this worker and stolen by others
    /// (unused on the owner slot).
    pub(crate) queue: ConcurrentQueue<Runnable>,
    /// Runnables of the local tasks pinned to this slot.
    pub(crate) pinned: ConcurrentQueue<Runnable>,
    /// The worker's LIFO slot (capacity 1): the task its current poll woke
    /// last, run next (message passing stays on one core, cache-hot). Only
    /// the worker fills it; the worker asleep in the driver takes it if the
    /// worker's poll has not returned for a while (`worker::rescue_lifo`).
    pub(crate) lifo: ConcurrentQueue<Runnable>,
    /// The worker's poll count and the watcher's last look at it, on a
    /// cache line of their own: the worker writes it every poll.
    pub(crate) watch: PollWatch,
    /// The local tasks pinned to this slot; touched on its thread (and
    /// listed under the lock from anywhere).
    pinned_tasks: Mutex<TaskList>,
    /// How this slot's thread sleeps and is woken.
    pub(crate) parker: Parker,
}

/// A worker's poll count, for the LIFO watch (`worker::rescue_lifo`).
#[repr(align(128))]
pub(crate) struct PollWatch {
    /// How many polls the worker has started: a LIFO task is stuck when
    /// this has not moved between two looks.
    pub(crate) polls: AtomicUsize,
    /// The watcher's last look at `polls` while the LIFO slot was full
    /// (touched only by the worker holding the driver).
    pub(crate) lifo_seen: AtomicUsize,
}

/// The scheduler shared by an `Executor`, its spawners and its `Send` tasks.
pub(crate) struct MultiScheduler {
    pub(crate) injector: ConcurrentQueue<Runnable>,
    /// `workers` worker slots, then the owner slot.
    pub(crate) slots: Box<[Slot]>,
    pub(crate) workers: usize,
    pub(crate) idle: Idle,
    /// The driver an idle worker sleeps in (IO and timers), if any: held by
    /// at most one worker at a time.
    pub(crate) driver: crate::loom::Mutex<Option<Box<dyn Park + Send>>>,
    /// Wakes whoever sleeps in the driver.
    pub(crate) unpark_driver: Box<dyn Fn() + Send + Sync>,
    shards: Box<[Mutex<TaskList>]>,
    closed: AtomicBool,
    /// The slot of the worker asleep holding the driver lock (the LIFO
    /// watch), `usize::MAX` if none; and whether it sleeps with the watch's
    /// timeout (`worker::sleep`).
    pub(crate) watcher: AtomicUsize,
    pub(crate) watching: AtomicBool,
    /// The owner thread is not polling (outside `block_on`, or asleep in it).
    pub(crate) owner_idle: AtomicBool,
    /// The thread that created the executor: the owner slot's thread.
    owner: u64,
    on_unretrieved_panic: OnceLock<UnretrievedPanicHook>,
    /// The loop's tasks are eager by default (the facade reads it).
    eager_tasks: std::sync::atomic::AtomicBool,
}

/// The scheduler of a local (`!Send`) task: pinned to one slot.
#[derive(Clone)]
pub(crate) struct Pinned {
    scheduler: Arc<MultiScheduler>,
    slot: usize,
}

impl MultiScheduler {
    pub(crate) fn new(
        workers: usize,
        driver: Option<Box<dyn Park + Send>>,
        unpark_driver: Box<dyn Fn() + Send + Sync>,
    ) -> Arc<MultiScheduler> {
        let slots = (0..=workers)
            .map(|index| Slot {
                queue: ConcurrentQueue::bounded(if index < workers {
                    LOCAL_QUEUE_CAPACITY
                } else {
                    1
                }),
                pinned: ConcurrentQueue::unbounded(),
                lifo: ConcurrentQueue::bounded(1),
                watch: PollWatch {
                    polls: AtomicUsize::new(0),
                    lifo_seen: AtomicUsize::new(usize::MAX),
                },
                pinned_tasks: Mutex::new(TaskList::new()),
                parker: Parker::new(),
            })
            .collect();
        let scheduler = Arc::new(MultiScheduler {
            injector: ConcurrentQueue::unbounded(),
            slots,
            workers,
            idle: Idle::new(workers),
            driver: crate::loom::Mutex::new(driver),
            unpark_driver,
            shards: (0..SHARDS).map(|_| Mutex::new(TaskList::new())).collect(),
            closed: AtomicBool::new(false),
            watcher: AtomicUsize::new(usize::MAX),
            watching: AtomicBool::new(false),
            owner_idle: AtomicBool::new(true),
            owner: current_thread(),
            on_unretrieved_panic: OnceLock::new(),
            eager_tasks: std::sync::atomic::AtomicBool::new(false),
        });
        scheduler.slots[workers]
            .parker
            .set_thread(crate::loom::thread::current());
        scheduler
    }

    /// The owner slot's index.
    #[inline]
    pub(crate) fn owner_slot(&self) -> usize {
        self.workers
    }

    /// Whether the calling thread created the executor.
    #[inline]
    pub(crate) fn is_owner(&self) -> bool {
        self.owner == current_thread()
    }

    /// The worker slot the calling thread runs, if it is one of ours.
    #[inline]
    pub(crate) fn worker_slot(&self) -> Option<usize> {
        let (scheduler, slot) = WORKER.with(Cell::get);
        (scheduler == self as *const MultiScheduler as usize).then_some(slot)
    }

    /// The slot whose thread is the calling one: a worker's, or the owner's.
    #[inline]
    pub(crate) fn current_slot(&self) -> Option<usize> {
        self.worker_slot()
            .or_else(|| self.is_owner().then_some(self.owner_slot()))
    }

    /// Marks the calling thread as worker `slot` until the guard drops.
    pub(crate) fn enter_worker(&self, slot: usize) -> WorkerGuard {
        let previous =
            WORKER.with(|worker| worker.replace((self as *const MultiScheduler as usize, slot)));
        self.slots[slot]
            .parker
            .set_thread(crate::loom::thread::current());
        WorkerGuard(previous)
    }

    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn set_unretrieved_panic_hook(&self, hook: UnretrievedPanicHook) {
        let _ = self.on_unretrieved_panic.set(hook);
    }

    /// Wakes slot `slot`'s thread (wherever it sleeps).
    #[inline]
    pub(crate) fn unpark_slot(&self, slot: usize) {
        self.slots[slot].parker.unpark(&*self.unpark_driver);
    }

    // ---- spawning ----

    /// Spawns a `Send` task, from any thread.
    #[track_caller]
    pub(crate) fn spawn<F>(self: &Arc<Self>, builder: Builder, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (runnable, task) = spawn_in_context!(future, |f| builder.spawn(f, self.clone()));
        if let Some(runnable) = self.list_send(runnable) {
            self.schedule_send(runnable);
        }
        task
    }

    /// Lists a new `Send` task in its shard and gives its Runnable back;
    /// cancels it at once (and gives nothing back) if closed.
    fn list_send(&self, runnable: Runnable) -> Option<Runnable> {
        if self.is_closed() {
            teardown::drop_rejected(runnable);
            return None;
        }
        {
            let header = runnable.header();
            let mut shard = self.shard(header).lock();
            // SAFETY: the task is this scheduler's (its `release` unlists it
            // from this shard), fresh (not completed, not listed), and we
            // hold the shard's lock.
            unsafe { shard.insert(header) };
        }
        Some(runnable)
    }

    /// Spawns a task that need not be `Send`, pinned to the calling thread's
    /// slot (a worker's, or the owner's).
    ///
    /// # Panics
    ///
    /// On any other thread, with a message naming the fix.
    #[track_caller]
    pub(crate) fn spawn_local<F>(self: &Arc<Self>, builder: Builder, future: F) -> Task<F::Output>
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
        // SAFETY: the future is 'static. Its Runnables go only to `slot`'s
        // pinned queue, popped only on this thread (module docs), and its
        // listing below is dropped only here, so the !Send future is polled
        // and dropped on the thread that spawned it.
        let (runnable, task) =
            unsafe { spawn_in_context!(future, |f| builder.spawn_unchecked(f, pinned)) };
        self.submit_pinned(slot, runnable);
        task
    }

    /// Spawns `future` (which may borrow from the caller) pinned to the
    /// owner slot, runs `drive` with its handle, then drops the future if it
    /// has not completed, before returning or unwinding.
    ///
    /// # Panics
    ///
    /// Off the owner thread.
    pub(crate) fn block_on_scoped<F: Future, R>(
        self: &Arc<Self>,
        builder: Builder,
        future: F,
        drive: impl FnOnce(&mut Task<F::Output>) -> R,
    ) -> R {
        assert!(
            self.is_owner(),
            "Executor::block_on must be called on the thread that created the executor"
        );
        let slot = self.owner_slot();
        let pinned = Pinned {
            scheduler: self.clone(),
            slot,
        };
        // SAFETY: pinned to the owner slot, polled and dropped only on this
        // thread (module docs); `EndOfBorrow` drops the future before this
        // function returns or unwinds, so it never outlives its borrows.
        let (runnable, mut task) =
            unsafe { spawn_in_context!(future, |f| builder.block_on().spawn_unchecked(f, pinned)) };
        let end = EndOfBorrow(task.abort_handle());
        // The future runs in the caller's context (captured above); the
        // loop around it starts from an empty one.
        let cleared = ClearedContext::new();
        self.submit_pinned(slot, runnable);
        let result = drive(&mut task);
        drop(end);
        drop(cleared);
        result
    }

    /// Lists a new local task in its slot and queues it; cancels it at once
    /// if the executor is closed. On the slot's thread.
    fn submit_pinned(&self, slot: usize, runnable: Runnable) {
        if let Some(runnable) = self.list_pinned(slot, runnable) {
            self.push_pinned(slot, runnable);
        }
    }

    /// Lists a new local task in its slot and gives its Runnable back;
    /// cancels it at once (and gives nothing back) if closed. On the
    /// slot's thread.
    fn list_pinned(&self, slot: usize, runnable: Runnable) -> Option<Runnable> {
        if self.is_closed() {
            teardown::drop_rejected(runnable);
            return None;
        }
        {
            let mut tasks = self.slots[slot].pinned_tasks.lock();
            // SAFETY: the task is pinned to `slot` (its `release` unlists it
            // there), fresh, and we are on the slot's thread.
            unsafe { tasks.insert(runnable.header()) };
        }
        Some(runnable)
    }

    // ---- queues ----

    fn shard(&self, task: &Header) -> &Mutex<TaskList> {
        &self.shards[task.id().as_u64() as usize & (SHARDS - 1)]
    }

    /// Queues a Runnable of a `Send` task: on the calling worker's local
    /// queue, or the injector; wakes an idle worker if none is searching.
    #[inline]
    pub(crate) fn schedule_send(&self, runnable: Runnable) {
        match self.worker_slot() {
            Some(slot) => self.push_local(slot, runnable),
            None => self.push_injector(runnable),
        }
    }

    #[inline]
    fn push_local(&self, slot: usize, runnable: Runnable) {
        match self.slots[slot].queue.push(runnable) {
            Ok(()) => self.idle.notify_one(self),
            Err(PushError::Full(runnable)) => self.spill(slot, runnable),
            Err(PushError::Closed(runnable)) => teardown::drop_rejected(runnable),
        }
    }

    /// The local queue is full: `runnable` goes to the injector, where
    /// idle workers find it (moving half the queue there as well cost more
    /// than it balanced: every moved Runnable is popped and pushed again).
    #[cold]
    fn spill(&self, _slot: usize, runnable: Runnable) {
        self.push_injector(runnable);
    }

    #[inline]
    pub(crate) fn push_injector(&self, runnable: Runnable) {
        match self.injector.push(runnable) {
            Ok(()) => self.idle.notify_one(self),
            Err(rejected) => teardown::drop_rejected(rejected.into_inner()),
        }
    }

    /// Queues a Runnable of a local task on its slot, waking the slot's
    /// thread unless it is the calling one.
    fn push_pinned(&self, slot: usize, runnable: Runnable) {
        match self.slots[slot].pinned.push(runnable) {
            Ok(()) => {
                if self.current_slot() != Some(slot) {
                    self.unpark_slot(slot);
                }
            }
            // Closed: the slot's thread dropped its tasks already; a !Send
            // future must not be dropped here (a leak, never a wrong drop).
            // A Send task on a pinned slot (the hidden task that runs a
            // pinned task's done-callbacks) is dropped like any rejected one.
            Err(rejected) => {
                let runnable = rejected.into_inner();
                if runnable.header().is_local() {
                    runnable.abandon();
                } else {
                    teardown::drop_rejected(runnable);
                }
            }
        }
    }

    /// A LIFO slot was filled: if the worker holding the watch sleeps
    /// without its timeout (everyone was idle when it went to sleep), wake
    /// it so it sleeps again with one, watching this worker's slot.
    #[inline]
    fn arm_watch(&self) {
        if crate::multi::WATCH_LIFO && !self.watching.load(Ordering::SeqCst) {
            let watcher = self.watcher.load(Ordering::SeqCst);
            if watcher != usize::MAX {
                self.unpark_slot(watcher);
            }
        }
    }

    /// Whether nothing runs: every worker is asleep (registered) and the
    /// owner thread too. The driver may then wait without bound (and a
    /// manual clock jump to the next timer).
    pub(crate) fn everyone_idle(&self) -> bool {
        self.idle.sleeping() == self.workers && self.owner_idle.load(Ordering::SeqCst)
    }

    /// Someone went idle: if that made everyone idle and the worker holding
    /// the driver sleeps with the watch's timeout (it saw someone busy),
    /// wake it to sleep again without one (under a manual clock: to move
    /// time on now, not at its next timeout).
    pub(crate) fn wake_watcher_if_everyone_idle(&self) {
        if self.watching.load(Ordering::SeqCst) && self.everyone_idle() {
            let watcher = self.watcher.load(Ordering::SeqCst);
            if watcher != usize::MAX {
                self.unpark_slot(watcher);
            }
        }
    }

    /// Counts a poll worker `slot` starts (see `Slot::polls`).
    #[inline]
    pub(crate) fn count_poll(&self, slot: usize) {
        let polls = &self.slots[slot].watch.polls;
        polls.store(
            polls.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Relaxed,
        );
    }

    /// Takes worker `slot`'s LIFO slot.
    #[inline]
    pub(crate) fn take_lifo(&self, slot: usize) -> Option<Runnable> {
        let lifo = &self.slots[slot].lifo;
        // A load first: popping an empty slot is a (failing) CAS.
        if lifo.is_empty() {
            return None;
        }
        lifo.pop().ok()
    }

    /// Whether worker `slot`'s LIFO slot holds a task.
    #[inline]
    pub(crate) fn has_lifo(&self, slot: usize) -> bool {
        !self.slots[slot].lifo.is_empty()
    }

    /// Whether any queue holds work a sleeping worker should wake for (or
    /// the given slot's pinned queue does).
    pub(crate) fn has_work_for(&self, slot: usize) -> bool {
        !self.injector.is_empty()
            || !self.slots[slot].pinned.is_empty()
            || self.slots[..self.workers]
                .iter()
                .any(|slot| !slot.queue.is_empty())
    }
}

#[cold]
#[track_caller]
fn local_spawn_off_thread() -> ! {
    panic!(
        "a local (!Send) task can only be spawned on one of the executor's worker threads \
         or on the thread that created it: spawn it from a task, or make the future Send \
         and use spawn"
    )
}

/// Restores the thread's previous worker marking when dropped.
pub(crate) struct WorkerGuard((usize, usize));

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        let previous = self.0;
        let _ = WORKER.try_with(|worker| worker.set(previous));
    }
}
