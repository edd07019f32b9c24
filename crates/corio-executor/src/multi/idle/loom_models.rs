//! Loom models of the multi-threaded executor (`--cfg loom`, run by
//! `cargo xtask loom`): the real worker loop (`run_worker`), the real
//! `block_on` loop of the owner thread (`run_owner`), the real
//! `MultiScheduler`, `Idle` and `Parker`, on loom threads, with loom's
//! atomics, mutexes and park (`crate::loom`), the task harness's loom atomics
//! and concurrent-queue's loom build.
//!
//! - `park.rs`: a Runnable queued by a foreign thread, or by a worker, while
//!   the last worker goes to sleep is run; so is a local task pinned to a
//!   sleeping worker and woken from a foreign thread; a wake racing
//!   `begin_close` never leaves a worker parked.
//! - `driver.rs`: the driver hand-off: one worker asleep in the driver, one
//!   on its thread, work arrives (an IO event, a foreign spawn); everything
//!   queued runs and every worker exits at close.
//! - `queue.rs`: a worker's local queue: push and pop against a concurrent
//!   steal of half of it, overflow into the injector, two stealers, a worker
//!   blocked in a poll whose queue must be stolen; every Runnable runs
//!   exactly once and every future is dropped exactly once.
//!
//! A model that loses a wake-up ends with every thread parked, which loom
//! reports as a deadlock. The models here are a kit over the crate's own
//! functions: they replace nothing but the OS threads, and close the way
//! `Executor::close` does (begin, join, drop the owner's local tasks, drop
//! the `Send` tasks).
//!
//! Run with (or `cargo xtask loom`):
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release -p corio-executor --lib multi::`
//! The models with two or three worker loops cap themselves at one
//! preemption (seconds each); `CORIO_LOOM_DEEP=1` runs them at two
//! (minutes: `queue::a_worker_blocked_in_a_poll_has_its_queue_stolen` then
//! also catches a worker that stops passing the search on).

use std::future::Future;
use std::sync::Arc;
use std::task::Poll;

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread::JoinHandle;

use super::super::worker::{run_owner, run_worker};
use crate::park::Park;
use crate::raw::{Builder, MultiScheduler, Task};

mod driver;
mod park;
mod queue;

/// Runs `f` under loom with a preemption bound (2 unless
/// `LOOM_MAX_PREEMPTIONS` says otherwise), and prints how many
/// interleavings it explored.
fn model(f: impl Fn() + Sync + Send + 'static) {
    model_bounded(2, f);
}

/// [`model`] with at most `bound` preemptions (or `LOOM_MAX_PREEMPTIONS`,
/// if lower): for the models with two worker loops, whose every extra
/// preemption multiplies the interleavings by hundreds. `CORIO_LOOM_DEEP=1`
/// lifts the cap (`LOOM_MAX_PREEMPTIONS`, else 2, for every model): minutes
/// rather than seconds, for a change to the idle protocol.
fn model_bounded(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    let deep = std::env::var_os("CORIO_LOOM_DEEP").is_some_and(|v| v == "1");
    builder.preemption_bound = Some(match (builder.preemption_bound, deep) {
        (Some(env), true) => env,
        (None, true) => 2,
        (Some(env), false) => env.min(bound),
        (None, false) => bound,
    });
    let iterations = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = iterations.clone();
    let started = std::time::Instant::now();
    builder.check(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f();
    });
    eprintln!(
        "explored {} interleavings in {:.2} s",
        iterations.load(std::sync::atomic::Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
}

/// An executor's scheduler with its workers on loom threads.
struct Pool {
    scheduler: Arc<MultiScheduler>,
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    /// A scheduler with `workers` worker slots and no driver (idle workers
    /// sleep on their threads). Built on the calling thread: its owner.
    fn new(workers: usize) -> Pool {
        Pool::with_driver(workers, None, Box::new(|| {}))
    }

    fn with_driver(
        workers: usize,
        driver: Option<Box<dyn Park + Send>>,
        unpark_driver: Box<dyn Fn() + Send + Sync>,
    ) -> Pool {
        Pool {
            scheduler: MultiScheduler::new(workers, driver, unpark_driver),
            workers: Vec::new(),
        }
    }

    /// Starts worker `slot`'s loop on a loom thread.
    fn start(&mut self, slot: usize) {
        let scheduler = self.scheduler.clone();
        self.workers.push(loom::thread::spawn(move || {
            run_worker(&scheduler, slot, None);
            assert!(
                scheduler.is_closed(),
                "worker {slot} left its loop before close"
            );
        }));
    }

    /// Spawns a `Send` task from the calling thread (a worker's local queue
    /// on a worker, else the injector).
    fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.scheduler.spawn(Builder::new(), future)
    }

    /// `Executor::block_on`'s loop on this (the owner) thread.
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.scheduler
            .block_on_scoped(Builder::new(), future, |task| {
                run_owner(&self.scheduler, None, || task.is_done());
                match task.try_result() {
                    Some(Ok(value)) => value,
                    _ => panic!("block_on's task did not complete"),
                }
            })
    }

    /// `Executor::close`: [`begin_close`](Self::begin_close), then
    /// [`finish_close`](Closing::finish_close).
    fn close(self) {
        self.begin_close().finish_close();
    }

    /// The first half of `Executor::close`: marks the scheduler closed,
    /// wakes every slot and joins the workers (a worker left parked is a
    /// loom deadlock).
    fn begin_close(self) -> Closing {
        self.scheduler.begin_close();
        for worker in self.workers {
            worker.join().unwrap();
        }
        Closing(self.scheduler)
    }
}

/// An executor whose workers have exited.
struct Closing(Arc<MultiScheduler>);

impl Closing {
    /// The rest of `Executor::close`: drops the owner's local tasks and
    /// every `Send` task left; no task outlives it.
    fn finish_close(self) {
        self.0.close_slot(self.0.owner_slot());
        self.0.close_send_tasks();
        assert_eq!(self.0.task_count(), 0, "a task outlived close");
    }
}

/// Counts what the tasks of a model do: polls to completion and drops of
/// their futures; optionally unparks a waiting thread when the last
/// expected task completes.
#[derive(Clone)]
struct Tally {
    completed: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
    /// The thread [`wait`](Self::wait)ing, and for how many completions.
    waiter: Option<(loom::thread::Thread, usize)>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            completed: Arc::new(AtomicUsize::new(0)),
            dropped: Arc::new(AtomicUsize::new(0)),
            waiter: None,
        }
    }

    /// A tally whose [`wait`](Self::wait), on the calling thread, returns
    /// once `expected` tasks completed: lighter than the owner's `block_on`
    /// loop, for the models that are about the workers alone.
    fn waited_for(expected: usize) -> Tally {
        Tally {
            waiter: Some((loom::thread::current(), expected)),
            ..Tally::new()
        }
    }

    /// A future that completes on its first poll, counted, and whose drop
    /// is counted.
    fn task(&self) -> impl Future<Output = ()> + Send + 'static {
        let completed = self.completed.clone();
        let waiter = self.waiter.clone();
        let token = DropToken(self.dropped.clone());
        std::future::poll_fn(move |_| {
            let _keep = &token;
            let count = completed.fetch_add(1, Ordering::SeqCst) + 1;
            if let Some((thread, expected)) = &waiter {
                if count == *expected {
                    thread.unpark();
                }
            }
            Poll::Ready(())
        })
    }

    /// Parks until the expected number of tasks completed (see
    /// [`waited_for`](Self::waited_for)).
    fn wait(&self) {
        let (_, expected) = self.waiter.as_ref().expect("a tally made by waited_for");
        while self.completed() < *expected {
            loom::thread::park();
        }
    }

    fn completed(&self) -> usize {
        self.completed.load(Ordering::SeqCst)
    }

    fn dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }
}

/// Bumps its counter once when dropped.
struct DropToken(Arc<AtomicUsize>);

impl Drop for DropToken {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}
