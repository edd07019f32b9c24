//! The raw task harness through `Builder` with a hand-written `Schedule`:
//! `Runnable::run` and its return value, `release` called once per task,
//! dropping a `Runnable` cancels the task, and wakes go to the scheduler.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::common::{poll_once, yield_now, Counter, WakerSlot};
use corio_executor::{Builder, Header, Runnable, Schedule};

/// A queue of runnables plus counts of what the harness told it.
#[derive(Clone, Default)]
struct Queue {
    runnables: Arc<Mutex<VecDeque<Runnable>>>,
    scheduled: Arc<AtomicUsize>,
    released: Arc<AtomicUsize>,
}

impl Schedule for Queue {
    fn schedule(&self, runnable: Runnable) {
        self.scheduled.fetch_add(1, Ordering::SeqCst);
        self.runnables.lock().unwrap().push_back(runnable);
    }

    fn release(&self, task: &Header) {
        assert!(!task.is_completed(), "release comes before COMPLETED");
        self.released.fetch_add(1, Ordering::SeqCst);
    }
}

impl Queue {
    fn pop(&self) -> Option<Runnable> {
        self.runnables.lock().unwrap().pop_front()
    }

    fn len(&self) -> usize {
        self.runnables.lock().unwrap().len()
    }
}

#[test]
fn a_spawned_task_is_returned_not_scheduled() {
    let queue = Queue::default();
    let (runnable, task) = Builder::new().name("raw").spawn(async { 3 }, queue.clone());
    assert_eq!(queue.len(), 0, "the caller queues the first Runnable");
    assert_eq!(runnable.header().name(), Some("raw"));
    assert_eq!(runnable.header().id(), task.id());
    assert!(runnable.header().is_scheduled());
    assert!(!runnable.header().is_running());
    assert!(!runnable.header().is_local());
    assert!(!runnable.header().is_hidden());
    assert!(format!("{runnable:?}").contains("raw"));
    assert!(runnable.run(), "finished in its first poll");
    assert!(task.is_done());
    assert_eq!(queue.released.load(Ordering::SeqCst), 1);
    let mut task = task;
    assert_eq!(
        poll_once(&mut task).map(Result::unwrap),
        std::task::Poll::Ready(3)
    );
}

#[test]
fn a_self_wake_goes_back_to_the_scheduler() {
    let queue = Queue::default();
    let (runnable, mut task) = Builder::new().spawn(
        async {
            yield_now().await;
            yield_now().await;
            "done"
        },
        queue.clone(),
    );
    assert!(!runnable.run());
    assert_eq!(queue.len(), 1);
    assert!(!queue.pop().unwrap().run());
    assert!(queue.pop().unwrap().run());
    assert_eq!(queue.scheduled.load(Ordering::SeqCst), 2);
    assert_eq!(queue.released.load(Ordering::SeqCst), 1);
    assert_eq!(task.try_result().unwrap().unwrap(), "done");
}

#[test]
fn a_remote_wake_goes_to_the_scheduler_from_the_waking_thread() {
    let queue = Queue::default();
    let slot = WakerSlot::new();
    let (runnable, task) = Builder::new().spawn(slot.wait(), queue.clone());
    assert!(!runnable.run());
    assert_eq!(queue.len(), 0);
    let releaser = slot.clone();
    std::thread::spawn(move || releaser.release())
        .join()
        .unwrap();
    assert_eq!(queue.len(), 1);
    assert!(queue.pop().unwrap().run());
    assert!(task.is_done());
}

#[test]
fn dropping_a_runnable_cancels_its_task() {
    let queue = Queue::default();
    let drops = Counter::new();
    let token = drops.token();
    let (runnable, mut task) = Builder::new().spawn(
        async move {
            let _token = token;
        },
        queue.clone(),
    );
    drop(runnable);
    assert_eq!(drops.get(), 1);
    assert!(task.is_cancelled());
    assert_eq!(queue.released.load(Ordering::SeqCst), 1);
    assert!(task.try_result().unwrap().unwrap_err().is_cancelled());
}

#[test]
fn cancel_schedules_an_idle_task_so_the_scheduler_drops_it() {
    let queue = Queue::default();
    let drops = Counter::new();
    let token = drops.token();
    let (runnable, task) = Builder::new().spawn(
        async move {
            let _token = token;
            std::future::pending::<()>().await
        },
        queue.clone(),
    );
    assert!(!runnable.run());
    assert_eq!(queue.len(), 0);
    assert!(task.cancel());
    assert_eq!(
        queue.len(),
        1,
        "cancel queued the task so its future gets dropped"
    );
    assert_eq!(drops.get(), 0);
    assert!(
        queue.pop().unwrap().run(),
        "running a cancelled task ends it"
    );
    assert_eq!(drops.get(), 1);
    assert!(task.is_cancelled());
    assert_eq!(queue.released.load(Ordering::SeqCst), 1);
}

#[test]
fn spawn_unchecked_marks_the_task_local_and_accepts_borrowed_futures() {
    let queue = Queue::default();
    let mut value = 1;
    {
        let borrowed = &mut value;
        // SAFETY: the Runnable runs to completion on this thread before
        // `value`'s borrow ends.
        let (runnable, mut task) = unsafe {
            Builder::new().hidden(true).spawn_unchecked(
                async move {
                    *borrowed += 1;
                    std::rc::Rc::new(*borrowed)
                },
                queue.clone(),
            )
        };
        assert!(runnable.header().is_local());
        assert!(runnable.header().is_hidden());
        assert!(runnable.run());
        assert_eq!(*task.try_result().unwrap().unwrap(), 2);
    }
    assert_eq!(value, 2);
}
