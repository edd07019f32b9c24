//! A nested scope dropped with failures collected never loses them: they
//! reach the enclosing group as one `Failure::Nested` (asyncio: the outer
//! `ExceptionGroup` holds the inner one), or, with no enclosing group, are
//! reported through `tracing` as never retrieved.

use std::future::{poll_fn, Future};
use std::io::Write;
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use corio::task::{Failure, TaskGroup};

use super::{Group, HOUR, MS};

/// Polls `scope` once (it starts, creates its children) and checks that it
/// has not returned.
async fn start<F: Future>(mut scope: Pin<&mut F>) {
    poll_fn(|cx| {
        assert!(scope.as_mut().poll(cx).is_pending(), "the scope is running");
        Poll::Ready(())
    })
    .await;
}

/// The inner group's errors, from the one `Nested` failure in `failures`.
fn nested_errors(failures: Vec<Failure<String>>) -> Vec<String> {
    let nested: Vec<_> = failures
        .into_iter()
        .filter_map(|failure| match failure {
            Failure::Nested { group, .. } => Some(group),
            _ => None,
        })
        .collect();
    assert_eq!(nested.len(), 1, "one nested group");
    let inner = nested
        .into_iter()
        .next()
        .unwrap()
        .downcast::<String>()
        .expect("the inner group's error type");
    inner
        .errors()
        .iter()
        .map(|failure| failure.error().cloned().unwrap())
        .collect()
}

#[test]
fn outer_and_inner_children_failing_together_are_both_reported() {
    corio::run(async {
        let error = Group::scope(|outer| async move {
            outer.create_task(async {
                corio::yield_now().await;
                Err::<(), _>("Y".to_string())
            });
            Group::scope(|inner| async move {
                inner.create_task(async {
                    corio::yield_now().await;
                    Err::<(), _>("X".to_string())
                });
                corio::sleep(HOUR).await;
                Ok(())
            })
            .await
            .map_err(|error| error.to_string())
        })
        .await
        .unwrap_err();
        // asyncio: ExceptionGroup([Y, ExceptionGroup([X])]).
        let errors = error.errors();
        assert_eq!(errors.len(), 2, "{error}");
        assert_eq!(errors[0].error().map(String::as_str), Some("Y"));
        let nested = errors[1].nested().expect("the inner group, nested");
        assert_eq!(nested.len(), 1);
        assert!(error.to_string().contains("left a nested TaskGroup"));
        assert_eq!(nested_errors(error.into_errors()), ["X"]);
    });
}

#[test]
fn a_scope_in_a_cancelled_child_hands_its_failures_to_the_group() {
    corio::run(async {
        let error = Group::scope(|outer| async move {
            let a = outer.create_task(async {
                let inner = pin!(Group::scope(|inner| async move {
                    inner.create_task(async { Err::<(), _>("X".to_string()) });
                    corio::sleep(HOUR).await;
                    Ok(())
                }));
                start(inner).await;
                // The inner child fails meanwhile; nobody polls the scope.
                corio::sleep(HOUR).await;
                Ok(())
            });
            outer.create_task(async {
                corio::sleep(5 * MS).await;
                Err::<(), _>("Y".to_string())
            });
            Ok(a.id())
        })
        .await
        .unwrap_err();
        let errors = error.errors();
        assert_eq!(errors.len(), 2, "{error}");
        assert_eq!(errors[0].error().map(String::as_str), Some("Y"));
        assert!(errors[1].nested().is_some());
        assert_eq!(nested_errors(error.into_errors()), ["X"]);
    });
}

#[test]
fn a_body_dropping_a_failed_scope_fails_its_group() {
    corio::run(async {
        let started = std::time::Instant::now();
        let error = Group::scope(|outer| async move {
            let sibling = outer.create_task(async {
                corio::sleep(HOUR).await;
                Ok(())
            });
            {
                let inner = pin!(Group::scope(|inner| async move {
                    inner.create_task(async { Err::<(), _>("X".to_string()) });
                    corio::sleep(HOUR).await;
                    Ok(())
                }));
                start(inner).await;
                corio::yield_now().await;
                corio::yield_now().await;
                // Dropped here, as a timeout would drop it: X was collected.
            }
            corio::sleep(50 * MS).await;
            Ok(sibling)
        })
        .await
        .unwrap_err();
        assert!(started.elapsed() < HOUR / 2, "the sibling was cancelled");
        assert_eq!(nested_errors(error.into_errors()), ["X"]);
    });
}

#[test]
fn failures_of_a_scope_inside_nested_scopes_climb_every_level() {
    corio::run(async {
        let error = Group::scope(|outer| async move {
            outer.create_task(async {
                corio::yield_now().await;
                corio::yield_now().await;
                Err::<(), _>("Y".to_string())
            });
            Group::scope(|middle| async move {
                middle.create_task(async { Ok(()) });
                let inner = pin!(Group::scope(|inner| async move {
                    inner.create_task(async { Err::<(), _>("X".to_string()) });
                    corio::sleep(HOUR).await;
                    Ok(())
                }));
                start(inner).await;
                corio::sleep(HOUR).await;
                Ok(())
            })
            .await
            .map_err(|error| error.to_string())
        })
        .await
        .unwrap_err();
        // The middle scope, dropped by the outer cancelling, took the inner
        // one's failures and handed them on in its own.
        let errors = error.into_errors();
        assert_eq!(errors.len(), 2);
        let middle = match errors.into_iter().nth(1).unwrap() {
            Failure::Nested { group, .. } => group.downcast::<String>().unwrap(),
            other => panic!("expected the middle group, got {other:?}"),
        };
        assert_eq!(nested_errors(middle.into_errors()), ["X"]);
    });
}

/// A `tracing` writer that appends to a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_top_level_scope_dropped_with_failures_reports_them() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    crate::common::with_scoped_subscriber(subscriber, || {
        corio::run(async {
            let scope = pin!(TaskGroup::<u8>::scope(|group| async move {
                group.create_task(async { Err::<(), _>(7) });
                group.create_task(async { panic!("lost cause") as Result<(), u8> });
                corio::sleep(HOUR).await;
                Ok(())
            }));
            start(scope).await;
            corio::yield_now().await;
            corio::yield_now().await;
        });
    });
    let output = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    assert!(
        output.contains("task group failures never retrieved"),
        "{output}"
    );
    assert!(output.contains("TaskGroup with 2 failure(s)"), "{output}");
    assert!(output.contains("panicked: lost cause"), "{output}");
}

#[test]
fn a_scope_that_returns_its_failures_reports_nothing() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    crate::common::with_scoped_subscriber(subscriber, || {
        corio::run(async {
            let error = Group::scope(|group| async move {
                group.create_task(async { Err::<(), _>("seen".to_string()) });
                Ok(())
            })
            .await
            .unwrap_err();
            assert_eq!(error.errors().len(), 1);
        });
    });
    let output = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    assert!(!output.contains("never retrieved"), "{output}");
}
