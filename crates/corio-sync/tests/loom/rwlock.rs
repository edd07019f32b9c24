//! loom models of `RwLock` and `CancellationToken`: a writer's unlock
//! handing off to a reader and a writer that queue concurrently (no lost
//! wake-up, the reader never sees half a write), a queued writer dropped
//! while a reader queues behind it and the holder unlocks (the reader gets
//! in), and a cancel racing a wait and a child token's creation (every
//! waiter wakes, children born before or after are cancelled).

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Wake, Waker};

use corio_sync::{CancellationToken, RwLock};
use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;

struct Noop;

impl Wake for Noop {
    fn wake(self: std::sync::Arc<Self>) {}
}

/// Polls `fut` once with a no-op waker, then drops it: a waiter cancelled
/// at an arbitrary point.
fn poll_once_then_drop<F: Future>(fut: F) {
    let mut fut = pin!(fut);
    let waker = Waker::from(std::sync::Arc::new(Noop));
    if let Poll::Pending = fut.as_mut().poll(&mut Context::from_waker(&waker)) {
        thread::yield_now();
    }
}

#[test]
fn rwlock_unlock_hands_off_to_a_reader_and_a_writer() {
    loom::model(|| {
        let lock = Arc::new(RwLock::new((0u32, 0u32)));
        let guard = lock.try_write().unwrap();
        let reader = {
            let lock = lock.clone();
            thread::spawn(move || {
                let r = block_on(lock.read());
                assert_eq!(r.0, r.1, "never half a write");
            })
        };
        let writer = {
            let lock = lock.clone();
            thread::spawn(move || {
                let mut w = block_on(lock.write());
                w.0 += 1;
                w.1 += 1;
            })
        };
        drop(guard);
        reader.join().unwrap();
        writer.join().unwrap();
        assert_eq!(*lock.try_read().unwrap(), (1, 1));
    });
}

#[test]
fn rwlock_dropped_writer_lets_the_reader_behind_it_in() {
    loom::model(|| {
        let lock = Arc::new(RwLock::new(0u32));
        let held = lock.try_read().unwrap();
        let dropped = {
            let lock = lock.clone();
            thread::spawn(move || poll_once_then_drop(lock.write()))
        };
        let reader = {
            let lock = lock.clone();
            thread::spawn(move || *block_on(lock.read()))
        };
        drop(held);
        dropped.join().unwrap();
        assert_eq!(reader.join().unwrap(), 0);
        assert!(lock.try_write().is_some(), "every permit came back");
    });
}

#[test]
fn cancel_races_a_wait_and_a_new_child() {
    loom::model(|| {
        let token = CancellationToken::new();
        let waiter = {
            let child = token.child_token();
            thread::spawn(move || block_on(child.cancelled()))
        };
        let spawner = {
            let token = token.clone();
            thread::spawn(move || {
                let late = token.child_token();
                block_on(late.cancelled());
            })
        };
        token.cancel();
        waiter.join().unwrap();
        spawner.join().unwrap();
    });
}
