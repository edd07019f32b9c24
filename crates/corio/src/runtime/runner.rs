//! `run`, `Runner` and `Builder`: asyncio's `asyncio.run` and `asyncio.Runner`.

use std::future::Future;
use std::io;
use std::time::Duration;

use super::event_loop::EventLoop;
use super::handle::LoopHandle;
use crate::context::Context;
use crate::signal::interrupt::{CtrlCWatch, Interrupted, INTERRUPTED};

const NESTED_RUN: &str = "corio::run() cannot be called from a running event loop";

/// Runs `main` on a new event loop on this thread and returns its output.
///
/// When `main` is done, every task still pending is cancelled (their
/// futures dropped), the blocking pool is shut down and the loop closed. A
/// panic in `main` propagates after that clean-up.
///
/// ```
/// use std::time::Duration;
///
/// let total = corio::run(async {
///     let a = corio::create_task(async { corio::sleep(Duration::from_millis(5)).await; 1 });
///     let b = corio::create_task(async { 2 });
///     a.await.unwrap() + b.await.unwrap()
/// });
/// assert_eq!(total, 3);
/// ```
///
/// Ctrl-C (SIGINT) while `run` runs on the main thread cancels `main`, as
/// `asyncio.run` does: `main` is dropped (its `Drop`s run), the tasks left are
/// cancelled, the loop is closed, and `run` panics with a message saying it
/// was interrupted. A second Ctrl-C during that clean-up terminates the
/// process at once. A program that listens to SIGINT itself
/// ([`signal::ctrl_c`](crate::signal::ctrl_c), [`signal::Signals`](crate::signal::Signals),
/// [`LoopHandle::add_signal_handler`]), ignores it, or installed its own
/// handler keeps Ctrl-C to itself.
///
/// # Panics
///
/// Called from inside a running loop: "corio::run() cannot be called from a
/// running event loop". Interrupted by Ctrl-C: "corio::run() was interrupted
/// by Ctrl-C (SIGINT): the main future was cancelled". Also re-raises a
/// panic of `main`.
#[track_caller]
#[doc(alias = "block_on")]
pub fn run<F: Future>(main: F) -> F::Output {
    if super::context::is_running() {
        panic!("{NESTED_RUN}");
    }
    let mut runner = Runner::new();
    match runner.run_interruptible(main) {
        Ok(output) => output,
        Err(Interrupted) => {
            runner.close();
            panic!("corio::run() {INTERRUPTED}");
        }
    }
}

/// Runs several top-level futures on one loop (asyncio's `Runner`): tasks
/// created in one `run` keep going in the next. Closing (or dropping) it
/// cleans up as [`run`] does.
///
/// ```
/// let mut runner = corio::Runner::new();
/// let counter = runner.run(async { corio::create_task(async { 41 }) });
/// assert_eq!(runner.run(counter).unwrap() + 1, 42);
/// runner.close();
/// ```
#[derive(Debug)]
#[doc(alias = "Runtime")]
pub struct Runner {
    event_loop: EventLoop,
    /// The context main futures run in (see `corio::context`): what one
    /// `run`'s main future sets, the next one sees, as in asyncio's Runner.
    context: Context,
}

impl Runner {
    /// A runner with a single-threaded loop and default settings.
    ///
    /// # Panics
    ///
    /// If the operating system refuses to create the loop's poller (out of
    /// file descriptors); use `Runner::builder().build()` to handle that.
    pub fn new() -> Runner {
        Runner::builder()
            .build()
            .unwrap_or_else(|e| panic!("corio: could not create an event loop: {e}"))
    }

    /// A builder for a runner with custom settings.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Runs `future` to completion on this runner's loop.
    ///
    /// Ctrl-C while it runs on the main thread cancels `future` as in
    /// [`run`]; the runner's other tasks are cancelled when it is closed or
    /// dropped (typically while the panic unwinds).
    ///
    /// # Panics
    ///
    /// Called from inside a running loop, interrupted by Ctrl-C
    /// ("Runner::run() was interrupted by Ctrl-C …"), or with the future's panic.
    #[track_caller]
    #[doc(alias = "block_on")]
    pub fn run<F: Future>(&mut self, future: F) -> F::Output {
        match self.run_interruptible(future) {
            Ok(output) => output,
            Err(Interrupted) => panic!("Runner::run() {INTERRUPTED}"),
        }
    }

    /// Runs `future` with the Ctrl-C watch around it.
    #[track_caller]
    fn run_interruptible<F: Future>(&mut self, future: F) -> Result<F::Output, Interrupted> {
        let watch = CtrlCWatch::install(&self.event_loop.handle().shared.reactor);
        let runner_context = self.context.clone();
        let context = &mut self.context;
        let main = async move {
            let output = future.await;
            // What the main future set stays for the next `run`.
            *context = Context::current();
            output
        };
        // The executor's `block_on` makes the main future capture the
        // context current when it is called: the runner's.
        let event_loop = &mut self.event_loop;
        runner_context.run(|| event_loop.run_checked(watch.guard(main), NESTED_RUN))
    }

    /// A `Send + Sync` handle to the runner's loop.
    pub fn handle(&self) -> LoopHandle {
        self.event_loop.handle()
    }

    /// Cancels what is left, shuts the blocking pool down, closes the loop.
    pub fn close(mut self) {
        self.event_loop.close();
    }
}

impl Default for Runner {
    fn default() -> Runner {
        Runner::new()
    }
}

/// The settings a loop is built with.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// The worker count, once resolved by `Builder::build` (chosen with
    /// `workers`, else `CORIO_WORKERS`, else 1).
    pub(crate) workers: usize,
    /// Whether the program chose the worker count (`workers`,
    /// `workers_auto`): `CORIO_WORKERS` then does not apply.
    pub(crate) workers_chosen: bool,
    pub(crate) debug: bool,
    pub(crate) slow_poll_threshold: Duration,
    pub(crate) manual_clock: bool,
    /// Per-task `tracing` spans (`Builder::task_spans`).
    pub(crate) task_spans: bool,
    /// The blocking pool behind `to_thread`.
    pub(crate) blocking: BlockingConfig,
    /// `Builder::io_uring`, if called (else `CORIO_IO_URING` decides).
    #[cfg(all(target_os = "linux", feature = "io-uring"))]
    pub(crate) io_uring: Option<bool>,
}

/// The blocking pool's settings.
#[derive(Debug, Clone)]
pub(crate) struct BlockingConfig {
    pub(crate) max_threads: usize,
    pub(crate) keep_alive: Duration,
    pub(crate) shutdown_timeout: Duration,
}

impl Default for BlockingConfig {
    fn default() -> BlockingConfig {
        BlockingConfig {
            max_threads: crate::blocking::DEFAULT_MAX_THREADS,
            keep_alive: crate::blocking::DEFAULT_KEEP_ALIVE,
            shutdown_timeout: crate::blocking::DEFAULT_SHUTDOWN_TIMEOUT,
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            workers: 1,
            workers_chosen: false,
            debug: std::env::var_os("CORIO_DEBUG").is_some_and(|v| v == "1"),
            slow_poll_threshold: Duration::from_millis(100),
            manual_clock: false,
            task_spans: false,
            blocking: BlockingConfig::default(),
            #[cfg(all(target_os = "linux", feature = "io-uring"))]
            io_uring: None,
        }
    }
}

/// The default worker count: `CORIO_WORKERS=N` when set to a number, else 1
/// (read by every `build` that did not choose a count).
/// A value that is not a number is reported and ignored.
fn workers_from_env() -> usize {
    let Some(value) = std::env::var_os("CORIO_WORKERS") else {
        return 1;
    };
    match value
        .to_str()
        .and_then(|value| value.trim().parse::<usize>().ok())
    {
        Some(workers) => workers,
        None => {
            tracing::warn!(
                target: "corio",
                "CORIO_WORKERS={value:?} is not a number of worker threads; using 1"
            );
            1
        }
    }
}

/// Settings for a [`Runner`].
///
/// ```
/// let runner = corio::Runner::builder().debug(true).build().unwrap();
/// assert!(runner.handle().is_debug());
/// let mut runner = corio::Runner::builder().workers(2).build().unwrap();
/// let worker_thread = runner.run(async {
///     corio::create_task(async { std::thread::current().name().map(str::to_owned) })
///         .await
///         .unwrap()
/// });
/// assert!(worker_thread.unwrap().starts_with("corio-worker"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    config: Config,
    eager_tasks: bool,
    context: Option<Context>,
}

impl Builder {
    /// Default settings: one thread, debug mode from `CORIO_DEBUG`.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// The number of worker threads. 1 (the default, unless `CORIO_WORKERS`
    /// says otherwise) is asyncio's deterministic single-threaded loop. With
    /// `n > 1`, `Send` tasks (`create_task`) run on a work-stealing pool of
    /// `n` worker threads, local tasks on the thread that created them, and
    /// the main future on the thread that calls `run`: see
    /// docs/multithread.md for what holds there.
    pub fn workers(mut self, n: usize) -> Builder {
        self.config.workers = n;
        self.config.workers_chosen = true;
        self
    }

    /// One worker per available core (`std::thread::available_parallelism`).
    ///
    /// ```
    /// let mut runner = corio::Runner::builder().workers_auto().build().unwrap();
    /// assert_eq!(runner.run(async { corio::create_task(async { 7 }).await.unwrap() }), 7);
    /// ```
    pub fn workers_auto(mut self) -> Builder {
        self.config.workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        self.config.workers_chosen = true;
        self
    }

    /// Debug mode (also on when `CORIO_DEBUG=1`), reported through `tracing`
    /// at warn level: task polls and callbacks that block the loop longer
    /// than the slow-poll threshold (with the task's id, name, spawn location
    /// and the duration); every task that panicked and whose result nobody
    /// retrieved ("task panic never retrieved"); and, when the loop closes,
    /// every task still pending ("task destroyed while pending", with its
    /// name and spawn location).
    pub fn debug(mut self, on: bool) -> Builder {
        self.config.debug = on;
        self
    }

    /// The most threads [`to_thread`](crate::to_thread) jobs run on at once
    /// (default 512, as tokio's; asyncio's default executor uses
    /// `min(32, cpus + 4)`). Further jobs wait in FIFO order. 0 makes
    /// [`build`](Self::build) fail.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let mut runner = corio::Runner::builder()
    ///     .max_blocking_threads(1)
    ///     .blocking_keep_alive(Duration::from_secs(1))
    ///     .build()
    ///     .unwrap();
    /// let order = runner.run(async {
    ///     let (tx, rx) = std::sync::mpsc::channel();
    ///     let jobs: Vec<_> = (0..3)
    ///         .map(|i| {
    ///             let tx = tx.clone();
    ///             corio::to_thread(move || tx.send(i).unwrap())
    ///         })
    ///         .collect();
    ///     for job in jobs {
    ///         job.await.unwrap();
    ///     }
    ///     rx.try_iter().collect::<Vec<_>>()
    /// });
    /// assert_eq!(order, [0, 1, 2]); // one thread: FIFO
    /// ```
    pub fn max_blocking_threads(mut self, n: usize) -> Builder {
        self.config.blocking.max_threads = n;
        self
    }

    /// How long an idle blocking thread waits for another job before it
    /// exits (default 10 s).
    pub fn blocking_keep_alive(mut self, keep_alive: Duration) -> Builder {
        self.config.blocking.keep_alive = keep_alive;
        self
    }

    /// How long closing the loop waits for `to_thread` jobs still running
    /// (default 300 s, as asyncio's `shutdown_default_executor`). After
    /// that, the loop reports how many are left to its exception handler
    /// and closes anyway; the threads finish on their own (a thread cannot
    /// be cancelled).
    pub fn blocking_shutdown_timeout(mut self, timeout: Duration) -> Builder {
        self.config.blocking.shutdown_timeout = timeout;
        self
    }

    /// What debug mode calls slow (default 100 ms).
    pub fn slow_poll_threshold(mut self, threshold: Duration) -> Builder {
        self.config.slow_poll_threshold = threshold;
        self
    }

    /// Virtual time: the loop's clock stands still while any task can run,
    /// and jumps straight to the next timer deadline when every task is idle
    /// and no IO is ready. [`corio::time::advance`](crate::time::advance)
    /// moves it by hand. A test that sleeps an hour, or times out after a
    /// day, finishes at once, with the same order of events on every run.
    /// With `workers(n > 1)` time moves only when every worker (and the
    /// thread in `run`) is idle; the order of events is then not fixed.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let mut runner = corio::Runner::builder().manual_clock().build().unwrap();
    /// let started = std::time::Instant::now();
    /// let slept = runner.run(async {
    ///     let before = corio::time::now();
    ///     corio::sleep(Duration::from_secs(3600)).await;
    ///     corio::time::now() - before
    /// });
    /// assert_eq!(slept, Duration::from_secs(3600));
    /// assert!(started.elapsed() < Duration::from_secs(5)); // not an hour
    /// ```
    pub fn manual_clock(mut self) -> Builder {
        self.config.manual_clock = true;
        self
    }

    /// Makes every task the loop creates eager (asyncio's
    /// `loop.set_task_factory(asyncio.eager_task_factory)`): each
    /// `create_task`, `create_local_task` and `task::Builder::create` runs
    /// the new task's first step at once, as
    /// [`task::Builder::eager`](crate::task::Builder::eager) does for one
    /// task. Callbacks (`call_soon` and the rest) are not tasks: they stay
    /// scheduled.
    ///
    /// ```
    /// let mut runner = corio::Runner::builder().eager_tasks(true).build().unwrap();
    /// runner.run(async {
    ///     let task = corio::create_task(async { 7 });
    ///     assert!(task.is_done()); // ran to completion inside create_task
    ///     assert_eq!(task.await.unwrap(), 7);
    /// });
    /// ```
    pub fn eager_tasks(mut self, on: bool) -> Builder {
        self.eager_tasks = on;
        self
    }

    /// Runs each task's polls in one `task{id, name}` span of its own (INFO,
    /// target `corio::task`, no parent; off by default). Off, as on tokio,
    /// a log line carries exactly the spans your code made; to say which
    /// task wrote it, print [`current_task`](crate::current_task) from the
    /// formatter (the [`debug`](crate::debug) module shows one). On, a
    /// subscriber at INFO pays about 45 ns per poll, and a future made with
    /// `.in_current_span()` inside one task carries that task's span
    /// wherever it later runs (why it is off).
    ///
    /// ```
    /// let mut runner = corio::Runner::builder().task_spans(true).build().unwrap();
    /// runner.run(async {
    ///     corio::create_task(async { tracing::info!("inside task{{id=..}}") }).await.unwrap();
    /// });
    /// ```
    pub fn task_spans(mut self, on: bool) -> Builder {
        self.config.task_spans = on;
        self
    }

    /// Whether TCP and Unix streams read and write through io_uring (the
    /// `io-uring` feature, Linux): one `io_uring_enter` per loop iteration
    /// carries every stream's reads and writes, instead of a `recv` and a
    /// `send` per message. Where the kernel refuses a ring (too old, or
    /// forbidden by seccomp or `kernel.io_uring_disabled`) the loop uses epoll,
    /// as without it. Unless this is called, `CORIO_IO_URING=1` turns it on.
    ///
    /// What changes for a stream: reads buffer what a `recv` in flight
    /// received, writes are copied and sent in the background (`flush`
    /// waits until the kernel has every byte; a send error shows on a later
    /// write), and `into_std` refuses a stream with bytes held by the ring.
    ///
    /// ```
    /// let mut runner = corio::Runner::builder().io_uring(true).build().unwrap();
    /// runner.run(async {
    ///     let listener = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = corio::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (server, _) = listener.accept().await.unwrap();
    ///     client.write_all(b"ping").await.unwrap();
    ///     let mut buf = [0; 4];
    ///     server.read(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"ping");
    /// });
    /// ```
    #[cfg(all(target_os = "linux", feature = "io-uring"))]
    #[cfg_attr(docsrs, doc(cfg(all(target_os = "linux", feature = "io-uring"))))]
    pub fn io_uring(mut self, on: bool) -> Builder {
        self.config.io_uring = Some(on);
        self
    }

    /// The context the runner's main futures run in (asyncio's
    /// `Runner(context=...)`); by default a copy of the context current
    /// when [`build`](Self::build) is called (see [`corio::context`](crate::context)).
    ///
    /// ```
    /// use corio::context::{Context, ContextVar};
    ///
    /// static MODE: ContextVar<&'static str> = ContextVar::new("mode");
    ///
    /// let ctx = Context::new().run(|| {
    ///     MODE.set("test");
    ///     Context::current()
    /// });
    /// let mut runner = corio::Runner::builder().context(ctx).build().unwrap();
    /// let seen = runner.run(async { corio::create_task(async { MODE.get() }).await.unwrap() });
    /// assert_eq!(seen, Some("test"));
    /// ```
    pub fn context(mut self, context: Context) -> Builder {
        self.context = Some(context);
        self
    }

    /// Builds the runner.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for `workers(0)` or more than
    /// [`MAX_WORKERS`](corio_executor::MAX_WORKERS) (1024) workers, or an
    /// OS error creating the loop's poller.
    pub fn build(mut self) -> io::Result<Runner> {
        if !self.config.workers_chosen && !self.config.manual_clock {
            // The program did not choose: `CORIO_WORKERS` may. (Virtual
            // time is single-threaded: a manual clock keeps one thread.)
            self.config.workers = workers_from_env();
        }
        if self.config.blocking.max_threads == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "corio: Builder::max_blocking_threads(0) is invalid: to_thread needs at least \
                 one thread (use 1)",
            ));
        }
        match self.config.workers {
            0 => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "corio: Builder::workers(0) is invalid: a loop needs at least one thread (use 1)",
            )),
            n if n > corio_executor::MAX_WORKERS => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "corio: Builder::workers({n}) is too many: at most {} worker threads",
                    corio_executor::MAX_WORKERS
                ),
            )),
            _ => {
                let event_loop = EventLoop::with_config(&self.config)?;
                if self.eager_tasks {
                    event_loop.handle().shared.spawner.set_eager_tasks(true);
                }
                Ok(Runner {
                    event_loop,
                    context: self.context.unwrap_or_else(Context::current),
                })
            }
        }
    }
}
