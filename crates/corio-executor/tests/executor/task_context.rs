//! The ambient task context (`Spawner::replace_context`): captured at
//! spawn, installed for every poll and for the drop, kept across polls,
//! never leaked to the next task; `block_on` and eager steps nest.

use std::any::Any;
use std::sync::{Arc, Mutex};

use crate::common::yield_now;
use corio_executor::{Builder, Executor, LocalExecutor, Spawner, ThreadPark};

type Data = Option<Arc<dyn Any + Send + Sync>>;

fn data(n: u32) -> Data {
    Some(Arc::new(n))
}

/// The current context's data, as a number (`None`: empty).
fn current() -> Option<u32> {
    let (data, id) = Spawner::replace_context(None, 0);
    let value = data
        .as_deref()
        .and_then(|d| d.downcast_ref::<u32>())
        .copied();
    drop(Spawner::replace_context(data, id));
    value
}

fn set(n: u32) {
    drop(Spawner::replace_context(data(n), 0));
}

/// Runs `f` with `n` installed, then restores.
fn within<R>(n: u32, f: impl FnOnce() -> R) -> R {
    let outer = Spawner::replace_context(data(n), 0);
    let result = f();
    drop(Spawner::replace_context(outer.0, outer.1));
    result
}

#[test]
fn a_task_runs_in_the_context_it_was_spawned_in() {
    let ex = LocalExecutor::new();
    let task = within(7, || ex.spawn(async { current() }));
    assert_eq!(current(), None);
    assert_eq!(ex.block_on(task, &mut ThreadPark).unwrap(), Some(7));
}

#[test]
fn a_set_stays_with_the_task_across_polls_and_never_reaches_the_next_task() {
    let ex = LocalExecutor::new();
    let setter = ex.spawn(async {
        set(1);
        yield_now().await;
        current()
    });
    let reader = ex.spawn(async {
        let first = current();
        yield_now().await;
        (first, current())
    });
    ex.run_once();
    assert_eq!(current(), None, "a poll's set does not stay on the thread");
    while ex.run_once() > 0 {}
    assert_eq!(ex.block_on(setter, &mut ThreadPark).unwrap(), Some(1));
    assert_eq!(ex.block_on(reader, &mut ThreadPark).unwrap(), (None, None));
}

#[test]
fn block_on_runs_its_future_in_the_callers_context_and_the_loop_from_an_empty_one() {
    let ex = LocalExecutor::new();
    let spawner = ex.spawner();
    let unrelated = ex.spawn(async { current() });
    let (main, after) = within(3, || {
        let main = ex.block_on(
            async {
                let child = spawner.spawn_with(Builder::new(), async { current() });
                (current(), child.await.unwrap())
            },
            &mut ThreadPark,
        );
        (main, current())
    });
    assert_eq!(main, (Some(3), Some(3)));
    assert_eq!(
        after,
        Some(3),
        "the caller's context is back after block_on"
    );
    assert_eq!(ex.block_on(unrelated, &mut ThreadPark).unwrap(), None);
}

#[test]
fn a_future_is_dropped_in_its_context() {
    struct Probe(Arc<Mutex<Option<Option<u32>>>>);
    impl Drop for Probe {
        fn drop(&mut self) {
            *self.0.lock().unwrap() = Some(current());
        }
    }
    let ex = LocalExecutor::new();
    let seen = Arc::new(Mutex::new(None));
    let probe = Probe(seen.clone());
    let task = within(9, || {
        ex.spawn(async move {
            let _probe = probe;
            std::future::pending::<()>().await
        })
    });
    ex.run_once();
    task.cancel();
    ex.run_once();
    assert_eq!(*seen.lock().unwrap(), Some(Some(9)));
    assert_eq!(current(), None);
}

#[test]
fn an_eager_step_runs_in_a_copy_and_the_creators_context_comes_back() {
    let ex = LocalExecutor::new();
    let spawner = ex.spawner();
    let result = ex.block_on(
        async {
            set(1);
            let task = spawner.spawn_eager_with(Builder::new(), async {
                let seen = current();
                set(2);
                yield_now().await;
                (seen, current())
            });
            let creator_after = current();
            (creator_after, task.await.unwrap())
        },
        &mut ThreadPark,
    );
    assert_eq!(result, (Some(1), (Some(1), Some(2))));
}

#[test]
fn contexts_follow_tasks_across_workers() {
    let ex = Executor::new(3);
    let spawner = ex.spawner();
    let ok = ex.block_on(async move {
        let tasks: Vec<_> = (0..64u32)
            .map(|i| {
                within(i, || {
                    spawner.spawn_with(Builder::new(), async move {
                        let mut ok = current() == Some(i);
                        for _ in 0..10 {
                            yield_now().await;
                            ok &= current() == Some(i);
                        }
                        ok
                    })
                })
            })
            .collect();
        let mut ok = current().is_none();
        for task in tasks {
            ok &= task.await.unwrap();
        }
        ok
    });
    assert!(ok);
}
