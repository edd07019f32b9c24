//! A dropped `Task` handle takes back the waker it registered (bug 4): left
//! in the task, an awaiter's waker kept the awaiting task alive until the
//! awaited one ended, and two tasks that gave up each other's handles (a
//! `timeout` around an await) pinned each other, and their executor's
//! shared state, forever.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use corio_executor::{LocalExecutor, Task};

use crate::common::{drain, WakerSlot};

struct NoopWake;

impl Wake for NoopWake {
    fn wake(self: Arc<Self>) {}
}

#[test]
fn dropping_an_awaited_handle_drops_the_waker_it_registered() {
    let ex = LocalExecutor::new();
    let slot = WakerSlot::new();
    let mut task = ex.spawn(slot.wait());
    drain(&ex);
    let wake = Arc::new(NoopWake);
    let waker = Waker::from(wake.clone());
    assert!(Pin::new(&mut task)
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    drop(waker);
    assert_eq!(Arc::strong_count(&wake), 2, "the task holds the waker");
    drop(task);
    assert_eq!(Arc::strong_count(&wake), 1, "dropping the handle let it go");
    slot.release();
    drain(&ex);
}

#[test]
fn polling_with_fresh_wakers_keeps_one_and_dropping_keeps_none() {
    let ex = LocalExecutor::new();
    let slot = WakerSlot::new();
    let mut task = ex.spawn(slot.wait());
    drain(&ex);
    let wakes: Vec<Arc<NoopWake>> = (0..1_000).map(|_| Arc::new(NoopWake)).collect();
    for wake in &wakes {
        let waker = Waker::from(wake.clone());
        assert!(Pin::new(&mut task)
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
    }
    let held: usize = wakes.iter().map(|w| Arc::strong_count(w) - 1).sum();
    assert_eq!(held, 1, "only the latest waker is kept");
    drop(task);
    let held: usize = wakes.iter().map(|w| Arc::strong_count(w) - 1).sum();
    assert_eq!(held, 0);
    slot.release();
    drain(&ex);
}

type HandleSlot = Rc<RefCell<Option<Task<()>>>>;

/// A task body that takes a handle from `slot`, awaits it for one poll (as
/// a timeout that fires at once would), drops it, and then waits forever.
async fn await_once_then_give_up(slot: HandleSlot) {
    let mut other = slot.borrow_mut().take().expect("handle stored");
    std::future::poll_fn(|cx| {
        let _ = Pin::new(&mut other).poll(cx);
        Poll::Ready(())
    })
    .await;
    drop(other);
    std::future::pending::<()>().await
}

/// An executor whose unpark closure holds `token`: the token is released
/// only when the executor's shared state (kept by every task allocation) is.
fn executor_holding(token: &Arc<()>) -> LocalExecutor {
    let token = token.clone();
    LocalExecutor::with_unpark(move || {
        let _ = &token;
    })
}

#[test]
fn two_tasks_that_gave_up_each_others_handles_are_freed() {
    let token = Arc::new(());
    {
        let ex = executor_holding(&token);
        let (for_a, for_b): (HandleSlot, HandleSlot) = Default::default();
        let a = ex.spawn_local(await_once_then_give_up(for_a.clone()));
        let b = ex.spawn_local(await_once_then_give_up(for_b.clone()));
        *for_a.borrow_mut() = Some(b);
        *for_b.borrow_mut() = Some(a);
        drain(&ex);
    }
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "the executor's state outlived it: the tasks pin each other"
    );
}

#[test]
fn a_task_that_gave_up_its_own_handle_is_freed() {
    let token = Arc::new(());
    {
        let ex = executor_holding(&token);
        let own: HandleSlot = Default::default();
        let task = ex.spawn_local(await_once_then_give_up(own.clone()));
        *own.borrow_mut() = Some(task);
        drain(&ex);
    }
    assert_eq!(Arc::strong_count(&token), 1);
}
