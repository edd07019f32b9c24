//! The bounded blocking thread pool behind `corio::to_thread` (Python's
//! `asyncio.to_thread` / `loop.run_in_executor(None, ...)`).
//!
//! This module owns the worker threads that run blocking closures off the event
//! loop, the FIFO queue of jobs waiting for a thread, and the one-shot
//! [`BlockingJoin`] future through which a job's result (or its panic payload)
//! travels back to async code.
//!
//! # Design
//!
//! * **Bounded.** At most `max_threads` workers are alive at once (the loop uses
//!   [`DEFAULT_MAX_THREADS`] = 512, like tokio's blocking pool; asyncio's default
//!   executor uses `min(32, cpus + 4)`). A burst of blocking calls therefore
//!   cannot exhaust the OS's threads; once the cap is reached, extra jobs wait
//!   in a FIFO queue and run in submission order as workers free up.
//! * **Threads start lazily.** [`BlockingPool::spawn`] queues the job, then hands
//!   it to an idle worker if one is waiting (by issuing a wake-up "token" and
//!   notifying the condition variable), otherwise starts a new thread named
//!   `corio-blocking-N` if the cap allows; otherwise the job just waits.
//!   Tokens are counted so that a burst of spawns never claims the same idle
//!   thread twice and spurious condvar wake-ups are harmless.
//! * **Threads retire when idle.** A worker drains the queue, then waits for a
//!   token for up to `keep_alive` ([`DEFAULT_KEEP_ALIVE`] = 10 s). If the wait
//!   expires with no token and an empty queue (both re-checked under the lock,
//!   so a job queued at the same instant is never lost) it unregisters itself
//!   and exits.
//! * **Shutdown** stops accepting work, wakes every idle worker, lets the
//!   workers finish the jobs already queued (asyncio's
//!   `shutdown_default_executor` waits for them too), waits — optionally with a
//!   deadline — for the live-thread count to reach zero, and joins the threads.
//! * **Panics** in a job are caught on the worker and delivered through the
//!   join future as `Err(payload)`; the worker survives. A job that can never
//!   run (its thread could not be created) resolves its join with an error
//!   payload instead of hanging.
//! * **No cancellation.** Dropping a [`BlockingJoin`] does not stop the job —
//!   threads cannot be cancelled, exactly as in asyncio — its result is simply
//!   dropped when it arrives.
//!
//! Only `std` is used; lock poisoning is ignored (no user code runs while a
//! pool lock is held, except `Waker::clone`, and the state stays consistent).

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Default upper bound on live blocking worker threads (tokio's value).
pub(crate) const DEFAULT_MAX_THREADS: usize = 512;

/// Default time an idle worker waits for new work before exiting.
pub(crate) const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// A type-erased queued job. It completes its own [`BlockingJoin`].
type Job = Box<dyn FnOnce() + Send + 'static>;

/// Locks `m`, ignoring poisoning (see the module docs).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

thread_local! {
    /// Address of the `Inner` of the pool the current thread works for (0: none).
    /// Lets `shutdown` called from inside a job avoid waiting for itself.
    static CURRENT_POOL: Cell<usize> = const { Cell::new(0) };
}

// ---------------------------------------------------------------------------
// Pool
// ---------------------------------------------------------------------------

/// A bounded pool of threads for blocking work; cheap to clone (shared state).
#[derive(Clone)]
pub(crate) struct BlockingPool {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Mutex<Shared>,
    /// Idle workers wait here for a token (or shutdown).
    work_cv: Condvar,
    /// `shutdown` waits here for `num_threads` to drop.
    exit_cv: Condvar,
    max_threads: usize,
    keep_alive: Duration,
}

struct Shared {
    queue: VecDeque<Job>,
    /// Live (or starting) worker threads.
    num_threads: usize,
    /// Workers waiting for work that no spawn has claimed yet.
    num_idle: usize,
    /// Wake-up tokens issued by `spawn` to idle workers, not yet consumed.
    num_notify: usize,
    shutdown: bool,
    /// Worker handles by id; a retiring worker removes (detaches) its own.
    handles: HashMap<usize, JoinHandle<()>>,
    next_id: usize,
}

/// Returned by [`BlockingPool::spawn`] once the pool has been shut down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PoolShutDown;

impl fmt::Display for PoolShutDown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the blocking pool is shut down")
    }
}

impl std::error::Error for PoolShutDown {}

impl BlockingPool {
    /// Creates a pool with at most `max_threads` live workers (0 is treated
    /// as 1) whose idle workers exit after `keep_alive` without work.
    /// No thread is started until the first [`spawn`](Self::spawn).
    pub(crate) fn new(max_threads: usize, keep_alive: Duration) -> BlockingPool {
        BlockingPool {
            inner: Arc::new(Inner {
                shared: Mutex::new(Shared {
                    queue: VecDeque::new(),
                    num_threads: 0,
                    num_idle: 0,
                    num_notify: 0,
                    shutdown: false,
                    handles: HashMap::new(),
                    next_id: 0,
                }),
                work_cv: Condvar::new(),
                exit_cv: Condvar::new(),
                max_threads: max_threads.max(1),
                keep_alive,
            }),
        }
    }

    /// Queues `f` to run on a worker thread and returns a future for its
    /// result.
    ///
    /// Hands the job to an idle worker if there is one, else starts a new
    /// thread (`corio-blocking-N`) if fewer than `max_threads` exist; else the
    /// job waits in FIFO order. A panic in `f` is caught and delivered as
    /// `Err(payload)` through the returned future; the worker survives.
    pub(crate) fn spawn<R, F>(&self, f: F) -> Result<BlockingJoin<R>, PoolShutDown>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let slot = Arc::new(Mutex::new(Slot {
            result: None,
            waker: None,
            taken: false,
        }));
        let completer = Completer {
            slot: Some(slot.clone()),
        };
        let job: Job = Box::new(move || {
            let result = catch_unwind(AssertUnwindSafe(f));
            completer.complete(result);
        });

        let mut shared = lock(&self.inner.shared);
        if shared.shutdown {
            drop(shared);
            // Dropping the job here resolves the (never returned) slot; harmless.
            return Err(PoolShutDown);
        }
        shared.queue.push_back(job);

        if shared.num_idle > 0 {
            // Claim one idle worker for this job.
            shared.num_idle -= 1;
            shared.num_notify += 1;
            self.inner.work_cv.notify_one();
        } else if shared.num_threads < self.inner.max_threads {
            let id = shared.next_id;
            shared.next_id += 1;
            shared.num_threads += 1;
            let inner = self.inner.clone();
            let started = thread::Builder::new()
                .name(format!("corio-blocking-{id}"))
                .spawn(move || inner.run_worker(id));
            match started {
                Ok(handle) => {
                    shared.handles.insert(id, handle);
                }
                Err(_) => {
                    shared.num_threads -= 1;
                    if shared.num_threads == 0 {
                        // Nobody will ever run it: take it back; dropping it
                        // resolves the join with an error payload.
                        let lost = shared.queue.pop_back();
                        drop(shared);
                        drop(lost);
                    }
                    // Otherwise an existing worker picks it up when free.
                }
            }
        }
        // else: at the cap; the job waits for a busy worker.

        Ok(BlockingJoin { slot })
    }

    /// Stops accepting work, lets the workers finish every job already
    /// queued, and waits up to `timeout` (`None`: forever) for all workers to
    /// exit, joining them. Returns `true` if they all exited in time.
    ///
    /// May be called more than once. Called from inside a job of this pool,
    /// it does not wait for its own thread.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let inside = CURRENT_POOL.with(Cell::get) == Arc::as_ptr(&self.inner) as usize;
        let me = usize::from(inside);

        let mut shared = lock(&self.inner.shared);
        shared.shutdown = true;
        self.inner.work_cv.notify_all();

        while shared.num_threads > me {
            match deadline {
                None => {
                    shared = self
                        .inner
                        .exit_cv
                        .wait(shared)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    shared = self
                        .inner
                        .exit_cv
                        .wait_timeout(shared, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        }

        // Every remaining worker has left its loop; joining is immediate.
        let own = thread::current().id();
        let handles: Vec<JoinHandle<()>> = shared
            .handles
            .drain()
            .map(|(_, h)| h)
            .filter(|h| h.thread().id() != own)
            .collect();
        drop(shared);
        for handle in handles {
            // Jobs' panics are caught, so a worker cannot have panicked.
            let _ = handle.join();
        }
        true
    }

    #[cfg(test)]
    /// Number of live worker threads (busy or idle).
    pub(crate) fn thread_count(&self) -> usize {
        lock(&self.inner.shared).num_threads
    }

    #[cfg(test)]
    /// Number of workers idly waiting for work.
    pub(crate) fn idle_count(&self) -> usize {
        let shared = lock(&self.inner.shared);
        // Workers holding an unconsumed token are about to get busy.
        shared.num_idle
    }
}

impl fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = lock(&self.inner.shared);
        f.debug_struct("BlockingPool")
            .field("max_threads", &self.inner.max_threads)
            .field("keep_alive", &self.inner.keep_alive)
            .field("threads", &shared.num_threads)
            .field("idle", &shared.num_idle)
            .field("queued", &shared.queue.len())
            .field("shutdown", &shared.shutdown)
            .finish()
    }
}

impl Inner {
    /// Body of a worker thread.
    fn run_worker(self: Arc<Self>, id: usize) {
        CURRENT_POOL.with(|c| c.set(Arc::as_ptr(&self) as usize));
        let mut shared = lock(&self.shared);
        'work: loop {
            // Drain the queue.
            while let Some(job) = shared.queue.pop_front() {
                drop(shared);
                // The job catches its closure's panic itself; this second guard
                // only covers a panicking waker or result destructor.
                let _ = catch_unwind(AssertUnwindSafe(job));
                shared = lock(&self.shared);
            }
            if shared.shutdown {
                break 'work;
            }

            // Wait for a token, shutdown, or keep-alive expiry.
            shared.num_idle += 1;
            let deadline = Instant::now().checked_add(self.keep_alive);
            loop {
                shared = match deadline {
                    Some(deadline) => {
                        let wait = deadline.saturating_duration_since(Instant::now());
                        self.work_cv
                            .wait_timeout(shared, wait)
                            .unwrap_or_else(PoisonError::into_inner)
                            .0
                    }
                    None => self
                        .work_cv
                        .wait(shared)
                        .unwrap_or_else(PoisonError::into_inner),
                };
                if shared.num_notify > 0 {
                    // Claimed by a spawn, which already took us off `num_idle`.
                    shared.num_notify -= 1;
                    continue 'work;
                }
                if shared.shutdown {
                    shared.num_idle -= 1;
                    continue 'work; // drains anything left, then exits
                }
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    shared.num_idle -= 1;
                    if !shared.queue.is_empty() {
                        // Never retire with work pending.
                        continue 'work;
                    }
                    // Retire: detach our own handle, then leave.
                    drop(shared.handles.remove(&id));
                    break 'work;
                }
                // Spurious wake-up: keep waiting.
            }
        }
        shared.num_threads -= 1;
        if shared.num_threads <= 1 {
            // 1 covers a `shutdown` called from inside one of our jobs.
            self.exit_cv.notify_all();
        }
        drop(shared);
        CURRENT_POOL.with(|c| c.set(0));
    }
}

// ---------------------------------------------------------------------------
// Join handle (one-shot)
// ---------------------------------------------------------------------------

struct Slot<R> {
    result: Option<thread::Result<R>>,
    waker: Option<Waker>,
    /// The result was handed out by `poll`.
    taken: bool,
}

/// Worker-side half of the one-shot. If dropped without completing (the job
/// never ran), it resolves the join with an error payload.
struct Completer<R> {
    slot: Option<Arc<Mutex<Slot<R>>>>,
}

impl<R> Completer<R> {
    fn complete(mut self, result: thread::Result<R>) {
        if let Some(slot) = self.slot.take() {
            fill(&slot, result);
        }
    }
}

impl<R> Drop for Completer<R> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            fill(
                &slot,
                Err(Box::new("corio: blocking job was dropped before it ran")),
            );
        }
    }
}

fn fill<R>(slot: &Mutex<Slot<R>>, result: thread::Result<R>) {
    let waker = {
        let mut s = lock(slot);
        s.result = Some(result);
        s.waker.take()
    };
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// Future resolving to the job's result once it finished: `Ok(value)`, or
/// `Err(payload)` if the job panicked.
///
/// Dropping it does not stop the job (threads cannot be cancelled, as in
/// asyncio); the result is then discarded.
pub(crate) struct BlockingJoin<R> {
    slot: Arc<Mutex<Slot<R>>>,
}

impl<R> Future for BlockingJoin<R> {
    type Output = thread::Result<R>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut s = lock(&self.slot);
        if let Some(result) = s.result.take() {
            s.taken = true;
            return Poll::Ready(result);
        }
        assert!(!s.taken, "BlockingJoin polled after completion");
        match &mut s.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            w => *w = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<R> fmt::Debug for BlockingJoin<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = lock(&self.slot);
        f.debug_struct("BlockingJoin")
            .field("finished", &(s.result.is_some() || s.taken))
            .finish()
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::task::Wake;

    struct ThreadWaker(thread::Thread);

    impl Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    fn block_on<F: Future>(fut: F) -> F::Output {
        let mut fut = std::pin::pin!(fut);
        let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
                return out;
            }
            thread::park();
        }
    }

    /// Polls `cond` until true or 2 s pass.
    fn wait_until(mut cond: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if cond() {
                return true;
            }
            thread::sleep(Duration::from_millis(2));
        }
        cond()
    }

    fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
        if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            String::new()
        }
    }

    #[test]
    fn result_arrives() {
        let pool = BlockingPool::new(DEFAULT_MAX_THREADS, DEFAULT_KEEP_ALIVE);
        let join = pool.spawn(|| 6 * 7).unwrap();
        assert_eq!(block_on(join).unwrap(), 42);
        let name = block_on(
            pool.spawn(|| thread::current().name().map(str::to_owned))
                .unwrap(),
        )
        .unwrap()
        .unwrap();
        assert!(name.starts_with("corio-blocking-"), "{name}");
        assert!(pool.shutdown(Some(Duration::from_secs(2))));
    }

    #[test]
    fn panic_is_delivered_and_pool_survives() {
        let pool = BlockingPool::new(1, Duration::from_secs(10));
        let join = pool.spawn(|| -> u32 { panic!("boom {}", 7) }).unwrap();
        let err = block_on(join).unwrap_err();
        assert_eq!(panic_message(&*err), "boom 7");
        assert_eq!(block_on(pool.spawn(|| 1).unwrap()).unwrap(), 1);
        assert_eq!(pool.thread_count(), 1);
        assert!(pool.shutdown(Some(Duration::from_secs(2))));
    }

    #[test]
    fn many_jobs_respect_the_cap() {
        let pool = BlockingPool::new(8, Duration::from_secs(10));
        let running = Arc::new(AtomicUsize::new(0));
        let max_running = Arc::new(AtomicUsize::new(0));
        let max_threads = Arc::new(AtomicUsize::new(0));
        let joins: Vec<_> = (0..64)
            .map(|i| {
                let (pool2, running, max_running, seen_threads) = (
                    pool.clone(),
                    running.clone(),
                    max_running.clone(),
                    max_threads.clone(),
                );
                let join = pool
                    .spawn(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        max_running.fetch_max(now, Ordering::SeqCst);
                        seen_threads.fetch_max(pool2.thread_count(), Ordering::SeqCst);
                        thread::sleep(Duration::from_millis(20));
                        running.fetch_sub(1, Ordering::SeqCst);
                        i
                    })
                    .unwrap();
                max_threads.fetch_max(pool.thread_count(), Ordering::SeqCst);
                join
            })
            .collect();
        for (i, join) in joins.into_iter().enumerate() {
            assert_eq!(block_on(join).unwrap(), i);
        }
        assert!(max_threads.load(Ordering::SeqCst) <= 8);
        assert!(max_running.load(Ordering::SeqCst) <= 8);
        assert_eq!(pool.thread_count(), 8);
        assert!(pool.shutdown(Some(Duration::from_secs(2))));
        assert_eq!(pool.thread_count(), 0);
    }

    #[test]
    fn idle_thread_is_reused() {
        let pool = BlockingPool::new(8, Duration::from_secs(10));
        let first = block_on(pool.spawn(|| thread::current().id()).unwrap()).unwrap();
        assert!(wait_until(|| pool.idle_count() == 1));
        let second = block_on(pool.spawn(|| thread::current().id()).unwrap()).unwrap();
        assert_eq!(first, second);
        assert_eq!(pool.thread_count(), 1);
        assert!(pool.shutdown(Some(Duration::from_secs(2))));
    }

    #[test]
    fn idle_threads_retire_after_keep_alive() {
        let pool = BlockingPool::new(4, Duration::from_millis(50));
        let joins: Vec<_> = (0..4)
            .map(|_| {
                pool.spawn(|| thread::sleep(Duration::from_millis(10)))
                    .unwrap()
            })
            .collect();
        for join in joins {
            block_on(join).unwrap();
        }
        assert!(wait_until(|| pool.thread_count() == 0));
        assert_eq!(pool.idle_count(), 0);
        // The pool still works after every thread retired.
        assert_eq!(block_on(pool.spawn(|| 5).unwrap()).unwrap(), 5);
        assert!(pool.shutdown(Some(Duration::from_secs(2))));
    }

    #[test]
    fn spawn_after_shutdown_errs() {
        let pool = BlockingPool::new(2, Duration::from_secs(10));
        assert!(pool.shutdown(None));
        let err = pool.spawn(|| ()).unwrap_err();
        assert_eq!(err, PoolShutDown);
        assert_eq!(err.to_string(), "the blocking pool is shut down");
        assert!(pool.shutdown(Some(Duration::ZERO)));
    }

    #[test]
    fn shutdown_runs_queued_jobs_and_joins() {
        let pool = BlockingPool::new(1, Duration::from_secs(10));
        let done = Arc::new(AtomicUsize::new(0));
        let first = pool
            .spawn(|| thread::sleep(Duration::from_millis(50)))
            .unwrap();
        let queued: Vec<_> = (0..5)
            .map(|_| {
                let done = done.clone();
                pool.spawn(move || {
                    done.fetch_add(1, Ordering::SeqCst);
                })
                .unwrap()
            })
            .collect();
        assert!(pool.shutdown(None));
        assert_eq!(done.load(Ordering::SeqCst), 5);
        assert_eq!(pool.thread_count(), 0);
        block_on(first).unwrap();
        for join in queued {
            block_on(join).unwrap();
        }
    }

    #[test]
    fn shutdown_times_out_on_a_busy_worker() {
        let pool = BlockingPool::new(1, Duration::from_secs(10));
        let (tx, rx) = mpsc::channel::<()>();
        let join = pool.spawn(move || rx.recv().is_ok()).unwrap();
        assert!(!pool.shutdown(Some(Duration::from_millis(20))));
        assert!(pool.spawn(|| ()).is_err());
        tx.send(()).unwrap();
        assert!(pool.shutdown(Some(Duration::from_secs(2))));
        assert!(block_on(join).unwrap());
    }

    #[test]
    fn dropped_join_does_not_break_the_worker() {
        let pool = BlockingPool::new(1, Duration::from_secs(10));
        let (tx, rx) = mpsc::channel::<()>();
        let ran = Arc::new(AtomicUsize::new(0));
        let ran2 = ran.clone();
        let join = pool
            .spawn(move || {
                rx.recv().unwrap();
                ran2.fetch_add(1, Ordering::SeqCst);
                String::from("discarded")
            })
            .unwrap();
        // Register a waker first, then drop the join while the job is blocked.
        let mut join = join;
        let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
        assert!(Pin::new(&mut join)
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        drop(join);
        tx.send(()).unwrap();
        assert_eq!(block_on(pool.spawn(|| 9).unwrap()).unwrap(), 9);
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        assert_eq!(pool.thread_count(), 1);
        assert!(pool.shutdown(Some(Duration::from_secs(2))));
    }

    #[test]
    fn shutdown_from_inside_a_job_does_not_deadlock() {
        let pool = BlockingPool::new(2, Duration::from_secs(10));
        let pool2 = pool.clone();
        let join = pool
            .spawn(move || pool2.shutdown(Some(Duration::from_secs(2))))
            .unwrap();
        assert!(block_on(join).unwrap());
        assert!(pool.shutdown(Some(Duration::from_secs(2))));
        assert_eq!(pool.thread_count(), 0);
    }

    #[test]
    fn join_is_send_and_unpin() {
        fn check<T: Send + Unpin>() {}
        fn check_sync<T: Send + Sync>() {}
        check::<BlockingJoin<Vec<u8>>>();
        check_sync::<BlockingPool>();
    }
}
