//! Models (m)-(o): `add_done_callback` racing with the task's completion.

use super::*;

/// A callback that counts its runs in loom's view of memory.
fn counting(ran: &Arc<AtomicUsize>) -> impl FnOnce(&corio_executor::TaskInfo) + Send + 'static {
    let ran = ran.clone();
    move |info| {
        assert!(info.state() == corio_executor::TaskState::Done);
        ran.fetch_add(1, Ordering::SeqCst);
    }
}

/// (m) A callback is added on another thread while the task completes:
/// whichever of the two read-modify-writes comes second drains the side
/// table, so the callback runs exactly once, never inside the task's poll,
/// and the allocations are freed.
#[test]
fn done_callback_added_while_the_task_completes() {
    model(|| {
        let queue = Queue::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let future = probe(&queue, &drops, |_| Poll::Ready(()));
        let (runnable, task) = Builder::new().spawn(future, queue.clone());
        let ran = Arc::new(AtomicUsize::new(0));
        let adder = {
            let callback = counting(&ran);
            thread::spawn(move || {
                task.add_done_callback(callback);
                task
            })
        };
        queue.run(runnable);
        let task = adder.join().unwrap();
        assert_eq!(ran.load(Ordering::SeqCst), 0, "never run inline");
        queue.drain();
        assert_eq!(ran.load(Ordering::SeqCst), 1, "run exactly once");
        drop(task);
        assert!(queue.task_freed(), "task and callback task freed");
    });
}

/// (n) A callback is added on another thread while the executor discards
/// the task's Runnable (the cancellation path: the future is dropped, not
/// finished): the callback runs exactly once.
#[test]
fn done_callback_added_while_the_task_is_cancelled() {
    model(|| {
        let queue = Queue::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let future = probe(&queue, &drops, |_| Poll::<()>::Pending);
        let (runnable, task) = Builder::new().spawn(future, queue.clone());
        let ran = Arc::new(AtomicUsize::new(0));
        let abort = task.abort_handle();
        let adder = {
            let callback = counting(&ran);
            thread::spawn(move || abort.add_done_callback(callback))
        };
        // The executor discards the task's Runnable: the future is dropped.
        queue.0.runnables.fetch_sub(1, Ordering::SeqCst);
        drop(runnable);
        adder.join().unwrap();
        queue.drain();
        assert_eq!(ran.load(Ordering::SeqCst), 1, "run exactly once");
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert!(task.is_cancelled());
        drop(task);
        assert!(queue.task_freed());
    });
}

/// A plain FIFO scheduler that allows several Runnables at once (the
/// callbacks tasks of one task and the task itself).
#[derive(Clone, Default)]
struct Fifo(Arc<Mutex<VecDeque<Runnable>>>);

impl Schedule for Fifo {
    fn schedule(&self, runnable: Runnable) {
        self.0.lock().unwrap().push_back(runnable);
    }
}

impl Fifo {
    fn drain(&self) {
        loop {
            let next = self.0.lock().unwrap().pop_front();
            match next {
                Some(runnable) => {
                    runnable.run();
                }
                None => return,
            }
        }
    }
}

/// (o) Two threads add a callback each while the task completes on a
/// third: every callback runs exactly once (some through the completer's
/// drain, some through an adder's), and everything is freed.
#[test]
fn two_done_callbacks_added_on_two_threads_while_the_task_completes() {
    model(|| {
        let fifo = Fifo::default();
        let (runnable, task) = Builder::new().spawn(async {}, fifo.clone());
        let task = Arc::new(task);
        let ran = Arc::new(AtomicUsize::new(0));
        let adders: Vec<_> = (0..2)
            .map(|_| {
                let (task, callback) = (task.clone(), counting(&ran));
                thread::spawn(move || task.add_done_callback(callback))
            })
            .collect();
        runnable.run();
        for adder in adders {
            adder.join().unwrap();
        }
        fifo.drain();
        assert_eq!(ran.load(Ordering::SeqCst), 2, "each callback once");
        drop(task);
        assert_eq!(Arc::strong_count(&fifo.0), 1, "every task freed");
    });
}
