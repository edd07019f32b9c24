//! `EventLoop`: asyncio's low-level loop (`new_event_loop`,
//! `run_until_complete`, `run_forever`, `close`) on one thread.
//!
//! The loop owns the executor (tasks and callbacks in one FIFO queue), the
//! driver (timers and reactor) it parks in, and the blocking pool behind
//! `to_thread`. Handles (`LoopHandle`) share the parts other threads may use.

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::Poll;

use corio_executor::{
    Builder as TaskBuilder, Executor, LocalExecutor, SlowPoll, Spawner, TaskInfo,
};
use corio_reactor::Reactor;
use corio_timer::{Clock, Timers};
use parking_lot::Mutex;

use super::context;
use super::driver::Driver;
use super::exception_handler::{ExceptionHandler, LoopError};
use super::handle::{LoopHandle, LoopShared};
use super::runner::Config;
use super::timer_callbacks::TimerCallbacks;
use crate::blocking::BlockingPool;

/// How many iterations `close` gives cancelled tasks' cleanup before it drops
/// whatever is left.
const CLOSE_ITERATIONS: usize = 1_000;

/// A single-threaded event loop. Most programs use [`run`](crate::run) or
/// [`Runner`](crate::Runner); this is the layer beneath them.
///
/// ```
/// let mut event_loop = corio::EventLoop::new().unwrap();
/// let handle = event_loop.handle();
/// handle.call_later(std::time::Duration::from_millis(10), {
///     let handle = handle.clone();
///     move || handle.stop()
/// });
/// event_loop.run_forever(); // until the callback stops it
/// assert_eq!(event_loop.run_until_complete(async { 1 + 1 }), 2);
/// event_loop.close();
/// assert!(event_loop.is_closed());
/// ```
pub struct EventLoop {
    engine: Engine,
    handle: LoopHandle,
    /// How long `close` waits for `to_thread` jobs.
    shutdown_timeout: std::time::Duration,
}

/// What runs the loop's tasks.
enum Engine {
    /// `workers(1)`: asyncio's deterministic single thread; the loop's own
    /// thread parks in the driver.
    Local {
        executor: LocalExecutor,
        driver: Driver,
    },
    /// `workers(n > 1)`: the work-stealing executor; its idle workers take
    /// turns sleeping in the driver (see docs/multithread.md).
    Multi(Executor),
}

/// The loop's reactor: with an io_uring when the config (or `CORIO_IO_URING=1`)
/// asks for one and the kernel allows it, else plain epoll.
fn new_reactor(config: &Config) -> io::Result<Reactor> {
    #[cfg(all(target_os = "linux", feature = "io-uring"))]
    {
        let wanted = config
            .io_uring
            .unwrap_or_else(|| std::env::var_os("CORIO_IO_URING").is_some_and(|v| v == "1"));
        if wanted {
            match Reactor::with_io_uring() {
                Ok(reactor) => return Ok(reactor),
                Err(e) => tracing::debug!(
                    target: "corio",
                    "io_uring unavailable ({e}); the loop uses epoll"
                ),
            }
        }
    }
    #[cfg(not(all(target_os = "linux", feature = "io-uring")))]
    let _ = config;
    Reactor::new()
}

impl EventLoop {
    /// A new loop with default settings (debug mode if `CORIO_DEBUG=1`).
    pub fn new() -> io::Result<EventLoop> {
        EventLoop::with_config(&Config::default())
    }

    pub(crate) fn with_config(config: &Config) -> io::Result<EventLoop> {
        let reactor = Arc::new(new_reactor(config).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("corio: could not create the event loop's reactor: {e}"),
            )
        })?);
        let timers = Timers::new(if config.manual_clock {
            Clock::manual()
        } else {
            Clock::real()
        });
        let timer_handle = timers.handle();
        // A timer armed while the driver sleeps towards a later deadline
        // must wake it to recompute: from another thread than a single
        // loop's own, and from anywhere under workers (the driver may be
        // asleep on another worker).
        let own_thread = Arc::new(OnceLock::<Spawner>::new());
        {
            let reactor = reactor.clone();
            let own_thread = own_thread.clone();
            timers.set_unpark(Arc::new(move || {
                let on_loop_thread = own_thread
                    .get()
                    .is_some_and(|spawner| spawner.is_executor_thread());
                if !on_loop_thread {
                    let _ = reactor.notify();
                }
            }));
        }
        let timer_callbacks = Arc::new(TimerCallbacks::new(timer_handle.clone()));
        let driver = Driver {
            timers,
            reactor: reactor.clone(),
            timer_callbacks: timer_callbacks.clone(),
        };
        let handle_cell = Arc::new(OnceLock::new());
        let errors = Arc::new(ExceptionHandler::new(config.debug));
        let engine = if config.workers > 1 {
            Engine::Multi(multi_executor(
                config,
                driver,
                handle_cell.clone(),
                &errors,
            )?)
        } else {
            Engine::Local {
                executor: local_executor(config, &reactor, driver.timers.clock().clone(), &errors),
                driver,
            }
        };
        let spawner = engine.spawner();
        if let Engine::Local { .. } = engine {
            let _ = own_thread.set(spawner.clone());
        }
        let shared = Arc::new(LoopShared {
            spawner,
            timers: timer_handle,
            reactor,
            blocking: BlockingPool::new(config.blocking.max_threads, config.blocking.keep_alive),
            running: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            debug: config.debug,
            slow_callback: config.slow_poll_threshold,
            stop: AtomicBool::new(false),
            stop_waker: Mutex::new(None),
            task_groups: Default::default(),
            signal_handlers: Mutex::new(Vec::new()),
            callbacks: Default::default(),
            timer_callbacks,
            errors,
            #[cfg(feature = "tokio")]
            tokio: Default::default(),
        });
        let handle = LoopHandle { shared };
        let _ = handle_cell.set(handle.clone());
        Ok(EventLoop {
            engine,
            handle,
            shutdown_timeout: config.blocking.shutdown_timeout,
        })
    }

    /// Runs `future` to completion on this thread, with every task of the
    /// loop alongside, and returns its output. Tasks still pending when it
    /// returns stay pending (and run again in the next `run_*` call).
    ///
    /// # Panics
    ///
    /// If the loop is closed, if another loop runs on this thread, or with
    /// the future's own panic.
    #[track_caller]
    pub fn run_until_complete<F: Future>(&mut self, future: F) -> F::Output {
        self.run_checked(
            future,
            "cannot run an event loop while another loop is running on this thread",
        )
    }

    /// `run_until_complete` with the message for "a loop already runs here".
    #[track_caller]
    pub(crate) fn run_checked<F: Future>(&mut self, future: F, nested_message: &str) -> F::Output {
        assert!(
            !self.is_closed(),
            "the event loop is closed: create a new EventLoop or Runner"
        );
        let _entered = context::enter(&self.handle, nested_message);
        #[cfg(feature = "tokio")]
        let shared = self.handle.shared.clone();
        #[cfg(feature = "tokio")]
        let _tokio = shared.tokio.enter();
        let _running = RunningFlag::set(&self.handle.shared.running);
        let builder = TaskBuilder::new().location(std::panic::Location::caller());
        let result = match &mut self.engine {
            Engine::Local { executor, driver } => executor.block_on_with(builder, future, driver),
            Engine::Multi(executor) => executor.block_on_with(builder, future),
        };
        match result {
            Ok(value) => value,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => panic!("the event loop's main future was cancelled ({error})"),
        }
    }

    /// Runs the loop until [`LoopHandle::stop`] is called (a stop requested
    /// before this call makes it return after one iteration).
    pub fn run_forever(&mut self) {
        let shared = self.handle.shared.clone();
        self.run_until_complete(std::future::poll_fn(move |cx| {
            if shared.stop.swap(false, Ordering::AcqRel) {
                return Poll::Ready(());
            }
            *shared.stop_waker.lock() = Some(cx.waker().clone());
            if shared.stop.swap(false, Ordering::AcqRel) {
                return Poll::Ready(());
            }
            Poll::Pending
        }));
    }

    /// Whether the loop is running (inside `run_*`).
    pub fn is_running(&self) -> bool {
        self.handle.is_running()
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    /// A `Send + Sync` handle to this loop.
    pub fn handle(&self) -> LoopHandle {
        self.handle.clone()
    }

    /// Cancels every pending task and callback, lets their cleanup run
    /// (tasks spawned from `Drop`s get a bounded number of iterations), drops
    /// whatever is left, waits for the blocking pool's threads, and closes
    /// the loop. Idempotent.
    ///
    /// # Panics
    ///
    /// If the loop is running.
    pub fn close(&mut self) {
        assert!(!self.is_running(), "cannot close a running event loop");
        if self.is_closed() {
            return;
        }
        {
            // Drop code of cancelled tasks may call corio APIs: the loop is
            // "running" for them while it winds down. It may be closed (or
            // dropped while unwinding) inside another loop's task: that loop
            // is set aside meanwhile, not a reason to panic.
            let _entered = context::enter_replacing(&self.handle);
            if self.handle.shared.debug {
                report_pending_tasks(self.engine.spawner().tasks().unwrap_or_default());
            }
            for handler in std::mem::take(&mut *self.handle.shared.signal_handlers.lock()) {
                handler.remove();
            }
            match &self.engine {
                Engine::Local { executor, .. } => {
                    executor.cancel_all();
                    let mut iterations = 0;
                    while !executor.is_idle() && iterations < CLOSE_ITERATIONS {
                        executor.run_once();
                        iterations += 1;
                    }
                    executor.close();
                }
                Engine::Multi(executor) => {
                    executor.cancel_all();
                    wind_down(executor);
                    executor.close();
                    self.handle.shared.callbacks.clear();
                }
            }
        }
        // Timer callbacks never released: their closures go now (a closure
        // may hold a `LoopHandle`, which would keep this loop alive).
        self.handle.shared.timer_callbacks.clear();
        self.handle.shared.closed.store(true, Ordering::Release);
        #[cfg(feature = "tokio")]
        self.handle.shared.tokio.shut_down();
        self.shut_down_blocking_pool();
        // The handler may hold a `LoopHandle` too.
        self.handle.shared.errors.set(None);
    }
}

impl EventLoop {
    /// Waits for `to_thread` jobs, at most the configured time; then
    /// reports what is left to the exception handler (asyncio warns "The
    /// executor did not finishing joining its threads within N seconds").
    fn shut_down_blocking_pool(&self) {
        let timeout = self.shutdown_timeout;
        let shared = &self.handle.shared;
        if shared.blocking.shutdown(Some(timeout)) {
            return;
        }
        let (threads, queued) = shared.blocking.still_running();
        shared.errors.report(&LoopError::blocking_pool_timed_out(
            timeout, threads, queued,
        ));
    }
}

impl Drop for EventLoop {
    fn drop(&mut self) {
        if !std::thread::panicking() || !self.is_running() {
            self.close();
        }
    }
}

impl std::fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLoop")
            .field("running", &self.is_running())
            .field("closed", &self.is_closed())
            .field("workers", &self.engine.spawner().workers())
            .field("tasks", &self.engine.task_count())
            .finish()
    }
}

/// Debug mode: asyncio's "Task was destroyed but it is pending!", for every
/// task the loop is about to cancel at close.
fn report_pending_tasks(tasks: Vec<TaskInfo>) {
    for info in tasks {
        let name = info.name().unwrap_or("<unnamed>");
        tracing::warn!(
            target: "corio",
            task_id = info.id().as_u64(),
            task_name = name,
            spawned_at = %info.location(),
            "task destroyed while pending: task {} '{}' spawned at {}",
            info.id(),
            name,
            info.location()
        );
    }
}

/// Sets a flag for the duration of a scope, also while unwinding.
struct RunningFlag<'a>(&'a AtomicBool);

impl<'a> RunningFlag<'a> {
    fn set(flag: &'a AtomicBool) -> RunningFlag<'a> {
        flag.store(true, Ordering::Release);
        RunningFlag(flag)
    }
}

impl Drop for RunningFlag<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Under workers: gives the cancelled tasks' cleanup (and the tasks their
/// `Drop`s spawn) time to run on the workers and, for local tasks of this
/// thread, here; at most `CLOSE_ITERATIONS` rounds, then `close` drops
/// whatever is left.
fn wind_down(executor: &Executor) {
    let mut left = executor.task_count();
    for _ in 0..CLOSE_ITERATIONS {
        if left == 0 {
            return;
        }
        // One turn for the local tasks pinned to this thread.
        let _ = executor.block_on_with(TaskBuilder::new().hidden(true), yield_once());
        let now = executor.task_count();
        if now == left {
            std::thread::sleep(std::time::Duration::from_micros(100));
        }
        left = now;
    }
}

/// Pending once (waking itself), then ready.
async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

impl Engine {
    fn spawner(&self) -> Spawner {
        match self {
            Engine::Local { executor, .. } => executor.spawner(),
            Engine::Multi(executor) => executor.spawner(),
        }
    }

    fn task_count(&self) -> usize {
        match self {
            Engine::Local { executor, .. } => executor.task_count(),
            Engine::Multi(executor) => executor.task_count(),
        }
    }
}

/// The single-threaded loop's executor: cross-thread wakes notify the
/// reactor the loop sleeps in; debug mode's hooks.
fn local_executor(
    config: &Config,
    reactor: &Arc<Reactor>,
    clock: Clock,
    errors: &Arc<ExceptionHandler>,
) -> LocalExecutor {
    let executor = {
        let reactor = reactor.clone();
        LocalExecutor::with_unpark(move || {
            if let Err(error) = reactor.notify() {
                tracing::error!(target: "corio", "waking the event loop failed: {error}");
            }
        })
    };
    if config.debug {
        executor.set_slow_poll_hook(config.slow_poll_threshold, report_slow_poll);
    }
    executor.set_task_spans(config.task_spans);
    let errors = errors.clone();
    executor.set_unretrieved_panic_hook(move |panic| errors.report_unretrieved_panic(panic));
    // Task ages (`corio::debug`) are measured on the loop's clock, so they
    // follow virtual time under a manual clock.
    executor.set_clock(move || std::time::Duration::from_nanos(clock.now().as_nanos()));
    executor
}

/// The work-stealing executor of `workers(n > 1)`: its idle workers take
/// turns sleeping in `driver`; each worker thread runs with this loop as its
/// running loop (`handle`, set once the loop is built, before any worker
/// starts: they start in the first `run`).
fn multi_executor(
    config: &Config,
    driver: Driver,
    handle: Arc<OnceLock<LoopHandle>>,
    errors: &Arc<ExceptionHandler>,
) -> io::Result<Executor> {
    let reactor = driver.reactor.clone();
    let dispatch = tracing::dispatcher::get_default(|dispatch| dispatch.clone());
    let mut builder = Executor::builder()
        .workers(config.workers)
        .task_spans(config.task_spans)
        .thread_name("corio-worker")
        .driver(driver, move || {
            if let Err(error) = reactor.notify() {
                tracing::error!(target: "corio", "waking the event loop failed: {error}");
            }
        })
        .wrap_worker(move |_, run_loop| {
            let _entered = handle
                .get()
                .map(|handle| context::enter(handle, "a corio worker thread runs one loop"));
            #[cfg(feature = "tokio")]
            let shared = handle.get().map(|handle| handle.shared.clone());
            #[cfg(feature = "tokio")]
            let _tokio = shared.as_ref().map(|shared| shared.tokio.enter());
            // Events and spans of tasks on the workers go where those of
            // the thread that built the loop go (its default subscriber).
            tracing::dispatcher::with_default(&dispatch, run_loop);
        });
    if config.debug {
        builder = builder.slow_poll_hook(config.slow_poll_threshold, report_slow_poll);
    }
    let executor = builder.build()?;
    let errors = errors.clone();
    executor.set_unretrieved_panic_hook(move |panic| errors.report_unretrieved_panic(panic));
    Ok(executor)
}

/// Debug mode: a task poll blocked its thread too long.
fn report_slow_poll(poll: &SlowPoll) {
    let name = poll.name.as_deref().unwrap_or("<unnamed>");
    let thread = match poll.worker {
        Some(worker) => format!("worker {worker}"),
        None => "the event loop".to_owned(),
    };
    tracing::warn!(
        target: "corio",
        task_id = poll.id.as_u64(),
        task_name = name,
        spawned_at = %poll.location,
        worker = poll.worker,
        duration_ms = poll.duration.as_secs_f64() * 1e3,
        "slow task poll: task {} '{}' spawned at {} blocked {} for {:?}",
        poll.id,
        name,
        poll.location,
        thread,
        poll.duration
    );
}
