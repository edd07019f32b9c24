//! `Spawner::spawn_eager_with`: the first step runs in place, as the
//! current task; nested steps restore the outer task; the depth cap; other
//! threads; panics; closing inside the step; the multi-threaded executor.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::common::yield_now;
use corio_executor::{current_task_id, Builder, Executor, LocalExecutor, Spawner, ThreadPark};

#[test]
fn a_task_that_finishes_in_its_first_step_is_never_queued() {
    let ex = LocalExecutor::new();
    let spawner = ex.spawner();
    let task = spawner.spawn_eager_with(Builder::new(), async { 5 });
    assert!(task.is_done());
    assert!(ex.is_idle());
    assert_eq!(ex.task_count(), 0);
    assert_eq!(ex.block_on(task, &mut ThreadPark).unwrap(), 5);
}

#[test]
fn a_pending_task_is_listed_and_goes_on_as_a_normal_task() {
    let ex = LocalExecutor::new();
    let spawner = ex.spawner();
    let steps = Arc::new(AtomicUsize::new(0));
    let counted = steps.clone();
    let task = spawner.spawn_eager_with(Builder::new().name("eager"), async move {
        counted.fetch_add(1, Ordering::SeqCst);
        yield_now().await;
        counted.fetch_add(1, Ordering::SeqCst);
    });
    assert_eq!(steps.load(Ordering::SeqCst), 1);
    assert_eq!(ex.task_count(), 1);
    assert_eq!(ex.tasks()[0].name(), Some("eager"));
    // It woke itself during the step: queued for the next iteration.
    assert_eq!(ex.run_once(), 1);
    assert_eq!(steps.load(Ordering::SeqCst), 2);
    assert!(task.is_done());
    assert_eq!(ex.task_count(), 0);
}

#[test]
fn nested_eager_steps_restore_the_current_task() {
    let ex = LocalExecutor::new();
    let spawner = ex.spawner();
    let seen = ex.block_on(
        async {
            let outer = current_task_id();
            let inner = spawner.spawn_eager_with(Builder::new(), {
                let spawner = spawner.clone();
                async move {
                    let me = current_task_id();
                    let innermost =
                        spawner.spawn_eager_with(Builder::new(), async { current_task_id() });
                    (me, innermost.await.unwrap(), current_task_id())
                }
            });
            let inner_id = inner.id();
            let (me, innermost, me_after) = inner.await.unwrap();
            assert_eq!(me, Some(inner_id));
            assert_eq!(me_after, Some(inner_id));
            assert_ne!(innermost, me);
            (outer, current_task_id())
        },
        &mut ThreadPark,
    );
    assert_eq!(seen.0, seen.1);
    assert!(seen.0.is_some());
}

#[test]
fn a_panic_in_the_first_step_is_stored_in_the_task() {
    let ex = LocalExecutor::new();
    let spawner = ex.spawner();
    let task = spawner.spawn_eager_with(Builder::new(), async {
        if true {
            panic!("eager boom");
        }
    });
    assert!(task.is_done());
    let error = ex.block_on(task, &mut ThreadPark).unwrap_err();
    assert!(error.is_panic());
}

#[test]
fn from_another_thread_the_task_is_scheduled_not_run_in_place() {
    let ex = LocalExecutor::new();
    let spawner = ex.spawner();
    let here = std::thread::current().id();
    let task = std::thread::spawn(move || {
        let task = spawner.spawn_eager_with(Builder::new(), async { std::thread::current().id() });
        assert!(!task.is_done());
        task
    })
    .join()
    .unwrap();
    assert_eq!(ex.block_on(task, &mut ThreadPark).unwrap(), here);
}

#[test]
fn eager_steps_nest_at_most_max_eager_depth_deep() {
    fn nest(spawner: Spawner, level: u32, deepest: Arc<AtomicUsize>) {
        let inner = spawner.clone();
        drop(spawner.spawn_eager_with(Builder::new(), async move {
            deepest.fetch_max(level as usize, Ordering::SeqCst);
            if level < 1000 {
                nest(inner, level + 1, deepest);
            }
        }));
    }
    let ex = LocalExecutor::new();
    let deepest = Arc::new(AtomicUsize::new(0));
    nest(ex.spawner(), 1, deepest.clone());
    assert_eq!(
        deepest.load(Ordering::SeqCst),
        Spawner::MAX_EAGER_DEPTH as usize
    );
    // The rest was scheduled: it runs, in chunks of the same depth.
    while ex.run_once() > 0 {}
    assert_eq!(deepest.load(Ordering::SeqCst), 1000);
}

#[test]
fn closing_the_executor_inside_the_first_step_cancels_the_task_after_it() {
    let ex = Rc::new(LocalExecutor::new());
    let spawner = ex.spawner();
    let inner = ex.clone();
    let after_close = Rc::new(Cell::new(false));
    let reached = after_close.clone();
    let task = spawner.spawn_local_eager_with(Builder::new(), async move {
        inner.close();
        reached.set(true);
        yield_now().await;
        1
    });
    // The step went on after `close` (the task was mid-poll), and its
    // future was dropped when the poll returned.
    assert!(after_close.get());
    assert!(task.is_done());
    assert!(task.is_cancelled());
    let late = spawner.spawn_eager_with(Builder::new(), async { 2 });
    assert!(late.is_cancelled());
    assert_eq!(Rc::strong_count(&ex), 1);
}

#[test]
fn eager_steps_on_a_worker_run_there_and_pending_ones_finish() {
    let ex = Executor::new(3);
    let spawner = ex.spawner();
    let total = ex.block_on(async move {
        let inner = spawner.clone();
        let outer = spawner.spawn_with(Builder::new(), async move {
            let here = std::thread::current().id();
            let mut tasks = Vec::new();
            for i in 0..200u64 {
                tasks.push(inner.spawn_eager_with(Builder::new(), async move {
                    let first = std::thread::current().id();
                    if i % 2 == 0 {
                        yield_now().await;
                    }
                    (first, i)
                }));
            }
            let mut sum = 0;
            for task in tasks {
                let (first, i) = task.await.unwrap();
                assert_eq!(first, here, "the first step runs on the creating worker");
                sum += i;
            }
            // The creator's own yields still work after nested steps.
            yield_now().await;
            sum
        });
        outer.await.unwrap()
    });
    assert_eq!(total, (0..200).sum::<u64>());
}
