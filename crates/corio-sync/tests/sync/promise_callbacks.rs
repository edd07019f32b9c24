//! Promise's done-callbacks and errors: `set_exception` and `cancel_with`
//! compete with `set_result` (the first wins); callbacks run once each, in
//! the order added, unlocked (a callback may re-enter the promise, complete
//! another one, or drop the last handle), at once when added late, and a
//! panicking callback neither stops the others nor loses the outcome.

use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use crate::signal_support::{poll_once, poll_with, recorder};
use corio_sync::{Cancelled, Promise, PromiseError};

type Log = Arc<Mutex<Vec<String>>>;

fn log() -> Log {
    Arc::default()
}

fn entries(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

/// A callback that logs `name` and the outcome it saw.
fn logging<T: std::fmt::Debug>(
    log: &Log,
    name: &'static str,
) -> impl FnOnce(&Result<T, PromiseError>) + Send + 'static {
    let log = Arc::clone(log);
    move |outcome| log.lock().unwrap().push(format!("{name}={outcome:?}"))
}

#[test]
fn set_exception_fails_every_waiter_with_the_same_error() {
    let promise: Promise<u32> = Promise::new();
    let (w, r) = recorder();
    let mut early = promise.wait();
    assert!(poll_with(&mut early, &w).is_pending());
    let err = io::Error::new(io::ErrorKind::ConnectionRefused, "refused");
    assert!(promise.set_exception(err).is_ok());
    assert_eq!(r.wakes(), 1);
    assert!(promise.is_done());
    assert!(!promise.is_cancelled());

    let Poll::Ready(Err(seen)) = poll_with(&mut early, &w) else {
        panic!("the waiter must see the error");
    };
    assert_eq!(seen.to_string(), "refused");
    assert_eq!(
        seen.downcast_ref::<io::Error>().unwrap().kind(),
        io::ErrorKind::ConnectionRefused
    );
    // Late waiters and try_result share the very same error.
    assert_eq!(
        poll_once(&mut promise.wait()),
        Poll::Ready(Err(seen.clone()))
    );
    assert_eq!(promise.try_result(), Some(Err(seen.clone())));
    assert!(format!("{promise:?}").contains("error"));
    // The first outcome wins: later ones are handed back untouched.
    assert_eq!(promise.set_result(1), Err(1));
    let refused = promise.set_exception("second").unwrap_err();
    assert_eq!(refused.to_string(), "second");
    assert!(!promise.cancel());
    assert!(!promise.cancel_with("late"));
    assert_eq!(promise.try_result(), Some(Err(seen)));
}

#[test]
fn a_result_set_first_makes_set_exception_and_cancel_fail() {
    let promise = Promise::new();
    promise.set_result("v").unwrap();
    assert!(promise.set_exception("boom").is_err());
    assert!(!promise.cancel_with("no"));
    assert_eq!(promise.try_result(), Some(Ok("v")));
}

#[test]
fn promise_errors_convert_compare_and_display() {
    let boxed: Box<dyn std::error::Error + Send + Sync> = "boxed".into();
    let from_box = PromiseError::from(boxed);
    assert_eq!(from_box.to_string(), "boxed");
    assert_eq!(from_box, from_box.clone(), "clones share the error");
    assert_ne!(
        from_box,
        PromiseError::from("boxed"),
        "distinct errors differ"
    );
    assert_ne!(from_box, Cancelled);
    assert!(from_box.failure().is_some());
    assert_eq!(from_box.cancel_message(), None);

    let cancelled = PromiseError::Cancelled {
        message: Some("bye".into()),
    };
    assert_eq!(cancelled, Cancelled);
    assert!(cancelled.failure().is_none());
    assert_eq!(cancelled.to_string(), "promise cancelled: bye");
    assert_ne!(cancelled, PromiseError::from(Cancelled), "messages differ");

    // Transparent: the source chain is the failure's own.
    #[derive(Debug)]
    struct Outer(io::Error);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("outer")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    let outer = PromiseError::failed(Outer(io::Error::other("root cause")));
    assert_eq!(outer.to_string(), "outer");
    let source = std::error::Error::source(&outer).unwrap();
    assert_eq!(source.to_string(), "root cause");
    assert!(PromiseError::failed(std::fmt::Error)
        .downcast_ref::<std::fmt::Error>()
        .is_some());
}

#[test]
fn set_exception_with_a_cancelled_error_cancels() {
    let promise: Promise<()> = Promise::new();
    promise.set_exception(Cancelled).unwrap();
    assert!(promise.is_cancelled());
    assert_eq!(promise.try_result().unwrap().unwrap_err(), Cancelled);
}

#[test]
fn callbacks_run_once_each_in_order_after_the_waiters_are_woken() {
    let log = log();
    let promise: Promise<u8> = Promise::new();
    let (w, r) = recorder();
    let mut waiter = promise.wait();
    assert!(poll_with(&mut waiter, &w).is_pending());
    promise.add_done_callback(logging(&log, "a"));
    promise.add_done_callback({
        let log = Arc::clone(&log);
        let r = Arc::clone(&r);
        move |_: &Result<u8, PromiseError>| {
            log.lock()
                .unwrap()
                .push(format!("b saw {} wake", r.wakes()))
        }
    });
    promise.add_done_callback(logging(&log, "c"));
    assert!(entries(&log).is_empty(), "nothing runs while pending");
    assert!(format!("{promise:?}").contains("callbacks: 3"));

    promise.set_result(4).unwrap();
    assert_eq!(entries(&log), ["a=Ok(4)", "b saw 1 wake", "c=Ok(4)"]);
    assert!(format!("{promise:?}").contains("callbacks: 0"));
    // Completing again runs nothing again.
    assert!(!promise.cancel());
    assert_eq!(entries(&log).len(), 3);
    // Added after completion: runs at once, in the caller.
    promise.add_done_callback(logging(&log, "late"));
    assert_eq!(entries(&log)[3], "late=Ok(4)");
}

#[test]
fn cancel_with_passes_its_message_to_callbacks() {
    let log = log();
    let promise: Promise<()> = Promise::new();
    promise.add_done_callback(logging(&log, "cb"));
    assert!(promise.cancel_with("stop"));
    assert_eq!(
        entries(&log),
        [r#"cb=Err(Cancelled { message: Some("stop") })"#]
    );
    assert!(promise.is_cancelled());
}

#[test]
fn a_callback_added_by_a_callback_runs_after_the_queued_ones() {
    // asyncio schedules each callback with call_soon, so one added from a
    // running callback runs after those already scheduled: a, b, then c.
    let log = log();
    let promise: Arc<Promise<u8>> = Arc::new(Promise::new());
    promise.add_done_callback({
        let (log, promise) = (Arc::clone(&log), Arc::clone(&promise));
        move |_| {
            log.lock().unwrap().push("a".into());
            promise.add_done_callback(logging(&log, "c"));
            log.lock().unwrap().push("a returns".into());
        }
    });
    promise.add_done_callback(logging(&log, "b"));
    promise.set_result(1).unwrap();
    assert_eq!(entries(&log), ["a", "a returns", "b=Ok(1)", "c=Ok(1)"]);
}

#[test]
fn a_callback_may_complete_another_promise_and_read_its_own() {
    let log = log();
    let first: Arc<Promise<u8>> = Arc::new(Promise::new());
    let second: Arc<Promise<u8>> = Arc::new(Promise::new());
    second.add_done_callback(logging(&log, "second"));
    first.add_done_callback({
        let (first, second) = (Arc::clone(&first), Arc::clone(&second));
        move |outcome| {
            // The promise's own lock is free: it can be read here.
            assert!(first.is_done());
            assert_eq!(first.try_result(), Some(outcome.clone()));
            second.set_result(outcome.clone().unwrap() + 1).unwrap();
        }
    });
    first.add_done_callback(logging(&log, "first"));
    first.set_result(1).unwrap();
    // Documented difference from asyncio: the nested completion runs its
    // callbacks at once, before the first promise's later callbacks.
    assert_eq!(entries(&log), ["second=Ok(2)", "first=Ok(1)"]);
}

#[test]
fn a_callback_dropping_the_last_other_handle_breaks_the_cycle() {
    let promise: Arc<Promise<String>> = Arc::new(Promise::new());
    let (weak, in_callback) = (Arc::downgrade(&promise), Arc::clone(&promise));
    promise.add_done_callback(move |_| drop(in_callback));
    assert_eq!(
        Arc::strong_count(&promise),
        2,
        "the callback holds a handle"
    );
    promise.set_result("x".into()).unwrap();
    assert_eq!(Arc::strong_count(&promise), 1);
    drop(promise);
    assert!(weak.upgrade().is_none(), "nothing leaked");
}

#[test]
fn a_pending_promise_drops_its_callbacks_unrun() {
    let log = log();
    let dropped = Arc::new(());
    let promise: Promise<u8> = Promise::new();
    promise.add_done_callback({
        let (log, dropped) = (Arc::clone(&log), Arc::clone(&dropped));
        move |_| {
            let _keep = dropped;
            log.lock().unwrap().push("ran".into());
        }
    });
    assert_eq!(Arc::strong_count(&dropped), 2);
    drop(promise);
    assert_eq!(Arc::strong_count(&dropped), 1, "the callback was dropped");
    assert!(entries(&log).is_empty());
}

#[test]
fn a_panicking_callback_runs_the_rest_then_panics_the_completer() {
    let log = log();
    let promise: Arc<Promise<u8>> = Arc::new(Promise::new());
    promise.add_done_callback(logging(&log, "before"));
    promise.add_done_callback(|_| panic!("callback failed"));
    promise.add_done_callback(|_| panic!("second failure"));
    promise.add_done_callback(logging(&log, "after"));
    let caught = panic::catch_unwind(AssertUnwindSafe(|| promise.set_result(9)));
    let payload = caught.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"callback failed"));
    assert_eq!(entries(&log), ["before=Ok(9)", "after=Ok(9)"]);
    assert_eq!(promise.try_result(), Some(Ok(9)), "the result stays set");
    // The promise is not stuck draining: a late callback runs at once.
    promise.add_done_callback(logging(&log, "late"));
    assert_eq!(entries(&log).len(), 3);
}

#[test]
fn callbacks_race_with_completion_across_threads() {
    for _ in 0..200 {
        let promise: Arc<Promise<u32>> = Arc::new(Promise::new());
        let count = Arc::new(Mutex::new(Vec::new()));
        let adders: Vec<_> = (0..4)
            .map(|i| {
                let (promise, count) = (Arc::clone(&promise), Arc::clone(&count));
                std::thread::spawn(move || {
                    for j in 0..5 {
                        let count = Arc::clone(&count);
                        promise.add_done_callback(move |outcome| {
                            count.lock().unwrap().push((i, j, outcome.clone()))
                        });
                    }
                })
            })
            .collect();
        promise.set_result(3).unwrap();
        for adder in adders {
            adder.join().unwrap();
        }
        let seen = count.lock().unwrap().clone();
        assert_eq!(seen.len(), 20, "each callback ran exactly once");
        assert!(seen.iter().all(|(_, _, outcome)| *outcome == Ok(3)));
        // Each thread's callbacks ran in the order that thread added them.
        for i in 0..4 {
            let order: Vec<_> = seen.iter().filter(|c| c.0 == i).map(|c| c.1).collect();
            assert_eq!(order, [0, 1, 2, 3, 4]);
        }
    }
}

#[test]
fn a_panicking_waker_still_lets_the_callbacks_run() {
    struct PanicWaker;
    impl std::task::Wake for PanicWaker {
        fn wake(self: Arc<Self>) {
            panic!("waker failed");
        }
    }
    let log = log();
    let promise: Promise<u8> = Promise::new();
    let waker = std::task::Waker::from(Arc::new(PanicWaker));
    let mut waiter = promise.wait();
    assert!(poll_with(&mut waiter, &waker).is_pending());
    promise.add_done_callback(logging(&log, "cb"));
    let caught = panic::catch_unwind(AssertUnwindSafe(|| promise.set_result(2)));
    assert_eq!(
        caught.unwrap_err().downcast_ref::<&str>(),
        Some(&"waker failed")
    );
    assert_eq!(entries(&log), ["cb=Ok(2)"]);
    promise.add_done_callback(logging(&log, "late"));
    assert_eq!(entries(&log).len(), 2, "not stuck draining");
}
