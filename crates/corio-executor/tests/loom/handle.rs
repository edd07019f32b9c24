//! Models (c)-(g): the handle, its awaiter and the result racing with completion.

use super::*;

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
