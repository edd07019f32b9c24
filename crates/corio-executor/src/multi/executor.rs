//! The public [`Executor`] and its [`ExecutorBuilder`]: worker threads,
//! `block_on`, introspection and closing.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::panic::Location;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::worker::{run_owner, run_worker, SlowPollReport};
use crate::local::task_spans::{self, TaskSpans};
use crate::park::Park;
use crate::raw::{Builder, MultiScheduler, Task};
use crate::{SlowPoll, Spawner, TaskError, TaskInfo, UnretrievedPanic};

/// The most worker threads an [`Executor`] may have.
pub const MAX_WORKERS: usize = 1024;

/// What `wrap_worker` stores: runs a worker's loop (the `FnMut`) inside
/// whatever per-thread context the caller sets up.
type WrapWorker = Arc<dyn Fn(usize, &mut dyn FnMut()) + Send + Sync>;

/// Settings for an [`Executor`].
///
/// ```
/// let ex = corio_executor::Executor::builder()
///     .workers(2)
///     .thread_name("my-worker")
///     .build()
///     .unwrap();
/// assert_eq!(ex.block_on(async { ex.spawn(async { 2 }).await.unwrap() }), 2);
/// ```
pub struct ExecutorBuilder {
    workers: usize,
    thread_name: String,
    driver: Option<Box<dyn Park + Send>>,
    unpark_driver: Option<Box<dyn Fn() + Send + Sync>>,
    wrap_worker: Option<WrapWorker>,
    slow_poll: Option<SlowPollReport>,
    task_spans: bool,
}

impl Default for ExecutorBuilder {
    fn default() -> Self {
        ExecutorBuilder {
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            thread_name: "corio-worker".to_owned(),
            driver: None,
            unpark_driver: None,
            wrap_worker: None,
            slow_poll: None,
            task_spans: false,
        }
    }
}

impl ExecutorBuilder {
    /// How many worker threads run tasks (default: one per available core).
    pub fn workers(mut self, workers: usize) -> ExecutorBuilder {
        self.workers = workers;
        self
    }

    /// The worker threads' name prefix (they are named `PREFIX-0`, `PREFIX-1`, ...).
    pub fn thread_name(mut self, prefix: impl Into<String>) -> ExecutorBuilder {
        self.thread_name = prefix.into();
        self
    }

    /// The driver (IO, timers) idle workers sleep in, one worker at a time,
    /// and how to wake the worker sleeping in it. `driver.park(None)` must
    /// return once `unpark` is called (also when it was called just before
    /// the park began: a sticky wake, as an eventfd's or `Thread::unpark`'s).
    /// A busy executor gives the driver a maintenance turn
    /// (`park(Some(ZERO))`) every [`MAINTENANCE_INTERVAL`](crate::MAINTENANCE_INTERVAL)
    /// polls. Without a driver, idle workers just sleep.
    pub fn driver(
        mut self,
        driver: impl Park + Send + 'static,
        unpark: impl Fn() + Send + Sync + 'static,
    ) -> ExecutorBuilder {
        self.driver = Some(Box::new(driver));
        self.unpark_driver = Some(Box::new(unpark));
        self
    }

    /// Runs each worker thread's loop inside `wrap(index, run_loop)`: set up
    /// thread-local context, call `run_loop()`, tear it down.
    pub fn wrap_worker(
        mut self,
        wrap: impl Fn(usize, &mut dyn FnMut()) + Send + Sync + 'static,
    ) -> ExecutorBuilder {
        self.wrap_worker = Some(Arc::new(wrap));
        self
    }

    /// Debug tooling: every task poll on a worker (or in `block_on`) that
    /// runs at least `threshold` is reported to `report`, with the worker's
    /// index, on the thread that ran it.
    pub fn slow_poll_hook(
        mut self,
        threshold: Duration,
        report: impl Fn(&SlowPoll) + Send + Sync + 'static,
    ) -> ExecutorBuilder {
        self.slow_poll = Some(SlowPollReport {
            threshold,
            report: Box::new(report),
        });
        self
    }

    /// Per-task `tracing` spans (off by default): each visible task's polls
    /// run in its one `task{id=.. name=..}` span (INFO, no parent), on
    /// whichever thread polls it. As
    /// [`LocalExecutor::set_task_spans`](crate::LocalExecutor::set_task_spans).
    pub fn task_spans(mut self, on: bool) -> ExecutorBuilder {
        self.task_spans = on;
        self
    }

    /// Builds the executor on the calling thread, which becomes its owner
    /// (the thread `block_on` runs on). Worker threads start on the first
    /// [`block_on`](Executor::block_on) or [`start`](Executor::start).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for `workers(0)` or more than [`MAX_WORKERS`].
    pub fn build(self) -> io::Result<Executor> {
        if self.workers == 0 || self.workers > MAX_WORKERS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "corio-executor: {} worker threads requested; an Executor needs between 1 and \
                     {MAX_WORKERS}",
                    self.workers
                ),
            ));
        }
        let unpark_driver = self.unpark_driver.unwrap_or_else(|| Box::new(|| {}));
        let scheduler = MultiScheduler::new(self.workers, self.driver, unpark_driver);
        Ok(Executor {
            scheduler,
            slow_poll: self.slow_poll.map(Arc::new),
            task_spans: self.task_spans.then(TaskSpans::new),
            thread_name: self.thread_name,
            wrap_worker: self.wrap_worker,
            threads: RefCell::new(Vec::new()),
            closing: Cell::new(false),
            _not_send: PhantomData,
        })
    }
}

/// A work-stealing multi-threaded executor: `Send` tasks run on any of its
/// worker threads, local (`!Send`) tasks on the thread that spawned them.
///
/// Each worker has a local run queue that the others steal half of when
/// they run dry; wakes from other threads go through a global injector;
/// idle workers sleep (one of them in the driver, if one is set) and are
/// woken one at a time. `block_on` runs its future on the calling thread,
/// the executor's owner.
///
/// ```
/// use corio_executor::Executor;
///
/// let ex = Executor::builder().workers(2).build().unwrap();
/// let tasks: Vec<_> = (0..100u64).map(|i| ex.spawn(async move { i * i })).collect();
/// let sum = ex.block_on(async {
///     let mut sum = 0;
///     for task in tasks {
///         sum += task.await.unwrap();
///     }
///     sum
/// });
/// assert_eq!(sum, (0..100u64).map(|i| i * i).sum());
/// ex.close(); // also done on drop: drops what is left, joins the workers
/// ```
pub struct Executor {
    scheduler: Arc<MultiScheduler>,
    slow_poll: Option<Arc<SlowPollReport>>,
    /// `ExecutorBuilder::task_spans`: the tasks' spans, shared by all threads.
    task_spans: Option<Arc<TaskSpans>>,
    thread_name: String,
    wrap_worker: Option<WrapWorker>,
    /// The worker threads, once started.
    threads: RefCell<Vec<JoinHandle<()>>>,
    /// Inside `close`: a re-entrant call returns at once.
    closing: Cell<bool>,
    _not_send: PhantomData<*const ()>,
}

impl Executor {
    /// An executor with `workers` worker threads and no driver.
    ///
    /// # Panics
    ///
    /// If `workers` is 0 or above [`MAX_WORKERS`]; use the builder to get an error instead.
    pub fn new(workers: usize) -> Executor {
        Executor::builder()
            .workers(workers)
            .build()
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// A builder for an executor with custom settings.
    pub fn builder() -> ExecutorBuilder {
        ExecutorBuilder::default()
    }

    /// How many worker threads it has.
    pub fn workers(&self) -> usize {
        self.scheduler.workers
    }

    /// A `Send + Sync` handle that spawns onto this executor from any thread.
    pub fn spawner(&self) -> Spawner {
        Spawner::multi(self.scheduler.clone())
    }

    /// Spawns a `Send` task; it may run on any worker.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.scheduler
            .spawn(Builder::new().location(Location::caller()), future)
    }

    /// Spawns a task that need not be `Send`, pinned to this (the owner)
    /// thread: it runs while [`block_on`](Self::block_on) runs.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.scheduler
            .spawn_local(Builder::new().location(Location::caller()), future)
    }

    /// Starts the worker threads, if they are not running yet.
    ///
    /// # Errors
    ///
    /// If the operating system refuses a thread (the threads already
    /// started keep running and are joined at close).
    pub fn start(&self) -> io::Result<()> {
        let mut threads = self.threads.borrow_mut();
        if !threads.is_empty() || self.scheduler.is_closed() {
            return Ok(());
        }
        for index in 0..self.scheduler.workers {
            let scheduler = self.scheduler.clone();
            let slow_poll = self.slow_poll.clone();
            let spans = self.task_spans.clone();
            let wrap = self.wrap_worker.clone();
            let thread = std::thread::Builder::new()
                .name(format!("{}-{index}", self.thread_name))
                .spawn(move || {
                    let mut run_loop = || {
                        let _spans = task_spans::activate(spans.clone());
                        run_worker(&scheduler, index, slow_poll.as_deref())
                    };
                    match wrap {
                        Some(wrap) => wrap(index, &mut run_loop),
                        None => run_loop(),
                    }
                })
                .map_err(|error| {
                    io::Error::new(
                        error.kind(),
                        format!("corio-executor: could not start worker thread {index}: {error}"),
                    )
                })?;
            threads.push(thread);
        }
        Ok(())
    }

    /// Drives `future` to completion on this thread (the local tasks
    /// spawned here run alongside it) while the workers run the others.
    /// Starts the workers if needed. Re-raises the future's panic.
    ///
    /// # Panics
    ///
    /// Off the thread that built the executor, if the workers cannot start,
    /// with the future's panic, or if its task is cancelled (as it is at once
    /// if the executor was closed).
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        match self.block_on_with(Builder::new().location(Location::caller()), future) {
            Ok(value) => value,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => panic!("the future passed to block_on was cancelled ({error})"),
        }
    }

    /// [`block_on`](Self::block_on) with task options for the future's task,
    /// returning its panic or cancellation as a [`TaskError`].
    pub fn block_on_with<F: Future>(
        &self,
        builder: Builder,
        future: F,
    ) -> Result<F::Output, TaskError> {
        if let Err(error) = self.start() {
            panic!("{error}");
        }
        let slow_poll = self.slow_poll.clone();
        self.scheduler.block_on_scoped(builder, future, |task| {
            let _spans = task_spans::activate(self.task_spans.clone());
            run_owner(&self.scheduler, slow_poll.as_deref(), || task.is_done());
            task.try_result()
                .expect("block_on's task is done and its result untaken")
        })
    }

    /// How many tasks are alive (not yet completed), hidden ones included.
    pub fn task_count(&self) -> usize {
        self.scheduler.task_count()
    }

    /// Snapshots of every worker's live tasks, hidden ones left out.
    pub fn tasks(&self) -> Vec<TaskInfo> {
        self.scheduler.tasks()
    }

    /// Debug tooling: `report` is told about every task whose panic is
    /// dropped without anyone having taken it. Can be set once.
    pub fn set_unretrieved_panic_hook(
        &self,
        report: impl Fn(&UnretrievedPanic) + Send + Sync + 'static,
    ) {
        self.scheduler.set_unretrieved_panic_hook(Box::new(report));
    }

    /// Requests cancellation of every live task; their futures are dropped
    /// when a worker next reaches them. Returns how many.
    pub fn cancel_all(&self) -> usize {
        self.scheduler.cancel_all()
    }

    /// Stops the workers (each drops the local tasks pinned to it, on its
    /// own thread) and joins them, then drops every other task's future and
    /// every queued wake, one at a time. Later spawns are cancelled at once.
    /// Idempotent; also done on drop. A worker stuck in a poll that never
    /// returns is waited for.
    pub fn close(&self) {
        if self.closing.replace(true) {
            return;
        }
        self.scheduler.begin_close();
        let threads = std::mem::take(&mut *self.threads.borrow_mut());
        for thread in threads {
            // A worker that panicked (in a hook: task panics are caught)
            // has nothing left to join.
            let _ = thread.join();
        }
        self.scheduler.close_slot(self.scheduler.owner_slot());
        self.scheduler.close_send_tasks();
        // The driver may hold what refers back to the scheduler (timers whose
        // wakers are tasks): dropped here, outside the lock, it cannot keep
        // the scheduler alive.
        let driver = self.scheduler.driver.lock().take();
        drop(driver);
        if let Some(spans) = &self.task_spans {
            spans.clear();
        }
        self.closing.set(false);
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.scheduler.is_closed()
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        self.close();
    }
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("workers", &self.workers())
            .field("tasks", &self.task_count())
            .field("sleeping", &self.scheduler.idle.sleeping())
            .field("closed", &self.is_closed())
            .finish()
    }
}
