//! `Task::set_name` / `AbortHandle::set_name`: the new name shows in the
//! handle, snapshots and errors, and renaming while other threads read names
//! and snapshots is sound (old names live until the task is freed).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use corio_executor::{Builder, LocalExecutor, TaskState, ThreadPark};

#[test]
fn a_new_name_shows_in_the_handle_listings_and_errors() {
    let ex = LocalExecutor::new();
    let task = ex
        .spawner()
        .spawn_with(Builder::new().name("old"), std::future::pending::<()>());
    assert_eq!(task.name(), Some("old"));
    task.set_name("new");
    assert_eq!(task.name(), Some("new"));
    let abort = task.abort_handle();
    assert_eq!(abort.name(), Some("new"));
    let listed: Vec<_> = ex
        .tasks()
        .into_iter()
        .filter(|t| t.id() == task.id())
        .collect();
    assert_eq!(listed[0].name(), Some("new"));
    abort.set_name("newer");
    task.cancel_with("bye");
    let error = ex.block_on(task, &mut ThreadPark).unwrap_err();
    assert_eq!(error.name(), Some("newer"));
    assert_eq!(error.cancel_message(), Some("bye"));
}

#[test]
fn a_name_set_inside_the_task_is_seen_by_current_task() {
    let ex = LocalExecutor::new();
    let task = ex
        .spawn(async { corio_executor::current_task().map(|info| info.name().map(str::to_owned)) });
    task.set_name("inner");
    let seen = ex.block_on(task, &mut ThreadPark).unwrap();
    assert_eq!(seen, Some(Some("inner".to_owned())));
}

#[test]
fn a_cancel_message_keeps_the_name_and_a_rename_keeps_the_message() {
    let ex = LocalExecutor::new();
    let task = ex
        .spawner()
        .spawn_with(Builder::new().name("a"), std::future::pending::<()>());
    task.cancel_with("stop");
    task.set_name("b");
    assert_eq!(task.name(), Some("b"));
    let error = ex.block_on(task, &mut ThreadPark).unwrap_err();
    assert_eq!(
        (error.name(), error.cancel_message()),
        (Some("b"), Some("stop"))
    );
}

/// Threads rename one task while others read its name through the handle
/// and the executor's thread takes `TaskInfo` snapshots: every name read is
/// one that was set, whole (run under valgrind memcheck too).
#[test]
fn renaming_while_other_threads_read_names_is_sound() {
    let ex = LocalExecutor::new();
    let task = Arc::new(ex.spawn(std::future::pending::<()>()));
    let stop = Arc::new(AtomicBool::new(false));
    let names: Vec<String> = (0..8)
        .map(|i| format!("name-{i}-{}", "x".repeat(i * 7)))
        .collect();
    let names = Arc::new(names);
    let mut threads = Vec::new();
    for writer in 0..2 {
        let (task, names) = (task.clone(), names.clone());
        threads.push(std::thread::spawn(move || {
            for round in 0..2_000 {
                task.set_name(&names[(round + writer) % names.len()]);
            }
        }));
    }
    for _ in 0..2 {
        let (task, names, stop) = (task.clone(), names.clone(), stop.clone());
        let abort = task.abort_handle();
        threads.push(std::thread::spawn(move || {
            let mut reads = 0u64;
            while !stop.load(Ordering::Relaxed) || reads < 1_000 {
                if let Some(name) = task.name() {
                    assert!(names.iter().any(|n| n == name), "torn name {name:?}");
                }
                if let Some(name) = abort.name() {
                    assert!(names.iter().any(|n| n == name), "torn name {name:?}");
                }
                reads += 1;
            }
        }));
    }
    // The executor's thread takes snapshots (`TaskInfo`) meanwhile.
    let mut snapshots = 0;
    while !threads[..2].iter().all(|t| t.is_finished()) || snapshots < 100 {
        for info in ex.tasks() {
            if let Some(name) = info.name() {
                assert!(names.iter().any(|n| n == name), "torn snapshot {name:?}");
            }
        }
        snapshots += 1;
    }
    for thread in threads.drain(..2) {
        thread.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        thread.join().unwrap();
    }
    let listed = ex.tasks();
    let info = listed.iter().find(|t| t.id() == task.id()).unwrap();
    assert!(names.iter().any(|n| Some(n.as_str()) == info.name()));
    assert_eq!(info.state(), TaskState::Scheduled);
    let task = Arc::try_unwrap(task).unwrap();
    task.cancel();
    assert!(ex
        .block_on(task, &mut ThreadPark)
        .unwrap_err()
        .is_cancelled());
}
