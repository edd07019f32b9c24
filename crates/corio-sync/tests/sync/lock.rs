//! Unit tests of `Lock`: data access, fairness (FIFO, no barging), cancel
//! safety (dropped queued and dropped notified waiters), owned guards.

use std::sync::Arc;

use crate::lock_support::{rt, Probe};
use corio_sync::{Lock, LockGuard, OwnedLockGuard};

#[test]
fn lock_try_lock_is_locked_into_inner_get_mut() {
    let mut lock = Lock::new(1);
    assert!(!lock.is_locked());
    *lock.get_mut() += 1;
    {
        let mut guard = lock.try_lock().expect("free");
        assert!(lock.is_locked());
        assert!(lock.try_lock().is_none());
        *guard += 1;
        assert_eq!(format!("{guard:?}"), "3");
        assert_eq!(format!("{lock:?}"), "Lock { data: <locked> }");
    }
    assert!(!lock.is_locked());
    assert_eq!(format!("{lock:?}"), "Lock { data: 3 }");
    rt().block_on(async {
        *lock.lock().await *= 10;
    });
    assert_eq!(lock.into_inner(), 30);
}

#[test]
fn guards_data_across_awaits() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    let counter = Arc::new(Lock::new(0u64));
    rt.block_on(async {
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let counter = counter.clone();
                tokio::spawn(async move {
                    for _ in 0..200 {
                        let mut guard = counter.lock().await;
                        let read = *guard;
                        tokio::task::yield_now().await;
                        *guard = read + 1;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert_eq!(*counter.try_lock().unwrap(), 16 * 200);
}

#[test]
fn fifo_order_with_many_waiters() {
    let lock = Lock::new(Vec::new());
    let guard = lock.try_lock().unwrap();
    let mut waiters: Vec<_> = (0..20).map(|_| Probe::new(lock.lock())).collect();
    for w in &mut waiters {
        w.pending();
    }
    drop(guard);
    for i in 0..waiters.len() {
        // Only the head was woken, exactly once; the rest still wait.
        assert_eq!(waiters[i].wakes(), 1, "waiter {i}");
        for later in &mut waiters[i + 1..] {
            assert_eq!(later.wakes(), 0);
            later.pending();
        }
        let mut guard = waiters[i].ready();
        guard.push(i);
    }
    drop(waiters);
    assert_eq!(*lock.try_lock().unwrap(), (0..20).collect::<Vec<_>>());
}

#[test]
fn fifo_order_with_tasks() {
    rt().block_on(async {
        let lock = Arc::new(Lock::new(Vec::new()));
        let guard = lock.lock().await;
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let lock = lock.clone();
                tokio::spawn(async move {
                    lock.lock().await.push(i);
                })
            })
            .collect();
        // Let every task queue up, in spawn order.
        for _ in 0..5 {
            tokio::task::yield_now().await;
        }
        drop(guard);
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*lock.lock().await, (0..50).collect::<Vec<_>>());
    });
}

#[test]
fn unlock_then_relock_does_not_overtake_a_queued_waiter() {
    let lock = Lock::new(0);
    let guard = lock.try_lock().unwrap();
    let mut waiter = Probe::new(lock.lock());
    waiter.pending();
    drop(guard);
    // The lock went straight to the waiter: still locked, no barging.
    assert!(lock.is_locked());
    assert!(lock.try_lock().is_none());
    let mut relock = Probe::new(lock.lock());
    relock.pending();
    let guard = waiter.ready();
    drop(guard);
    assert_eq!(relock.wakes(), 1);
    drop(relock.ready());
}

#[test]
fn unlock_then_relock_with_tasks() {
    rt().block_on(async {
        let lock = Arc::new(Lock::new(Vec::new()));
        let a = lock.clone();
        let hog = tokio::spawn(async move {
            for _ in 0..3 {
                let mut guard = a.lock().await;
                guard.push("hog");
                for _ in 0..3 {
                    tokio::task::yield_now().await; // let the other task queue
                }
            }
        });
        tokio::task::yield_now().await;
        let b = lock.clone();
        let other = tokio::spawn(async move { b.lock().await.push("other") });
        hog.await.unwrap();
        other.await.unwrap();
        // The hog re-locks right after unlocking but cannot overtake.
        assert_eq!(*lock.lock().await, ["hog", "other", "hog", "hog"]);
    });
}

#[test]
fn try_lock_fails_while_a_waiter_is_queued() {
    let lock = Lock::new(());
    let guard = lock.try_lock().unwrap();
    let mut waiter = Probe::new(lock.lock());
    waiter.pending();
    drop(guard);
    assert!(lock.try_lock().is_none());
    drop(waiter.ready());
    assert!(lock.try_lock().is_some());
}

#[test]
fn dropped_queued_waiter_leaves_no_trace() {
    let lock = Lock::new(());
    let guard = lock.try_lock().unwrap();
    let mut a = Probe::new(lock.lock());
    let mut b = Probe::new(lock.lock());
    let mut c = Probe::new(lock.lock());
    a.pending();
    b.pending();
    c.pending();
    drop(b);
    drop(a);
    drop(guard);
    assert_eq!(c.wakes(), 1);
    drop(c.ready());
    assert!(!lock.is_locked());
    // The only waiter dropped: unlocking then frees the lock.
    let guard = lock.try_lock().unwrap();
    let mut d = Probe::new(lock.lock());
    d.pending();
    drop(d);
    drop(guard);
    assert!(!lock.is_locked());
    assert!(lock.try_lock().is_some());
}

#[test]
fn dropped_notified_waiter_passes_the_lock_on() {
    let lock = Lock::new(0);
    let guard = lock.try_lock().unwrap();
    let mut a = Probe::new(lock.lock());
    let mut b = Probe::new(lock.lock());
    a.pending();
    b.pending();
    drop(guard);
    assert_eq!(a.wakes(), 1);
    assert_eq!(b.wakes(), 0);
    // `a` was handed the lock but is cancelled before it runs.
    drop(a);
    assert_eq!(b.wakes(), 1);
    *b.ready() += 1;
    // Handed to a waiter that is dropped, with nobody behind: unlocked.
    let guard = lock.try_lock().unwrap();
    let mut c = Probe::new(lock.lock());
    c.pending();
    drop(guard);
    assert!(lock.is_locked());
    drop(c);
    assert!(!lock.is_locked());
    assert_eq!(*lock.try_lock().unwrap(), 1);
}

#[test]
fn newest_waker_is_woken() {
    let lock = Lock::new(());
    let guard = lock.try_lock().unwrap();
    let mut first = Probe::new(lock.lock());
    first.pending();
    // Re-poll the same future with another waker: that one must be woken.
    let other = Arc::new(crate::lock_support::CountingWaker::default());
    let waker = std::task::Waker::from(other.clone());
    assert!(first.poll_with(&waker).is_pending());
    drop(guard);
    assert_eq!(first.wakes(), 0);
    assert_eq!(other.wakes(), 1);
    assert!(first.poll_with(&waker).is_ready());
}

#[test]
fn owned_guards() {
    rt().block_on(async {
        let lock = Arc::new(Lock::new(String::new()));
        let mut guard = lock.clone().lock_owned().await;
        assert!(lock.is_locked());
        assert!(lock.clone().try_lock_owned().is_none());
        assert!(Arc::ptr_eq(OwnedLockGuard::source(&guard), &lock));
        let waiter = {
            let lock = lock.clone();
            tokio::spawn(async move { lock.lock().await.push('b') })
        };
        tokio::task::yield_now().await;
        tokio::spawn(async move {
            guard.push('a');
        })
        .await
        .unwrap();
        waiter.await.unwrap();
        let mut guard = lock.clone().try_lock_owned().unwrap();
        guard.push('c');
        assert_eq!(format!("{guard}"), "abc");
        drop(guard);
        assert_eq!(*lock.lock().await, "abc");
        let guard = lock.lock().await;
        assert!(std::ptr::eq(LockGuard::source(&guard), &*lock));
    });
}

#[test]
fn lock_future_dropped_before_polling_is_harmless() {
    let lock = Lock::new(());
    drop(lock.lock());
    assert!(!lock.is_locked());
}

#[test]
#[should_panic(expected = "after completion")]
fn polling_after_completion_panics() {
    let lock = Lock::new(());
    let mut probe = Probe::new(lock.lock());
    let guard = probe.ready();
    drop(guard);
    // The async fn's own state machine panics on a second poll too.
    let _ = probe.poll();
}

#[test]
fn send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let lock = Lock::new(0);
    send_sync(&lock);
    let fut = lock.lock();
    send(&fut);
    drop(fut);
    let guard = lock.try_lock().unwrap();
    send_sync(&guard);
    drop(guard);
    let arc = Arc::new(Lock::new(0));
    let owned = arc.clone().try_lock_owned().unwrap();
    send_sync(&owned);
    send(&arc.lock_owned());
}
