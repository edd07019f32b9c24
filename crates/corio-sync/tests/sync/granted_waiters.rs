//! asyncio's rule for waiters that were granted but have not run yet: such
//! a waiter still counts as waiting (in asyncio its future stays in
//! `_waiters` until its task runs), so `is_locked()` is true, `try_acquire`
//! fails and a new `acquire` queues behind it, even with permits free.
//! Checked for `Semaphore`, `BoundedSemaphore` and `Lock`, by hand-polled
//! futures and with real tasks, and a granted waiter that is cancelled
//! before it runs hands its grant on.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use crate::lock_support::{rt, Probe};
use corio_sync::{BoundedSemaphore, Lock, Semaphore};

/// The scenario, polled by hand: `Semaphore(1)`; c1 holds it, c2
/// and c3 queue; two releases grant c2 and c3; c2 runs, releases and
/// acquires again before c3 has run. asyncio queues c2's second acquire
/// behind c3: the order is c1, c2, c3, c2 again.
#[test]
fn reacquire_queues_behind_a_granted_waiter() {
    let sem = Semaphore::new(1);
    let c1 = sem.try_acquire().unwrap();
    let mut c2 = Probe::new(sem.acquire());
    let mut c3 = Probe::new(sem.acquire());
    c2.pending();
    c3.pending();
    drop(c1);
    sem.release();
    assert_eq!((c2.wakes(), c3.wakes()), (1, 1), "both granted");
    drop(c2.ready());
    // c3 was granted but has not run: it still counts as a waiter.
    assert_eq!(sem.available(), 1);
    assert!(sem.is_locked(), "locked while a granted waiter has not run");
    assert!(sem.try_acquire().is_none(), "try_acquire overtook c3");
    let mut again = Probe::new(sem.acquire());
    again.pending();
    assert_eq!(again.wakes(), 0);
    // c3 runs: taking its grant hands the free permit to the queued one.
    let p3 = c3.ready();
    assert_eq!(again.wakes(), 1);
    assert_eq!(sem.available(), 0);
    let p4 = again.ready();
    drop((p3, p4));
    assert_eq!(sem.available(), 2);
    assert!(!sem.is_locked());
    assert!(sem.try_acquire_many(2).is_some());
}

/// The same scenario with real tasks on a FIFO current-thread runtime: the
/// acquisitions happen in the order 1, 2, 3, 4, as in asyncio.
#[test]
fn asyncio_order_with_tasks() {
    let local = tokio::task::LocalSet::new();
    let order = Rc::new(RefCell::new(Vec::new()));
    local.block_on(&rt(), {
        let order = order.clone();
        async move {
            let sem = Rc::new(Semaphore::new(1));
            let c1 = sem.acquire().await;
            order.borrow_mut().push(1);
            let c2 = tokio::task::spawn_local({
                let (sem, order) = (sem.clone(), order.clone());
                async move {
                    let p = sem.acquire().await;
                    order.borrow_mut().push(2);
                    drop(p);
                    let _p = sem.acquire().await;
                    order.borrow_mut().push(4);
                }
            });
            let c3 = tokio::task::spawn_local({
                let (sem, order) = (sem.clone(), order.clone());
                async move {
                    let _p = sem.acquire().await;
                    order.borrow_mut().push(3);
                }
            });
            tokio::task::yield_now().await; // c2 and c3 queue
            drop(c1);
            sem.release();
            c2.await.unwrap();
            c3.await.unwrap();
        }
    });
    assert_eq!(*order.borrow(), [1, 2, 3, 4]);
}

/// `is_locked()` and `try_acquire` with a granted waiter and no queued
/// one: the permit a holder gives back while the granted waiter has not run
/// stays with the semaphore, out of reach of a barging `try_acquire`.
#[test]
fn try_acquire_does_not_overtake_a_granted_waiter() {
    let sem = Semaphore::new(2);
    let held = sem.try_acquire_many(2).unwrap();
    let mut waiter = Probe::new(sem.acquire());
    waiter.pending();
    drop(held); // one permit granted to the waiter, one free
    assert_eq!(waiter.wakes(), 1);
    assert_eq!(sem.available(), 1);
    assert!(sem.is_locked());
    assert!(sem.try_acquire().is_none());
    let p = waiter.ready();
    // Nobody waits any more: the fast paths work again.
    assert!(!sem.is_locked());
    assert!(sem.try_acquire().is_some());
    drop(p);
    assert_eq!(sem.available(), 2);
}

/// A granted waiter cancelled before it runs hands its permit to the
/// waiter queued behind it (asyncio: `_value += 1`, then the `finally` of
/// `acquire` wakes the next one): no permit is lost.
#[test]
fn cancelled_granted_waiter_hands_its_grant_on() {
    let sem = Semaphore::new(1);
    let c1 = sem.try_acquire().unwrap();
    let mut c2 = Probe::new(sem.acquire());
    c2.pending();
    // c1 releases: the permit is granted to c2, which has not run.
    drop(c1);
    // A new acquire queues behind the granted c2.
    let mut c3 = Probe::new(sem.acquire());
    c3.pending();
    assert_eq!(c3.wakes(), 0);
    drop(c2); // cancelled before it ran
    assert_eq!(c3.wakes(), 1, "the grant went on to c3");
    assert_eq!(sem.available(), 0);
    drop(c3.ready());
    assert_eq!(sem.available(), 1);
    assert!(!sem.is_locked());

    // With nobody behind it, the cancelled grant goes back to the count.
    let c1 = sem.try_acquire().unwrap();
    let mut c2 = Probe::new(sem.acquire());
    c2.pending();
    drop(c1);
    assert!(sem.is_locked());
    drop(c2);
    assert_eq!(sem.available(), 1);
    assert!(!sem.is_locked());
    assert!(sem.try_acquire().is_some());
}

/// The same rule for `BoundedSemaphore`, with asyncio-style releases.
#[test]
fn bounded_semaphore_queues_behind_a_granted_waiter() {
    let sem = BoundedSemaphore::new(2);
    sem.try_acquire_many(2).unwrap().forget();
    let mut c2 = Probe::new(sem.acquire());
    let mut c3 = Probe::new(sem.acquire());
    c2.pending();
    c3.pending();
    sem.release().unwrap();
    sem.release().unwrap();
    assert!(sem.release().is_err());
    drop(c2.ready());
    assert!(sem.is_locked());
    assert!(sem.try_acquire().is_none());
    let mut again = Probe::new(sem.acquire());
    again.pending();
    let p3 = c3.ready();
    assert_eq!(again.wakes(), 1);
    drop((p3, again.ready()));
    assert_eq!(sem.available(), 2);
    assert!(sem.release().is_err());
}

/// `Lock`: an unlock hands the lock to the first waiter; until it runs,
/// `try_lock` fails and a new `lock()` queues behind it, as asyncio's
/// `acquire` does. (corio's `is_locked()` is true in that window, where
/// asyncio's `Lock.locked()` is already false; see `Lock::is_locked`.)
#[test]
fn lock_relock_queues_behind_a_handed_off_waiter() {
    let lock = Arc::new(Lock::new(Vec::new()));
    let mut g1 = lock.try_lock().unwrap();
    g1.push(1);
    let mut c2 = Probe::new(lock.lock());
    let mut c3 = Probe::new(lock.lock());
    c2.pending();
    c3.pending();
    drop(g1); // handed to c2
    assert!(lock.is_locked());
    assert!(lock.try_lock().is_none());
    let mut g2 = c2.ready();
    g2.push(2);
    drop(g2); // handed to c3, which has not run
    assert!(lock.is_locked());
    assert!(lock.try_lock().is_none());
    let mut again = Probe::new(lock.lock());
    again.pending();
    c3.ready().push(3);
    again.ready().push(4);
    assert_eq!(*lock.try_lock().unwrap(), [1, 2, 3, 4]);
}
