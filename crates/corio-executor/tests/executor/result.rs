//! `Task::try_result` and polling a `Task`: no result while pending, the
//! result exactly once, and a panic when polled again after `Ready`.

use crate::common::{drain, poll_once, Counter, WakerSlot};
use corio_executor::{LocalExecutor, ThreadPark};

#[test]
fn try_result_is_none_while_pending_then_the_result_once() {
    let ex = LocalExecutor::new();
    let slot = WakerSlot::new();
    let wait = slot.wait();
    let mut task = ex.spawn(async move {
        wait.await;
        String::from("done")
    });
    assert!(task.try_result().is_none(), "not polled yet");
    drain(&ex);
    assert!(task.try_result().is_none(), "waiting");
    assert!(!task.is_done());
    slot.release();
    drain(&ex);
    assert!(task.is_done());
    assert_eq!(task.try_result().unwrap().unwrap(), "done");
    assert!(task.try_result().is_none(), "the result was taken");
    assert!(task.is_done());
}

#[test]
fn try_result_reports_a_panic() {
    let ex = LocalExecutor::new();
    let mut task = ex.spawn(async { panic!("oops") });
    drain(&ex);
    let err = task.try_result().unwrap().unwrap_err();
    assert_eq!(err.panic_message(), Some("oops"));
    assert!(task.try_result().is_none());
}

#[test]
fn try_result_reports_a_cancellation() {
    let ex = LocalExecutor::new();
    let mut task = ex.spawn(std::future::pending::<()>());
    assert!(task.cancel());
    drain(&ex);
    assert!(task.try_result().unwrap().unwrap_err().is_cancelled());
}

#[test]
fn taking_the_result_hands_over_the_output_once() {
    let ex = LocalExecutor::new();
    let outputs = Counter::new();
    let output = outputs.token();
    let mut task = ex.spawn(async move { output });
    drain(&ex);
    let taken = task.try_result().unwrap().unwrap();
    drop(task);
    assert_eq!(outputs.get(), 0, "the output now belongs to the caller");
    drop(taken);
    assert_eq!(outputs.get(), 1);
}

#[test]
#[should_panic(expected = "polled after")]
fn polling_a_task_after_it_returned_ready_panics() {
    let ex = LocalExecutor::new();
    let mut task = ex.spawn(async { 1 });
    drain(&ex);
    assert_eq!(
        poll_once(&mut task).map(Result::unwrap),
        std::task::Poll::Ready(1)
    );
    let _ = poll_once(&mut task);
}

#[test]
#[should_panic(expected = "polled after")]
fn polling_a_task_after_try_result_took_the_output_panics() {
    let ex = LocalExecutor::new();
    let mut task = ex.spawn(async { 1 });
    drain(&ex);
    assert_eq!(task.try_result().unwrap().unwrap(), 1);
    let _ = ex.block_on(task, &mut ThreadPark);
}

#[test]
fn a_task_polled_before_it_finished_returns_pending_then_ready() {
    let ex = LocalExecutor::new();
    let slot = WakerSlot::new();
    let mut task = ex.spawn(slot.wait());
    assert!(poll_once(&mut task).is_pending());
    drain(&ex);
    assert!(poll_once(&mut task).is_pending());
    slot.release();
    drain(&ex);
    assert!(poll_once(&mut task).is_ready());
}
