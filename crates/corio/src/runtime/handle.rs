//! `LoopHandle`: the `Send + Sync` face of an event loop, and
//! `CallbackHandle` for scheduled callbacks.
//!
//! Every operation that may come from another thread (callbacks, spawning,
//! stop) goes through here; the loop's own thread takes the same paths, which
//! are cheap there (the executor pushes straight onto its run queue).

use std::future::Future;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use corio_executor::{Builder as TaskBuilder, Spawner};
use corio_reactor::Reactor;
use corio_timer::{Instant, TimerHandle};
use parking_lot::Mutex;

use super::exception_handler::{run_callback, CallbackReporting, ExceptionHandler, LoopError};
use super::threadsafe::ThreadsafeTask;
use super::timer_callbacks::{TimerCallbacks, TimerEntry};
use crate::blocking::BlockingPool;
use crate::signal::SignalHandler;
use crate::Task;

/// Everything a loop shares with its handles.
pub(crate) struct LoopShared {
    pub(crate) spawner: Spawner,
    pub(crate) timers: TimerHandle,
    /// The loop's IO reactor: sockets register here.
    pub(crate) reactor: Arc<Reactor>,
    pub(crate) blocking: BlockingPool,
    pub(crate) running: AtomicBool,
    pub(crate) closed: AtomicBool,
    pub(crate) debug: bool,
    pub(crate) slow_callback: Duration,
    /// Set by `stop()`, consumed by `run_forever`.
    pub(crate) stop: AtomicBool,
    pub(crate) stop_waker: Mutex<Option<Waker>>,
    /// The live `TaskGroup` scopes, for `corio::debug`'s task tree.
    pub(crate) task_groups: crate::debug::GroupRegistry,
    /// `add_signal_handler`'s handlers, one per signal.
    pub(crate) signal_handlers: Mutex<Vec<SignalHandler>>,
    /// Under workers: the FIFO queue of `call_soon` callbacks.
    pub(crate) callbacks: CallbackQueue,
    /// `call_later`/`call_at` callbacks waiting for their deadline.
    pub(crate) timer_callbacks: Arc<TimerCallbacks>,
    /// Where panics of callbacks and unretrieved task panics go.
    pub(crate) errors: Arc<ExceptionHandler>,
    /// (Feature `tokio`.) The tokio runtime every loop thread enters.
    #[cfg(feature = "tokio")]
    pub(crate) tokio: super::tokio_bridge::TokioBridge,
}

impl LoopShared {
    /// How this loop's callbacks are run and their failures reported.
    pub(crate) fn callback_reporting(&self) -> CallbackReporting {
        CallbackReporting {
            slow: self.debug.then_some(self.slow_callback),
            errors: self.errors.clone(),
        }
    }
}

/// A `call_soon` callback waiting in the [`CallbackQueue`].
struct QueuedCallback {
    run: Box<dyn FnOnce() + Send>,
    location: &'static Location<'static>,
    cancelled: Arc<AtomicBool>,
}

/// Under workers, `call_soon` callbacks wait here and one hidden task at a
/// time runs them, oldest first: FIFO across every thread that schedules.
#[derive(Default)]
pub(crate) struct CallbackQueue {
    queue: Mutex<std::collections::VecDeque<QueuedCallback>>,
    /// A drain task is scheduled or running.
    draining: AtomicBool,
}

impl CallbackQueue {
    fn push(&self, callback: QueuedCallback, handle: &LoopHandle) {
        self.queue.lock().push_back(callback);
        if !self.draining.swap(true, Ordering::AcqRel) {
            let shared = handle.shared.clone();
            let builder = TaskBuilder::new().hidden(true);
            drop(handle.shared.spawner.spawn_with(builder, async move {
                let reporting = shared.callback_reporting();
                shared.callbacks.drain(reporting).await
            }));
        }
        if handle.shared.spawner.is_closed() {
            // Closed: nothing will drain the queue; drop what is there, as
            // a closed single-threaded loop drops a callback at once.
            self.clear();
        }
    }

    /// Drops the callbacks that never ran (the loop closes), outside the
    /// lock: a callback may hold a `LoopHandle`, which holds this queue.
    pub(crate) fn clear(&self) {
        let left = std::mem::take(&mut *self.queue.lock());
        drop(left);
    }

    /// Runs the queued callbacks in order, yielding between batches, until
    /// the queue is empty (and stays so once `draining` is released).
    async fn drain(&self, reporting: CallbackReporting) {
        loop {
            let batch: Vec<QueuedCallback> = self.queue.lock().drain(..).collect();
            for callback in batch {
                if !callback.cancelled.load(Ordering::Acquire) {
                    run_callback(callback.run, callback.location, &reporting);
                }
            }
            if self.queue.lock().is_empty() {
                self.draining.store(false, Ordering::Release);
                // A push between the check and the release saw `draining`
                // set and spawned nothing: take the job back if so.
                if self.queue.lock().is_empty() || self.draining.swap(true, Ordering::AcqRel) {
                    return;
                }
            }
            crate::yield_now().await;
        }
    }
}

/// A handle to an event loop: schedule callbacks and tasks on it, read its
/// clock, stop it, from any thread (asyncio's loop methods).
///
/// ```
/// corio::run(async {
///     let handle = corio::get_running_loop();
///     let (tx, rx) = std::sync::mpsc::channel();
///     handle.call_soon(move || tx.send("called").unwrap());
///     corio::yield_now().await;
///     assert_eq!(rx.try_recv(), Ok("called"));
/// });
/// ```
#[derive(Clone)]
#[doc(alias = "Handle")]
pub struct LoopHandle {
    pub(crate) shared: Arc<LoopShared>,
}

impl LoopHandle {
    /// Schedules `f` to run on the loop in the next iteration, after the
    /// callbacks and tasks already scheduled (FIFO).
    #[track_caller]
    pub fn call_soon(&self, f: impl FnOnce() + Send + 'static) -> CallbackHandle {
        self.schedule_callback(None, f, Location::caller())
    }

    /// As [`call_soon`](Self::call_soon), from any thread; wakes the loop if
    /// it sleeps. (Every `LoopHandle` method is thread-safe; this name is
    /// asyncio's.)
    #[track_caller]
    pub fn call_soon_threadsafe(&self, f: impl FnOnce() + Send + 'static) -> CallbackHandle {
        self.schedule_callback(None, f, Location::caller())
    }

    /// Schedules `f` to run once `delay` has passed on the loop's clock.
    /// Callbacks due at the same instant run in the order they were scheduled.
    #[track_caller]
    pub fn call_later(&self, delay: Duration, f: impl FnOnce() + Send + 'static) -> CallbackHandle {
        let when = self.time().saturating_add(delay);
        self.schedule_callback(Some(when), f, Location::caller())
    }

    /// Schedules `f` to run at `when` on the loop's clock (at once if it
    /// passed). Callbacks due at the same instant run in scheduling order.
    #[track_caller]
    pub fn call_at(&self, when: Instant, f: impl FnOnce() + Send + 'static) -> CallbackHandle {
        self.schedule_callback(Some(when), f, Location::caller())
    }

    fn schedule_callback(
        &self,
        when: Option<Instant>,
        f: impl FnOnce() + Send + 'static,
        location: &'static Location<'static>,
    ) -> CallbackHandle {
        // The callback runs in a copy of the context current here (asyncio's
        // `call_soon(..., context=None)` copies it): see `corio::context`.
        let f = crate::context::bind(Box::new(f));
        let cancelled = Arc::new(AtomicBool::new(false));
        if when.is_none() && self.shared.spawner.workers() > 1 {
            // Under workers, tasks run in parallel: `call_soon` callbacks
            // go through one FIFO queue instead, so they run in the order
            // they were scheduled (api.md 1a).
            let callback = QueuedCallback {
                run: f,
                location,
                cancelled: cancelled.clone(),
            };
            self.shared.callbacks.push(callback, self);
            return CallbackHandle {
                pending: Pending::Queued,
                cancelled,
            };
        }
        if let Some(when) = when {
            let (entry, overdue) = self.shared.timer_callbacks.schedule(
                &self.shared,
                when,
                f,
                location,
                cancelled.clone(),
            );
            if overdue && !self.shared.spawner.is_executor_thread() {
                // The driver releases overdue callbacks at its next park:
                // wake it if it sleeps (on the loop's thread it runs soon).
                let _ = self.shared.reactor.notify();
            }
            return CallbackHandle {
                pending: Pending::Timer(entry),
                cancelled,
            };
        }
        let reporting = self.shared.callback_reporting();
        let body = async move { run_callback(f, location, &reporting) };
        let builder = TaskBuilder::new().hidden(true).location(location);
        CallbackHandle {
            pending: Pending::Task(self.shared.spawner.spawn_with(builder, body)),
            cancelled,
        }
    }

    /// The loop's clock.
    pub fn time(&self) -> Instant {
        self.shared.timers.now()
    }

    /// Creates a task on this loop from any thread. It first runs in the
    /// loop's next iteration (on a loop with
    /// [`eager_tasks`](crate::Builder::eager_tasks), called on the loop's
    /// thread, its first step runs at once).
    #[track_caller]
    pub fn create_task<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let builder = TaskBuilder::new().location(Location::caller());
        let spawner = &self.shared.spawner;
        if spawner.eager_tasks() {
            // `eager_tasks(true)` applies here too, as asyncio's task
            // factory does; off the loop's threads the task is scheduled.
            spawner.spawn_eager_with(builder, future)
        } else {
            spawner.spawn_with(builder, future)
        }
    }

    /// Submits `future` to this loop from another thread and returns a handle
    /// whose [`wait`](ThreadsafeTask::wait) blocks that thread for the result
    /// (asyncio's `run_coroutine_threadsafe`).
    #[track_caller]
    pub fn run_coroutine_threadsafe<F>(&self, future: F) -> ThreadsafeTask<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        ThreadsafeTask::new(self.create_task(future))
    }

    /// Makes a running `run_forever` return after the current iteration.
    /// Has no effect on `run_until_complete`.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(waker) = self.shared.stop_waker.lock().take() {
            waker.wake();
        }
    }

    /// Whether the loop is running.
    pub fn is_running(&self) -> bool {
        self.shared.running.load(Ordering::Acquire)
    }

    /// Whether the loop has been closed.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// Whether the loop runs in debug mode (`Builder::debug` or `CORIO_DEBUG=1`).
    pub fn is_debug(&self) -> bool {
        self.shared.debug
    }

    /// Sets the loop's exception handler (asyncio's
    /// `loop.set_exception_handler`): it receives every error that has
    /// nobody to return to, a callback's panic or a task panic never
    /// retrieved, on whichever thread it happens. It replaces the default
    /// handler, [`default_exception_handler`](crate::default_exception_handler),
    /// which logs with `tracing`; call that from the handler to keep the
    /// log. A handler that panics is logged and the loop goes on. Closing
    /// the loop drops the handler.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// corio::run(async {
    ///     let seen = Arc::new(Mutex::new(Vec::new()));
    ///     let handle = corio::get_running_loop();
    ///     let log = seen.clone();
    ///     handle.set_exception_handler(move |error| {
    ///         log.lock().unwrap().push(error.panic_message().unwrap_or("").to_owned());
    ///     });
    ///     handle.call_soon(|| panic!("boom"));
    ///     corio::yield_now().await;
    ///     assert_eq!(*seen.lock().unwrap(), ["boom"]);
    /// });
    /// ```
    pub fn set_exception_handler(&self, handler: impl Fn(&LoopError) + Send + Sync + 'static) {
        self.shared.errors.set(Some(Arc::new(handler)));
    }

    /// Goes back to the default handler (asyncio's
    /// `set_exception_handler(None)`).
    pub fn clear_exception_handler(&self) {
        self.shared.errors.set(None);
    }

    /// Hands `error` to the loop's exception handler, or to the default one
    /// (asyncio's `loop.call_exception_handler(context)`).
    ///
    /// ```
    /// corio::run(async {
    ///     let handle = corio::get_running_loop();
    ///     handle.set_exception_handler(|error| assert_eq!(error.message(), "disk nearly full"));
    ///     handle.call_exception_handler(corio::LoopError::new("disk nearly full"));
    /// });
    /// ```
    pub fn call_exception_handler(&self, error: LoopError) {
        self.shared.errors.report(&error);
    }

    /// Whether `self` and `other` are handles to the same loop.
    pub fn same_loop(&self, other: &LoopHandle) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl std::fmt::Debug for LoopHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopHandle")
            .field("running", &self.is_running())
            .field("closed", &self.is_closed())
            .field("debug", &self.is_debug())
            .finish()
    }
}

/// A scheduled callback (asyncio's `Handle`/`TimerHandle`): cancel it before
/// it runs. Dropping it does not cancel the callback.
pub struct CallbackHandle {
    pending: Pending,
    cancelled: Arc<AtomicBool>,
}

/// Where a callback waits to run.
enum Pending {
    /// A `call_soon` callback: the hidden task that runs it.
    Task(Task<()>),
    /// A `call_soon` callback under workers, in the loop's callback queue.
    Queued,
    /// A `call_later`/`call_at` callback, in the timer wheel until due.
    Timer(Arc<TimerEntry>),
}

impl CallbackHandle {
    /// Cancels the callback; if it has not run yet, it never will, and its
    /// closure is dropped (at once for a timer callback).
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        match &self.pending {
            Pending::Task(task) => {
                task.cancel();
            }
            Pending::Queued => {}
            Pending::Timer(entry) => entry.cancel(),
        }
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }
}

impl std::fmt::Debug for CallbackHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.pending {
            Pending::Task(task) if task.is_done() => "done",
            Pending::Task(_) | Pending::Queued => "scheduled",
            Pending::Timer(entry) if entry.is_released() => "released",
            Pending::Timer(_) => "waiting for its deadline",
        };
        f.debug_struct("CallbackHandle")
            .field("cancelled", &self.is_cancelled())
            .field("state", &state)
            .finish()
    }
}
