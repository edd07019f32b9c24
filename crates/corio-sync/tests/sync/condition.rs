//! Condition: wait releases and re-acquires the lock, notify(n) wakes at
//! most n waiters in FIFO order, wait_for re-checks its predicate, and a
//! cancelled waiter never loses a notification nor leaves the lock held.

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::Poll;

use crate::signal_support::{assert_send_sync, poll_once, poll_with, recorder, rt};
use corio_sync::{Condition, Lock};

fn waiting(condition: &Condition) -> String {
    format!("{condition:?}")
}

#[test]
fn condition_and_its_futures_are_send_sync() {
    fn assert_send<F: Send>(_: &F) {}
    assert_send_sync::<Condition>();
    let lock = Lock::new(0);
    let condition = Condition::new();
    let wait = condition.wait(lock.try_lock().unwrap());
    assert_send(&wait);
    drop(wait);
    let wait_for = condition.wait_for(lock.try_lock().unwrap(), |n| *n > 0);
    assert_send(&wait_for);
}

#[test]
fn wait_releases_the_lock_then_reacquires_it() {
    let lock = Lock::new(0);
    let condition = Condition::new();
    let (w, r) = recorder();
    let mut wait = Box::pin(condition.wait(lock.try_lock().unwrap()));
    assert!(lock.is_locked(), "the lock is held until the wait starts");
    assert!(poll_with(&mut wait, &w).is_pending());
    assert!(!lock.is_locked(), "waiting released the lock");
    assert_eq!(waiting(&condition), "Condition { waiting: 1 }");

    // Another task changes the state under the lock and notifies.
    let mut other = lock.try_lock().unwrap();
    *other = 5;
    condition.notify(1);
    assert_eq!(r.wakes(), 1);
    // Notified, but the lock is still held: it waits for the lock.
    assert!(poll_with(&mut wait, &w).is_pending());
    drop(other);
    assert_eq!(r.wakes(), 2, "releasing the lock woke it");
    let Poll::Ready(guard) = poll_with(&mut wait, &w) else {
        panic!("should have the lock")
    };
    assert_eq!(*guard, 5);
    assert!(lock.is_locked());
    drop(guard);
    assert!(!lock.is_locked());
    assert_eq!(waiting(&condition), "Condition { waiting: 0 }");
}

#[test]
fn notify_n_wakes_at_most_n_waiters_in_fifo_order() {
    let lock = Lock::new(());
    let condition = Condition::new();
    let recorders: Vec<_> = (0..4).map(|_| recorder()).collect();
    let mut waits: Vec<_> = recorders
        .iter()
        .map(|(w, _)| {
            let mut wait = Box::pin(condition.wait(lock.try_lock().unwrap()));
            assert!(poll_with(&mut wait, w).is_pending());
            wait
        })
        .collect();
    let wakes = || recorders.iter().map(|(_, r)| r.wakes()).collect::<Vec<_>>();

    condition.notify(0);
    assert_eq!(wakes(), [0, 0, 0, 0]);
    condition.notify(2);
    assert_eq!(wakes(), [1, 1, 0, 0], "the two oldest waiters");
    condition.notify(1);
    assert_eq!(wakes(), [1, 1, 1, 0]);
    condition.notify(10);
    assert_eq!(wakes(), [1, 1, 1, 1], "at most as many as are waiting");
    assert_eq!(waiting(&condition), "Condition { waiting: 0 }");
    condition.notify_all();
    assert_eq!(wakes(), [1, 1, 1, 1], "nobody is woken twice");

    // They take the lock one after another, oldest first.
    for wait in &mut waits {
        let Poll::Ready(guard) = poll_once(wait) else {
            panic!("lock was free")
        };
        drop(guard);
    }
}

#[test]
fn notify_all_wakes_every_waiter() {
    let lock = Lock::new(());
    let condition = Condition::new();
    let recorders: Vec<_> = (0..3).map(|_| recorder()).collect();
    let _waits: Vec<_> = recorders
        .iter()
        .map(|(w, _)| {
            let mut wait = Box::pin(condition.wait(lock.try_lock().unwrap()));
            assert!(poll_with(&mut wait, w).is_pending());
            wait
        })
        .collect();
    condition.notify_all();
    assert!(recorders.iter().all(|(_, r)| r.wakes() == 1));
}

#[test]
fn notifications_are_not_stored() {
    let lock = Lock::new(());
    let condition = Condition::new();
    condition.notify(1);
    condition.notify_all();
    let mut wait = Box::pin(condition.wait(lock.try_lock().unwrap()));
    assert!(poll_once(&mut wait).is_pending());
    assert!(poll_once(&mut wait).is_pending());
}

#[test]
fn wait_for_returns_at_once_when_the_predicate_holds() {
    let lock = Lock::new(3);
    let condition = Condition::new();
    let mut wait = Box::pin(condition.wait_for(lock.try_lock().unwrap(), |n| *n == 3));
    let Poll::Ready(guard) = poll_once(&mut wait) else {
        panic!("predicate already true")
    };
    assert_eq!(*guard, 3);
    assert_eq!(waiting(&condition), "Condition { waiting: 0 }");
}

#[test]
fn wait_for_rechecks_the_predicate_after_each_wakeup() {
    let lock = Lock::new(0);
    let condition = Condition::new();
    let (w, r) = recorder();
    let mut checks = 0;
    let mut wait = Box::pin(condition.wait_for(lock.try_lock().unwrap(), |n| {
        checks += 1;
        *n >= 2
    }));
    assert!(poll_with(&mut wait, &w).is_pending());
    for value in 1..=2 {
        *lock.try_lock().unwrap() = value;
        condition.notify(1);
        assert_eq!(r.wakes(), value);
        let poll = poll_with(&mut wait, &w);
        assert_eq!(poll.is_ready(), value == 2);
        if let Poll::Ready(guard) = poll {
            assert_eq!(*guard, 2);
        }
    }
    drop(wait);
    assert_eq!(checks, 3);
    assert!(!lock.is_locked());
}

#[test]
fn a_wait_dropped_before_it_ran_releases_the_lock() {
    let lock = Lock::new(());
    let condition = Condition::new();
    let wait = condition.wait(lock.try_lock().unwrap());
    assert!(lock.is_locked());
    drop(wait);
    assert!(!lock.is_locked());
    assert_eq!(waiting(&condition), "Condition { waiting: 0 }");
}

#[test]
fn a_wait_dropped_while_queued_leaves_no_trace() {
    let lock = Lock::new(());
    let condition = Condition::new();
    let (w1, r1) = recorder();
    let (w2, r2) = recorder();
    let mut a = Box::pin(condition.wait(lock.try_lock().unwrap()));
    assert!(poll_with(&mut a, &w1).is_pending());
    let mut b = Box::pin(condition.wait(lock.try_lock().unwrap()));
    assert!(poll_with(&mut b, &w2).is_pending());
    drop(a);
    assert_eq!(waiting(&condition), "Condition { waiting: 1 }");
    assert!(!lock.is_locked());
    condition.notify(1);
    assert_eq!(
        (r1.wakes(), r2.wakes()),
        (0, 1),
        "the notification went to the one still waiting"
    );
    assert!(poll_with(&mut b, &w2).is_ready());
}

#[test]
fn a_notified_wait_dropped_before_running_passes_the_notification_on() {
    let lock = Lock::new(());
    let condition = Condition::new();
    let (w1, r1) = recorder();
    let (w2, r2) = recorder();
    let (w3, r3) = recorder();
    let mut a = Box::pin(condition.wait(lock.try_lock().unwrap()));
    assert!(poll_with(&mut a, &w1).is_pending());
    let mut b = Box::pin(condition.wait(lock.try_lock().unwrap()));
    assert!(poll_with(&mut b, &w2).is_pending());
    let mut c = Box::pin(condition.wait(lock.try_lock().unwrap()));
    assert!(poll_with(&mut c, &w3).is_pending());
    condition.notify(1);
    assert_eq!((r1.wakes(), r2.wakes(), r3.wakes()), (1, 0, 0));
    drop(a);
    assert_eq!(
        (r1.wakes(), r2.wakes(), r3.wakes()),
        (1, 1, 0),
        "b got a's notification"
    );
    assert_eq!(waiting(&condition), "Condition { waiting: 1 }");
    assert!(!lock.is_locked());
    assert!(poll_with(&mut b, &w2).is_ready());
    assert!(poll_with(&mut c, &w3).is_pending());
}

#[test]
fn a_notified_wait_dropped_while_reacquiring_passes_the_notification_on() {
    let lock = Lock::new(());
    let condition = Condition::new();
    let (w1, _r1) = recorder();
    let (w2, r2) = recorder();
    let mut a = Box::pin(condition.wait(lock.try_lock().unwrap()));
    assert!(poll_with(&mut a, &w1).is_pending());
    let mut b = Box::pin(condition.wait(lock.try_lock().unwrap()));
    assert!(poll_with(&mut b, &w2).is_pending());
    let held = lock.try_lock().unwrap();
    condition.notify(1);
    // a took its notification and now waits for the lock.
    assert!(poll_with(&mut a, &w1).is_pending());
    assert_eq!(r2.wakes(), 0);
    drop(a);
    assert_eq!(r2.wakes(), 1, "b was notified in a's place");
    drop(held);
    assert!(
        !lock.is_locked(),
        "a's dropped lock request left nothing behind"
    );
    let Poll::Ready(guard) = poll_with(&mut b, &w2) else {
        panic!("b should get the lock")
    };
    drop(guard);
    assert!(!lock.is_locked());
}

#[test]
fn producer_consumer_with_tokio_tasks() {
    rt().block_on(async {
        let items = Arc::new(Lock::new(VecDeque::new()));
        let ready = Arc::new(Condition::new());
        let mut consumers = Vec::new();
        for _ in 0..3 {
            let (items, ready) = (Arc::clone(&items), Arc::clone(&ready));
            consumers.push(tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    let guard = items.lock().await;
                    let mut guard = ready.wait_for(guard, |q| !q.is_empty()).await;
                    match guard.pop_front().unwrap() {
                        None => return got,
                        Some(item) => got.push(item),
                    }
                }
            }));
        }
        for item in 0..30 {
            items.lock().await.push_back(Some(item));
            ready.notify(1);
            if item % 4 == 0 {
                tokio::task::yield_now().await;
            }
        }
        {
            let mut guard = items.lock().await;
            guard.extend([None, None, None]);
            ready.notify_all();
        }
        let mut all = Vec::new();
        for consumer in consumers {
            all.extend(consumer.await.unwrap());
        }
        all.sort();
        assert_eq!(all, (0..30).collect::<Vec<_>>());
    });
}

#[test]
fn producer_consumer_across_threads() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    rt.block_on(async {
        let state = Arc::new(Lock::new((0u64, false)));
        let changed = Arc::new(Condition::new());
        let mut consumers = Vec::new();
        for _ in 0..4 {
            let (state, changed) = (Arc::clone(&state), Arc::clone(&changed));
            consumers.push(tokio::spawn(async move {
                let mut taken = 0u64;
                loop {
                    let guard = state.lock().await;
                    let mut guard = changed.wait_for(guard, |(n, done)| *n > 0 || *done).await;
                    if guard.0 > 0 {
                        guard.0 -= 1;
                        taken += 1;
                    } else {
                        return taken;
                    }
                }
            }));
        }
        for _ in 0..1000 {
            state.lock().await.0 += 1;
            changed.notify(1);
        }
        state.lock().await.1 = true;
        changed.notify_all();
        let mut total = 0;
        for consumer in consumers {
            total += consumer.await.unwrap();
        }
        assert_eq!(total, 1000);
    });
}
