//! The [`LocalExecutor`] itself: spawning, the run loop (`run_once`,
//! `block_on`), introspection, cancellation and closing.

use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use super::hooks::{run_hooked, task_spans_enabled, SlowPollHook};
use super::task_spans::{self, TaskSpans};
use super::{SlowPoll, UnretrievedPanic};
use crate::park::Park;
use crate::raw::{Builder, LocalScheduler, OwnerState, Task};
use crate::Spawner;
use crate::{TaskError, TaskInfo};

/// How many polls may run between two maintenance turns (`park(Some(ZERO))`)
/// while the queue never empties. Prime, as tokio's, so it does not beat in
/// step with periodic workloads.
pub const MAINTENANCE_INTERVAL: usize = 61;

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
    scheduler: Arc<LocalScheduler>,
    /// Debug tooling: polls at least this long are reported to the hook.
    slow_poll: RefCell<Option<SlowPollHook>>,
    /// Opt-in: each visible task's poll runs in its `task{id, name}` span.
    task_spans: RefCell<Option<Arc<TaskSpans>>>,
    _not_send: PhantomData<*const ()>,
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
            scheduler: LocalScheduler::new(Box::new(unpark)),
            slow_poll: RefCell::new(None),
            task_spans: RefCell::new(None),
            _not_send: PhantomData,
        }
    }

    /// The owner-thread state: always there, the executor is `!Send`.
    fn owned(&self) -> &OwnerState {
        self.scheduler
            .owned()
            .expect("a LocalExecutor never leaves the thread that made it")
    }

    /// A `Send + Sync` handle that spawns onto this executor from any thread.
    pub fn spawner(&self) -> Spawner {
        Spawner::local(self.scheduler.clone())
    }

    /// Spawns a `Send` task. It first runs in the next iteration.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.scheduler
            .spawn(Builder::new().location(Location::caller()), future)
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
        self.scheduler.spawn_local(builder, future)
    }

    /// Runs one iteration: moves cross-thread wakes into the run queue, then
    /// polls exactly the tasks queued at that point. Returns how many ran.
    pub fn run_once(&self) -> usize {
        let owned = self.owned();
        let count = self.scheduler.begin_iteration(owned);
        // One check per iteration, none per poll: without a hook and with
        // spans disabled the loop below is the plain one.
        let slow_poll = self.slow_poll.borrow().clone();
        let spans = match task_spans_enabled() {
            true => self.task_spans.borrow().clone(),
            false => None,
        };
        // Pop in its own statement: running a task may push onto the queue.
        let next = || owned.queue.borrow_mut().pop_front();
        match (slow_poll, spans) {
            (None, None) => {
                for _ in 0..count {
                    let Some(runnable) = next() else { break };
                    runnable.run();
                }
            }
            (hook, spans) => {
                // Eager first steps inside these polls find the spans here.
                let _active = task_spans::activate(spans.clone());
                let hook = hook.as_ref().map(|h| (h.threshold, &*h.report));
                for _ in 0..count {
                    let Some(runnable) = next() else { break };
                    run_hooked(runnable, spans.as_deref(), hook, None);
                }
            }
        }
        self.scheduler.end_iteration(owned);
        count
    }

    /// Sets the clock task ages are measured on (see [`TaskInfo::age`]): it
    /// returns the time since any fixed origin, and must never go backwards.
    /// It is read at most once per iteration that spawns a task (the first
    /// spawn's reading stamps every task spawned in that iteration), once per
    /// spawn between iterations, and once per [`tasks`](Self::tasks)
    /// listing. The default is real monotonic time; the corio facade sets
    /// its loop clock, so ages follow virtual time under a manual clock.
    pub fn set_clock(&self, clock: impl Fn() -> Duration + Send + Sync + 'static) {
        self.scheduler.set_clock(self.owned(), Box::new(clock));
    }

    /// Turns the per-task `tracing` spans on or off (off by default): with
    /// them on, each visible task gets one span `task{id=.. name=..}` (INFO,
    /// target [`TASK_SPAN_TARGET`](crate::TASK_SPAN_TARGET), no parent),
    /// created at its first poll and entered around every poll, so a
    /// subscriber sees each task as one span (its busy time, one trace per
    /// task). Spans created inside a task become its span's children and
    /// keep it when their futures move to other tasks: to say which task
    /// wrote a line, print [`current_task_id`](crate::current_task_id) from
    /// the formatter instead (crate docs, "Tracing"). Costs an enter and an
    /// exit per poll while a subscriber wants INFO; nothing otherwise.
    pub fn set_task_spans(&self, on: bool) {
        let mut spans = self.task_spans.borrow_mut();
        if on {
            spans.get_or_insert_with(TaskSpans::new);
            return;
        }
        let old = spans.take();
        drop(spans);
        // Closing the spans is subscriber code: no borrow held.
        if let Some(old) = old {
            old.clear();
        }
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
        self.scheduler.set_unretrieved_panic_hook(Box::new(report));
    }

    /// Removes the slow-poll hook: polls are no longer timed.
    pub fn clear_slow_poll_hook(&self) {
        *self.slow_poll.borrow_mut() = None;
    }

    /// Whether nothing is ready to run (both queues are empty).
    pub fn is_idle(&self) -> bool {
        self.scheduler.is_idle(self.owned())
    }

    /// How many tasks are alive (not yet completed), hidden ones included.
    pub fn task_count(&self) -> usize {
        self.scheduler.task_count(self.owned())
    }

    /// Snapshots of the live tasks, oldest slot first, hidden ones left out:
    /// id, name, spawn location, state, poll count and age.
    pub fn tasks(&self) -> Vec<TaskInfo> {
        self.scheduler.tasks(self.owned())
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
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => panic!("the future passed to block_on was cancelled ({error})"),
        }
    }

    /// Like [`block_on`](Self::block_on), but returns a panic or cancellation
    /// of the future as a [`TaskError`] instead of raising it.
    #[track_caller]
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
        self.scheduler.block_on_scoped(builder, future, |task| {
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
            task.try_result()
                .expect("block_on's task is done and its result untaken")
        })
    }

    /// Requests cancellation of every live task (as [`Task::cancel`] does);
    /// their futures are dropped when the next iterations reach them, so the
    /// cleanup tasks their `Drop`s spawn get to run. Returns how many.
    pub fn cancel_all(&self) -> usize {
        self.scheduler.cancel_all()
    }

    /// Drops every live task's future (on this thread), then every queued
    /// wake; tasks spawned by those drops are dropped too, one at a time, so
    /// the stack stays bounded whatever their `Drop`s do. Later spawns are
    /// cancelled at once. Idempotent; also done on drop. Called again from a
    /// `Drop` that closing runs, it returns at once (the outer call finishes).
    pub fn close(&self) {
        self.scheduler.close();
        let spans = self.task_spans.borrow().clone();
        if let Some(spans) = spans {
            spans.clear();
        }
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.scheduler.is_closed()
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
            .field("queued", &self.owned().queue.borrow().len())
            .field("closed", &self.is_closed())
            .finish()
    }
}

// Runs a real executor: not under loom, whose atomics need a model.
#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

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
            assert!(ex.scheduler.epoch_count() <= 2 * 2 + 64 + 1);
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
