//! Unit tests of `Semaphore` and `BoundedSemaphore`: counting, asyncio's
//! release semantics, FIFO fairness with multi-permit requests, cancel
//! safety, owned and forgotten permits, the bounded overflow error.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::lock_support::{rt, Probe};
use corio_sync::{BoundedSemaphore, BoundedSemaphoreOverflow, Semaphore};

#[test]
fn counts_and_release_past_initial() {
    let sem = Semaphore::new(2);
    assert_eq!(sem.available(), 2);
    assert!(!sem.is_locked());
    let a = sem.try_acquire().unwrap();
    let b = sem.try_acquire().unwrap();
    assert!(sem.try_acquire().is_none());
    assert!(sem.is_locked());
    assert_eq!(sem.available(), 0);
    drop(a);
    assert_eq!(sem.available(), 1);
    drop(b);
    // asyncio: release() adds a permit even past the initial count.
    sem.release();
    assert_eq!(sem.available(), 3);
    sem.add_permits(2);
    assert_eq!(sem.available(), 5);
    assert!(sem.try_acquire_many(6).is_none());
    let five = sem.try_acquire_many(5).unwrap();
    assert_eq!(five.num_permits(), 5);
    assert!(sem.is_locked());
    drop(five);
    assert_eq!(Semaphore::default().available(), 1);
}

#[test]
fn acquire_many_zero_is_immediate() {
    let sem = Semaphore::new(0);
    let mut p = Probe::new(sem.acquire_many(0));
    assert_eq!(p.ready().num_permits(), 0);
    assert!(sem.try_acquire_many(0).is_some());
}

#[test]
fn is_locked_while_a_waiter_is_queued() {
    let sem = Semaphore::new(1);
    let mut big = Probe::new(sem.acquire_many(2));
    big.pending();
    // A permit is free but the queued request comes first.
    assert_eq!(sem.available(), 1);
    assert!(sem.is_locked());
    assert!(sem.try_acquire().is_none());
    drop(big);
    assert!(!sem.is_locked());
    assert!(sem.try_acquire().is_some());
}

#[test]
fn fifo_order_with_many_waiters() {
    let sem = Semaphore::new(0);
    let mut waiters: Vec<_> = (0..10).map(|_| Probe::new(sem.acquire())).collect();
    for w in &mut waiters {
        w.pending();
    }
    for i in 0..waiters.len() {
        sem.release();
        assert_eq!(waiters[i].wakes(), 1);
        for later in &mut waiters[i + 1..] {
            assert_eq!(later.wakes(), 0);
            later.pending();
        }
        waiters[i].ready().forget();
    }
    assert_eq!(sem.available(), 0);
}

#[test]
fn large_request_at_head_blocks_smaller_ones() {
    let sem = Semaphore::new(1);
    let mut big = Probe::new(sem.acquire_many(3));
    let mut small = Probe::new(sem.acquire());
    big.pending();
    // One permit is free, but the head wants three: the small one waits.
    small.pending();
    assert!(sem.try_acquire().is_none());
    sem.release();
    assert_eq!(big.wakes(), 0);
    sem.release();
    assert_eq!(big.wakes(), 1);
    assert_eq!(small.wakes(), 0);
    let permits = big.ready();
    assert_eq!(sem.available(), 0);
    drop(permits);
    assert_eq!(small.wakes(), 1);
    drop(small.ready());
    assert_eq!(sem.available(), 3);
}

#[test]
fn request_larger_than_initial_waits_for_releases() {
    let sem = Semaphore::new(2);
    let mut p = Probe::new(sem.acquire_many(5));
    p.pending();
    sem.release();
    sem.release();
    assert_eq!(p.wakes(), 0);
    sem.release();
    assert_eq!(p.wakes(), 1);
    let permits = p.ready();
    assert_eq!(permits.num_permits(), 5);
    drop(permits);
    assert_eq!(sem.available(), 5);
}

#[test]
fn one_release_wakes_several_small_waiters() {
    let sem = Semaphore::new(0);
    let mut a = Probe::new(sem.acquire());
    let mut b = Probe::new(sem.acquire_many(2));
    let mut c = Probe::new(sem.acquire_many(2));
    a.pending();
    b.pending();
    c.pending();
    sem.add_permits(4);
    assert_eq!((a.wakes(), b.wakes(), c.wakes()), (1, 1, 0));
    assert_eq!(sem.available(), 1);
    drop(a.ready());
    assert_eq!(c.wakes(), 1);
    assert_eq!(c.ready().num_permits(), 2); // and dropped at once
    assert_eq!(sem.available(), 2);
    drop(b); // notified, never polled: its two permits come back
    assert_eq!(sem.available(), 4);
}

#[test]
fn release_and_reacquire_does_not_overtake() {
    let sem = Semaphore::new(1);
    let permit = sem.try_acquire().unwrap();
    let mut waiter = Probe::new(sem.acquire());
    waiter.pending();
    drop(permit);
    assert!(sem.try_acquire().is_none());
    let mut again = Probe::new(sem.acquire());
    again.pending();
    drop(waiter.ready());
    drop(again.ready());
    assert_eq!(sem.available(), 1);
}

#[test]
fn dropped_queued_head_unblocks_smaller_waiters_behind() {
    let sem = Semaphore::new(2);
    let mut big = Probe::new(sem.acquire_many(5));
    let mut small = Probe::new(sem.acquire());
    big.pending();
    small.pending();
    drop(big);
    assert_eq!(small.wakes(), 1);
    drop(small.ready());
    assert_eq!(sem.available(), 2);
    assert!(!sem.is_locked());
}

#[test]
fn dropped_notified_waiter_passes_permits_on() {
    let sem = Semaphore::new(0);
    let mut a = Probe::new(sem.acquire_many(2));
    let mut b = Probe::new(sem.acquire());
    a.pending();
    b.pending();
    sem.add_permits(2);
    assert_eq!((a.wakes(), b.wakes()), (1, 0));
    assert_eq!(sem.available(), 0);
    drop(a); // granted two permits, cancelled before taking them
    assert_eq!(b.wakes(), 1);
    assert_eq!(sem.available(), 1);
    drop(b); // granted one, cancelled too: back to the count
    assert_eq!(sem.available(), 2);
    assert!(!sem.is_locked());
}

#[test]
fn forget_and_owned_permits() {
    rt().block_on(async {
        let sem = Arc::new(Semaphore::new(2));
        sem.acquire().await.forget();
        assert_eq!(sem.available(), 1);
        let owned = sem.clone().acquire_owned().await;
        assert_eq!(owned.num_permits(), 1);
        assert_eq!(sem.available(), 0);
        let waiter = {
            let sem = sem.clone();
            tokio::spawn(async move { sem.acquire_many_owned(2).await.num_permits() })
        };
        tokio::task::yield_now().await;
        sem.release();
        tokio::spawn(async move { drop(owned) }).await.unwrap();
        assert_eq!(waiter.await.unwrap(), 2);
        assert_eq!(sem.available(), 2);
        sem.clone().acquire_owned().await.forget();
        assert_eq!(sem.available(), 1);
    });
}

#[test]
fn limits_concurrency() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    let sem = Arc::new(Semaphore::new(3));
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let (sem, running, peak) = (sem.clone(), running.clone(), peak.clone());
                tokio::spawn(async move {
                    for _ in 0..20 {
                        let _permit = sem.acquire().await;
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        assert!(now <= 3);
                        tokio::task::yield_now().await;
                        running.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert_eq!(sem.available(), 3);
    assert!(peak.load(Ordering::SeqCst) <= 3);
}

#[test]
#[should_panic(expected = "at most")]
fn release_past_max_panics() {
    let sem = Semaphore::new(Semaphore::MAX_PERMITS);
    sem.release();
}

#[test]
fn bounded_release_past_initial_is_an_error() {
    let sem = BoundedSemaphore::new(2);
    assert_eq!(sem.bound(), 2);
    assert_eq!(
        sem.release(),
        Err(BoundedSemaphoreOverflow::default_for_test())
    );
    let err = sem.release().unwrap_err();
    assert_eq!(err.to_string(), "BoundedSemaphore released too many times");
    let _: &dyn std::error::Error = &err;
    assert_eq!(sem.available(), 2);
    // Guards give their permits back; releasing by hand while one is held
    // would let the guard's drop overflow later, so it is refused.
    let held = sem.try_acquire().unwrap();
    assert!(sem.release().is_err());
    drop(held);
    assert_eq!(sem.available(), 2);
    // asyncio style: acquire without a guard, release by hand.
    sem.try_acquire_many(2).unwrap().forget();
    assert_eq!(sem.available(), 0);
    assert!(sem.is_locked());
    sem.release().unwrap();
    sem.release().unwrap();
    assert!(sem.release().is_err());
    assert_eq!(sem.available(), 2);
}

#[test]
fn bounded_release_wakes_waiters() {
    rt().block_on(async {
        let sem = Arc::new(BoundedSemaphore::new(1));
        sem.acquire().await.forget();
        let waiter = {
            let sem = sem.clone();
            tokio::spawn(async move {
                let p = sem.clone().acquire_owned().await;
                p.forget();
            })
        };
        tokio::task::yield_now().await;
        sem.release().unwrap();
        waiter.await.unwrap();
        assert_eq!(sem.available(), 0);
        sem.release().unwrap();
        let many = sem.clone().acquire_many_owned(1).await;
        drop(many);
        let many = sem.acquire_many(1).await;
        drop(many);
        assert_eq!(sem.available(), 1);
        assert!(sem.release().is_err());
    });
}

#[test]
fn dropped_bounded_waiters_never_overflow() {
    let sem = BoundedSemaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut a = Probe::new(sem.acquire());
    a.pending();
    drop(held);
    drop(a); // notified then cancelled: the permit goes back
    assert_eq!(sem.available(), 1);
    assert!(sem.release().is_err());
}

#[test]
fn send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let sem = Semaphore::new(1);
    send_sync(&sem);
    send(&sem.acquire());
    send_sync(&sem.try_acquire().unwrap());
    let bounded = Arc::new(BoundedSemaphore::new(1));
    send_sync(&bounded);
    send(&bounded.acquire());
    send_sync(&bounded.clone().try_acquire().unwrap());
    send(&bounded.acquire_owned());
    send(&Arc::new(Semaphore::new(1)).acquire_owned());
}

trait DefaultForTest {
    fn default_for_test() -> Self;
}

impl DefaultForTest for BoundedSemaphoreOverflow {
    fn default_for_test() -> Self {
        BoundedSemaphore::new(0).release().unwrap_err()
    }
}
