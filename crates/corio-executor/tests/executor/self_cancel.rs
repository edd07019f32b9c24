//! `AbortHandle::current`: a task cancels itself. The cancellation lands at
//! the task's next await (its poll returning `Pending`), never mid-poll: the
//! rest of the poll runs, and the future is then dropped without another
//! poll. A task that finishes in that same poll keeps its value.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::common::{drain, yield_now, Counter};
use corio_executor::{AbortHandle, LocalExecutor, TaskState, ThreadPark};

#[test]
fn a_task_cancelling_itself_is_dropped_at_its_next_await() {
    let ex = LocalExecutor::new();
    let steps = Arc::new(AtomicUsize::new(0));
    let dropped = Counter::new();
    let task = ex.spawn({
        let (steps, token) = (steps.clone(), dropped.token());
        async move {
            let _token = token;
            let me = AbortHandle::current().expect("inside a task");
            assert!(me.cancel_with("self"));
            steps.fetch_add(1, Ordering::SeqCst); // the poll goes on
            yield_now().await; // the cancellation lands here
            steps.fetch_add(1, Ordering::SeqCst);
        }
    });
    let id = task.id();
    let error = ex.block_on(task, &mut ThreadPark).unwrap_err();
    assert_eq!(error.id(), id);
    assert_eq!(error.cancel_message(), Some("self"));
    assert_eq!(steps.load(Ordering::SeqCst), 1, "never polled again");
    assert_eq!(dropped.get(), 1);
}

#[test]
fn a_task_that_finishes_in_the_poll_that_cancelled_it_keeps_its_value() {
    let ex = LocalExecutor::new();
    let task = ex.spawn(async {
        AbortHandle::current().unwrap().cancel();
        "kept"
    });
    assert_eq!(ex.block_on(task, &mut ThreadPark).unwrap(), "kept");
}

#[test]
fn the_current_handle_names_the_running_task_and_outlives_it() {
    let ex = LocalExecutor::new();
    let task = ex.spawn(async {
        let me = AbortHandle::current().unwrap();
        assert!(!me.is_done());
        me.set_name("renamed from inside");
        me
    });
    let id = task.id();
    let me = ex.block_on(task, &mut ThreadPark).unwrap();
    assert_eq!(me.id(), id);
    assert!(me.is_done());
    assert_eq!(me.name(), Some("renamed from inside"));
    assert!(AbortHandle::current().is_none());
    drain(&ex);
    assert!(ex
        .tasks()
        .iter()
        .all(|t| t.id() != id || t.state() == TaskState::Done));
}
