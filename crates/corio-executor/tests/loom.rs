//! Separate binary: built only under `--cfg loom` (loom's atomics), run by
//! `cargo xtask loom`.
//!
//! Loom models of the task state machine (`RUSTFLAGS="--cfg loom"`): a wake
//! racing with the poll, a cancel racing with the run, the handle dropped
//! while the task completes, an awaiter registering while the task completes,
//! wakers dropped on other threads while the task ends, the result taken on
//! another thread while the task completes, and the executor dropping the
//! task's Runnable while another thread awaits the handle; a cancel and a
//! wake (from another thread and from the future's own `Drop`) while the
//! future is being dropped; a close re-entered from a future's `Drop` while
//! another thread wakes the tasks; a handle dropped (taking back its
//! waker) while the task completes; and a done-callback added on another
//! thread while the task completes or is cancelled (it runs exactly once).
//!
//! Besides the state word, loom tracks every access to the two cells of a
//! task (the awaiter slot and the stage holding the future or its output) and
//! fails a model if two of them, on different threads, are not ordered by the
//! state machine.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release -p corio-executor --test loom`
//!
//! The task harness is driven through the public `Builder::spawn` with a
//! scheduler backed by a loom `Mutex<VecDeque<Runnable>>`, which also checks
//! that a task never has two `Runnable`s and is never scheduled while its
//! future is being polled.
#![cfg(loom)]

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Wake, Waker};

use corio_executor::{Builder, Header, Runnable, Schedule, Task};
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;

/// Runs `f` under loom with a preemption bound (3 unless `LOOM_MAX_PREEMPTIONS` says otherwise).
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    let iterations = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = iterations.clone();
    builder.check(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f()
    });
    eprintln!(
        "explored {} interleavings",
        iterations.load(std::sync::atomic::Ordering::Relaxed)
    );
}

/// What the scheduler and the futures record, shared by every party.
struct Shared {
    queue: Mutex<VecDeque<Runnable>>,
    /// Runnables that exist (queued, or handed out and not yet run).
    runnables: AtomicUsize,
    /// The future is inside `poll` right now.
    polling: AtomicBool,
    /// How many times the scheduler's `release` was called.
    released: AtomicUsize,
}

#[derive(Clone)]
struct Queue(Arc<Shared>);

impl Queue {
    fn new() -> Queue {
        Queue(Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            // The Runnable `Builder::spawn` returns.
            runnables: AtomicUsize::new(1),
            polling: AtomicBool::new(false),
            released: AtomicUsize::new(0),
        }))
    }

    /// Runs a Runnable handed out by `spawn` or popped from the queue.
    fn run(&self, runnable: Runnable) -> bool {
        self.0.runnables.fetch_sub(1, Ordering::SeqCst);
        runnable.run()
    }

    /// Runs whatever is queued until the queue is empty.
    fn drain(&self) {
        loop {
            let next = self.0.queue.lock().unwrap().pop_front();
            match next {
                Some(runnable) => {
                    self.run(runnable);
                }
                None => return,
            }
        }
    }

    /// Drops every queued Runnable, one at a time (a closing executor): each
    /// cancels its task. Safe to re-enter from a future's `Drop`.
    fn close(&self) {
        loop {
            let next = self.0.queue.lock().unwrap().pop_front();
            match next {
                Some(runnable) => {
                    self.0.runnables.fetch_sub(1, Ordering::SeqCst);
                    drop(runnable);
                }
                None => return,
            }
        }
    }

    /// Whether the scheduler copy inside the task was dropped (the task was freed).
    fn task_freed(&self) -> bool {
        Arc::strong_count(&self.0) == 1
    }
}

impl Schedule for Queue {
    fn schedule(&self, runnable: Runnable) {
        assert!(
            !self.0.polling.load(Ordering::SeqCst),
            "scheduled while being polled"
        );
        let before = self.0.runnables.fetch_add(1, Ordering::SeqCst);
        assert_eq!(before, 0, "two Runnables for one task");
        self.0.queue.lock().unwrap().push_back(runnable);
    }

    fn release(&self, task: &Header) {
        assert!(!task.is_completed());
        self.0.released.fetch_add(1, Ordering::SeqCst);
    }
}

/// Counts drops; checks the future is never dropped while it is polled.
struct DropProbe {
    drops: Arc<AtomicUsize>,
    queue: Queue,
}

impl Drop for DropProbe {
    fn drop(&mut self) {
        assert!(
            !self.queue.0.polling.load(Ordering::SeqCst),
            "future dropped during its poll"
        );
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future whose poll is bracketed by the `polling` flag and which runs
/// `step` to decide its outcome.
struct Probe<S> {
    _probe: DropProbe,
    queue: Queue,
    step: S,
}

impl<S: FnMut(&mut Context<'_>) -> Poll<Out> + Unpin, Out> Future for Probe<S> {
    type Output = Out;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Out> {
        assert!(
            !self.queue.0.polling.swap(true, Ordering::SeqCst),
            "polled twice at once"
        );
        let outcome = (self.step)(cx);
        self.queue.0.polling.store(false, Ordering::SeqCst);
        outcome
    }
}

fn probe<S, Out>(queue: &Queue, drops: &Arc<AtomicUsize>, step: S) -> Probe<S>
where
    S: FnMut(&mut Context<'_>) -> Poll<Out> + Unpin,
{
    Probe {
        _probe: DropProbe {
            drops: drops.clone(),
            queue: queue.clone(),
        },
        queue: queue.clone(),
        step,
    }
}

/// Bumps a loom counter when dropped (a task's output).
struct Output(Arc<AtomicUsize>);

impl Drop for Output {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A waker that records that it was woken, in loom's view of memory.
struct FlagWaker(AtomicBool);

impl Wake for FlagWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn poll_task<T>(task: &mut Task<T>, waker: &Waker) -> Poll<Result<T, corio_executor::TaskError>> {
    Pin::new(task).poll(&mut Context::from_waker(waker))
}

#[path = "loom/done_callbacks.rs"]
mod done_callbacks;
#[path = "loom/dropping.rs"]
mod dropping;
#[path = "loom/handle.rs"]
mod handle;
#[path = "loom/wake_and_cancel.rs"]
mod wake_and_cancel;
