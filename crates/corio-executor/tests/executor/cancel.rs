//! `Task::cancel`: the future is dropped at the next scheduling point and
//! never during its own poll, awaiting reports `Cancelled`, the return value
//! and `is_cancelled` follow the task's state, and a cancel from another
//! thread wakes a parked loop.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use crate::common::{drain, forgotten, poll_once, Counter, Flag, WakerSlot};
use corio_executor::{LocalExecutor, Task, TaskError, ThreadPark};

/// A future that runs `on_poll` each time it is polled, stays pending, and
/// logs its drop.
struct Probe<P: FnMut()> {
    on_poll: P,
    log: Rc<RefCell<Vec<&'static str>>>,
}

impl<P: FnMut() + Unpin> Future for Probe<P> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        self.log.borrow_mut().push("poll starts");
        (self.on_poll)();
        self.log.borrow_mut().push("poll returns");
        Poll::Pending
    }
}

impl<P: FnMut()> Drop for Probe<P> {
    fn drop(&mut self) {
        self.log.borrow_mut().push("dropped");
    }
}

#[test]
fn cancelling_a_pending_task_drops_its_future_before_the_await_returns() {
    let ex = LocalExecutor::new();
    let drops = Counter::new();
    let token = drops.token();
    let task = ex.spawn(async move {
        let _token = token;
        forgotten::<()>().await
    });
    drain(&ex);
    assert_eq!(drops.get(), 0);
    assert!(task.cancel());
    let seen_by_awaiter = ex.block_on(
        async {
            let result = task.await;
            (result, drops.get())
        },
        &mut ThreadPark,
    );
    let (result, drops_when_await_returned) = seen_by_awaiter;
    let error = result.unwrap_err();
    assert!(error.is_cancelled());
    assert!(!error.is_panic());
    assert_eq!(error.panic_message(), None);
    assert_eq!(drops_when_await_returned, 1);
    assert_eq!(ex.task_count(), 0);
}

#[test]
fn cancelling_before_the_first_poll_never_polls_the_future() {
    let ex = LocalExecutor::new();
    let polled = Flag::new();
    let drops = Counter::new();
    let (polled2, token) = (polled.clone(), drops.token());
    let mut task = ex.spawn(async move {
        let _token = token;
        polled2.set();
    });
    assert!(task.cancel());
    assert!(
        !task.is_done(),
        "cancellation takes effect at the next scheduling point"
    );
    assert!(!task.is_cancelled());
    drain(&ex);
    assert!(!polled.get());
    assert_eq!(drops.get(), 1);
    assert!(task.is_done());
    assert!(task.is_cancelled());
    assert!(task.try_result().unwrap().unwrap_err().is_cancelled());
}

#[test]
fn a_task_cancelling_itself_is_dropped_only_after_its_poll_returns() {
    let ex = LocalExecutor::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    let own_handle: Rc<RefCell<Option<Task<()>>>> = Rc::new(RefCell::new(None));
    let cancel_result = Rc::new(RefCell::new(None));
    let probe = Probe {
        on_poll: {
            let (own_handle, log, cancel_result) =
                (own_handle.clone(), log.clone(), cancel_result.clone());
            move || {
                let handle = own_handle.borrow();
                let handle = handle
                    .as_ref()
                    .expect("handle stored before the first poll");
                *cancel_result.borrow_mut() = Some(handle.cancel());
                assert!(
                    !handle.is_done(),
                    "cancel must not complete a task during its poll"
                );
                assert!(!handle.is_cancelled());
                log.borrow_mut().push("cancelled itself");
            }
        },
        log: log.clone(),
    };
    *own_handle.borrow_mut() = Some(ex.spawn_local(probe));
    drain(&ex);
    assert_eq!(*cancel_result.borrow(), Some(true));
    assert_eq!(
        *log.borrow(),
        ["poll starts", "cancelled itself", "poll returns", "dropped"]
    );
    let task = own_handle.borrow_mut().take().unwrap();
    assert!(task.is_cancelled());
    assert!(ex
        .block_on(task, &mut ThreadPark)
        .unwrap_err()
        .is_cancelled());
}

#[test]
fn a_cancel_from_another_thread_during_the_poll_drops_the_future_after_the_poll() {
    let ex = LocalExecutor::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    let handle: Arc<Mutex<Option<Task<()>>>> = Arc::new(Mutex::new(None));
    let (start_tx, start_rx) = mpsc::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel::<bool>();
    let canceller = {
        let handle = handle.clone();
        std::thread::spawn(move || {
            start_rx.recv().unwrap();
            let cancelled = handle.lock().unwrap().as_ref().unwrap().cancel();
            done_tx.send(cancelled).unwrap();
        })
    };
    let probe = Probe {
        on_poll: {
            let log = log.clone();
            let start_tx = Some(start_tx);
            let mut start_tx = start_tx;
            move || {
                if let Some(tx) = start_tx.take() {
                    tx.send(()).unwrap();
                    // Block the poll until the other thread has cancelled us.
                    assert!(done_rx.recv().unwrap());
                    log.borrow_mut().push("cancelled from another thread");
                }
            }
        },
        log: log.clone(),
    };
    *handle.lock().unwrap() = Some(ex.spawn_local(probe));
    drain(&ex);
    canceller.join().unwrap();
    assert_eq!(
        *log.borrow(),
        [
            "poll starts",
            "cancelled from another thread",
            "poll returns",
            "dropped"
        ]
    );
    let task = handle.lock().unwrap().take().unwrap();
    assert!(task.is_cancelled());
    assert!(ex
        .block_on(task, &mut ThreadPark)
        .unwrap_err()
        .is_cancelled());
}

#[test]
fn a_task_that_finishes_in_the_poll_it_was_cancelled_in_keeps_its_output() {
    let ex = LocalExecutor::new();
    let own: Rc<RefCell<Option<Task<u32>>>> = Rc::new(RefCell::new(None));
    let own2 = own.clone();
    *own.borrow_mut() = Some(ex.spawn_local(async move {
        assert!(own2.borrow().as_ref().unwrap().cancel());
        7
    }));
    drain(&ex);
    let task = own.borrow_mut().take().unwrap();
    assert!(task.is_done());
    assert!(!task.is_cancelled());
    assert_eq!(ex.block_on(task, &mut ThreadPark).unwrap(), 7);
}

#[test]
fn cancelling_a_finished_task_returns_false() {
    let ex = LocalExecutor::new();
    let mut task = ex.spawn(async { 5 });
    drain(&ex);
    assert!(task.is_done());
    assert!(!task.cancel());
    assert!(!task.is_cancelled());
    assert_eq!(task.try_result().unwrap().unwrap(), 5);
    assert!(!task.cancel(), "still false once the output was taken");
}

#[test]
fn cancelling_a_cancelled_task_returns_true_until_it_took_effect() {
    let ex = LocalExecutor::new();
    let drops = Counter::new();
    let token = drops.token();
    let task = ex.spawn(async move {
        let _token = token;
        forgotten::<()>().await
    });
    drain(&ex);
    assert!(task.cancel());
    assert!(task.cancel());
    assert!(!task.is_cancelled());
    drain(&ex);
    assert_eq!(drops.get(), 1, "two cancels drop the future once");
    assert!(task.is_cancelled());
    assert!(!task.cancel(), "the task is done now");
}

#[test]
fn is_cancelled_is_false_for_a_task_that_completed_or_panicked() {
    let ex = LocalExecutor::new();
    let ok = ex.spawn(async {});
    let bad = ex.spawn(async { panic!("not a cancellation") });
    drain(&ex);
    assert!(ok.is_done() && !ok.is_cancelled());
    assert!(bad.is_done() && !bad.is_cancelled());
}

#[test]
fn a_cancel_from_another_thread_wakes_block_on_and_drops_the_future() {
    let ex = LocalExecutor::new();
    let drops = Counter::new();
    let token = drops.token();
    let task = ex.spawn(async move {
        let _token = token;
        forgotten::<()>().await
    });
    drain(&ex);
    let slot = Arc::new(Mutex::new(Some(task)));
    let canceller = {
        let slot = slot.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            assert!(slot.lock().unwrap().as_ref().unwrap().cancel());
        })
    };
    let result = ex.block_on(
        std::future::poll_fn(|cx| Pin::new(slot.lock().unwrap().as_mut().unwrap()).poll(cx)),
        &mut ThreadPark,
    );
    canceller.join().unwrap();
    assert!(result.unwrap_err().is_cancelled());
    assert_eq!(drops.get(), 1);
    assert_eq!(ex.task_count(), 0);
}

#[test]
fn a_cancel_from_another_thread_calls_the_unpark_callback() {
    let unparks = Arc::new(AtomicUsize::new(0));
    let main = std::thread::current();
    let ex = {
        let unparks = unparks.clone();
        LocalExecutor::with_unpark(move || {
            unparks.fetch_add(1, Ordering::SeqCst);
            main.unpark();
        })
    };
    let drops = Counter::new();
    let token = drops.token();
    let local_state = Rc::new(()); // the task need not be Send
    let task = ex.spawn_local(async move {
        let _token = token;
        let _local = local_state;
        forgotten::<()>().await
    });
    drain(&ex);
    let task = Arc::new(task);
    let canceller = {
        let task = task.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            assert!(task.cancel());
        })
    };
    // A hand-written park loop, as a driver would write it.
    while drops.get() == 0 {
        if ex.run_once() == 0 && ex.is_idle() {
            std::thread::park_timeout(Duration::from_secs(5));
        }
    }
    canceller.join().unwrap();
    assert_eq!(unparks.load(Ordering::SeqCst), 1);
    assert!(task.is_cancelled());
    assert_eq!(ex.task_count(), 0);
}

#[test]
fn a_cancelled_task_ignores_later_wakes() {
    let ex = LocalExecutor::new();
    let slot = WakerSlot::new();
    let wait = slot.wait();
    let task = ex.spawn(wait);
    drain(&ex);
    let waker = slot.take().expect("the task left its waker");
    assert!(task.cancel());
    waker.wake_by_ref();
    assert_eq!(drain(&ex), 1, "one run, which drops the future");
    waker.wake();
    assert_eq!(drain(&ex), 0);
    assert!(task.is_cancelled());
}

#[test]
fn an_awaiter_registered_before_the_cancel_is_woken_with_cancelled() {
    let ex = LocalExecutor::new();
    let victim = Rc::new(RefCell::new(ex.spawn(forgotten::<()>())));
    let awaiter = {
        let victim = victim.clone();
        ex.spawn_local(std::future::poll_fn(move |cx| {
            Pin::new(&mut *victim.borrow_mut()).poll(cx)
        }))
    };
    drain(&ex);
    assert!(!awaiter.is_done(), "the awaiter waits on the victim");
    assert!(victim.borrow().cancel());
    // One iteration drops the victim and wakes the awaiter; the next runs it.
    assert_eq!(ex.run_once(), 1);
    assert!(!awaiter.is_done());
    assert_eq!(ex.run_once(), 1);
    assert!(awaiter.is_done());
    let err: TaskError = ex.block_on(awaiter, &mut ThreadPark).unwrap().unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(err.id(), victim.borrow().id());
    assert!(poll_once(&mut *victim.borrow_mut()).is_ready());
}

/// Spawns a cleanup task when dropped.
struct CleanupOnDrop {
    spawner: corio_executor::Spawner,
    log: Arc<Mutex<Vec<usize>>>,
    index: usize,
}

impl Drop for CleanupOnDrop {
    fn drop(&mut self) {
        let (log, index) = (self.log.clone(), self.index);
        drop(
            self.spawner
                .spawn(async move { log.lock().unwrap().push(index) }),
        );
    }
}

#[test]
fn cancel_all_cancels_every_live_task_and_lets_their_cleanup_run() {
    let ex = LocalExecutor::new();
    let drops = Counter::new();
    let cleanups = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for index in 0..3 {
        let guard = CleanupOnDrop {
            spawner: ex.spawner(),
            log: cleanups.clone(),
            index,
        };
        let token = drops.token();
        tasks.push(ex.spawn(async move {
            let _guard = guard;
            let _token = token;
            forgotten::<()>().await
        }));
    }
    let token = drops.token();
    let hidden = ex.spawn_local_with(corio_executor::Builder::new().hidden(true), async move {
        let _token = token;
        forgotten::<()>().await
    });
    drain(&ex);
    let token = drops.token();
    let queued = ex.spawn(async move {
        let _token = token;
    });
    assert_eq!(ex.cancel_all(), 5, "hidden and queued tasks count too");
    assert_eq!(
        drops.get(),
        0,
        "futures are dropped by the next iteration, not by cancel_all"
    );
    drain(&ex);
    assert_eq!(drops.get(), 5);
    let mut ran = cleanups.lock().unwrap().clone();
    ran.sort_unstable();
    assert_eq!(ran, [0, 1, 2], "cleanup tasks spawned by the drops ran");
    assert!(tasks.iter().all(Task::is_cancelled));
    assert!(hidden.is_cancelled());
    assert!(queued.is_cancelled(), "cancelled before its first poll");
    assert_eq!(ex.task_count(), 0);
    assert_eq!(ex.cancel_all(), 0);
}

#[test]
fn cancel_all_from_inside_a_task_cancels_the_caller_after_its_poll() {
    let ex = Rc::new(LocalExecutor::new());
    let log = Rc::new(RefCell::new(Vec::new()));
    let other = ex.spawn(forgotten::<()>());
    let probe = Probe {
        on_poll: {
            let (ex, log) = (Rc::downgrade(&ex), log.clone());
            move || {
                let count = ex.upgrade().unwrap().cancel_all();
                log.borrow_mut().push(if count == 2 {
                    "cancel_all saw 2"
                } else {
                    "wrong count"
                });
            }
        },
        log: log.clone(),
    };
    let caller = ex.spawn_local(probe);
    drain(&ex);
    assert_eq!(
        *log.borrow(),
        ["poll starts", "cancel_all saw 2", "poll returns", "dropped"]
    );
    assert!(caller.is_cancelled());
    assert!(other.is_cancelled());
}
