//! The loop's exception handler: what reaches it (panicking callbacks, task
//! panics never retrieved, errors reported by hand), that the loop goes on,
//! and that closing the loop drops the handler.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corio::{LoopError, LoopErrorKind};

type Seen = Arc<Mutex<Vec<LoopError>>>;

/// Installs a handler that records every error.
fn record(handle: &corio::LoopHandle) -> Seen {
    let seen = Seen::default();
    let log = seen.clone();
    handle.set_exception_handler(move |error| log.lock().unwrap().push(error.clone()));
    seen
}

/// Waits (on the loop) until `done()` holds, at most 2 s: under workers the
/// callbacks run on other threads, whenever those get to them.
async fn until(done: impl Fn() -> bool) {
    for _ in 0..2_000 {
        if done() {
            return;
        }
        corio::sleep(Duration::from_millis(1)).await;
    }
}

async fn settle() {
    for _ in 0..3 {
        corio::yield_now().await;
    }
    corio::sleep(Duration::from_millis(5)).await;
}

#[test]
fn a_panicking_callback_reaches_the_handler_and_the_loop_goes_on() {
    corio::run(async {
        let handle = corio::get_running_loop();
        let seen = record(&handle);
        let ran_after = Arc::new(AtomicBool::new(false));
        handle.call_soon(|| panic!("soon failed"));
        handle.call_later(Duration::from_millis(1), || panic!("later failed"));
        let flag = ran_after.clone();
        handle.call_later(Duration::from_millis(2), move || {
            flag.store(true, Ordering::SeqCst)
        });
        until(|| seen.lock().unwrap().len() == 2 && ran_after.load(Ordering::SeqCst)).await;
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert!(seen
            .iter()
            .all(|e| e.kind() == LoopErrorKind::CallbackPanicked));
        // (Under workers the two callbacks may run in either order.)
        let mut panics: Vec<_> = seen.iter().map(|e| e.panic_message().unwrap()).collect();
        panics.sort_unstable();
        assert_eq!(panics, ["later failed", "soon failed"]);
        let soon = seen
            .iter()
            .find(|e| e.panic_message() == Some("soon failed"))
            .unwrap();
        let location = soon.location().expect("a callback has a location");
        assert!(
            location.file().ends_with("exception_handler.rs"),
            "{location}"
        );
        assert!(soon.message().contains("soon failed"), "{soon}");
        assert!(ran_after.load(Ordering::SeqCst));
    });
}

#[test]
fn a_task_panic_never_retrieved_reaches_the_handler() {
    corio::run(async {
        let handle = corio::get_running_loop();
        let seen = record(&handle);
        let task = corio::task::Builder::new()
            .name("doomed")
            .create(async { panic!("nobody looks") });
        let id = task.id();
        drop(task); // detached: its panic is never retrieved
        until(|| !seen.lock().unwrap().is_empty()).await;
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].kind(), LoopErrorKind::TaskPanicNeverRetrieved);
        assert_eq!(seen[0].task_id(), Some(id));
        assert_eq!(seen[0].task_name(), Some("doomed"));
        assert_eq!(seen[0].panic_message(), Some("nobody looks"));
    });
}

#[test]
fn a_retrieved_task_panic_does_not_reach_the_handler() {
    corio::run(async {
        let seen = record(&corio::get_running_loop());
        let task = corio::create_task(async { panic!("looked at") });
        assert!(task.await.unwrap_err().is_panic());
        settle().await;
        assert!(seen.lock().unwrap().is_empty());
    });
}

#[test]
fn a_panicking_handler_is_logged_and_the_loop_goes_on() {
    corio::run(async {
        let handle = corio::get_running_loop();
        let calls = Arc::new(Mutex::new(0));
        let count = calls.clone();
        handle.set_exception_handler(move |_| {
            *count.lock().unwrap() += 1;
            panic!("the handler itself failed");
        });
        handle.call_soon(|| panic!("first"));
        handle.call_soon(|| panic!("second"));
        until(|| *calls.lock().unwrap() == 2).await;
        assert_eq!(*calls.lock().unwrap(), 2);
    });
}

#[test]
fn call_exception_handler_hands_over_a_reported_error_and_clear_restores_the_default() {
    corio::run(async {
        let handle = corio::get_running_loop();
        let seen = record(&handle);
        handle.call_exception_handler(LoopError::new("disk nearly full"));
        handle.clear_exception_handler();
        handle.call_exception_handler(LoopError::new("to the default handler"));
        handle.call_soon(|| panic!("also to the default handler"));
        settle().await;
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].kind(), LoopErrorKind::Reported);
        assert_eq!(seen[0].message(), "disk nearly full");
    });
}

#[test]
fn closing_the_loop_drops_a_handler_that_holds_the_loop() {
    struct DropFlag(Arc<AtomicBool>);
    impl Drop for DropFlag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let mut runner = corio::Runner::new();
    let handle = runner.handle();
    let guard = DropFlag(dropped.clone());
    let held = handle.clone();
    handle.set_exception_handler(move |_| {
        let _ = (&guard, &held);
    });
    runner.run(async {});
    assert!(!dropped.load(Ordering::SeqCst));
    runner.close();
    assert!(dropped.load(Ordering::SeqCst));
}

#[test]
fn under_workers_errors_from_any_thread_reach_the_handler() {
    let mut runner = corio::Runner::builder().workers(2).build().unwrap();
    let seen = record(&runner.handle());
    let log = seen.clone();
    runner.run(async move {
        for i in 0..8 {
            drop(corio::create_task(async move { panic!("worker task {i}") }));
        }
        let handle = corio::get_running_loop();
        handle.call_soon(|| panic!("a callback"));
        // Whenever the workers get to them (slow under valgrind).
        until(|| log.lock().unwrap().len() >= 9).await;
    });
    let seen = seen.lock().unwrap();
    let tasks = seen
        .iter()
        .filter(|e| e.kind() == LoopErrorKind::TaskPanicNeverRetrieved)
        .count();
    let callbacks = seen
        .iter()
        .filter(|e| e.kind() == LoopErrorKind::CallbackPanicked)
        .count();
    assert_eq!((tasks, callbacks), (8, 1));
}
