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
//! another thread wakes the tasks; and a handle dropped (taking back its
//! waker) while the task completes.
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

/// (a) Another thread wakes the task while it may be in its first poll: the
/// task is polled again and completes; never two Runnables at once.
#[test]
fn wake_from_another_thread_racing_with_the_poll() {
    model(|| {
        let queue = Queue::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let ready = Arc::new(AtomicBool::new(false));
        let slot: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
        let future = {
            let (ready, slot) = (ready.clone(), slot.clone());
            probe(&queue, &drops, move |cx| {
                if ready.load(Ordering::SeqCst) {
                    return Poll::Ready(());
                }
                *slot.lock().unwrap() = Some(cx.waker().clone());
                if ready.load(Ordering::SeqCst) {
                    return Poll::Ready(());
                }
                Poll::Pending
            })
        };
        let (runnable, mut task) = Builder::new().spawn(future, queue.clone());
        let waker_thread = {
            let (ready, slot) = (ready.clone(), slot.clone());
            thread::spawn(move || {
                ready.store(true, Ordering::SeqCst);
                let waker = slot.lock().unwrap().take();
                if let Some(waker) = waker {
                    waker.wake();
                }
            })
        };
        queue.run(runnable);
        queue.drain();
        waker_thread.join().unwrap();
        queue.drain();
        assert!(task.is_done(), "the wake was lost");
        assert!(matches!(task.try_result(), Some(Ok(()))));
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert_eq!(queue.0.released.load(Ordering::SeqCst), 1);
        drop(task);
        drop(slot.lock().unwrap().take());
        assert!(queue.task_freed());
    });
}

/// (a') Two threads wake the same waiting task at once (one by value, one by
/// reference) while the executor may be polling it: one Runnable at a time.
#[test]
fn two_wakers_racing_with_each_other_and_the_poll() {
    model(|| {
        let queue = Queue::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let polls = Arc::new(AtomicUsize::new(0));
        let slot: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
        let future = {
            let (polls, slot) = (polls.clone(), slot.clone());
            probe(&queue, &drops, move |cx| {
                let n = polls.fetch_add(1, Ordering::SeqCst);
                *slot.lock().unwrap() = Some(cx.waker().clone());
                if n >= 2 {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            })
        };
        let (runnable, task) = Builder::new().spawn(future, queue.clone());
        queue.run(runnable);
        let w1 = slot.lock().unwrap().clone().unwrap();
        let w2 = w1.clone();
        let t1 = thread::spawn(move || w1.wake());
        let t2 = thread::spawn(move || w2.wake_by_ref());
        queue.drain();
        t1.join().unwrap();
        t2.join().unwrap();
        queue.drain();
        // At least one wake landed after the first poll, so the task was
        // polled at least twice; a third poll needs one more wake.
        assert!(polls.load(Ordering::SeqCst) >= 2);
        if !task.is_done() {
            let waker = slot.lock().unwrap().take().unwrap();
            waker.wake();
            queue.drain();
        }
        assert!(task.is_done());
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        drop(task);
        drop(slot.lock().unwrap().take());
        assert!(queue.task_freed());
    });
}

/// (b) Another thread cancels the task while the executor runs it: the
/// future is dropped exactly once, never during its poll, and the handle
/// sees `Cancelled` or the output.
#[test]
fn cancel_from_another_thread_racing_with_the_run() {
    model(|| {
        let queue = Queue::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let outputs = Arc::new(AtomicUsize::new(0));
        let future = {
            let outputs = outputs.clone();
            let mut polls = 0;
            probe(&queue, &drops, move |cx| {
                polls += 1;
                if polls == 1 {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                } else {
                    Poll::Ready(Output(outputs.clone()))
                }
            })
        };
        let (runnable, task) = Builder::new().spawn(future, queue.clone());
        let task = Arc::new(task);
        let canceller = {
            let task = task.clone();
            thread::spawn(move || {
                assert!(task.cancel() || task.is_done());
            })
        };
        queue.run(runnable);
        queue.drain();
        canceller.join().unwrap();
        queue.drain();
        let mut task = Arc::try_unwrap(task).unwrap_or_else(|_| panic!("the canceller let go"));
        assert!(task.is_done());
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "future dropped exactly once"
        );
        assert_eq!(queue.0.released.load(Ordering::SeqCst), 1);
        match task.try_result().unwrap() {
            Ok(output) => {
                assert!(!task.is_cancelled());
                drop(output);
                assert_eq!(outputs.load(Ordering::SeqCst), 1);
            }
            Err(error) => {
                assert!(error.is_cancelled());
                assert!(task.is_cancelled());
                assert_eq!(outputs.load(Ordering::SeqCst), 0);
            }
        }
        drop(task);
        assert!(queue.task_freed());
    });
}

/// (b') The cancel races with a first poll that leaves the task waiting
/// (no waker kept): the cancel either finds it queued or running (a flag)
/// or idle (then it schedules it itself, from its own thread).
#[test]
fn cancel_from_another_thread_racing_with_a_poll_that_parks_the_task() {
    model(|| {
        let queue = Queue::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let future = probe(&queue, &drops, |_| Poll::<()>::Pending);
        let (runnable, task) = Builder::new().spawn(future, queue.clone());
        let task = Arc::new(task);
        let canceller = {
            let task = task.clone();
            thread::spawn(move || assert!(task.cancel()))
        };
        queue.run(runnable);
        queue.drain();
        canceller.join().unwrap();
        queue.drain();
        let mut task = Arc::try_unwrap(task).unwrap_or_else(|_| panic!("the canceller let go"));
        assert!(task.is_cancelled());
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "future dropped exactly once"
        );
        assert_eq!(queue.0.released.load(Ordering::SeqCst), 1);
        assert!(task.try_result().unwrap().unwrap_err().is_cancelled());
        drop(task);
        assert!(queue.task_freed());
    });
}

/// (c) The handle is dropped on another thread while the task completes:
/// the output is dropped exactly once and the allocation is freed.
#[test]
fn handle_dropped_on_another_thread_while_the_task_completes() {
    model(|| {
        let queue = Queue::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let outputs = Arc::new(AtomicUsize::new(0));
        let future = {
            let outputs = outputs.clone();
            probe(&queue, &drops, move |_| {
                Poll::Ready(Output(outputs.clone()))
            })
        };
        let (runnable, task) = Builder::new().spawn(future, queue.clone());
        let dropper = thread::spawn(move || drop(task));
        queue.run(runnable);
        dropper.join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert_eq!(
            outputs.load(Ordering::SeqCst),
            1,
            "output dropped exactly once"
        );
        assert!(queue.task_freed(), "task allocation freed");
    });
}

/// (d) Another thread awaits the handle while the task completes: either it
/// sees the result at once, or its waker is woken (no lost wakeup).
#[test]
fn awaiter_registration_racing_with_completion() {
    model(|| {
        let queue = Queue::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let outputs = Arc::new(AtomicUsize::new(0));
        let future = {
            let outputs = outputs.clone();
            probe(&queue, &drops, move |_| {
                Poll::Ready(Output(outputs.clone()))
            })
        };
        let (runnable, mut task) = Builder::new().spawn(future, queue.clone());
        let awaiter = thread::spawn(move || {
            let flag = std::sync::Arc::new(FlagWaker(AtomicBool::new(false)));
            let waker = Waker::from(flag.clone());
            let first = poll_task(&mut task, &waker);
            (task, first.is_ready(), flag, waker)
        });
        queue.run(runnable);
        let (mut task, ready_at_once, flag, waker) = awaiter.join().unwrap();
        if ready_at_once {
            assert_eq!(
                outputs.load(Ordering::SeqCst),
                1,
                "the awaiter dropped the output it got"
            );
        } else {
            assert!(
                flag.0.load(Ordering::SeqCst),
                "lost wakeup: pending and never woken"
            );
            match poll_task(&mut task, &waker) {
                Poll::Ready(Ok(output)) => drop(output),
                other => panic!("woken but not ready: {}", other.is_ready()),
            }
            assert_eq!(outputs.load(Ordering::SeqCst), 1);
        }
        drop(task);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert!(queue.task_freed());
    });
}

/// (d') The awaiter re-registers (a second poll with a new waker) while the
/// task completes: the latest waker is woken or the result is seen.
#[test]
fn awaiter_re_registration_racing_with_completion() {
    model(|| {
        let queue = Queue::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(AtomicBool::new(false));
        let slot: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
        let future = {
            let (gate, slot) = (gate.clone(), slot.clone());
            probe(&queue, &drops, move |cx| {
                if gate.load(Ordering::SeqCst) {
                    return Poll::Ready(7_u8);
                }
                *slot.lock().unwrap() = Some(cx.waker().clone());
                Poll::Pending
            })
        };
        let (runnable, mut task) = Builder::new().spawn(future, queue.clone());
        queue.run(runnable);
        // First registration, before anything races.
        let first = std::sync::Arc::new(FlagWaker(AtomicBool::new(false)));
        assert!(poll_task(&mut task, &Waker::from(first.clone())).is_pending());
        let awaiter = thread::spawn(move || {
            let second = std::sync::Arc::new(FlagWaker(AtomicBool::new(false)));
            let waker = Waker::from(second.clone());
            let ready = poll_task(&mut task, &waker).is_ready();
            (task, ready, second, waker)
        });
        gate.store(true, Ordering::SeqCst);
        let waker = slot.lock().unwrap().take().unwrap();
        waker.wake();
        queue.drain();
        let (mut task, ready_at_once, second, waker) = awaiter.join().unwrap();
        if !ready_at_once {
            assert!(
                second.0.load(Ordering::SeqCst),
                "lost wakeup of the re-registered waker"
            );
            assert!(matches!(poll_task(&mut task, &waker), Poll::Ready(Ok(7))));
        }
        drop(task);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert!(queue.task_freed());
    });
}

/// (e) Wakers dropped and woken on other threads while the task completes
/// and its handle is dropped: exactly one party frees the task.
#[test]
fn wakers_dropped_on_other_threads_while_the_task_ends() {
    model(|| {
        let queue = Queue::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let outputs = Arc::new(AtomicUsize::new(0));
        let slot: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
        let future = {
            let (outputs, slot) = (outputs.clone(), slot.clone());
            let mut polls = 0;
            probe(&queue, &drops, move |cx| {
                polls += 1;
                if polls == 1 {
                    *slot.lock().unwrap() = Some(cx.waker().clone());
                    cx.waker().wake_by_ref();
                    Poll::Pending
                } else {
                    Poll::Ready(Output(outputs.clone()))
                }
            })
        };
        let (runnable, task) = Builder::new().spawn(future, queue.clone());
        queue.run(runnable);
        let waker = slot.lock().unwrap().take().unwrap();
        let w2 = waker.clone();
        let t1 = thread::spawn(move || w2.wake());
        let t2 = thread::spawn(move || drop(waker));
        queue.drain();
        drop(task);
        t1.join().unwrap();
        t2.join().unwrap();
        queue.drain();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert_eq!(outputs.load(Ordering::SeqCst), 1);
        assert!(queue.task_freed());
    });
}

/// (f) Another thread takes the result with `try_result` while the task
/// completes: it sees nothing yet or the whole output, which the completing
/// poll wrote to the stage before publishing `COMPLETED`.
#[test]
fn try_result_on_another_thread_while_the_task_completes() {
    model(|| {
        let queue = Queue::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let outputs = Arc::new(AtomicUsize::new(0));
        let future = {
            let outputs = outputs.clone();
            probe(&queue, &drops, move |_| {
                Poll::Ready(Output(outputs.clone()))
            })
        };
        let (runnable, mut task) = Builder::new().spawn(future, queue.clone());
        let taker = thread::spawn(move || {
            let early = task.try_result().map(|result| result.is_ok());
            (task, early)
        });
        queue.run(runnable);
        let (mut task, early) = taker.join().unwrap();
        match early {
            Some(ok) => {
                assert!(ok, "the task finished with its output");
                assert_eq!(outputs.load(Ordering::SeqCst), 1);
                assert!(task.try_result().is_none(), "the output is taken once");
            }
            None => {
                assert!(matches!(task.try_result(), Some(Ok(_))));
                assert_eq!(outputs.load(Ordering::SeqCst), 1);
            }
        }
        drop(task);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert!(queue.task_freed());
    });
}

/// (g) The executor drops the task's Runnable without running it (it is
/// shutting down) while another thread awaits the handle: the future is
/// dropped exactly once, and the awaiter sees `Cancelled` at once or is woken.
#[test]
fn runnable_dropped_while_another_thread_awaits_the_handle() {
    model(|| {
        let queue = Queue::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let future = probe(&queue, &drops, |_| Poll::<()>::Pending);
        let (runnable, mut task) = Builder::new().spawn(future, queue.clone());
        let awaiter = thread::spawn(move || {
            let flag = std::sync::Arc::new(FlagWaker(AtomicBool::new(false)));
            let waker = Waker::from(flag.clone());
            let first = match poll_task(&mut task, &waker) {
                Poll::Ready(result) => Some(result.unwrap_err().is_cancelled()),
                Poll::Pending => None,
            };
            (task, first, flag, waker)
        });
        queue.0.runnables.fetch_sub(1, Ordering::SeqCst);
        drop(runnable);
        let (mut task, first, flag, waker) = awaiter.join().unwrap();
        match first {
            Some(cancelled) => assert!(cancelled),
            None => {
                assert!(
                    flag.0.load(Ordering::SeqCst),
                    "lost wakeup: pending and never woken"
                );
                match poll_task(&mut task, &waker) {
                    Poll::Ready(Err(error)) => assert!(error.is_cancelled()),
                    other => panic!("woken but not cancelled: {}", other.is_ready()),
                }
            }
        }
        assert!(task.is_cancelled());
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "future dropped exactly once"
        );
        assert_eq!(queue.0.released.load(Ordering::SeqCst), 1);
        drop(task);
        assert!(queue.task_freed());
    });
}

/// Keeps the latest waker a future was polled with.
#[derive(Clone, Default)]
struct WakerCell(Arc<Mutex<Option<Waker>>>);

impl WakerCell {
    fn store(&self, cx: &Context<'_>) {
        *self.0.lock().unwrap() = Some(cx.waker().clone());
    }
    fn wake(&self) {
        let waker = self.0.lock().unwrap().clone();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Runs `action` from its `Drop` (inside the future's drop).
struct DropHook<F: FnMut()>(F);

impl<F: FnMut()> Drop for DropHook<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

/// (h) Cancel while the future is being dropped: the task was cancelled and
/// its Runnable drops the future (`DROPPING`), while another thread cancels
/// it again and wakes it, and the future's own `Drop` wakes it too. The
/// future is dropped once and never polled again; no Runnable is made.
#[test]
fn cancel_and_wake_while_the_future_is_being_dropped() {
    model(|| {
        let queue = Queue::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let wakers = WakerCell::default();
        let hook = {
            let wakers = wakers.clone();
            DropHook(move || wakers.wake())
        };
        let future = {
            let wakers = wakers.clone();
            let mut hook = Some(hook);
            probe(&queue, &drops, move |cx| {
                let _keep = &mut hook;
                wakers.store(cx);
                Poll::<()>::Pending
            })
        };
        let (runnable, task) = Builder::new().spawn(future, queue.clone());
        queue.run(runnable);
        assert!(task.cancel());
        let abort = task.abort_handle();
        let other = {
            let wakers = wakers.clone();
            thread::spawn(move || {
                wakers.wake();
                abort.cancel();
            })
        };
        queue.drain();
        other.join().unwrap();
        queue.drain();
        assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped exactly once");
        assert_eq!(queue.0.released.load(Ordering::SeqCst), 1);
        assert!(task.is_cancelled());
        drop(task);
        drop(wakers);
        assert!(queue.task_freed());
    });
}

/// (i) Close re-entered from a `Drop`: closing drops the queued Runnable,
/// which claims the future and drops it; the future's `Drop` wakes its own
/// task and closes the queue again, while another thread wakes the task. The
/// future is dropped exactly once, no Runnable is made for the task being
/// dropped, and the task is freed.
#[test]
fn close_re_entered_from_a_drop_while_another_thread_wakes() {
    model(|| {
        let queue = Queue::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let wakers = WakerCell::default();
        let hook = {
            let (queue, wakers) = (queue.clone(), wakers.clone());
            DropHook(move || {
                wakers.wake();
                queue.close();
            })
        };
        let future = {
            let wakers = wakers.clone();
            let mut hook = Some(hook);
            probe(&queue, &drops, move |cx| {
                let _keep = &mut hook;
                wakers.store(cx);
                Poll::<()>::Pending
            })
        };
        let (runnable, task) = Builder::new().spawn(future, queue.clone());
        queue.run(runnable);
        drop(task);
        wakers.wake();
        let waker_thread = {
            let wakers = wakers.clone();
            thread::spawn(move || wakers.wake())
        };
        queue.close();
        waker_thread.join().unwrap();
        queue.close();
        assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped exactly once");
        assert_eq!(queue.0.released.load(Ordering::SeqCst), 1);
        drop(wakers);
        assert!(queue.task_freed());
    });
}

/// (j) The handle is dropped on another thread while the task completes:
/// the waker it registered is dropped exactly once (by the handle or by the
/// completer's wake), and the task is freed.
#[test]
fn handle_dropped_with_its_waker_while_the_task_completes() {
    model(|| {
        let queue = Queue::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let ready = Arc::new(AtomicBool::new(false));
        let future = {
            let ready = ready.clone();
            probe(&queue, &drops, move |cx| {
                if ready.load(Ordering::SeqCst) {
                    Poll::Ready(())
                } else {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
            })
        };
        let (runnable, mut task) = Builder::new().spawn(future, queue.clone());
        let flag = std::sync::Arc::new(FlagWaker(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        assert!(poll_task(&mut task, &waker).is_pending());
        drop(waker);
        let handle_thread = thread::spawn(move || drop(task));
        queue.run(runnable);
        ready.store(true, Ordering::SeqCst);
        queue.drain();
        handle_thread.join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert_eq!(
            std::sync::Arc::strong_count(&flag),
            1,
            "the awaiter's waker was released"
        );
        assert!(queue.task_freed());
    });
}
