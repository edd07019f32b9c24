//! `TaskError` is `Send + Sync + Clone + 'static` (so `task.await?` converts
//! into boxed errors), keeps string panic payloads as themselves, hands any
//! other payload to the first clone that asks, and carries the message of
//! the first `cancel_with`.

use std::error::Error;

use corio_executor::{LocalExecutor, TaskError, ThreadPark};

/// A custom panic payload: neither `&str` nor `String`.
#[derive(Debug, PartialEq)]
struct Custom(u32);

fn panicking_with_custom_payload(ex: &LocalExecutor) -> TaskError {
    let task = ex.spawn(async { std::panic::panic_any(Custom(7)) });
    ex.block_on(task, &mut ThreadPark).unwrap_err()
}

#[test]
fn task_error_is_send_sync_clone_static() {
    fn bounds<E: Error + Send + Sync + Clone + 'static>() {}
    bounds::<TaskError>();
}

#[test]
fn question_mark_converts_into_a_boxed_send_sync_error() {
    fn body(ex: &LocalExecutor) -> Result<u8, Box<dyn Error + Send + Sync>> {
        let task = ex.spawn(async { panic!("boom") });
        let value: u8 = ex.block_on(task, &mut ThreadPark)?;
        Ok(value)
    }
    let ex = LocalExecutor::new();
    let error = body(&ex).unwrap_err();
    assert!(error.to_string().ends_with("panicked: boom"), "{error}");
    let task_error = error.downcast::<TaskError>().expect("a TaskError");
    assert_eq!(task_error.panic_message(), Some("boom"));
}

#[test]
fn string_payloads_survive_clones_and_downcast_as_themselves() {
    let ex = LocalExecutor::new();
    let task = ex.spawn(async {
        let n = 3;
        panic!("formatted {n}")
    });
    let error = ex.block_on(task, &mut ThreadPark).unwrap_err();
    let copy = error.clone();
    assert_eq!(copy.panic_message(), Some("formatted 3"));
    let first = error.into_panic();
    let second = copy.into_panic();
    assert_eq!(first.downcast_ref::<String>().unwrap(), "formatted 3");
    assert_eq!(second.downcast_ref::<String>().unwrap(), "formatted 3");

    let literal = ex.spawn(async { panic!("literal") });
    let error = ex.block_on(literal, &mut ThreadPark).unwrap_err();
    let payload = error.clone().into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"literal"));
}

#[test]
fn another_payload_goes_to_the_first_clone_that_takes_it() {
    let ex = LocalExecutor::new();
    let error = panicking_with_custom_payload(&ex);
    assert_eq!(error.panic_message(), None);
    let copy = error.clone();
    let original = copy.into_panic();
    assert_eq!(original.downcast_ref::<Custom>(), Some(&Custom(7)));
    let later = error.try_into_panic().expect("a panic");
    assert!(later.downcast_ref::<Custom>().is_none());
    let text = later.downcast_ref::<String>().expect("a message instead");
    assert!(text.contains("another clone"), "{text}");
}

#[test]
fn cancel_with_carries_the_first_message() {
    let ex = LocalExecutor::new();
    let task = ex.spawn(std::future::pending::<()>());
    assert!(task.abort_handle().cancel_with("first"));
    assert!(task.cancel_with("second"));
    let error = ex.block_on(task, &mut ThreadPark).unwrap_err();
    assert!(error.is_cancelled());
    assert_eq!(error.cancel_message(), Some("first"));
    assert_eq!(error.clone().cancel_message(), Some("first"));
    assert!(
        error.to_string().ends_with("was cancelled: first"),
        "{error}"
    );
}

#[test]
fn a_plain_cancel_has_no_message_and_a_late_message_is_ignored() {
    let ex = LocalExecutor::new();
    let plain = ex.spawn(std::future::pending::<()>());
    plain.cancel();
    let error = ex.block_on(plain, &mut ThreadPark).unwrap_err();
    assert_eq!(error.cancel_message(), None);

    let finished = ex.spawn(async { 5 });
    let mut finished = finished;
    while !finished.is_done() {
        ex.run_once();
    }
    assert!(!finished.cancel_with("too late"));
    assert_eq!(finished.try_result().unwrap().unwrap(), 5);
}

#[test]
fn a_task_awaited_again_panics_naming_the_alternatives() {
    let ex = LocalExecutor::new();
    let mut task = ex.spawn(async { 1 });
    assert_eq!(ex.block_on(&mut task, &mut ThreadPark).unwrap(), 1);
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ex.block_on(&mut task, &mut ThreadPark)
    }))
    .unwrap_err();
    let message = corio_executor::payload_message(&*again).unwrap_or_default();
    assert!(message.contains("Task::shared()"), "{message}");
    assert!(message.contains("Promise"), "{message}");
}
