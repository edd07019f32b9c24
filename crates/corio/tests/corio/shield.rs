//! `shield`: dropping the caller (an outer `timeout`, a cancelled task) does
//! not cancel the shielded work; its result and its panic pass through.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::common::*;

const MS: Duration = Duration::from_millis(1);

#[test]
fn an_outer_timeout_drops_the_caller_but_the_shielded_work_completes() {
    corio::run(async {
        let finished = flag();
        let work = {
            let finished = finished.clone();
            async move {
                corio::sleep(30 * MS).await;
                finished.store(true, Ordering::SeqCst);
            }
        };
        let outer = corio::timeout(10 * MS, corio::shield(work)).await;
        assert!(outer.is_err(), "the timeout expired first");
        assert!(!finished.load(Ordering::SeqCst));
        corio::sleep(50 * MS).await;
        assert!(
            finished.load(Ordering::SeqCst),
            "the shielded work was cancelled"
        );
    });
}

#[test]
fn cancelling_the_callers_task_leaves_the_shielded_work_running() {
    corio::run(async {
        let finished = flag();
        let caller_dropped = flag();
        let caller = {
            let finished = finished.clone();
            let guard = SetOnDrop(caller_dropped.clone());
            corio::create_task(async move {
                let _guard = guard;
                corio::shield(async move {
                    corio::sleep(30 * MS).await;
                    finished.store(true, Ordering::SeqCst);
                })
                .await
            })
        };
        corio::sleep(10 * MS).await;
        caller.cancel();
        assert!(caller.await.unwrap_err().is_cancelled());
        assert!(caller_dropped.load(Ordering::SeqCst));
        corio::sleep(50 * MS).await;
        assert!(finished.load(Ordering::SeqCst));
    });
}

#[test]
fn shield_passes_the_result_through() {
    let out = corio::run(async {
        corio::shield(async {
            corio::sleep(MS).await;
            "value"
        })
        .await
    });
    assert_eq!(out.unwrap(), "value");
}

#[test]
fn shield_passes_a_panic_through_as_task_error_panicked() {
    let error = corio::run(async {
        corio::shield(async {
            corio::sleep(MS).await;
            panic!("shielded failure");
        })
        .await
        .unwrap_err()
    });
    assert!(matches!(error, corio::TaskError::Panicked { .. }));
    assert_eq!(error.panic_message(), Some("shielded failure"));
}

#[test]
fn the_shielded_task_starts_when_shield_is_called() {
    corio::run(async {
        let started = flag();
        let shielded = {
            let started = started.clone();
            corio::shield(async move { started.store(true, Ordering::SeqCst) })
        };
        // Never awaited: the task runs anyway, as asyncio's shield's does.
        drop(shielded);
        corio::yield_now().await;
        assert!(started.load(Ordering::SeqCst));
    });
}
