//! A worker thread's life: drain the queue, wait idle for a token until
//! `keep_alive` expires, retire (or, on shutdown, finish the queue and exit).
//! It also remembers, per thread, which pool the thread works for, so that
//! `shutdown` called from inside a job does not wait for its own thread.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use super::lock;
use super::pool::Inner;

thread_local! {
    /// Address of the `Inner` of the pool the current thread works for (0: none).
    /// Lets `shutdown` called from inside a job avoid waiting for itself.
    static CURRENT_POOL: Cell<usize> = const { Cell::new(0) };
}

/// Whether the calling thread is one of `pool`'s workers.
pub(super) fn works_for(pool: &Arc<Inner>) -> bool {
    CURRENT_POOL.with(Cell::get) == Arc::as_ptr(pool) as usize
}

impl Inner {
    /// Body of a worker thread.
    pub(super) fn run_worker(self: Arc<Self>, id: usize) {
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
