//! How a failing child or body fails the group: siblings and the body are
//! cancelled, every failure is collected in order and names its task, panics
//! and nested groups.

use std::sync::atomic::Ordering;

use corio::task::{Failure, TaskGroup};

use super::{Group, HOUR, MS};
use crate::common::{flag, SetOnDrop};

#[test]
fn a_failing_child_cancels_siblings_and_the_body() {
    corio::run(async {
        let sibling_dropped = flag();
        let after_await = flag();
        let guard = SetOnDrop(sibling_dropped.clone());
        let error = Group::scope(|group| {
            let after_await = after_await.clone();
            async move {
                group.create_task(async move {
                    let _guard = guard;
                    corio::sleep(HOUR).await;
                    Ok(())
                });
                group.create_task(async {
                    corio::sleep(5 * MS).await;
                    Err::<(), _>("boom".to_string())
                });
                corio::sleep(HOUR).await;
                after_await.store(true, Ordering::SeqCst);
                Ok(())
            }
        })
        .await
        .unwrap_err();
        assert!(
            sibling_dropped.load(Ordering::SeqCst),
            "the sibling's Drop ran before scope returned"
        );
        assert!(
            !after_await.load(Ordering::SeqCst),
            "code after the body's await never ran"
        );
        assert!(!error.is_cancelled());
        assert_eq!(error.errors().len(), 1);
        assert_eq!(error.errors()[0].error().map(String::as_str), Some("boom"));
        assert!(error.to_string().contains("boom"));
    });
}

#[test]
fn a_failure_names_the_failing_task() {
    corio::run(async {
        let error = Group::scope(|group| async move {
            corio::task::Builder::new().name("outer").create(async {});
            let _ = &group;
            let inner = group.clone();
            group.create_task(async move {
                // A named grandchild fails.
                let _ = inner;
                Ok(())
            });
            Ok(())
        })
        .await;
        assert!(error.is_ok());
        let error = Group::scope(|group| async move {
            group.create_task(async { Err::<(), _>("no".to_string()) });
            Ok(())
        })
        .await
        .unwrap_err();
        let failure = &error.errors()[0];
        assert!(matches!(failure, Failure::Error { .. }));
        assert!(error.to_string().contains(&failure.task().id().to_string()));
    });
}

#[test]
fn three_children_failing_in_one_iteration_are_all_collected_in_order() {
    corio::run(async {
        let sleeper_dropped = flag();
        let guard = SetOnDrop(sleeper_dropped.clone());
        let error = Group::scope(|group| async move {
            group.create_task(async move {
                let _guard = guard;
                corio::sleep(HOUR).await;
                Ok(())
            });
            for i in 0..3 {
                group.create_task(async move { Err::<(), _>(format!("e{i}")) });
            }
            Ok(())
        })
        .await
        .unwrap_err();
        // All three ran in the same iteration, before the cancellation
        // reached them: all three are collected, in order, as asyncio does.
        let errors: Vec<_> = error
            .errors()
            .iter()
            .map(|f| f.error().unwrap().clone())
            .collect();
        assert_eq!(errors, ["e0", "e1", "e2"]);
        assert!(sleeper_dropped.load(Ordering::SeqCst));
    });
}

#[test]
fn the_body_failing_after_an_await_cancels_the_children() {
    corio::run(async {
        let child_dropped = flag();
        let guard = SetOnDrop(child_dropped.clone());
        let error = Group::scope(|group| async move {
            group.create_task(async move {
                let _guard = guard;
                corio::sleep(HOUR).await;
                Ok(())
            });
            corio::sleep(2 * MS).await;
            Err::<(), _>("body failed".to_string())
        })
        .await
        .unwrap_err();
        assert!(child_dropped.load(Ordering::SeqCst));
        assert_eq!(
            error.errors()[0].error().map(String::as_str),
            Some("body failed")
        );
    });
}

#[test]
fn the_body_failing_before_any_await_cancels_children_before_they_run() {
    corio::run(async {
        let ran = flag();
        let error = Group::scope(|group| {
            let ran = ran.clone();
            async move {
                group.create_task(async move {
                    ran.store(true, Ordering::SeqCst);
                    Ok(())
                });
                Err::<(), _>("early".to_string())
            }
        })
        .await
        .unwrap_err();
        assert!(!ran.load(Ordering::SeqCst), "the child never ran");
        assert_eq!(error.errors().len(), 1);
    });
}

#[test]
fn a_panicking_child_fails_the_group_with_its_payload_and_the_loop_goes_on() {
    corio::run(async {
        let error = Group::scope(|group| async move {
            corio::task::Builder::new()
                .name("unrelated")
                .create(async {});
            group.create_task(async {
                corio::yield_now().await;
                if true {
                    panic!("child exploded");
                }
                Ok(())
            });
            Ok(())
        })
        .await
        .unwrap_err();
        let failure = &error.errors()[0];
        assert!(matches!(failure, Failure::Panic { .. }));
        assert_eq!(failure.panic_message().as_deref(), Some("child exploded"));
        // The loop is fine.
        assert_eq!(corio::create_task(async { 5 }).await.unwrap(), 5);
    });
}

#[test]
fn an_inner_group_failure_surfaces_in_the_outer_error() {
    type Outer = TaskGroup<TaskGroupErrorBox>;
    type TaskGroupErrorBox = Box<dyn std::error::Error + Send + Sync>;
    corio::run(async {
        let error = Outer::scope(|outer| async move {
            outer.create_task(async {
                Group::scope(|inner| async move {
                    inner.create_task(async { Err::<(), _>("inner boom".to_string()) });
                    Ok(())
                })
                .await?;
                Ok(())
            });
            Ok(())
        })
        .await
        .unwrap_err();
        let nested = error.errors()[0].error().unwrap();
        let nested = nested
            .downcast_ref::<corio::TaskGroupError<String>>()
            .expect("the inner TaskGroupError");
        assert_eq!(
            nested.errors()[0].error().map(String::as_str),
            Some("inner boom")
        );
    });
}

#[test]
fn an_outer_failure_cancels_an_inner_group_cleanly() {
    corio::run(async {
        let inner_child_dropped = flag();
        let guard = SetOnDrop(inner_child_dropped.clone());
        let error = Group::scope(|outer| async move {
            outer.create_task(async move {
                Group::scope(|inner| async move {
                    inner.create_task(async move {
                        let _guard = guard;
                        corio::sleep(HOUR).await;
                        Ok(())
                    });
                    Ok(())
                })
                .await
                .map_err(|e| e.to_string())
            });
            outer.create_task(async {
                corio::sleep(5 * MS).await;
                Err::<(), _>("outer boom".to_string())
            });
            Ok(())
        })
        .await
        .unwrap_err();
        assert_eq!(error.errors().len(), 1);
        assert!(inner_child_dropped.load(Ordering::SeqCst));
    });
}
