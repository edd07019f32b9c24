//! `LocalExecutor`: asyncio's single-threaded scheduling, deterministic.
//!
//! Invariants:
//! - One FIFO run queue (a plain `VecDeque`) touched only by the owner thread.
//!   Wakes from other threads go to a lock-free injector, drained at the start
//!   of every iteration, and call the unpark callback.
//! - An iteration runs exactly the tasks that were queued when it began;
//!   whatever they wake or spawn runs in the next iteration, in that order.
//! - Every task that has not completed is in the registry; `close` drops
//!   them all on the owner thread, so a `!Send` future never leaves it.
//! - The executor never blocks except inside `Park::park(None)`, and only
//!   when both queues are empty.
//! - Introspection costs the hot paths almost nothing: a task's spawn time
//!   comes from a timestamp read at most once per iteration (by its first
//!   spawn, never per spawn) and logged per iteration, not per task (see
//!   `registry.rs`); its poll count lives in its header's `flags` word. Each poll runs in a
//!   `tracing` span (`task{id=.. name=..}`, target [`TASK_SPAN_TARGET`]);
//!   whether INFO is enabled at all is checked once per iteration, and an
//!   iteration without it runs the plain loop.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::ptr::NonNull;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use concurrent_queue::ConcurrentQueue;
use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};

use crate::info::{enter, TaskInfo};
use crate::park::Park;
use crate::raw::handle::request_cancel;
use crate::raw::header::NO_SLOT;
use crate::raw::runnable::cancel_now;
use crate::raw::{AbortHandle, Header, Runnable, Task};
use crate::registry::Registry;
use crate::spawn::{Builder, Schedule};
use crate::TaskError;

/// How many polls may run between two maintenance turns (`park(Some(ZERO))`)
/// while the queue never empties. Prime, as tokio's, so it does not beat in
/// step with periodic workloads.
pub const MAINTENANCE_INTERVAL: usize = 61;

/// The `tracing` target of the span each task poll runs in (`task{id=..
/// name=..}`, level INFO). Filter it out to turn the spans off, e.g.
/// `RUST_LOG=info,corio::task=off` with an `EnvFilter`, or
/// `Targets::new().with_target("corio::task", LevelFilter::OFF)`.
pub const TASK_SPAN_TARGET: &str = "corio::task";

/// What `set_clock` stores: time since a fixed origin.
type ClockFn = Box<dyn Fn() -> Duration + Send + Sync>;

/// State shared between the executor, its tasks (as their scheduler) and its
/// spawners.
pub(crate) struct Shared {
    /// Identity of the owner thread (address of a thread-local).
    owner: usize,
    queue: RefCell<VecDeque<Runnable>>,
    registry: RefCell<Registry>,
    injector: ConcurrentQueue<Runnable>,
    unpark: Box<dyn Fn() + Send + Sync>,
    closed: AtomicBool,
    /// Debug tooling: told about panics nobody retrieved (set once).
    on_unretrieved_panic: OnceLock<UnretrievedPanicHook>,
    /// The clock task ages are measured on (owner thread only).
    clock: RefCell<ClockFn>,
    /// The clock in this iteration, as a registry stamp: read on the first
    /// registration of an iteration, forgotten when the iteration begins and
    /// ends (owner thread only).
    now: Cell<Option<u32>>,
    /// Inside `run_once` (owner thread only). Spawns between iterations
    /// (setting up, before `block_on`) each read the clock: time may pass
    /// between them, and they are few.
    iterating: Cell<bool>,
}

/// What `set_unretrieved_panic_hook` stores.
type UnretrievedPanicHook = Box<dyn Fn(&UnretrievedPanic) + Send + Sync>;

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

// SAFETY: `queue`, `registry`, `clock` and `now` are only touched on the owner
// thread (every access is behind `is_owner()`, or in methods of the `!Send`
// LocalExecutor); everything else is Sync, and the clock closure is Send + Sync.
unsafe impl Sync for Shared {}
// SAFETY: as above; moving the Arc<Shared> to another thread gives that thread
// access only to the injector and atomics.
unsafe impl Send for Shared {}

thread_local! {
    static THREAD_TOKEN: u8 = const { 0 };
}

fn thread_token() -> usize {
    THREAD_TOKEN.with(|t| t as *const u8 as usize)
}

impl Shared {
    #[inline]
    fn is_owner(&self) -> bool {
        self.owner == thread_token()
    }

    /// Owner thread only: queue a runnable, registering a new task.
    #[inline]
    fn push_local(&self, runnable: Runnable) {
        self.push_owned(runnable, true);
    }

    /// Owner thread only: queue a runnable, registering a new task; `local`
    /// tells whether it was spawned on this thread (not drained from the
    /// injector), which the registry's spawn-time log relies on.
    #[inline]
    fn push_owned(&self, runnable: Runnable, local: bool) {
        if runnable.header().slot() == NO_SLOT && !runnable.header().is_completed() {
            self.register(runnable.as_ptr(), local);
        }
        self.queue.borrow_mut().push_back(runnable);
    }

    /// Any thread but the owner: queue a runnable on the injector and unpark
    /// the executor. Out of line, so the owner's path stays small.
    #[inline(never)]
    fn push_remote(&self, runnable: Runnable) {
        if let Err(rejected) = self.injector.push(runnable) {
            // The executor is closed: dropping the Runnable cancels the
            // task here. Only Send tasks can be woken into this path
            // (local ones were all dropped by `close` before it closed
            // the injector).
            drop(rejected.into_inner());
            return;
        }
        (self.unpark)();
    }

    /// Owner thread only: registers a new task, stamped with this
    /// iteration's time (the clock is read by the iteration's first spawn).
    #[inline]
    fn register(&self, task: NonNull<Header>, local: bool) {
        let stamp = match self.now.get() {
            Some(stamp) => stamp,
            None => {
                let stamp = self.clock_stamp();
                if self.iterating.get() {
                    self.now.set(Some(stamp));
                }
                stamp
            }
        };
        self.registry.borrow_mut().insert(task, stamp, local);
    }

    /// Owner thread only: reads the clock, as a registry stamp (milliseconds,
    /// wrapping: see `registry.rs`).
    #[cold]
    fn clock_stamp(&self) -> u32 {
        // Truncating to 32 bits wraps; ages are differences, so they stay exact.
        (self.clock.borrow())().as_millis() as u32
    }

    /// Owner thread only: snapshots of the live tasks, hidden ones left out.
    fn tasks(&self) -> Vec<TaskInfo> {
        let now = self.clock_stamp();
        let mut out = Vec::new();
        self.registry.borrow().for_each_stamped(|header, spawned| {
            if !header.is_hidden() {
                let age = Duration::from_millis(u64::from(now.wrapping_sub(spawned)));
                out.push(TaskInfo::listed(header, age));
            }
        });
        out
    }
}

impl Schedule for Arc<Shared> {
    #[inline]
    fn schedule(&self, runnable: Runnable) {
        if self.is_owner() {
            self.push_local(runnable);
        } else {
            self.push_remote(runnable);
        }
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
        if task.slot() != NO_SLOT {
            debug_assert!(
                self.is_owner(),
                "a registered task was dropped off its executor's thread"
            );
            self.registry.borrow_mut().remove(task);
        }
    }
}

/// A single-threaded executor with asyncio's ordering: one FIFO run queue,
/// `!Send` tasks allowed, woken from any thread.
///
/// ```
/// use corio_executor::{LocalExecutor, ThreadPark};
///
/// let ex = LocalExecutor::new();
/// let a = ex.spawn(async { 1 });
/// let b = ex.spawn_local(async { std::rc::Rc::new(2) }); // !Send is fine
/// let sum = ex.block_on(async { a.await.unwrap() + *b.await.unwrap() }, &mut ThreadPark);
/// assert_eq!(sum, 3);
/// ```
pub struct LocalExecutor {
    shared: Arc<Shared>,
    /// Debug tooling: polls at least this long are reported to the hook.
    slow_poll: RefCell<Option<SlowPollHook>>,
    _not_send: PhantomData<*const ()>,
}

/// The slow-poll hook and its threshold.
#[derive(Clone)]
struct SlowPollHook {
    threshold: Duration,
    report: Rc<dyn Fn(&SlowPoll)>,
}

/// A task poll that took at least the threshold given to
/// [`LocalExecutor::set_slow_poll_hook`]: which task, and how long.
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
}

impl Default for LocalExecutor {
    fn default() -> Self {
        LocalExecutor::new()
    }
}

impl LocalExecutor {
    /// An executor whose cross-thread wakes unpark the current thread; drive
    /// it with [`ThreadPark`](crate::ThreadPark).
    pub fn new() -> LocalExecutor {
        let thread = std::thread::current();
        LocalExecutor::with_unpark(move || thread.unpark())
    }

    /// An executor whose cross-thread wakes call `unpark` (for example, to
    /// notify the reactor its `Park` sleeps in).
    pub fn with_unpark(unpark: impl Fn() + Send + Sync + 'static) -> LocalExecutor {
        LocalExecutor {
            shared: Arc::new(Shared {
                owner: thread_token(),
                queue: RefCell::new(VecDeque::new()),
                registry: RefCell::new(Registry::new()),
                injector: ConcurrentQueue::unbounded(),
                unpark: Box::new(unpark),
                closed: AtomicBool::new(false),
                on_unretrieved_panic: OnceLock::new(),
                clock: RefCell::new(Box::new({
                    let origin = std::time::Instant::now();
                    move || origin.elapsed()
                })),
                now: Cell::new(None),
                iterating: Cell::new(false),
            }),
            slow_poll: RefCell::new(None),
            _not_send: PhantomData,
        }
    }

    /// A `Send + Sync` handle that spawns onto this executor from any thread.
    pub fn spawner(&self) -> Spawner {
        Spawner {
            shared: self.shared.clone(),
        }
    }

    /// Spawns a `Send` task. It first runs in the next iteration.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawner()
            .spawn_with(Builder::new().location(Location::caller()), future)
    }

    /// Spawns a task that need not be `Send`; it runs on this thread.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.spawn_local_with(Builder::new().location(Location::caller()), future)
    }

    /// Spawns a task that need not be `Send`, with options.
    #[track_caller]
    pub fn spawn_local_with<F>(&self, builder: Builder, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.spawner().spawn_local_with(builder, future)
    }

    /// Runs one iteration: moves cross-thread wakes into the run queue, then
    /// polls exactly the tasks queued at that point. Returns how many ran.
    pub fn run_once(&self) -> usize {
        let shared = &*self.shared;
        shared.now.set(None);
        shared.iterating.set(true);
        while let Ok(runnable) = shared.injector.pop() {
            shared.push_owned(runnable, false);
        }
        let count = shared.queue.borrow().len();
        // One check per iteration, none per poll: without a hook and with
        // spans disabled the loop below is the plain one.
        let slow_poll = self.slow_poll.borrow().clone();
        let spans = task_spans_enabled();
        let next = || shared.queue.borrow_mut().pop_front();
        match (slow_poll, spans) {
            (None, false) => {
                for _ in 0..count {
                    let Some(runnable) = next() else { break };
                    let _current = enter(runnable.as_ptr());
                    runnable.run();
                }
            }
            (hook, spans) => {
                for _ in 0..count {
                    let Some(runnable) = next() else { break };
                    let _current = enter(runnable.as_ptr());
                    let _span = if spans {
                        poll_span(runnable.header())
                    } else {
                        tracing::Span::none()
                    }
                    .entered();
                    match &hook {
                        Some(hook) => run_timed(runnable, hook.threshold, &*hook.report),
                        None => {
                            runnable.run();
                        }
                    }
                }
            }
        }
        shared.now.set(None);
        shared.iterating.set(false);
        count
    }

    /// Sets the clock task ages are measured on (see [`TaskInfo::age`]): it
    /// returns the time since any fixed origin, and must never go backwards.
    /// It is read at most once per iteration that spawns a task (the first
    /// spawn's reading stamps every task spawned in that iteration), once per
    /// spawn between iterations, and once per [`tasks`](Self::tasks) listing. The default is real monotonic time;
    /// the corio facade sets its loop clock, so ages follow virtual time
    /// under a manual clock.
    pub fn set_clock(&self, clock: impl Fn() -> Duration + Send + Sync + 'static) {
        *self.shared.clock.borrow_mut() = Box::new(clock);
        self.shared.now.set(None);
    }

    /// Debug tooling: after this, every task poll that runs at least
    /// `threshold` is reported to `report` (with the task's id, name, spawn
    /// location and the duration) once it returns. Internal (hidden) tasks
    /// are not reported. Without a hook, polls are not timed at all.
    pub fn set_slow_poll_hook(&self, threshold: Duration, report: impl Fn(&SlowPoll) + 'static) {
        *self.slow_poll.borrow_mut() = Some(SlowPollHook {
            threshold,
            report: Rc::new(report),
        });
    }

    /// Debug tooling: `report` is told about every task whose panic is
    /// dropped without anyone having taken it (a detached task that panicked,
    /// or a handle dropped unread). Called on whichever thread drops it.
    /// Can be set once; later calls are ignored.
    pub fn set_unretrieved_panic_hook(
        &self,
        report: impl Fn(&UnretrievedPanic) + Send + Sync + 'static,
    ) {
        let _ = self.shared.on_unretrieved_panic.set(Box::new(report));
    }

    /// Removes the slow-poll hook: polls are no longer timed.
    pub fn clear_slow_poll_hook(&self) {
        *self.slow_poll.borrow_mut() = None;
    }

    /// Whether nothing is ready to run (both queues are empty).
    pub fn is_idle(&self) -> bool {
        self.shared.queue.borrow().is_empty() && self.shared.injector.is_empty()
    }

    /// How many tasks are alive (not yet completed), hidden ones included.
    pub fn task_count(&self) -> usize {
        self.shared.registry.borrow().len()
    }

    /// Snapshots of the live tasks, oldest slot first, hidden ones left out:
    /// id, name, spawn location, state, poll count and age.
    pub fn tasks(&self) -> Vec<TaskInfo> {
        self.shared.tasks()
    }

    /// Drives `future` to completion on this thread, running spawned tasks
    /// alongside; parks in `park` when nothing is runnable. The future need
    /// be neither `Send` nor `'static`. Re-raises the future's panic.
    ///
    /// # Panics
    ///
    /// If the future panics (the panic is re-raised after it was dropped), or
    /// if its task is cancelled (as it is at once if the executor was closed).
    pub fn block_on<F: Future>(&self, future: F, park: &mut impl Park) -> F::Output {
        match self.block_on_catch(future, park) {
            Ok(value) => value,
            Err(TaskError::Panicked { payload, .. }) => std::panic::resume_unwind(payload),
            Err(error) => panic!("the future passed to block_on was cancelled ({error})"),
        }
    }

    /// Like [`block_on`](Self::block_on), but returns a panic or cancellation
    /// of the future as a [`TaskError`] instead of raising it.
    pub fn block_on_catch<F: Future>(
        &self,
        future: F,
        park: &mut impl Park,
    ) -> Result<F::Output, TaskError> {
        self.block_on_with(Builder::new().location(Location::caller()), future, park)
    }

    /// [`block_on_catch`](Self::block_on_catch) with task options for the
    /// future's task (a name, a spawn location).
    pub fn block_on_with<F: Future>(
        &self,
        builder: Builder,
        future: F,
        park: &mut impl Park,
    ) -> Result<F::Output, TaskError> {
        // SAFETY: we are on the owner thread (the executor is !Send). The
        // future may borrow from our caller: `MainGuard` drops it before this
        // function returns or unwinds, if it has not completed by then.
        let (runnable, mut task) = unsafe {
            builder
                .block_on()
                .spawn_unchecked(future, self.shared.clone())
        };
        if self.is_closed() {
            // Like any later spawn: cancelled at once, here on the owner
            // thread. Queued, it could be woken from another thread into the
            // closed injector, which would drop this `!Send`, borrowing future
            // over there (and never unpark us).
            drop(runnable);
        } else {
            self.shared.schedule(runnable);
        }
        let guard = MainGuard {
            task: task.as_ptr(),
            _exec: self,
        };
        let mut since_maintenance = 0;
        while !task.is_done() {
            since_maintenance += self.run_once();
            if task.is_done() {
                break;
            }
            if self.is_idle() {
                park.park(None);
                since_maintenance = 0;
            } else if since_maintenance >= MAINTENANCE_INTERVAL {
                park.park(Some(Duration::ZERO));
                since_maintenance = 0;
            }
        }
        drop(guard);
        task.try_result()
            .expect("block_on's task is done and its result untaken")
    }

    /// Requests cancellation of every live task (as [`Task::cancel`] does);
    /// their futures are dropped when the next iterations reach them, so the
    /// cleanup tasks their `Drop`s spawn get to run. Returns how many.
    pub fn cancel_all(&self) -> usize {
        let mut tasks = Vec::new();
        self.shared
            .registry
            .borrow()
            .for_each(|header| tasks.push(NonNull::from(header)));
        let count = tasks.len();
        for task in tasks {
            // SAFETY: registered tasks are alive; scheduling from the owner
            // thread only touches the run queue (no registry borrow is held).
            unsafe { request_cancel(task) };
        }
        count
    }

    /// Drops every live task's future (on this thread), then every queued
    /// wake; tasks spawned by those drops are dropped too. Later spawns are
    /// cancelled at once. Idempotent; also done on drop.
    pub fn close(&self) {
        let shared = &*self.shared;
        shared.closed.store(true, Ordering::Release);
        loop {
            let tasks = shared.registry.borrow_mut().take_all();
            let had_tasks = !tasks.is_empty();
            for task in tasks {
                // SAFETY: registered tasks of this executor, on its thread,
                // outside any poll (close is not called from inside a task's
                // poll of this executor: the facade forbids it).
                unsafe { cancel_now(task) };
            }
            shared.injector.close();
            let mut dropped_any = false;
            loop {
                // Pop in its own statement: dropping a Runnable may run user
                // code that wakes (pushes onto) this very queue.
                let popped = shared.queue.borrow_mut().pop_front();
                let Some(runnable) = popped else { break };
                drop(runnable);
                dropped_any = true;
            }
            while let Ok(runnable) = shared.injector.pop() {
                drop(runnable);
                dropped_any = true;
            }
            if !had_tasks && !dropped_any && shared.registry.borrow().len() == 0 {
                break;
            }
        }
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }
}

impl Drop for LocalExecutor {
    fn drop(&mut self) {
        self.close();
    }
}

impl std::fmt::Debug for LocalExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalExecutor")
            .field("tasks", &self.task_count())
            .field("queued", &self.shared.queue.borrow().len())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Whether task polls run in spans: whether any subscriber may want INFO.
/// Checked once per iteration (no subscriber, or a stricter level: the
/// iteration runs the plain loop, no per-poll cost at all). A subscriber
/// installed during an iteration sees spans from the next one.
#[inline]
fn task_spans_enabled() -> bool {
    tracing::Level::INFO <= STATIC_MAX_LEVEL && tracing::Level::INFO <= LevelFilter::current()
}

/// The span a poll of `task` runs in: `task{id=.. name=..}` at INFO, target
/// [`TASK_SPAN_TARGET`]; none for hidden (internal) tasks. The macro asks the
/// subscriber (once per callsite, then cached), so a filter on the target
/// turns the span off.
#[inline]
fn poll_span(task: &Header) -> tracing::Span {
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
fn run_timed(runnable: Runnable, threshold: Duration, hook: &dyn Fn(&SlowPoll)) {
    let header = runnable.header();
    // Read before running: a task that completes may be freed by `run`.
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
        });
    }
}

/// Drops the `block_on` future if it has not completed, before the borrow
/// it may hold ends (including when unwinding).
struct MainGuard<'a> {
    task: NonNull<Header>,
    _exec: &'a LocalExecutor,
}

impl Drop for MainGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: the handle in `block_on_with` keeps the task alive; we are on
        // the owner thread, outside any poll of it.
        unsafe {
            if !self.task.as_ref().is_completed() {
                cancel_now(self.task);
            }
        }
    }
}

/// A `Send + Sync` handle that spawns tasks onto a [`LocalExecutor`] from any
/// thread. Spawning after the executor closed gives an already-cancelled task.
#[derive(Clone)]
pub struct Spawner {
    shared: Arc<Shared>,
}

impl Spawner {
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
        let (runnable, task) = builder.spawn(future, self.shared.clone());
        if self.shared.closed.load(Ordering::Acquire) {
            drop(runnable);
        } else {
            self.shared.schedule(runnable);
        }
        task
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
        assert!(
            self.shared.is_owner(),
            "a local (!Send) task can only be spawned on its executor's thread"
        );
        // SAFETY: we are on the owner thread (checked above), and the executor
        // only polls or drops local tasks there.
        let (runnable, task) = unsafe { builder.spawn_unchecked(future, self.shared.clone()) };
        if self.shared.closed.load(Ordering::Acquire) {
            drop(runnable);
        } else {
            self.shared.schedule(runnable);
        }
        task
    }

    /// Snapshots of the executor's live tasks (hidden ones left out), or
    /// `None` when called off the executor's thread.
    pub fn tasks(&self) -> Option<Vec<TaskInfo>> {
        if !self.shared.is_owner() {
            return None;
        }
        Some(self.shared.tasks())
    }

    /// Cancels the task and, when called on the executor's thread for one of
    /// its tasks that is not being polled right now, drops its future before
    /// returning (so its `Drop` has run). Otherwise the future is dropped at
    /// the next scheduling point, as with [`AbortHandle::cancel`]. Returns
    /// whether the future was dropped here.
    pub fn cancel_now(&self, task: &AbortHandle) -> bool {
        let ptr = task.as_ptr();
        // SAFETY: the AbortHandle's reference keeps the header alive.
        let header = unsafe { ptr.as_ref() };
        let droppable = self.shared.is_owner()
            && !header.is_running()
            && !header.is_completed()
            && self.shared.registry.borrow().contains(header);
        if !droppable {
            task.cancel();
            return false;
        }
        // SAFETY: a registered task of this executor, on its thread, and not
        // running (single-threaded: nothing can start polling it meanwhile).
        unsafe { cancel_now(ptr) };
        true
    }

    /// Whether the calling thread is the executor's own thread.
    pub fn is_executor_thread(&self) -> bool {
        self.shared.is_owner()
    }

    /// Whether the executor has been closed.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// Calls the executor's unpark callback (wakes a parked executor).
    pub fn unpark(&self) {
        (self.shared.unpark)()
    }

    /// Whether `self` and `other` spawn onto the same executor.
    pub fn same_executor(&self, other: &Spawner) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl std::fmt::Debug for Spawner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spawner")
            .field("closed", &self.is_closed())
            .finish()
    }
}

// Runs a real executor: not under loom, whose atomics need a model.
#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    /// Ages stay exact while the spawn-time log stays bounded: one old task
    /// lives while a thousand iterations each spawn (at a new millisecond)
    /// a task that ends at once.
    #[test]
    fn the_spawn_time_log_stays_bounded_and_exact() {
        let ex = LocalExecutor::new();
        let millis = Arc::new(AtomicU64::new(0));
        let clock = millis.clone();
        ex.set_clock(move || Duration::from_millis(clock.load(Ordering::SeqCst)));
        let old = ex.spawn(std::future::pending::<()>());
        ex.run_once();
        for _ in 0..1_000 {
            millis.fetch_add(1, Ordering::SeqCst);
            drop(ex.spawn(async {}));
            ex.run_once();
            assert!(ex.shared.registry.borrow().epoch_count() <= 2 * 2 + 64 + 1);
        }
        let young = ex.spawn(std::future::pending::<()>());
        millis.fetch_add(5, Ordering::SeqCst);
        let age = |id| {
            ex.tasks()
                .into_iter()
                .find(|task| task.id() == id)
                .and_then(|task| task.age())
        };
        assert_eq!(age(old.id()), Some(Duration::from_millis(1_005)));
        assert_eq!(age(young.id()), Some(Duration::from_millis(5)));
        old.cancel();
        young.cancel();
    }
}
