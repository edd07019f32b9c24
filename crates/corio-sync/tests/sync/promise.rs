//! Promise: set once, every waiter (before or after) gets a clone, cancel
//! fails them all, and dropped waiters leave no trace. Done-callbacks and
//! `set_exception` are in `promise_callbacks`.

use std::sync::Arc;
use std::task::Poll;

use crate::signal_support::{assert_send_sync, poll_once, poll_with, recorder, rt};
use corio_sync::{Cancelled, Promise, PromiseError};

#[test]
fn promise_and_its_future_are_send_sync() {
    assert_send_sync::<Promise<String>>();
    assert_send_sync::<corio_sync::PromiseWait<'static, String>>();
    assert_send_sync::<Cancelled>();
    assert_send_sync::<PromiseError>();
}

#[test]
fn set_result_once_then_every_waiter_gets_a_clone() {
    let promise = Promise::new();
    assert!(!promise.is_done());
    assert_eq!(promise.try_result(), None);
    let (w1, r1) = recorder();
    let (w2, r2) = recorder();
    let mut early1 = promise.wait();
    let mut early2 = promise.wait();
    assert!(poll_with(&mut early1, &w1).is_pending());
    assert!(poll_with(&mut early2, &w2).is_pending());

    assert_eq!(promise.set_result(vec![1, 2]), Ok(()));
    assert_eq!((r1.wakes(), r2.wakes()), (1, 1));
    assert!(promise.is_done());
    assert!(!promise.is_cancelled());
    // A second result is refused and handed back; the first one stays.
    assert_eq!(promise.set_result(vec![3]), Err(vec![3]));
    assert!(!promise.cancel());

    assert_eq!(poll_with(&mut early1, &w1), Poll::Ready(Ok(vec![1, 2])));
    assert_eq!(poll_with(&mut early2, &w2), Poll::Ready(Ok(vec![1, 2])));
    assert_eq!(poll_once(&mut promise.wait()), Poll::Ready(Ok(vec![1, 2])));
    assert_eq!(promise.try_result(), Some(Ok(vec![1, 2])));
    assert!(format!("{promise:?}").contains("waiting: 0"));
}

#[test]
fn cancel_fails_present_and_future_waiters() {
    let promise: Promise<u32> = Promise::new();
    let (w, r) = recorder();
    let mut early = promise.wait();
    assert!(poll_with(&mut early, &w).is_pending());
    assert!(promise.cancel());
    assert_eq!(r.wakes(), 1);
    assert!(promise.is_done());
    assert!(promise.is_cancelled());
    assert!(!promise.cancel(), "cancelling twice reports false");
    assert_eq!(promise.set_result(7), Err(7));
    let cancelled = PromiseError::Cancelled { message: None };
    assert_eq!(
        poll_with(&mut early, &w),
        Poll::Ready(Err(cancelled.clone()))
    );
    assert_eq!(
        poll_once(&mut promise.wait()),
        Poll::Ready(Err(cancelled.clone()))
    );
    assert_eq!(promise.try_result(), Some(Err(cancelled)));
    assert_eq!(promise.try_result().unwrap().unwrap_err(), Cancelled);
    assert_eq!(Cancelled.to_string(), "promise cancelled");
}

#[test]
fn dropping_a_waiter_leaves_no_trace() {
    let promise = Promise::new();
    let (w, r) = recorder();
    let mut kept = promise.wait();
    assert!(poll_with(&mut kept, &w).is_pending());
    let mut dropped = promise.wait();
    assert!(poll_once(&mut dropped).is_pending());
    assert!(format!("{promise:?}").contains("waiting: 2"));
    drop(dropped);
    assert!(format!("{promise:?}").contains("waiting: 1"));
    // Notified, then dropped before taking the result: the result stays.
    let mut woken = promise.wait();
    assert!(poll_once(&mut woken).is_pending());
    promise.set_result('x').unwrap();
    drop(woken);
    assert!(format!("{promise:?}").contains("waiting: 0"));
    assert_eq!(r.wakes(), 1);
    assert_eq!(poll_with(&mut kept, &w), Poll::Ready(Ok('x')));
    drop(promise.wait());
}

#[test]
fn many_tasks_await_one_promise() {
    rt().block_on(async {
        let promise = Arc::new(Promise::new());
        let mut tasks = Vec::new();
        for i in 0..10 {
            let promise = Arc::clone(&promise);
            tasks.push(tokio::spawn(async move {
                promise.wait().await.map(|v: String| format!("{i}:{v}"))
            }));
        }
        tokio::task::yield_now().await;
        promise.set_result("done".to_string()).unwrap();
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap(), Ok(format!("{i}:done")));
        }
    });
}

#[test]
fn works_across_threads() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    rt.block_on(async {
        for _ in 0..50 {
            let promise = Arc::new(Promise::new());
            let mut tasks = Vec::new();
            for _ in 0..8 {
                let promise = Arc::clone(&promise);
                tasks.push(tokio::spawn(async move { promise.wait().await }));
            }
            let setter = Arc::clone(&promise);
            tokio::spawn(async move { setter.set_result(Arc::new(5u64)).unwrap() });
            for task in tasks {
                assert_eq!(*task.await.unwrap().unwrap(), 5);
            }
        }
    });
}
