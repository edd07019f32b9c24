//! `Spawner`: spawning from other threads, local spawns only on the
//! executor's thread, task listings only there, and the unpark hook.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::common::{drain, forgotten};
use corio_executor::{Builder, LocalExecutor, ThreadPark};

#[test]
fn remote_spawns_run_on_the_executor_thread() {
    let ex = LocalExecutor::new();
    let spawner = ex.spawner();
    let executor_thread = std::thread::current().id();
    let tasks = std::thread::spawn(move || {
        (0..10)
            .map(|i| {
                spawner.spawn_with(Builder::new().name(format!("remote {i}")), async move {
                    (i, std::thread::current().id())
                })
            })
            .collect::<Vec<_>>()
    })
    .join()
    .unwrap();
    let results = ex.block_on(
        async {
            let mut results = Vec::new();
            for task in tasks {
                results.push(task.await.unwrap());
            }
            results
        },
        &mut ThreadPark,
    );
    for (i, (n, thread)) in results.into_iter().enumerate() {
        assert_eq!(n, i, "remote spawns keep their order");
        assert_eq!(thread, executor_thread);
    }
}

#[test]
fn a_spawner_spawns_local_tasks_on_the_executor_thread() {
    let ex = LocalExecutor::new();
    let spawner = ex.spawner();
    let task =
        spawner.spawn_local_with(Builder::new().name("local"), async { std::rc::Rc::new(3) });
    assert_eq!(task.name(), Some("local"));
    assert_eq!(*ex.block_on(task, &mut ThreadPark).unwrap(), 3);
}

#[test]
fn a_spawner_refuses_local_spawns_from_another_thread() {
    let ex = LocalExecutor::new();
    let spawner = ex.spawner();
    let result = std::thread::spawn(move || {
        let task = spawner.spawn_local_with(Builder::new(), async {});
        drop(task);
    })
    .join();
    let payload = result.unwrap_err();
    let message = corio_executor::payload_message(&*payload).unwrap();
    assert!(message.contains("executor's thread"), "{message}");
    assert_eq!(ex.task_count(), 0);
    assert!(ex.is_idle());
}

#[test]
fn a_spawner_lists_tasks_only_on_the_executor_thread() {
    let ex = LocalExecutor::new();
    let spawner = ex.spawner();
    let task = ex.spawn_local_with(Builder::new().name("listed"), forgotten::<()>());
    drain(&ex);
    let listed = spawner.tasks().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id(), task.id());
    let remote = spawner.clone();
    assert!(std::thread::spawn(move || remote.tasks().is_none())
        .join()
        .unwrap());
    assert!(task.cancel());
    drain(&ex);
    assert!(spawner.tasks().unwrap().is_empty());
}

#[test]
fn unpark_calls_the_executor_callback() {
    let calls = Arc::new(AtomicUsize::new(0));
    let ex = {
        let calls = calls.clone();
        LocalExecutor::with_unpark(move || {
            calls.fetch_add(1, Ordering::SeqCst);
        })
    };
    let spawner = ex.spawner();
    spawner.unpark();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // Local spawns and local wakes do not unpark; remote ones do.
    drop(ex.spawn(async {}));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    std::thread::spawn(move || drop(spawner.spawn(async {})))
        .join()
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    drain(&ex);
}
