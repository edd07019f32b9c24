//! TaskGroup: asyncio 3.11's structured-concurrency semantics, one test per
//! behaviour the issue pins down (asyncio's own test suite checks the same).
//!
//! Here: results, waiting, growth and cancelling the group; `failures`: how a
//! failing child or body cancels the rest and what the error holds;
//! `dropping`: dropping the scope or cancelling its parent task;
//! `nesting`: where a dropped nested scope's failures go.

mod dropping;
mod failures;
mod nesting;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{flag, SetOnDrop};
use corio::task::TaskGroup;

const HOUR: Duration = Duration::from_secs(3600);
const MS: Duration = Duration::from_millis(1);

type Group = TaskGroup<String>;

#[test]
fn two_children_return_values_and_their_tasks_hold_the_results() {
    corio::run(async {
        let (mut a, mut b) = Group::scope(|group| async move {
            let a = group.create_task(async {
                corio::sleep(5 * MS).await;
                Ok(1)
            });
            let b = group.create_task(async { Ok("two") });
            Ok((a, b))
        })
        .await
        .unwrap();
        assert!(a.is_done() && b.is_done());
        assert_eq!(a.try_result().unwrap().unwrap(), 1);
        assert_eq!(b.try_result().unwrap().unwrap(), "two");
    });
}

#[test]
fn a_child_created_after_an_await_in_the_body_is_waited_for() {
    corio::run(async {
        let finished = flag();
        Group::scope(|group| {
            let finished = finished.clone();
            async move {
                corio::sleep(2 * MS).await;
                group.create_task(async move {
                    corio::sleep(10 * MS).await;
                    finished.store(true, Ordering::SeqCst);
                    Ok(())
                });
                Ok(())
            }
        })
        .await
        .unwrap();
        assert!(finished.load(Ordering::SeqCst));
    });
}

#[test]
fn cancelling_one_child_by_hand_does_not_disturb_the_group() {
    corio::run(async {
        let (mut doomed, mut other) = Group::scope(|group| async move {
            let doomed = group.create_task(async {
                corio::sleep(HOUR).await;
                Ok(0)
            });
            let other = group.create_task(async {
                corio::sleep(5 * MS).await;
                Ok(2)
            });
            corio::yield_now().await;
            assert!(doomed.cancel());
            Ok((doomed, other))
        })
        .await
        .expect("a cancelled child is not a failure");
        assert!(doomed.try_result().unwrap().unwrap_err().is_cancelled());
        assert_eq!(other.try_result().unwrap().unwrap(), 2);
    });
}

#[test]
fn children_add_grandchildren_and_scope_waits_for_them() {
    corio::run(async {
        let count = Arc::new(AtomicUsize::new(0));
        Group::scope(|group| {
            let count = count.clone();
            async move {
                let inner = group.clone();
                group.create_task(async move {
                    for _ in 0..3 {
                        let count = count.clone();
                        inner.create_task(async move {
                            corio::sleep(3 * MS).await;
                            count.fetch_add(1, Ordering::SeqCst);
                            Ok(())
                        });
                    }
                    Ok(())
                });
                Ok(())
            }
        })
        .await
        .unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 3);
    });
}

#[test]
fn recursive_spawning_stopped_by_a_failing_sibling_terminates() {
    fn spawn_forever(group: Group) {
        let next = group.clone();
        group.create_task(async move {
            corio::yield_now().await;
            spawn_forever(next);
            Ok(())
        });
    }
    corio::run(async {
        let error = Group::scope(|group| async move {
            spawn_forever(group.clone());
            group.create_task(async {
                corio::sleep(5 * MS).await;
                Err::<(), _>("stop".to_string())
            });
            Ok(())
        })
        .await
        .unwrap_err();
        assert_eq!(error.errors().len(), 1);
    });
}

#[test]
fn adding_to_a_cancelling_group_gives_a_cancelled_task_that_never_runs() {
    corio::run(async {
        let ran = flag();
        let late: Arc<Mutex<Option<corio::Task<()>>>> = Arc::default();
        let _ = Group::scope(|group| {
            let (ran, late) = (ran.clone(), late.clone());
            async move {
                group.cancel();
                let task = group.create_task(async move {
                    ran.store(true, Ordering::SeqCst);
                    Ok(())
                });
                *late.lock().unwrap() = Some(task);
                Ok(())
            }
        })
        .await;
        let task = late.lock().unwrap().take().unwrap();
        assert!(task.await.unwrap_err().is_cancelled());
        assert!(!ran.load(Ordering::SeqCst));
    });
}

#[test]
#[should_panic(expected = "TaskGroup is finished")]
fn adding_after_scope_returned_panics() {
    corio::run(async {
        let kept = Group::scope(|group| async move { Ok(group.clone()) })
            .await
            .unwrap();
        kept.create_task(async { Ok(()) });
    });
}

#[test]
fn cancel_stops_everything_early_and_is_idempotent() {
    corio::run(async {
        let child_dropped = flag();
        let guard = SetOnDrop(child_dropped.clone());
        let error = Group::scope(|group| async move {
            let canceller = group.clone();
            group.create_task(async move {
                let _guard = guard;
                corio::sleep(HOUR).await;
                Ok(())
            });
            group.create_task(async move {
                corio::sleep(2 * MS).await;
                canceller.cancel();
                canceller.cancel();
                Ok(())
            });
            corio::sleep(HOUR).await;
            Ok(())
        })
        .await
        .unwrap_err();
        assert!(error.is_cancelled());
        assert!(error.errors().is_empty());
        assert!(child_dropped.load(Ordering::SeqCst));
    });
}

#[test]
fn cancel_from_the_body_and_after_scope_is_a_no_op_later() {
    corio::run(async {
        let mut kept = None;
        let error = Group::scope(|group| {
            kept = Some(group.clone());
            async move {
                group.cancel();
                corio::yield_now().await;
                unreachable!("the body is dropped at its await");
            }
        })
        .await;
        let error: corio::TaskGroupError<String> = match error {
            Err(error) => error,
            Ok(()) => unreachable!(),
        };
        assert!(error.is_cancelled());
        kept.unwrap().cancel(); // a no-op after scope returned
    });
}

#[test]
fn a_group_of_100k_children_frees_finished_ones_while_it_runs() {
    corio::run(async {
        let failures = Group::scope(|group| async move {
            for i in 0..100_000u32 {
                group.create_task(async move {
                    corio::yield_now().await;
                    if i % 10 == 9 {
                        Err(format!("child {i}"))
                    } else {
                        Ok(())
                    }
                });
            }
            Ok(())
        })
        .await
        .unwrap_err();
        // Every child yielded once, then all failed in the same iteration:
        // all 10,000 failures are collected, in order.
        assert_eq!(failures.errors().len(), 10_000);
        assert_eq!(
            failures.errors()[0].error().map(String::as_str),
            Some("child 9")
        );
        // Finished children were released: only the loop's main task is left.
        assert_eq!(corio::all_tasks().len(), 1);
    });
}

#[test]
fn a_long_lived_group_does_not_grow() {
    corio::run(async {
        Group::scope(|group| async move {
            for _ in 0..20 {
                let batch: Vec<_> = (0..1000)
                    .map(|_| group.create_task(async { Ok(()) }))
                    .collect();
                for task in batch {
                    task.await.unwrap();
                }
                assert!(format!("{group:?}").contains("children: 0"));
            }
            Ok(())
        })
        .await
        .unwrap();
    });
}

#[test]
fn a_local_child_may_be_not_send() {
    corio::run(async {
        let value = Group::scope(|group| async move {
            let shared = std::rc::Rc::new(20);
            let task = group.create_local_task({
                let shared = shared.clone();
                async move { Ok(*shared + 1) }
            });
            Ok(task)
        })
        .await
        .unwrap();
        let mut value = value;
        assert_eq!(value.try_result().unwrap().unwrap(), 21);
        let _ = AtomicBool::new(false);
    });
}
