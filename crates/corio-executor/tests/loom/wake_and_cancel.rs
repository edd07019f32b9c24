//! Models (a)-(b'): wakes and cancels racing with the poll.

use super::*;

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
