//! Models (h)-(j): the `Dropping` state, re-entrant `Drop`s, and the
//! handle taking back its waker.

use super::*;

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
