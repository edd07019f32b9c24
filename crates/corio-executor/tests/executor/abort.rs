//! `AbortHandle`, `Spawner::cancel_now`, `Task::is_panicked` and
//! `Task::poll_done`: watching and cancelling a task without owning its result.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use corio_executor::{LocalExecutor, ThreadPark};

struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn cancel_now_drops_an_idle_task_before_returning() {
    let ex = LocalExecutor::new();
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = SetOnDrop(dropped.clone());
    let task = ex.spawn(async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    });
    ex.run_once(); // parked on pending
    let handle = task.abort_handle();
    assert!(!handle.is_done());
    assert!(ex.spawner().cancel_now(&handle));
    assert!(
        dropped.load(Ordering::SeqCst),
        "the future's Drop ran inside cancel_now"
    );
    assert!(handle.is_done());
    assert!(task.is_cancelled());
    assert!(ex
        .block_on(task, &mut ThreadPark)
        .unwrap_err()
        .is_cancelled());
}

#[test]
fn cancel_now_from_another_thread_only_requests_cancellation() {
    let ex = LocalExecutor::new();
    let task = ex.spawn(std::future::pending::<()>());
    ex.run_once();
    let handle = task.abort_handle();
    let spawner = ex.spawner();
    let dropped_here = std::thread::spawn(move || spawner.cancel_now(&handle))
        .join()
        .unwrap();
    assert!(!dropped_here);
    assert!(
        !task.is_done(),
        "dropped at the next scheduling point, not on the other thread"
    );
    assert!(ex
        .block_on(task, &mut ThreadPark)
        .unwrap_err()
        .is_cancelled());
}

#[test]
fn cancel_now_on_a_running_task_waits_for_the_poll_to_end() {
    let ex = LocalExecutor::new();
    let slot: Arc<std::sync::Mutex<Option<corio_executor::AbortHandle>>> = Arc::default();
    let spawner = ex.spawner();
    let polled_after = Arc::new(AtomicBool::new(false));
    let task = ex.spawn({
        let slot = slot.clone();
        let polled_after = polled_after.clone();
        async move {
            std::future::poll_fn(|_| Poll::Ready(())).await;
            let me = slot.lock().unwrap().take().unwrap();
            // Running: cannot be dropped here, only marked.
            assert!(!spawner.cancel_now(&me));
            polled_after.store(true, Ordering::SeqCst);
            std::future::pending::<()>().await;
        }
    });
    *slot.lock().unwrap() = Some(task.abort_handle());
    assert!(ex
        .block_on(task, &mut ThreadPark)
        .unwrap_err()
        .is_cancelled());
    assert!(polled_after.load(Ordering::SeqCst));
}

#[test]
fn is_panicked_tells_how_a_task_ended_without_taking_the_result() {
    let ex = LocalExecutor::new();
    let ok = ex.spawn(async { 1 });
    let bad = ex.spawn(async { panic!("boom") });
    let cancelled = ex.spawn(std::future::pending::<()>());
    cancelled.cancel();
    ex.run_once();
    assert!(ok.is_done() && !ok.is_panicked());
    assert!(bad.is_done() && bad.is_panicked());
    assert!(cancelled.is_done() && !cancelled.is_panicked() && cancelled.is_cancelled());
    // The results are still there.
    let mut bad = bad;
    assert_eq!(
        bad.try_result().unwrap().unwrap_err().panic_message(),
        Some("boom")
    );
    let mut ok = ok;
    assert_eq!(ok.try_result().unwrap().unwrap(), 1);
}

#[test]
fn poll_done_waits_without_consuming_the_result() {
    struct Done<'a>(&'a mut corio_executor::Task<u32>);
    impl Future for Done<'_> {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.0.poll_done(cx)
        }
    }
    let ex = LocalExecutor::new();
    let mut task = ex.spawn(async {
        for _ in 0..3 {
            yield_once().await;
        }
        7
    });
    ex.block_on(Done(&mut task), &mut ThreadPark);
    assert!(task.is_done());
    assert_eq!(task.try_result().unwrap().unwrap(), 7);
}

#[test]
fn abort_handles_outlive_the_task_and_its_handle() {
    let ex = LocalExecutor::new();
    let task = ex.spawn(async { String::from("out") });
    let first = task.abort_handle();
    let second = first.clone();
    drop(task);
    ex.run_once();
    assert!(first.is_done() && second.is_done());
    assert!(!first.cancel(), "a finished task cannot be cancelled");
    assert_eq!(first.id(), second.id());
}

async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(move |cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}
