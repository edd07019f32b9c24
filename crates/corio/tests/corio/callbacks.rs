//! Loop callbacks (`call_soon`, `call_later`, `call_at`, `call_soon_threadsafe`)
//! and the low-level `EventLoop` (`run_forever`, `stop`, `close`, `is_running`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::SetOnDrop;
use corio::{EventLoop, LoopHandle};

type Log<T> = Arc<Mutex<Vec<T>>>;

fn log<T>() -> Log<T> {
    Arc::new(Mutex::new(Vec::new()))
}

/// A callback that appends `value` to `log`.
fn push<T: Send + 'static>(log: &Log<T>, value: T) -> impl FnOnce() + Send + 'static {
    let log = log.clone();
    move || log.lock().unwrap().push(value)
}

/// Waits (on the loop) until `done()` holds; fails the test after 2 s
/// instead of hanging.
async fn wait_until(done: impl Fn() -> bool) {
    corio::timeout(Duration::from_secs(2), async {
        while !done() {
            corio::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("condition not reached within 2 s");
}

#[test]
fn call_soon_runs_callbacks_in_fifo_order() {
    let order = log();
    corio::run(async {
        let handle = corio::get_running_loop();
        for i in 0..5 {
            handle.call_soon(push(&order, i));
        }
        wait_until(|| order.lock().unwrap().len() == 5).await;
    });
    assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
}

#[test]
fn call_soon_callbacks_and_tasks_share_one_fifo_queue() {
    let order = log();
    corio::run(async {
        let a = corio::create_task({
            let push = push(&order, "A");
            async move { push() }
        });
        corio::get_running_loop().call_soon(push(&order, "B"));
        let c = corio::create_task({
            let push = push(&order, "C");
            async move { push() }
        });
        // Nothing runs before the creator yields.
        assert!(order.lock().unwrap().is_empty());
        corio::yield_now().await;
        // All three were ready when the next iteration began: one iteration
        // ran them, in the order they were scheduled.
        assert_eq!(*order.lock().unwrap(), vec!["A", "B", "C"]);
        a.await.unwrap();
        c.await.unwrap();
    });
}

#[test]
fn call_later_runs_callbacks_in_deadline_order() {
    let order = log();
    corio::run(async {
        let handle = corio::get_running_loop();
        handle.call_later(Duration::from_millis(30), push(&order, 30));
        handle.call_later(Duration::from_millis(10), push(&order, 10));
        handle.call_later(Duration::from_millis(20), push(&order, 20));
        wait_until(|| order.lock().unwrap().len() == 3).await;
    });
    assert_eq!(*order.lock().unwrap(), vec![10, 20, 30]);
}

#[test]
fn call_at_with_equal_deadlines_runs_in_scheduling_order() {
    let order = log();
    corio::run(async {
        let handle = corio::get_running_loop();
        let when = handle.time() + Duration::from_millis(10);
        handle.call_at(when, push(&order, "first"));
        handle.call_at(when + Duration::from_millis(5), push(&order, "last"));
        handle.call_at(when, push(&order, "second"));
        handle.call_at(when, push(&order, "third"));
        handle.call_at(when - Duration::from_millis(5), push(&order, "earliest"));
        wait_until(|| order.lock().unwrap().len() == 5).await;
    });
    assert_eq!(
        *order.lock().unwrap(),
        vec!["earliest", "first", "second", "third", "last"]
    );
}

#[test]
fn call_at_a_past_instant_runs_at_once() {
    let ran = Arc::new(AtomicBool::new(false));
    corio::run(async {
        let handle = corio::get_running_loop();
        let past = handle.time() - Duration::from_secs(1);
        let flag = ran.clone();
        handle.call_at(past, move || flag.store(true, Ordering::SeqCst));
        wait_until(|| ran.load(Ordering::SeqCst)).await;
    });
}

#[test]
fn cancelled_call_soon_never_runs() {
    let order = log();
    corio::run(async {
        let handle = corio::get_running_loop();
        handle.call_soon(push(&order, "kept-1"));
        let cancelled = handle.call_soon(push(&order, "cancelled"));
        handle.call_soon(push(&order, "kept-2"));
        assert!(!cancelled.is_cancelled());
        cancelled.cancel();
        assert!(cancelled.is_cancelled());
        for _ in 0..3 {
            corio::yield_now().await;
        }
    });
    assert_eq!(*order.lock().unwrap(), vec!["kept-1", "kept-2"]);
}

#[test]
fn cancelled_call_later_never_fires() {
    let order = log();
    corio::run(async {
        let handle = corio::get_running_loop();
        let cancelled = handle.call_later(Duration::from_millis(10), push(&order, "cancelled"));
        handle.call_later(Duration::from_millis(20), push(&order, "kept"));
        // Let the loop arm the timers and go round once before cancelling.
        corio::sleep(Duration::from_millis(2)).await;
        cancelled.cancel();
        assert!(cancelled.is_cancelled());
        wait_until(|| !order.lock().unwrap().is_empty()).await;
        // Past both deadlines.
        corio::sleep(Duration::from_millis(10)).await;
    });
    assert_eq!(*order.lock().unwrap(), vec!["kept"]);
}

#[test]
fn call_soon_threadsafe_wakes_a_loop_blocked_in_run_forever() {
    let mut event_loop = EventLoop::new().unwrap();
    let handle = event_loop.handle();
    // A safety net: if the wake-up is lost, this stops the loop after 5 s
    // (and the test fails) instead of letting it sleep forever.
    let rescued = Arc::new(AtomicBool::new(false));
    let net = handle.call_later(Duration::from_secs(5), {
        let (rescued, handle) = (rescued.clone(), handle.clone());
        move || {
            rescued.store(true, Ordering::SeqCst);
            handle.stop();
        }
    });
    let loop_thread = std::thread::current().id();
    let ran_on = Arc::new(Mutex::new(None));
    let other = std::thread::spawn({
        let (handle, ran_on) = (handle.clone(), ran_on.clone());
        move || {
            // By now the loop is (very likely) asleep with nothing to do
            // but wait for the 5 s timer.
            std::thread::sleep(Duration::from_millis(30));
            let stopper = handle.clone();
            handle.call_soon_threadsafe(move || {
                *ran_on.lock().unwrap() = Some(std::thread::current().id());
                stopper.stop();
            });
        }
    });
    event_loop.run_forever();
    other.join().unwrap();
    assert!(
        !rescued.load(Ordering::SeqCst),
        "the loop was not woken by call_soon_threadsafe"
    );
    assert_eq!(
        *ran_on.lock().unwrap(),
        Some(loop_thread),
        "callbacks run on the loop's thread"
    );
    net.cancel();
    event_loop.close();
}

#[test]
fn a_panicking_callback_does_not_take_the_loop_down() {
    let order = log();
    let value = corio::run(async {
        let handle = corio::get_running_loop();
        handle.call_soon(|| panic!("callback failed on purpose"));
        handle.call_soon(push(&order, "after-soon"));
        handle.call_later(Duration::from_millis(5), || {
            panic!("timed callback failed on purpose")
        });
        handle.call_later(Duration::from_millis(10), push(&order, "after-later"));
        let task = corio::create_task(async {
            corio::sleep(Duration::from_millis(15)).await;
            7
        });
        let value = task.await.unwrap();
        wait_until(|| order.lock().unwrap().len() == 2).await;
        value
    });
    assert_eq!(value, 7);
    assert_eq!(*order.lock().unwrap(), vec!["after-soon", "after-later"]);
}

#[test]
fn run_forever_returns_after_stop_from_a_callback() {
    let mut event_loop = EventLoop::new().unwrap();
    let handle = event_loop.handle();
    let order = log();
    handle.call_soon(push(&order, "before"));
    handle.call_later(Duration::from_millis(10), {
        let (handle, order) = (handle.clone(), order.clone());
        move || {
            order.lock().unwrap().push("stop");
            handle.stop();
        }
    });
    event_loop.run_forever();
    assert_eq!(*order.lock().unwrap(), vec!["before", "stop"]);
    assert!(!event_loop.is_running());
    // The loop is still usable after run_forever returned.
    assert_eq!(event_loop.run_until_complete(async { 2 + 2 }), 4);
    event_loop.close();
}

#[test]
fn stop_before_run_forever_makes_it_return_promptly() {
    let mut event_loop = EventLoop::new().unwrap();
    let handle = event_loop.handle();
    // The callback is ready when run_forever starts, so it runs too.
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    handle.call_soon(move || flag.store(true, Ordering::SeqCst));
    handle.stop();
    let started = std::time::Instant::now();
    event_loop.run_forever();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "run_forever ignored an earlier stop"
    );
    assert!(ran.load(Ordering::SeqCst));
    event_loop.close();
}

#[test]
fn is_running_is_true_inside_the_loop_and_false_outside() {
    let mut event_loop = EventLoop::new().unwrap();
    let handle = event_loop.handle();
    assert!(!event_loop.is_running());
    assert!(!handle.is_running());
    let inside = event_loop.run_until_complete({
        let handle = handle.clone();
        async move {
            let task = corio::create_task(async { corio::get_running_loop().is_running() });
            handle.is_running() && task.await.unwrap()
        }
    });
    assert!(inside);
    assert!(!event_loop.is_running());
    assert!(!handle.is_running());
    event_loop.close();
}

#[test]
fn close_discards_pending_callbacks_and_is_idempotent() {
    let mut event_loop = EventLoop::new().unwrap();
    let handle = event_loop.handle();
    let ran = Arc::new(AtomicUsize::new(0));
    let count = |ran: &Arc<AtomicUsize>| {
        let ran = ran.clone();
        move || {
            ran.fetch_add(1, Ordering::SeqCst);
        }
    };
    handle.call_soon(count(&ran));
    handle.call_later(Duration::from_millis(1), count(&ran));
    handle.call_at(handle.time(), count(&ran));
    assert!(!event_loop.is_closed());
    event_loop.close();
    assert!(event_loop.is_closed());
    assert!(handle.is_closed());
    event_loop.close();
    assert!(event_loop.is_closed());
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(
        ran.load(Ordering::SeqCst),
        0,
        "a pending callback ran during or after close"
    );
}

#[test]
fn close_drops_pending_tasks() {
    let mut event_loop = EventLoop::new().unwrap();
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = SetOnDrop(dropped.clone());
    // Created through the handle before the loop runs; it starts (and
    // parks) during the run below, and is still pending afterwards.
    let task = event_loop.handle().create_task(async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    });
    event_loop.run_until_complete(corio::yield_now());
    assert!(!task.is_done());
    assert!(!dropped.load(Ordering::SeqCst));
    event_loop.close();
    assert!(dropped.load(Ordering::SeqCst));
    assert!(task.is_done());
}

#[test]
fn handles_schedule_on_their_own_loop() {
    let mut first = EventLoop::new().unwrap();
    let second = EventLoop::new().unwrap();
    let (h1, h2): (LoopHandle, LoopHandle) = (first.handle(), second.handle());
    assert!(h1.same_loop(&first.handle()));
    assert!(!h1.same_loop(&h2));
    let inside = first.run_until_complete(async { corio::get_running_loop() });
    assert!(inside.same_loop(&h1));
    first.close();
}
