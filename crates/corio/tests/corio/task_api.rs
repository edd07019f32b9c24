//! The task API of asyncio's second round: `TaskError` converts with `?`
//! into boxed errors, `Task::add_done_callback` (run on the loop in FIFO
//! order, after what is already scheduled), `Task::set_name`,
//! `cancel_current` / `current_task_handle` (the cancellation lands at the
//! task's next await), cancel messages, named `TaskGroup` children (names in
//! `TaskGroupError` and in `corio::debug::dump_tasks`), and `SharedTask`.

use std::error::Error;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corio::task::{SharedTask, TaskGroup};

type Log = Arc<Mutex<Vec<String>>>;

fn push(log: &Log, entry: impl Into<String>) {
    log.lock().unwrap().push(entry.into());
}

fn entries(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

#[test]
fn task_await_question_mark_into_a_boxed_send_sync_error() {
    async fn body() -> Result<u32, Box<dyn Error + Send + Sync>> {
        let fine = corio::create_task(async { 2 }).await?;
        let failed: u32 = corio::create_task(async { panic!("child failed") }).await?;
        Ok(fine + failed)
    }
    let error = corio::run(body()).unwrap_err();
    let task_error = error.downcast::<corio::TaskError>().unwrap();
    assert_eq!(task_error.panic_message(), Some("child failed"));
}

#[test]
fn done_callbacks_run_on_the_loop_in_order_after_what_was_already_scheduled() {
    let log: Log = Arc::default();
    corio::run({
        let log = log.clone();
        async move {
            let task = corio::create_task({
                let log = log.clone();
                async move { push(&log, "task") }
            });
            for name in ["cb1", "cb2"] {
                let log = log.clone();
                task.add_done_callback(move |info| {
                    // On the loop (this panics off it), and, as in asyncio,
                    // not inside any task.
                    drop(corio::get_running_loop());
                    assert!(corio::current_task().is_none(), "a callback is no task");
                    push(&log, format!("{name} {:?}", info.state()));
                });
            }
            // Scheduled before the task runs: it runs before the callbacks,
            // which are scheduled only when the task completes.
            {
                let log = log.clone();
                corio::get_running_loop().call_soon(move || push(&log, "call_soon"));
            }
            let id = task.id();
            task.await.unwrap();
            push(&log, format!("awaited {}", id.as_u64() > 0));
            corio::sleep(Duration::from_millis(1)).await;
        }
    });
    assert_eq!(
        entries(&log),
        ["task", "call_soon", "awaited true", "cb1 Done", "cb2 Done"]
    );
}

#[test]
fn a_done_callback_added_to_a_finished_task_runs_on_the_next_iteration() {
    let log: Log = Arc::default();
    corio::run({
        let log = log.clone();
        async move {
            let mut task = corio::create_task(async { 1 });
            while !task.is_done() {
                corio::yield_now().await;
            }
            let inner = log.clone();
            task.add_done_callback(move |_| push(&inner, "late callback"));
            push(&log, "added");
            corio::yield_now().await;
            corio::yield_now().await;
            assert_eq!(task.try_result().unwrap().unwrap(), 1);
        }
    });
    assert_eq!(entries(&log), ["added", "late callback"]);
}

#[test]
fn set_name_shows_in_all_tasks_and_errors() {
    corio::run(async {
        let task = corio::create_task(corio::sleep(Duration::from_secs(3600)));
        task.set_name("renamed");
        let listed = corio::all_tasks();
        assert!(listed
            .iter()
            .any(|t| t.id() == task.id() && t.name() == Some("renamed")));
        task.cancel_with("shutdown");
        let error = task.await.unwrap_err();
        assert_eq!(error.name(), Some("renamed"));
        assert_eq!(error.cancel_message(), Some("shutdown"));
        assert_eq!(
            error.to_string(),
            format!("task {} 'renamed' was cancelled: shutdown", error.id())
        );
    });
}

#[test]
fn cancel_current_lands_at_the_next_await() {
    let log: Log = Arc::default();
    corio::run({
        let log = log.clone();
        async move {
            let task = corio::create_task({
                let log = log.clone();
                async move {
                    push(&log, "before");
                    assert!(corio::task::cancel_current(Some("self")));
                    push(&log, "same step");
                    corio::yield_now().await;
                    push(&log, "never");
                }
            });
            let error = task.await.unwrap_err();
            assert_eq!(error.cancel_message(), Some("self"));
            let handle = corio::task::current_task_handle().unwrap();
            assert_eq!(Some(handle.id()), corio::current_task().map(|t| t.id()));
        }
    });
    assert_eq!(entries(&log), ["before", "same step"]);
    assert!(corio::task::current_task_handle().is_none());
    assert!(!corio::task::cancel_current(None));
}

#[test]
fn named_group_children_show_in_failures_and_dumps() {
    corio::run(async {
        let failed = TaskGroup::<String>::scope(|group| async move {
            group.builder().name("sleeper").create(async {
                corio::sleep(Duration::from_secs(3600)).await;
                Ok(())
            });
            corio::yield_now().await;
            let dump = corio::debug::dump_tasks();
            assert!(dump.contains("sleeper"), "{dump}");
            group
                .builder()
                .name("failing")
                .create(async { Err::<(), _>("bad input".to_string()) });
            group
                .builder()
                .name("local")
                .create_local(async { Ok(std::rc::Rc::new(1)) });
            Ok(())
        })
        .await
        .unwrap_err();
        assert_eq!(failed.errors().len(), 1);
        let failure = &failed.errors()[0];
        assert_eq!(failure.task().name(), Some("failing"));
        assert!(failed.to_string().contains("'failing'"), "{failed}");
    });
}

#[test]
fn a_shared_task_is_awaited_by_many_and_gives_the_same_result() {
    corio::run(async {
        let shared: SharedTask<Arc<str>> = corio::create_task(async {
            corio::sleep(Duration::from_millis(5)).await;
            Arc::<str>::from("config")
        })
        .shared();
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let shared = shared.clone();
                corio::create_task(async move { shared.await.unwrap() })
            })
            .collect();
        for reader in readers {
            assert_eq!(&*reader.await.unwrap(), "config");
        }
        assert!(shared.is_done());
        assert_eq!(&*shared.clone().await.unwrap(), "config");
        assert_eq!(&*shared.try_result().unwrap().unwrap(), "config");
    });
}

#[test]
fn awaiting_a_task_twice_panics_naming_shared_and_promise() {
    let message = std::panic::catch_unwind(|| {
        corio::run(async {
            let mut task = corio::create_task(async { 1 });
            (&mut task).await.unwrap();
            let _ = (&mut task).await;
        })
    })
    .unwrap_err();
    let text = message
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| message.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(
        text.contains("Task::shared()") && text.contains("Promise"),
        "{text}"
    );
}

/// asyncio: `current_task()` is None in a `call_soon` callback, so nothing
/// there can cancel "the current task" (corio runs callbacks in internal
/// tasks; those must not show through).
#[test]
fn a_callback_has_no_current_task_to_name_or_cancel() {
    let seen: Arc<Mutex<Vec<bool>>> = Arc::default();
    corio::run({
        let seen = seen.clone();
        async move {
            let handle = corio::get_running_loop();
            handle.call_soon(move || {
                let mut seen = seen.lock().unwrap();
                seen.push(corio::current_task().is_none());
                seen.push(corio::task::current_task_handle().is_none());
                seen.push(!corio::task::cancel_current(Some("from a callback")));
            });
            corio::sleep(Duration::from_millis(1)).await;
        }
    });
    assert_eq!(*seen.lock().unwrap(), [true, true, true]);
}
