//! Introspection: `current_task`/`current_task_id` inside and outside tasks,
//! task ids, names and spawn locations, and `Spawner` identity helpers.

use std::panic::Location;

use crate::common::{drain, yield_now};
use corio_executor::{
    current_task, current_task_id, Builder, LocalExecutor, TaskState, ThreadPark,
};

#[test]
fn current_task_is_none_outside_a_task() {
    assert!(current_task().is_none());
    assert!(current_task_id().is_none());
    let ex = LocalExecutor::new();
    drop(ex.spawn(async {}));
    drain(&ex);
    assert!(
        current_task().is_none(),
        "reset after the executor ran a task"
    );
}

#[test]
fn current_task_inside_a_task_describes_that_task() {
    let ex = LocalExecutor::new();
    let task = ex.spawn_local_with(Builder::new().name("inspector"), async {
        let before = current_task().unwrap();
        yield_now().await;
        let after = current_task().unwrap();
        (before, after, current_task_id().unwrap())
    });
    let id = task.id();
    let (before, after, current_id) = ex.block_on(task, &mut ThreadPark).unwrap();
    assert_eq!(before.id(), id);
    assert_eq!(after.id(), id);
    assert_eq!(current_id, id);
    assert_eq!(before.name(), Some("inspector"));
    assert_eq!(before.state(), TaskState::Running);
}

#[test]
fn current_task_follows_each_task_in_turn() {
    let ex = LocalExecutor::new();
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            ex.spawn(async {
                yield_now().await;
                current_task_id().unwrap()
            })
        })
        .collect();
    drain(&ex);
    for mut task in tasks {
        let id = task.id();
        assert_eq!(task.try_result().unwrap().unwrap(), id);
    }
}

#[test]
fn block_on_runs_its_future_as_a_task() {
    let ex = LocalExecutor::new();
    let inside = ex.block_on(async { current_task() }, &mut ThreadPark);
    let info = inside.expect("block_on's future is a task too");
    assert_eq!(info.state(), TaskState::Running);
    assert!(current_task().is_none());
}

#[test]
fn task_ids_are_unique_even_across_threads() {
    let ex = LocalExecutor::new();
    let spawner = ex.spawner();
    let mut ids: Vec<u64> = (0..100).map(|_| ex.spawn(async {}).id().as_u64()).collect();
    let remote: Vec<u64> = std::thread::spawn(move || {
        (0..100)
            .map(|_| spawner.spawn(async {}).id().as_u64())
            .collect()
    })
    .join()
    .unwrap();
    ids.extend(remote);
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 200);
    drain(&ex);
}

#[test]
fn spawn_records_the_caller_location() {
    let ex = LocalExecutor::new();
    let line = line!() + 1;
    let task = ex.spawn(async {});
    assert_eq!(task.location().file(), file!());
    assert_eq!(task.location().line(), line);
    let line = line!() + 1;
    let local = ex.spawn_local(async {});
    assert_eq!(local.location().line(), line);
    let here = Location::caller();
    let custom = ex.spawn_local_with(Builder::new().location(here), async {});
    assert_eq!(custom.location(), here);
    let infos = ex.tasks();
    assert_eq!(infos[0].location().line(), task.location().line());
    drain(&ex);
}

#[test]
fn spawners_know_their_executor_and_thread() {
    let ex = LocalExecutor::new();
    let other = LocalExecutor::new();
    let a = ex.spawner();
    let b = ex.spawner();
    assert!(a.same_executor(&b));
    assert!(!a.same_executor(&other.spawner()));
    assert!(a.is_executor_thread());
    assert!(!std::thread::spawn(move || b.is_executor_thread())
        .join()
        .unwrap());
    assert!(format!("{a:?}").contains("closed"));
    assert!(format!("{ex:?}").contains("LocalExecutor"));
}

#[test]
fn task_debug_output_names_the_task() {
    let ex = LocalExecutor::new();
    let task = ex.spawn_local_with(Builder::new().name("shown"), async {});
    let shown = format!("{task:?}");
    assert!(
        shown.contains("shown") && shown.contains("done: false"),
        "{shown}"
    );
    drain(&ex);
}
