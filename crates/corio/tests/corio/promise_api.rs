//! `Promise` on a corio loop, as asyncio's `Future` is used: completed by a
//! `call_later` callback with a value or an error, cancelled with a
//! message, awaited by several tasks; done-callbacks run in order on the
//! completing thread, and the `call_soon` idiom gives asyncio's schedule.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corio::sync::{Promise, PromiseError};

type Log = Arc<Mutex<Vec<String>>>;

fn push(log: &Log, entry: impl Into<String>) {
    log.lock().unwrap().push(entry.into());
}

#[test]
fn call_later_sets_an_exception_that_every_waiting_task_sees() {
    let seen = corio::run(async {
        let fut: Arc<Promise<u32>> = Arc::new(Promise::new());
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let fut = Arc::clone(&fut);
                corio::create_task(async move { fut.wait().await })
            })
            .collect();
        let setter = Arc::clone(&fut);
        corio::get_running_loop().call_later(Duration::from_millis(5), move || {
            let err = io::Error::new(io::ErrorKind::TimedOut, "backend timed out");
            setter.set_exception(err).unwrap();
        });
        let mut seen = Vec::new();
        for waiter in waiters {
            seen.push(waiter.await.unwrap());
        }
        seen
    });
    assert_eq!(seen.len(), 3);
    for outcome in &seen {
        let err = outcome.as_ref().unwrap_err();
        assert_eq!(err.to_string(), "backend timed out");
        assert_eq!(
            err.downcast_ref::<io::Error>().unwrap().kind(),
            io::ErrorKind::TimedOut
        );
        assert_eq!(outcome, &seen[0], "all share the one error");
    }
}

#[test]
fn a_cancel_message_reaches_the_waiting_task() {
    let outcome = corio::run(async {
        let fut: Arc<Promise<()>> = Arc::new(Promise::new());
        let waiter = corio::create_task({
            let fut = Arc::clone(&fut);
            async move { fut.wait().await }
        });
        corio::yield_now().await;
        assert!(fut.cancel_with("shutting down"));
        waiter.await.unwrap()
    });
    let err = outcome.unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(err.cancel_message(), Some("shutting down"));
}

#[test]
fn callbacks_run_inside_set_result_while_call_soon_gives_asyncios_order() {
    // asyncio: fut.add_done_callback(cb); fut.set_result(1); print("after")
    // prints "after" first: cb is call_soon'd. corio-sync runs cb inside
    // set_result; handing the work to call_soon restores asyncio's order.
    let log: Log = Arc::default();
    corio::run({
        let log = Arc::clone(&log);
        async move {
            let fut: Promise<u8> = Promise::new();
            fut.add_done_callback({
                let log = Arc::clone(&log);
                move |outcome| push(&log, format!("direct {outcome:?}"))
            });
            let handle = corio::get_running_loop();
            fut.add_done_callback({
                let log = Arc::clone(&log);
                move |outcome: &Result<u8, PromiseError>| {
                    let outcome = outcome.clone();
                    handle.call_soon(move || push(&log, format!("soon {outcome:?}")));
                }
            });
            fut.set_result(1).unwrap();
            push(&log, "after set_result");
            corio::yield_now().await;
            push(&log, "after one iteration");
        }
    });
    assert_eq!(
        *log.lock().unwrap(),
        [
            "direct Ok(1)",
            "after set_result",
            "soon Ok(1)",
            "after one iteration"
        ]
    );
}

#[test]
fn a_callback_added_late_runs_at_once_and_a_waiter_resumes_later() {
    let log: Log = Arc::default();
    corio::run({
        let log = Arc::clone(&log);
        async move {
            let fut: Arc<Promise<&'static str>> = Arc::new(Promise::new());
            let waiter = corio::create_task({
                let (fut, log) = (Arc::clone(&fut), Arc::clone(&log));
                async move {
                    let value = fut.wait().await.unwrap();
                    push(&log, format!("waiter got {value}"));
                }
            });
            corio::yield_now().await;
            fut.set_result("v").unwrap();
            fut.add_done_callback({
                let log = Arc::clone(&log);
                move |outcome| push(&log, format!("late callback {:?}", outcome))
            });
            push(&log, "main continues");
            waiter.await.unwrap();
        }
    });
    assert_eq!(
        *log.lock().unwrap(),
        [r#"late callback Ok("v")"#, "main continues", "waiter got v"]
    );
}
