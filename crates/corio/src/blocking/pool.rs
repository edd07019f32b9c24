//! [`BlockingPool`]: the bounded pool's shared state, `spawn` (queue a job,
//! wake an idle worker or start a thread) and `shutdown` (drain and join).
//! The worker threads' loop is in `worker.rs`; the module docs in `mod.rs`
//! give the design.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::join::{self, BlockingJoin};
use super::lock;
use super::worker;

/// A type-erased queued job. It completes its own [`BlockingJoin`].
pub(super) type Job = Box<dyn FnOnce() + Send + 'static>;

/// A bounded pool of threads for blocking work; cheap to clone (shared state).
#[derive(Clone)]
pub(crate) struct BlockingPool {
    inner: Arc<Inner>,
}

/// The state a pool and its workers share.
pub(super) struct Inner {
    pub(super) shared: Mutex<Shared>,
    /// Idle workers wait here for a token (or shutdown).
    pub(super) work_cv: Condvar,
    /// `shutdown` waits here for `num_threads` to drop.
    pub(super) exit_cv: Condvar,
    pub(super) max_threads: usize,
    pub(super) keep_alive: Duration,
}

/// What `Inner::shared` guards.
pub(super) struct Shared {
    pub(super) queue: VecDeque<Job>,
    /// Live (or starting) worker threads.
    pub(super) num_threads: usize,
    /// Workers waiting for work that no spawn has claimed yet.
    pub(super) num_idle: usize,
    /// Wake-up tokens issued by `spawn` to idle workers, not yet consumed.
    pub(super) num_notify: usize,
    pub(super) shutdown: bool,
    /// Worker handles by id; a retiring worker removes (detaches) its own.
    pub(super) handles: HashMap<usize, JoinHandle<()>>,
    pub(super) next_id: usize,
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
        let (completer, join) = join::pair();
        let job: Job = Box::new(move || {
            let result = catch_unwind(AssertUnwindSafe(f));
            completer.complete(result);
        });

        let mut shared = lock(&self.inner.shared);
        if shared.shutdown {
            drop(shared);
            // Dropping the job here resolves the (never returned) join; harmless.
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

        Ok(join)
    }

    /// Stops accepting work, lets the workers finish every job already
    /// queued, and waits up to `timeout` (`None`: forever) for all workers to
    /// exit, joining them. Returns `true` if they all exited in time.
    ///
    /// May be called more than once. Called from inside a job of this pool,
    /// it does not wait for its own thread.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let inside = worker::works_for(&self.inner);
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

    /// What is left after a `shutdown` that timed out: worker threads still
    /// running a job, and jobs queued behind them.
    pub(crate) fn still_running(&self) -> (usize, usize) {
        let shared = lock(&self.inner.shared);
        (shared.num_threads, shared.queue.len())
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
