//! loom models of the signalling primitives: Event, Promise, Barrier and
//! Condition.
//!
//! Each model races a completion (`set`, `set_result`, the last party of a
//! barrier) with waiters registering, polling or being dropped on other
//! threads. loom reports a deadlock if a wakeup is ever lost, since a
//! blocked `block_on` then waits forever.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use corio_sync::{Barrier, Cancelled, Condition, Event, Lock, Promise, PromiseError};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

/// Wakes a loom thread parked in [`block_on`].
struct Unparker(thread::Thread);

impl Wake for Unparker {
    fn wake(self: StdArc<Self>) {
        self.0.unpark();
    }
}

/// Drives `fut` to completion on this loom thread, parking while it is
/// pending (loom's own `block_on` needs its `futures` feature).
fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let waker = Waker::from(StdArc::new(Unparker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = fut.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

struct Noop;

impl Wake for Noop {
    fn wake(self: StdArc<Self>) {}
}

fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    let waker = Waker::from(StdArc::new(Noop));
    Pin::new(fut).poll(&mut Context::from_waker(&waker))
}

#[test]
fn event_set_releases_a_waiter_registering_concurrently() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let waiter = {
            let event = Arc::clone(&event);
            thread::spawn(move || block_on(event.wait()))
        };
        event.set();
        waiter.join().unwrap();
        assert!(event.is_set());
    });
}

#[test]
fn event_waiter_dropped_while_set_runs_leaves_no_trace() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let waiter = {
            let event = Arc::clone(&event);
            thread::spawn(move || {
                let mut wait = event.wait();
                let _ = poll_once(&mut wait);
                drop(wait);
            })
        };
        event.set();
        waiter.join().unwrap();
        assert!(format!("{event:?}").contains("waiting: 0"));
        assert!(poll_once(&mut event.wait()).is_ready());
    });
}

#[test]
fn event_set_then_clear_still_releases_an_already_waiting_task() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let mut wait = event.wait();
        assert!(poll_once(&mut wait).is_pending());
        let setter = {
            let event = Arc::clone(&event);
            thread::spawn(move || {
                event.set();
                event.clear();
            })
        };
        // Re-registers this thread's waker, racing with set and clear.
        block_on(wait);
        setter.join().unwrap();
        assert!(!event.is_set());
    });
}

#[test]
fn promise_set_result_races_with_two_waiters() {
    loom::model(|| {
        let promise = Arc::new(Promise::new());
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let promise = Arc::clone(&promise);
                thread::spawn(move || block_on(promise.wait()))
            })
            .collect();
        assert_eq!(promise.set_result(7u32), Ok(()));
        for waiter in waiters {
            assert_eq!(waiter.join().unwrap(), Ok(7));
        }
        assert!(format!("{promise:?}").contains("waiting: 0"));
    });
}

#[test]
fn promise_set_result_races_with_cancel_and_a_waiter() {
    loom::model(|| {
        let promise = Arc::new(Promise::new());
        let waiter = {
            let promise = Arc::clone(&promise);
            thread::spawn(move || block_on(promise.wait()))
        };
        let canceller = {
            let promise = Arc::clone(&promise);
            thread::spawn(move || promise.cancel())
        };
        let set = promise.set_result(1u8).is_ok();
        let cancelled = canceller.join().unwrap();
        assert!(
            set != cancelled,
            "exactly one of set_result and cancel wins"
        );
        let expected = if set {
            Ok(1)
        } else {
            Err(PromiseError::from(Cancelled))
        };
        assert_eq!(waiter.join().unwrap(), expected);
        assert_eq!(promise.try_result(), Some(expected));
    });
}

#[test]
fn promise_done_callback_races_with_set_exception() {
    // Added on one thread while another completes the promise: the callback
    // runs exactly once (on whichever thread), with the error, and a
    // callback it adds runs too.
    loom::model(|| {
        let promise: Arc<Promise<u8>> = Arc::new(Promise::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let adder = {
            let (promise, runs) = (Arc::clone(&promise), Arc::clone(&runs));
            thread::spawn(move || {
                let inner = Arc::clone(&promise);
                promise.add_done_callback(move |outcome| {
                    assert!(outcome.as_ref().is_err_and(|e| e.to_string() == "boom"));
                    runs.fetch_add(1, Ordering::SeqCst);
                    let runs = Arc::clone(&runs);
                    inner.add_done_callback(move |_| {
                        runs.fetch_add(10, Ordering::SeqCst);
                    });
                });
            })
        };
        assert!(promise.set_exception("boom").is_ok());
        adder.join().unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 11);
        assert!(format!("{promise:?}").contains("callbacks: 0"));
    });
}

#[test]
fn barrier_of_two_across_two_threads() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let other = {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || block_on(barrier.wait()).unwrap())
        };
        let mine = block_on(barrier.wait()).unwrap();
        let theirs = other.join().unwrap();
        let mut indices = [mine, theirs];
        indices.sort();
        assert_eq!(indices, [0, 1]);
        assert_eq!(barrier.n_waiting(), 0);
    });
}

#[test]
fn barrier_abort_races_with_a_waiter() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let waiter = {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || block_on(barrier.wait()))
        };
        barrier.abort();
        assert_eq!(waiter.join().unwrap(), Err(corio_sync::BrokenBarrier));
        assert!(barrier.is_broken());
    });
}

#[test]
fn condition_notify_races_with_a_waiter_releasing_the_lock() {
    loom::model(|| {
        let state = Arc::new((Lock::new(false), Condition::new()));
        let waiter = {
            let state = Arc::clone(&state);
            thread::spawn(move || {
                block_on(async {
                    let (lock, ready) = &*state;
                    let guard = lock.lock().await;
                    let guard = ready.wait_for(guard, |flag| *flag).await;
                    assert!(*guard);
                })
            })
        };
        block_on(async {
            let (lock, ready) = &*state;
            *lock.lock().await = true;
            ready.notify(1);
        });
        waiter.join().unwrap();
        assert!(!state.0.is_locked());
        assert_eq!(format!("{:?}", state.1), "Condition { waiting: 0 }");
    });
}
