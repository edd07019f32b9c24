//! `Task::add_done_callback`: callbacks run on the task's executor, in
//! registration order, after the work already queued when the task
//! completed (never inside its last poll); for finished, panicked and
//! cancelled tasks; at once when added after the task is done; under
//! re-entrancy; and on the multi-threaded executor, exactly once each.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::common::{drain, forgotten, yield_now, Counter};
use corio_executor::{Executor, LocalExecutor, TaskState, ThreadPark};

type Log = Arc<Mutex<Vec<String>>>;

fn log() -> Log {
    Arc::default()
}

fn push(log: &Log, entry: impl Into<String>) {
    log.lock().unwrap().push(entry.into());
}

fn entries(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

#[test]
fn callbacks_run_after_the_work_queued_when_the_task_completed_in_order() {
    let ex = LocalExecutor::new();
    let log = log();
    let task = ex.spawn({
        let log = log.clone();
        async move { push(&log, "task") }
    });
    for name in ["cb1", "cb2", "cb3"] {
        let log = log.clone();
        task.add_done_callback(move |info| {
            assert_eq!(info.state(), TaskState::Done);
            push(&log, name);
        });
    }
    let _other = ex.spawn({
        let log = log.clone();
        async move { push(&log, "queued before completion") }
    });
    drop(task);
    drain(&ex);
    assert_eq!(
        entries(&log),
        ["task", "queued before completion", "cb1", "cb2", "cb3"]
    );
}

#[test]
fn a_callback_added_after_the_task_is_done_is_scheduled_not_run_inline() {
    let ex = LocalExecutor::new();
    let log = log();
    let mut task = ex.spawn(async { 3 });
    drain(&ex);
    assert!(task.is_done());
    {
        let log = log.clone();
        task.add_done_callback(move |_| push(&log, "late"));
    }
    assert!(entries(&log).is_empty(), "not run inside add_done_callback");
    assert_eq!(ex.run_once(), 1);
    assert_eq!(entries(&log), ["late"]);
    assert_eq!(task.try_result().unwrap().unwrap(), 3);
}

#[test]
fn callbacks_run_for_cancelled_and_panicked_tasks() {
    let ex = LocalExecutor::new();
    let log = log();
    let cancelled = ex.spawn(forgotten::<()>());
    let panicked = ex.spawn(async {
        yield_now().await;
        panic!("boom")
    });
    for (task, name) in [(&cancelled, "cancelled"), (&panicked, "panicked")] {
        let log = log.clone();
        let id = task.id();
        task.add_done_callback(move |info| {
            assert_eq!(info.id(), id);
            push(&log, name);
        });
    }
    drain(&ex);
    cancelled.cancel_with("stop");
    drain(&ex);
    assert_eq!(entries(&log), ["panicked", "cancelled"]);
    let error = ex.block_on(cancelled, &mut ThreadPark).unwrap_err();
    assert_eq!(error.cancel_message(), Some("stop"));
    assert!(ex
        .block_on(panicked, &mut ThreadPark)
        .unwrap_err()
        .is_panic());
}

#[test]
fn a_panicking_callback_does_not_stop_the_others_and_is_reported() {
    let ex = LocalExecutor::new();
    let reports = log();
    {
        let reports = reports.clone();
        ex.set_unretrieved_panic_hook(move |report| {
            push(&reports, report.message.clone().unwrap_or_default())
        });
    }
    let log = log();
    let task = ex.spawn(async {});
    task.add_done_callback(|_| panic!("callback failed"));
    {
        let log = log.clone();
        task.add_done_callback(move |_| push(&log, "second ran"));
    }
    drain(&ex);
    assert_eq!(entries(&log), ["second ran"]);
    assert_eq!(entries(&reports), ["callback failed"]);
}

#[test]
fn callbacks_may_drop_the_handle_add_callbacks_cancel_and_spawn() {
    let ex = LocalExecutor::new();
    let log = log();
    let victim = ex.spawn(forgotten::<()>());
    let task = Arc::new(Mutex::new(Some(ex.spawn(async {}))));
    let spawner = ex.spawner();
    {
        let (log, task2, victim) = (log.clone(), task.clone(), victim.abort_handle());
        let handle = task.lock().unwrap().as_ref().unwrap().abort_handle();
        task.lock()
            .unwrap()
            .as_ref()
            .unwrap()
            .add_done_callback(move |_| {
                push(&log, "first");
                // Drop the Task handle from inside its own callback.
                drop(task2.lock().unwrap().take());
                let inner = log.clone();
                handle.add_done_callback(move |_| push(&inner, "added by a callback"));
                victim.cancel();
                let spawned = log.clone();
                drop(spawner.spawn(async move { push(&spawned, "spawned by a callback") }));
            });
    }
    drain(&ex);
    assert!(task.lock().unwrap().is_none());
    assert_eq!(
        entries(&log),
        ["first", "added by a callback", "spawned by a callback"]
    );
    assert!(victim.is_cancelled());
}

#[test]
fn callbacks_left_unrun_by_a_closing_executor_are_dropped_once() {
    let dropped = Counter::new();
    let ran = Arc::new(AtomicUsize::new(0));
    {
        let ex = LocalExecutor::new();
        for _ in 0..100 {
            let task = ex.spawn(forgotten::<()>());
            let (token, ran) = (dropped.token(), ran.clone());
            task.add_done_callback(move |_| {
                let _token = token;
                ran.fetch_add(1, Ordering::SeqCst);
            });
        }
        ex.run_once();
        ex.close();
    }
    assert_eq!(dropped.get(), 100, "every callback dropped exactly once");
    assert_eq!(
        ran.load(Ordering::SeqCst),
        0,
        "a closing executor runs none"
    );
}

#[test]
fn on_the_multi_threaded_executor_each_callback_runs_once() {
    let ex = Executor::new(2);
    let ran = Arc::new(AtomicUsize::new(0));
    let total = ex.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..200u32 {
            tasks.push(ex.spawn(async move {
                if i % 2 == 0 {
                    futures_lite_yield().await;
                }
                i
            }));
        }
        let mut sum = 0;
        for task in tasks {
            let ran = ran.clone();
            task.add_done_callback(move |_| {
                ran.fetch_add(1, Ordering::SeqCst);
            });
            sum += task.await.unwrap();
        }
        while ran.load(Ordering::SeqCst) < 200 {
            futures_lite_yield().await;
        }
        sum
    });
    assert_eq!(total, (0..200).sum::<u32>());
    assert_eq!(ran.load(Ordering::SeqCst), 200);
}

/// Yields once to the executor.
async fn futures_lite_yield() {
    yield_now().await
}

#[test]
fn callbacks_of_a_pinned_local_task_run_on_its_thread() {
    let ex = Executor::new(2);
    let here = std::thread::current().id();
    let ran_on = Arc::new(Mutex::new(None));
    ex.block_on(async {
        let task = ex.spawn_local(async { std::rc::Rc::new(1) });
        {
            let ran_on = ran_on.clone();
            task.add_done_callback(move |_| {
                *ran_on.lock().unwrap() = Some(std::thread::current().id());
            });
        }
        assert_eq!(*task.await.unwrap(), 1);
        while ran_on.lock().unwrap().is_none() {
            futures_lite_yield().await;
        }
    });
    assert_eq!(*ran_on.lock().unwrap(), Some(here));
}

#[test]
fn callbacks_left_unrun_when_a_multi_threaded_executor_closes_are_dropped() {
    let dropped = Counter::new();
    {
        let ex = Executor::new(2);
        ex.block_on(async {
            for _ in 0..100 {
                let task = ex.spawn(forgotten::<()>());
                let token = dropped.token();
                task.add_done_callback(move |_| drop(token));
            }
            // Pinned local tasks too: closing drops them on their slot,
            // which queues their callbacks' hidden task on the closed
            // pinned queue; that (Send) task is dropped, not leaked.
            for _ in 0..100 {
                let task = ex.spawn_local(forgotten::<()>());
                let token = dropped.token();
                task.add_done_callback(move |_| drop(token));
            }
        });
    }
    assert_eq!(dropped.get(), 200, "each callback dropped (or run) once");
}
