//! Event: asyncio's semantics (set wakes all, clear wakes nobody, a woken
//! waiter returns even if cleared) and cancel safety.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

use crate::signal_support::{assert_send_sync, poll_once, poll_with, recorder, rt};
use corio_sync::Event;

#[test]
fn event_and_its_future_are_send_sync() {
    assert_send_sync::<Event>();
    assert_send_sync::<corio_sync::EventWait<'static>>();
}

#[test]
fn wait_on_a_set_event_returns_at_once() {
    let event = Event::new();
    assert!(!event.is_set());
    event.set();
    assert!(event.is_set());
    assert_eq!(poll_once(&mut event.wait()), Poll::Ready(()));
    // Setting twice is harmless.
    event.set();
    assert_eq!(poll_once(&mut event.wait()), Poll::Ready(()));
}

#[test]
fn set_wakes_every_waiter_once() {
    let event = Event::new();
    let (w1, r1) = recorder();
    let (w2, r2) = recorder();
    let mut a = event.wait();
    let mut b = event.wait();
    assert!(poll_with(&mut a, &w1).is_pending());
    assert!(poll_with(&mut b, &w2).is_pending());
    assert!(format!("{event:?}").contains("waiting: 2"));
    event.set();
    assert_eq!((r1.wakes(), r2.wakes()), (1, 1));
    assert_eq!(poll_with(&mut a, &w1), Poll::Ready(()));
    assert_eq!(poll_with(&mut b, &w2), Poll::Ready(()));
    // A second set does not wake them again.
    event.set();
    assert_eq!((r1.wakes(), r2.wakes()), (1, 1));
}

#[test]
fn clear_wakes_nobody_and_later_waiters_wait() {
    let event = Event::new();
    let (w, r) = recorder();
    let mut a = event.wait();
    assert!(poll_with(&mut a, &w).is_pending());
    event.clear();
    assert_eq!(r.wakes(), 0);
    assert!(poll_with(&mut a, &w).is_pending());

    event.set();
    event.clear();
    assert!(!event.is_set());
    let mut late = event.wait();
    assert!(poll_once(&mut late).is_pending());
}

#[test]
fn a_waiter_woken_by_set_returns_even_if_cleared_before_it_runs() {
    let event = Event::new();
    let (w, r) = recorder();
    let mut a = event.wait();
    assert!(poll_with(&mut a, &w).is_pending());
    event.set();
    event.clear();
    assert_eq!(r.wakes(), 1);
    assert_eq!(poll_with(&mut a, &w), Poll::Ready(()));
}

#[test]
fn dropping_a_waiter_leaves_no_trace() {
    let event = Event::new();
    let (w, r) = recorder();
    let mut kept = event.wait();
    assert!(poll_with(&mut kept, &w).is_pending());
    {
        let mut dropped = event.wait();
        assert!(poll_once(&mut dropped).is_pending());
        assert!(format!("{event:?}").contains("waiting: 2"));
    }
    assert!(format!("{event:?}").contains("waiting: 1"));
    // Dropped after being woken: nothing left behind either.
    let mut woken = event.wait();
    assert!(poll_once(&mut woken).is_pending());
    event.set();
    drop(woken);
    assert!(format!("{event:?}").contains("waiting: 0"));
    assert_eq!(r.wakes(), 1);
    assert_eq!(poll_with(&mut kept, &w), Poll::Ready(()));
    // A future dropped without ever being polled is fine too.
    drop(event.wait());
}

#[test]
fn the_waker_of_the_latest_poll_is_the_one_woken() {
    let event = Event::new();
    let (w1, r1) = recorder();
    let (w2, r2) = recorder();
    let mut a = event.wait();
    assert!(poll_with(&mut a, &w1).is_pending());
    assert!(poll_with(&mut a, &w2).is_pending());
    event.set();
    assert_eq!((r1.wakes(), r2.wakes()), (0, 1));
}

#[test]
fn event_releases_spawned_workers_in_order() {
    rt().block_on(async {
        let event = Arc::new(Event::new());
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let started = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for id in 0..5 {
            let (event, order, started) =
                (Arc::clone(&event), Arc::clone(&order), Arc::clone(&started));
            tasks.push(tokio::spawn(async move {
                started.fetch_add(1, Ordering::SeqCst);
                event.wait().await;
                order.lock().unwrap().push(id);
            }));
        }
        while started.load(Ordering::SeqCst) < 5 {
            tokio::task::yield_now().await;
        }
        tokio::task::yield_now().await;
        assert!(order.lock().unwrap().is_empty());
        event.set();
        event.clear(); // Too late: they were all released.
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4]);
    });
}

#[test]
fn works_across_threads() {
    let event = Arc::new(Event::new());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let event = Arc::clone(&event);
            tasks.push(tokio::spawn(async move { event.wait().await }));
        }
        event.set();
        for task in tasks {
            task.await.unwrap();
        }
    });
}
