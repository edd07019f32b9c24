//! `Task::shared`: every clone awaited gives the same result; whichever
//! clone is polled drives the task and the others are woken; a dropped
//! waiter leaves the list; errors are shared too.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::common::{drain, forgotten, noop_waker, poll_once, yield_now, WakerSlot};
use corio_executor::{Executor, LocalExecutor, ThreadPark};

#[test]
fn every_clone_gets_the_same_result_and_many_tasks_can_await_one() {
    let ex = LocalExecutor::new();
    let shared = ex
        .spawn(async {
            yield_now().await;
            vec![1, 2, 3]
        })
        .shared();
    let waiters: Vec<_> = (0..5)
        .map(|_| {
            let shared = shared.clone();
            ex.spawn(async move { shared.await.unwrap() })
        })
        .collect();
    drain(&ex);
    for waiter in waiters {
        assert_eq!(ex.block_on(waiter, &mut ThreadPark).unwrap(), [1, 2, 3]);
    }
    // Awaited again after the result is in: the same value again.
    assert_eq!(
        ex.block_on(shared.clone(), &mut ThreadPark).unwrap(),
        [1, 2, 3]
    );
    assert_eq!(ex.block_on(shared, &mut ThreadPark).unwrap(), [1, 2, 3]);
}

/// A waker that counts its wakes.
fn counting_waker() -> (std::task::Waker, Arc<AtomicUsize>) {
    struct Count(Arc<AtomicUsize>);
    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let count = Arc::new(AtomicUsize::new(0));
    (
        std::task::Waker::from(Arc::new(Count(count.clone()))),
        count,
    )
}

#[test]
fn a_waiting_clone_is_woken_when_another_clone_drives_the_task_to_the_end() {
    let ex = LocalExecutor::new();
    let slot = WakerSlot::new();
    let wait = slot.wait();
    let mut first = ex
        .spawn(async move {
            wait.await;
            9
        })
        .shared();
    let mut second = first.clone();
    drain(&ex);
    let (waker, woken) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(Pin::new(&mut second).poll(&mut cx).is_pending());
    assert!(poll_once(&mut first).is_pending());
    slot.release();
    drain(&ex);
    assert_eq!(
        woken.load(Ordering::SeqCst),
        1,
        "the waiting clone was woken"
    );
    assert_eq!(poll_once(&mut first).map(Result::unwrap), Poll::Ready(9));
    assert_eq!(poll_once(&mut second).map(Result::unwrap), Poll::Ready(9));
}

#[test]
fn a_dropped_waiter_leaves_the_list_and_the_others_still_finish() {
    let ex = LocalExecutor::new();
    let slot = WakerSlot::new();
    let wait = slot.wait();
    let shared = ex
        .spawn(async move {
            wait.await;
            1
        })
        .shared();
    let (waker, woken) = counting_waker();
    let mut gone = shared.clone();
    assert!(Pin::new(&mut gone)
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    drop(gone);
    let mut kept = shared.clone();
    assert!(poll_once(&mut kept).is_pending());
    slot.release();
    drain(&ex);
    assert_eq!(
        woken.load(Ordering::SeqCst),
        0,
        "a dropped clone is not woken"
    );
    assert_eq!(poll_once(&mut kept).map(Result::unwrap), Poll::Ready(1));
    assert!(shared.is_done());
}

#[test]
fn errors_are_shared_and_try_result_repeats() {
    let ex = LocalExecutor::new();
    let panicked = ex
        .spawn(async {
            panic!("shared boom");
            #[allow(unreachable_code)]
            0u8
        })
        .shared();
    let cancelled = ex.spawn(forgotten::<u8>()).shared();
    cancelled.abort_handle().cancel_with("enough");
    let seen = Arc::new(AtomicUsize::new(0));
    {
        let seen = seen.clone();
        panicked.add_done_callback(move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
        });
    }
    drain(&ex);
    assert_eq!(seen.load(Ordering::SeqCst), 1);
    for _ in 0..2 {
        let error = panicked.clone().try_result().unwrap().unwrap_err();
        assert_eq!(error.panic_message(), Some("shared boom"));
        let error = ex.block_on(cancelled.clone(), &mut ThreadPark).unwrap_err();
        assert_eq!(error.cancel_message(), Some("enough"));
    }
    let waker = noop_waker();
    let mut again = panicked.clone();
    let polled = Pin::new(&mut again).poll(&mut Context::from_waker(&waker));
    assert!(matches!(polled, Poll::Ready(Err(e)) if e.is_panic()));
}

#[test]
fn clones_on_several_worker_threads_all_get_the_result() {
    let ex = Executor::new(2);
    let shared = ex
        .spawn(async {
            for _ in 0..10 {
                yield_now().await;
            }
            String::from("everyone")
        })
        .shared();
    let waiters: Vec<_> = (0..16)
        .map(|_| {
            let shared = shared.clone();
            ex.spawn(async move { shared.await.unwrap() })
        })
        .collect();
    let results = ex.block_on(async move {
        let mut out = Vec::new();
        for waiter in waiters {
            out.push(waiter.await.unwrap());
        }
        out
    });
    assert!(results.iter().all(|r| r == "everyone"));
    assert_eq!(results.len(), 16);
}
