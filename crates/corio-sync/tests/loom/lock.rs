//! loom models of `Lock` and `Semaphore`: the one-CAS fast paths racing
//! with the wait-list slow path (an unlock or release racing with a new
//! waiter enqueueing: no lost wake-up), and cancelled waiters (dropped while
//! queued, or after being handed the lock/permits) racing with unlocks, and
//! asyncio's rule that a granted waiter counts until it runs: a release and
//! re-acquire racing with it queues behind it, and its taking of the grant
//! hands freed permits on (no lost wake-up, no lost permit).

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Wake, Waker};

use corio_sync::{Lock, Semaphore};
use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;

struct Noop;

impl Wake for Noop {
    fn wake(self: std::sync::Arc<Self>) {}
}

fn noop_waker() -> Waker {
    Waker::from(std::sync::Arc::new(Noop))
}

/// Polls `fut` once with a no-op waker, then drops it: a waiter cancelled at
/// an arbitrary point. Returns whether it was ready.
fn poll_once_then_drop<F: Future>(fut: F) -> bool {
    let mut fut = pin!(fut);
    let waker = noop_waker();
    matches!(
        fut.as_mut().poll(&mut Context::from_waker(&waker)),
        Poll::Ready(_)
    )
}

#[test]
fn lock_two_threads_no_lost_wakeup() {
    loom::model(|| {
        let lock = Arc::new(Lock::new(0usize));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let lock = lock.clone();
                thread::spawn(move || {
                    *block_on(lock.lock()) += 1;
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert!(!lock.is_locked());
        assert_eq!(*lock.try_lock().unwrap(), 2);
    });
}

#[test]
fn lock_unlock_races_with_dropped_waiter() {
    loom::model(|| {
        let lock = Arc::new(Lock::new(0usize));
        let guard = lock.try_lock().unwrap();
        let cancelled = {
            let lock = lock.clone();
            thread::spawn(move || {
                if poll_once_then_drop(lock.lock()) {
                    // Got it at once (the unlock came first); the guard was
                    // dropped with the future.
                }
            })
        };
        let waiter = {
            let lock = lock.clone();
            thread::spawn(move || {
                *block_on(lock.lock()) += 1;
            })
        };
        drop(guard);
        cancelled.join().unwrap();
        waiter.join().unwrap();
        // Whether the cancelled waiter was queued, handed the lock, or never
        // queued, the lock ends up free and the other waiter got in.
        assert!(!lock.is_locked());
        assert_eq!(*lock.try_lock().unwrap(), 1);
    });
}

#[test]
fn semaphore_acquire_release_drop_race() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let big = {
            let sem = sem.clone();
            thread::spawn(move || {
                let permits = block_on(sem.acquire_many(2));
                assert_eq!(permits.num_permits(), 2);
            })
        };
        let cancelled = {
            let sem = sem.clone();
            thread::spawn(move || {
                poll_once_then_drop(sem.acquire());
            })
        };
        sem.release();
        big.join().unwrap();
        cancelled.join().unwrap();
        // No permit lost or duplicated.
        assert_eq!(sem.available(), 2);
        assert!(!sem.is_locked());
    });
}

#[test]
fn semaphore_fast_release_races_with_enqueue() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let waiter = {
            let sem = sem.clone();
            thread::spawn(move || {
                block_on(sem.acquire()).forget();
            })
        };
        let other = {
            let sem = sem.clone();
            thread::spawn(move || {
                if let Some(p) = sem.try_acquire() {
                    drop(p);
                }
                sem.release();
            })
        };
        waiter.join().unwrap();
        other.join().unwrap();
        assert_eq!(sem.available(), 0);
    });
}

#[test]
fn semaphore_reacquire_queues_behind_granted_waiter() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        // Releases, re-acquires: its second acquire may queue behind `b`
        // while `b` is granted but has not taken its permit yet.
        let a = {
            let sem = sem.clone();
            thread::spawn(move || {
                drop(block_on(sem.acquire()));
                block_on(sem.acquire()).forget();
            })
        };
        let b = {
            let sem = sem.clone();
            thread::spawn(move || {
                block_on(sem.acquire()).forget();
            })
        };
        sem.release();
        sem.release();
        a.join().unwrap();
        b.join().unwrap();
        // Both got their permits (no lost wake-up), none left over.
        assert_eq!(sem.available(), 0);
        sem.release();
        assert!(!sem.is_locked());
    });
}

#[test]
fn semaphore_granted_waiter_cancelled_hands_grant_on() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let held = sem.try_acquire().unwrap();
        let cancelled = {
            let sem = sem.clone();
            thread::spawn(move || {
                poll_once_then_drop(sem.acquire());
            })
        };
        let waiter = {
            let sem = sem.clone();
            thread::spawn(move || {
                block_on(sem.acquire()).forget();
            })
        };
        drop(held);
        cancelled.join().unwrap();
        waiter.join().unwrap();
        // Whether the cancelled waiter was granted the permit or not, it
        // reached the other waiter: none lost, none duplicated.
        assert_eq!(sem.available(), 0);
        assert!(sem.is_locked());
        assert!(sem.try_acquire().is_none());
        sem.release();
        assert!(!sem.is_locked());
        assert!(sem.try_acquire().is_some());
    });
}
