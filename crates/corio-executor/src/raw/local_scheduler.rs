//! `LocalScheduler`: the core the `LocalExecutor` and its `Spawner`s share.
//!
//! It is every task's scheduler (`Schedule`), owns the run queue, the
//! cross-thread injector and the registry of live tasks, and is the one
//! place that spawns `!Send` and borrowing futures or drops futures outside
//! a poll. Invariants:
//!
//! - **Thread confinement.** The owner-thread state ([`OwnerState`]: run
//!   queue, registry, clock) is reached only through [`LocalScheduler::owned`],
//!   which checks the calling thread's id. Thread ids come from a global
//!   counter and are never reused (the address of a thread-local is: glibc
//!   hands it to a later thread). A Runnable scheduled on another thread
//!   goes to the injector, which only the owner thread drains. So a `!Send`
//!   task is polled and dropped only on the owner thread; where that cannot
//!   be (a local task woken into a closed injector) its future is leaked,
//!   never dropped elsewhere.
//! - **Registered tasks are alive**: see `task_list.rs`. A task is
//!   registered when its first Runnable is queued on the owner thread and
//!   unregistered by `release`, before it completes.
//! - **Re-entrancy.** Every method that runs user code (a future's `Drop`, a
//!   waker) holds no `RefCell` borrow and no uncounted pointer across it:
//!   `close` pops one counted task at a time and ignores a re-entrant call;
//!   futures of tasks rejected by a closed executor are dropped through
//!   `teardown.rs`, with bounded stack.

mod eager;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use concurrent_queue::ConcurrentQueue;

use super::current::{spawn_in_context, ClearedContext};
use super::header::NO_SLOT;
use super::task_list::TaskList;
use super::Builder;
use super::{AbortHandle, Header, Runnable, Task};
use crate::registry::SpawnStamps;
use crate::Schedule;
use crate::{teardown, TaskInfo, UnretrievedPanic};

/// What `set_clock` stores: time since a fixed origin.
pub(crate) type ClockFn = Box<dyn Fn() -> Duration + Send + Sync>;

/// What `set_unretrieved_panic_hook` stores.
type UnretrievedPanicHook = Box<dyn Fn(&UnretrievedPanic) + Send + Sync>;

/// This thread's id: from a global counter, never reused.
#[inline]
pub(crate) fn current_thread() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        // No destructor: readable even while thread-locals are torn down.
        static ID: Cell<u64> = const { Cell::new(0) };
    }
    ID.with(|id| match id.get() {
        0 => {
            let fresh = NEXT.fetch_add(1, Ordering::Relaxed);
            id.set(fresh);
            fresh
        }
        known => known,
    })
}

/// The live tasks and when each was spawned.
struct Registry {
    tasks: TaskList,
    stamps: SpawnStamps,
}

/// The state only the owner thread touches.
pub(crate) struct OwnerState {
    /// The FIFO run queue.
    pub(crate) queue: RefCell<VecDeque<Runnable>>,
    /// The live tasks and their spawn stamps, behind one borrow flag.
    registry: RefCell<Registry>,
    /// The clock task ages are measured on.
    clock: RefCell<ClockFn>,
    /// The clock in this iteration, as a registry stamp: read on the first
    /// registration of an iteration, forgotten when the iteration begins and
    /// ends.
    now: Cell<Option<u32>>,
    /// Inside `run_once`. Spawns between iterations (setting up, before
    /// `block_on`) each read the clock: time may pass between them.
    iterating: Cell<bool>,
    /// Inside `close`: a re-entrant call returns at once.
    closing: Cell<bool>,
}

/// The scheduler shared by a `LocalExecutor`, its spawners and its tasks.
pub(crate) struct LocalScheduler {
    owner: u64,
    local: OwnerState,
    injector: ConcurrentQueue<Runnable>,
    unpark: Box<dyn Fn() + Send + Sync>,
    closed: AtomicBool,
    /// Debug tooling: told about panics nobody retrieved (set once).
    on_unretrieved_panic: OnceLock<UnretrievedPanicHook>,
    /// The loop's tasks are eager by default (the facade reads it).
    eager_tasks: AtomicBool,
}

// SAFETY: `local` is reached only through `owned()`, which hands it out on
// the owner thread alone, so its `RefCell`s and `Cell`s are never shared
// between threads; everything else is `Sync`.
unsafe impl Sync for LocalScheduler {}
// SAFETY: moving the scheduler (its last `Arc`) to another thread moves
// `local` there only to be dropped, and `Drop` below leaks rather than drops
// any Runnable found there off the owner thread. The registry holds only
// addresses, the clock closure is `Send`.
unsafe impl Send for LocalScheduler {}

impl LocalScheduler {
    /// A scheduler owned by the calling thread.
    pub(crate) fn new(unpark: Box<dyn Fn() + Send + Sync>) -> Arc<LocalScheduler> {
        let origin = std::time::Instant::now();
        Arc::new(LocalScheduler {
            owner: current_thread(),
            local: OwnerState {
                queue: RefCell::new(VecDeque::new()),
                registry: RefCell::new(Registry {
                    tasks: TaskList::new(),
                    stamps: SpawnStamps::default(),
                }),
                clock: RefCell::new(Box::new(move || origin.elapsed())),
                now: Cell::new(None),
                iterating: Cell::new(false),
                closing: Cell::new(false),
            },
            injector: ConcurrentQueue::unbounded(),
            unpark,
            closed: AtomicBool::new(false),
            on_unretrieved_panic: OnceLock::new(),
            eager_tasks: AtomicBool::new(false),
        })
    }

    /// Whether the calling thread owns this scheduler.
    #[inline]
    pub(crate) fn is_owner(&self) -> bool {
        self.owner == current_thread()
    }

    /// The owner-thread state, on the owner thread only.
    #[inline]
    pub(crate) fn owned(&self) -> Option<&OwnerState> {
        self.is_owner().then_some(&self.local)
    }

    /// The owner-thread state; panics naming `what` off the owner thread.
    #[track_caller]
    fn expect_owned(&self, what: &str) -> &OwnerState {
        match self.owned() {
            Some(owned) => owned,
            None => panic!("{what} must be called on the executor's own thread"),
        }
    }

    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn unpark(&self) {
        (self.unpark)()
    }

    pub(crate) fn set_unretrieved_panic_hook(&self, hook: UnretrievedPanicHook) {
        let _ = self.on_unretrieved_panic.set(hook);
    }

    // ---- spawning ----

    /// Spawns a `Send` task, from any thread.
    #[inline]
    #[track_caller]
    pub(crate) fn spawn<F>(self: &Arc<Self>, builder: Builder, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (runnable, task) = spawn_in_context!(future, |f| builder.spawn(f, self.clone()));
        self.submit(runnable);
        task
    }

    /// Spawns a task that need not be `Send`; it lives on the owner thread.
    ///
    /// # Panics
    ///
    /// Off the owner thread.
    #[track_caller]
    pub(crate) fn spawn_local<F>(self: &Arc<Self>, builder: Builder, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        assert!(
            self.is_owner(),
            "a local (!Send) task can only be spawned on its executor's thread"
        );
        // SAFETY: the future is 'static. We are on the owner thread, and this
        // scheduler polls and drops a task's future only there (module docs:
        // thread confinement), so a !Send future never leaves it.
        let (runnable, task) =
            unsafe { spawn_in_context!(future, |f| builder.spawn_unchecked(f, self.clone())) };
        self.submit(runnable);
        task
    }

    /// Spawns `future`, which may borrow from the caller, as the task
    /// `block_on` drives; runs `drive` with its handle; then, before
    /// returning or unwinding, drops the future if it has not completed.
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
        self.expect_owned("block_on");
        // SAFETY: on the owner thread (checked above), where this scheduler
        // polls and drops it; `EndOfBorrow` drops the future before this
        // function returns or unwinds, so it never outlives its borrows.
        let (runnable, mut task) = unsafe {
            spawn_in_context!(future, |f| builder
                .block_on()
                .spawn_unchecked(f, self.clone()))
        };
        let end = EndOfBorrow(task.abort_handle());
        // The future runs in the caller's context (captured above); the
        // loop around it starts from an empty one.
        let cleared = ClearedContext::new();
        if self.is_closed() {
            // Cancelled at once, here, even inside a frame that drops
            // rejected tasks (queued there, `drive` would wait for it forever).
            drop(runnable);
        } else {
            self.schedule_runnable(runnable);
        }
        let result = drive(&mut task);
        drop(end);
        drop(cleared);
        result
    }

    /// Queues a new task's first Runnable, or cancels the task if closed.
    #[inline(always)]
    fn submit(&self, runnable: Runnable) {
        if self.is_closed() {
            teardown::drop_rejected(runnable);
            return;
        }
        match self.owned() {
            Some(owned) => {
                // One FIFO across threads for new tasks and callbacks: one
                // that another thread queued before this spawn (a
                // `call_soon_threadsafe`, a `create_task` from a worker
                // thread) goes first, as in asyncio's one ready deque. One
                // atomic load when the injector is empty; wakes (`schedule`)
                // skip it, so a yield pays nothing.
                if !self.injector.is_empty() {
                    self.drain_injector(owned);
                }
                self.push_owned(owned, runnable, true);
            }
            None => self.push_remote(runnable),
        }
    }

    #[inline(always)]
    fn schedule_runnable(&self, runnable: Runnable) {
        match self.owned() {
            Some(owned) => self.push_owned(owned, runnable, true),
            None => self.push_remote(runnable),
        }
    }

    /// Owner thread: moves every cross-thread Runnable into the run queue,
    /// in the order they were queued.
    #[inline(never)]
    fn drain_injector(&self, owned: &OwnerState) {
        while let Ok(runnable) = self.injector.pop() {
            self.push_owned(owned, runnable, false);
        }
    }

    /// Owner thread: queues a Runnable, registering a new task. `local`
    /// tells whether it was spawned on this thread (not drained from the
    /// injector), which the spawn-time log relies on.
    #[inline]
    fn push_owned(&self, owned: &OwnerState, runnable: Runnable, local: bool) {
        let header = runnable.header();
        if header.slot() == NO_SLOT && !header.is_completed() {
            self.register(owned, header, local);
        }
        owned.queue.borrow_mut().push_back(runnable);
    }

    /// Any thread but the owner: queues a Runnable on the injector and
    /// unparks the executor. Out of line, so the owner's path stays small.
    #[inline(never)]
    fn push_remote(&self, runnable: Runnable) {
        match self.injector.push(runnable) {
            Ok(()) => (self.unpark)(),
            Err(rejected) => {
                let runnable = rejected.into_inner();
                if runnable.header().is_local() {
                    // A !Send future must not be dropped on this thread.
                    // Unreachable today (closing drops every local task
                    // first), and a leak if it ever were not.
                    runnable.abandon();
                } else {
                    teardown::drop_rejected(runnable);
                }
            }
        }
    }

    /// Owner thread: registers a new task, stamped with this iteration's
    /// time (the clock is read by the iteration's first spawn).
    #[inline]
    fn register(&self, owned: &OwnerState, task: &Header, local: bool) {
        let stamp = match owned.now.get() {
            Some(stamp) => stamp,
            None => {
                let stamp = clock_stamp(owned);
                if owned.iterating.get() {
                    owned.now.set(Some(stamp));
                }
                stamp
            }
        };
        let mut registry = owned.registry.borrow_mut();
        let Registry { tasks, stamps } = &mut *registry;
        // SAFETY: the task is this scheduler's (it is being scheduled here),
        // not completed and not registered (checked by the caller), and we
        // are on the owner thread.
        unsafe { tasks.insert(task) };
        stamps.record(task, stamp, local, tasks);
    }

    // ---- the run loop's side ----

    /// Owner thread: starts an iteration: moves cross-thread wakes into the
    /// run queue and returns how many Runnables are queued.
    pub(crate) fn begin_iteration(&self, owned: &OwnerState) -> usize {
        owned.now.set(None);
        owned.iterating.set(true);
        self.drain_injector(owned);
        owned.queue.borrow().len()
    }

    /// Owner thread: ends an iteration.
    pub(crate) fn end_iteration(&self, owned: &OwnerState) {
        owned.now.set(None);
        owned.iterating.set(false);
    }

    /// Whether nothing is ready to run (both queues are empty).
    pub(crate) fn is_idle(&self, owned: &OwnerState) -> bool {
        owned.queue.borrow().is_empty() && self.injector.is_empty()
    }

    // ---- introspection ----

    /// Owner thread: sets the clock task ages are measured on.
    pub(crate) fn set_clock(&self, owned: &OwnerState, clock: ClockFn) {
        *owned.clock.borrow_mut() = clock;
        owned.now.set(None);
    }

    /// Owner thread: how many tasks are alive, hidden ones included.
    pub(crate) fn task_count(&self, owned: &OwnerState) -> usize {
        owned.registry.borrow().tasks.len()
    }

    /// Owner thread: snapshots of the live tasks, hidden ones left out.
    pub(crate) fn tasks(&self, owned: &OwnerState) -> Vec<TaskInfo> {
        let now = clock_stamp(owned);
        let registry = owned.registry.borrow();
        let Registry { tasks, stamps } = &*registry;
        let mut out = Vec::new();
        tasks.for_each(|header| {
            if !header.is_hidden() {
                let spawned = stamps.stamp_of(header);
                let age = Duration::from_millis(u64::from(now.wrapping_sub(spawned)));
                out.push(TaskInfo::listed(header, age));
            }
        });
        out
    }

    /// How many epochs the spawn-time log holds (tests).
    #[cfg(test)]
    pub(crate) fn epoch_count(&self) -> usize {
        self.expect_owned("epoch_count")
            .registry
            .borrow()
            .stamps
            .epoch_count()
    }

    // ---- cancellation and closing ----

    /// Owner thread: requests cancellation of every live task. Returns how many.
    pub(crate) fn cancel_all(&self) -> usize {
        let handles = self
            .expect_owned("cancel_all")
            .registry
            .borrow()
            .tasks
            .handles();
        let count = handles.len();
        for handle in handles {
            handle.cancel();
        }
        count
    }

    /// Cancels the task and, on the owner thread for one of its registered
    /// tasks that is neither being polled nor being dropped, drops its future
    /// before returning. Returns whether the future was dropped here.
    pub(crate) fn cancel_now(&self, handle: &AbortHandle) -> bool {
        let task = self
            .owned()
            .and_then(|owned| owned.registry.borrow().tasks.registered(handle));
        let dropped = task.is_some_and(|task| task.drop_now());
        if !dropped {
            handle.cancel();
        }
        dropped
    }

    /// Owner thread: drops every live task's future, every queued wake, and
    /// the tasks spawned meanwhile; later spawns are cancelled at once.
    /// Re-entered from a `Drop` it only marks the executor closed: the outer
    /// call finishes the job.
    pub(crate) fn close(&self) {
        let owned = self.expect_owned("LocalExecutor::close");
        self.closed.store(true, Ordering::Release);
        if owned.closing.replace(true) {
            return;
        }
        let _closing = ResetOnDrop(&owned.closing);
        teardown::drain_scope(|| loop {
            // Each step takes one item in its own statement (no borrow held)
            // and then runs user code: the future's Drop may spawn, wake,
            // cancel, run the executor or close it again.
            let task = owned.registry.borrow_mut().tasks.pop();
            if let Some(task) = task {
                task.drop_now();
                continue;
            }
            self.injector.close();
            let queued = owned.queue.borrow_mut().pop_front();
            if let Some(runnable) = queued {
                drop(runnable);
                continue;
            }
            if let Ok(runnable) = self.injector.pop() {
                drop(runnable);
                continue;
            }
            if let Some(runnable) = teardown::pop_deferred() {
                drop(runnable);
                continue;
            }
            break;
        });
        owned.registry.borrow_mut().stamps.clear();
    }
}

/// Owner thread: reads the clock, as a registry stamp (milliseconds, wrapping:
/// see `registry.rs`).
#[cold]
fn clock_stamp(owned: &OwnerState) -> u32 {
    // Truncating to 32 bits wraps; ages are differences, so they stay exact.
    (owned.clock.borrow())().as_millis() as u32
}

impl Schedule for Arc<LocalScheduler> {
    #[inline]
    fn schedule(&self, runnable: Runnable) {
        self.schedule_runnable(runnable);
    }

    fn panic_never_retrieved(&self, task: &Header, payload: &(dyn std::any::Any + Send)) {
        if let Some(report) = self.on_unretrieved_panic.get() {
            report(&UnretrievedPanic {
                id: task.id(),
                name: task.name().map(Into::into),
                location: task.location(),
                message: crate::payload_message(payload).map(str::to_owned),
            });
        }
    }

    #[inline]
    fn release(&self, task: &Header) {
        if task.slot() == NO_SLOT {
            return;
        }
        // A hard check: a registered task is polled and dropped only on the
        // owner thread; releasing it elsewhere would leave a dangling entry.
        let Some(owned) = self.owned() else {
            released_off_thread()
        };
        let mut registry = owned.registry.borrow_mut();
        registry.tasks.remove(task);
        registry.stamps.forget(task);
    }
}

impl Drop for LocalScheduler {
    fn drop(&mut self) {
        if !self.is_owner() {
            // Not reachable with Runnables left (each keeps the scheduler
            // alive through its task), but never drop a local task's future
            // off its thread: leak whatever is left instead.
            for runnable in self.local.queue.get_mut().drain(..) {
                runnable.abandon();
            }
        }
    }
}

/// The hard check of `release`, out of line.
#[cold]
#[inline(never)]
fn released_off_thread() -> ! {
    panic!("a registered task was released off its executor's thread")
}

/// Clears a flag when dropped (also when unwinding).
struct ResetOnDrop<'a>(&'a Cell<bool>);

impl Drop for ResetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

/// Drops `block_on`'s borrowing future, if it is still alive, when the
/// scope ends. Both executors' `block_on` use it, on the thread that polls
/// the future's task.
pub(super) struct EndOfBorrow(pub(super) AbortHandle);

impl Drop for EndOfBorrow {
    fn drop(&mut self) {
        let task = self.0.as_ptr();
        // SAFETY: the AbortHandle's reference keeps the header alive.
        let header = unsafe { task.as_ref() };
        if header.is_completed() {
            return;
        }
        // SAFETY: block_on runs on the thread that polls its task (the
        // owner thread, checked when it started), outside any poll of it
        // (polls never unwind out of `run`), and we hold a reference.
        let dropped = unsafe { super::runnable::drop_now(task) };
        if !dropped && !header.is_completed() {
            // Being polled or dropped further up this very stack: the future
            // would outlive what it borrows. Cannot happen; never risk it.
            eprintln!("corio-executor: block_on's future outlived its borrow; aborting");
            std::process::abort();
        }
    }
}
