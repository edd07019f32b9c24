//! Tasks: scheduling order (`create_task`, `yield_now`), ownership by the
//! loop, cancellation, panics, names and introspection (`current_task`,
//! `all_tasks`), `create_local_task` and `try_result`.

use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corio::{task, TaskError};

use crate::common::*;

#[test]
fn two_tasks_interleave_at_yield_now() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let worker = |name: &'static str| {
        let log = log.clone();
        async move {
            for i in 0..3 {
                log.lock().unwrap().push(format!("{name}{i}"));
                corio::yield_now().await;
            }
        }
    };
    corio::run(async {
        let a = corio::create_task(worker("a"));
        let b = corio::create_task(worker("b"));
        a.await.unwrap();
        b.await.unwrap();
    });
    assert_eq!(*log.lock().unwrap(), ["a0", "b0", "a1", "b1", "a2", "b2"]);
}

#[test]
fn create_task_does_not_run_the_task_before_the_creator_yields() {
    corio::run(async {
        let started = flag();
        let task = corio::create_task({
            let started = started.clone();
            async move { started.store(true, Ordering::SeqCst) }
        });
        // Plain (non-yielding) work in the creator does not let it run.
        std::thread::sleep(Duration::from_millis(5));
        assert!(!started.load(Ordering::SeqCst));
        assert!(!task.is_done());
        corio::yield_now().await;
        assert!(started.load(Ordering::SeqCst));
        assert!(task.is_done());
    });
}

#[test]
fn a_dropped_task_handle_does_not_cancel_the_task() {
    let finished = flag();
    corio::run(async {
        let task = corio::create_task({
            let finished = finished.clone();
            async move {
                corio::sleep(Duration::from_millis(10)).await;
                finished.store(true, Ordering::SeqCst);
            }
        });
        drop(task);
        corio::sleep(Duration::from_millis(30)).await;
        assert!(
            finished.load(Ordering::SeqCst),
            "the loop dropped a task whose handle was dropped"
        );
    });
}

#[test]
fn a_cancelled_task_gives_cancelled_and_its_future_is_dropped() {
    corio::run(async {
        let dropped = flag();
        let reached_end = flag();
        let mut task = task::Builder::new().name("sleeper").create({
            let guard = SetOnDrop(dropped.clone());
            let reached_end = reached_end.clone();
            async move {
                let _guard = guard;
                corio::sleep(Duration::from_secs(3600)).await;
                reached_end.store(true, Ordering::SeqCst);
            }
        });
        let id = task.id();
        corio::yield_now().await; // let it start and park on the sleep
        assert!(!task.is_cancelled());
        assert!(task.cancel());
        // `is_cancelled` reports a cancellation that took effect (the future
        // was dropped at the loop's next scheduling point).
        let error = corio::timeout(Duration::from_secs(2), &mut task)
            .await
            .expect("awaiting a cancelled task hung")
            .unwrap_err();
        assert!(error.is_cancelled());
        assert!(!error.is_panic());
        assert_eq!(error.id(), id);
        assert_eq!(error.name(), Some("sleeper"));
        assert!(error.to_string().contains("was cancelled"), "{error}");
        assert!(
            dropped.load(Ordering::SeqCst),
            "the future was not dropped by the time await returned"
        );
        assert!(!reached_end.load(Ordering::SeqCst));
        assert!(task.is_cancelled());
        assert!(task.is_done());
        assert!(
            !task.cancel(),
            "cancelling a cancelled task again reports it is done"
        );
    });
}

#[test]
fn cancelling_a_task_that_never_ran_drops_it_unpolled() {
    corio::run(async {
        let polled = flag();
        let dropped = flag();
        let task = corio::create_task({
            let polled = polled.clone();
            let guard = SetOnDrop(dropped.clone());
            async move {
                let _guard = guard;
                polled.store(true, Ordering::SeqCst);
            }
        });
        assert!(task.cancel());
        let error = task.await.unwrap_err();
        assert!(error.is_cancelled());
        assert!(dropped.load(Ordering::SeqCst));
        assert!(
            !polled.load(Ordering::SeqCst),
            "a task cancelled before its first poll was polled"
        );
    });
}

#[test]
fn cancel_returns_true_for_a_pending_task_and_false_for_a_finished_one() {
    corio::run(async {
        let done = corio::create_task(async { 1 });
        let pending = corio::create_task(std::future::pending::<()>());
        corio::yield_now().await;
        assert!(done.is_done());
        assert!(!pending.is_done());
        assert!(!done.cancel());
        assert!(!done.is_cancelled());
        assert!(pending.cancel());
        assert_eq!(done.await.unwrap(), 1);
        assert!(pending.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn a_panicking_task_gives_panicked_and_the_loop_goes_on() {
    let (error, other) = corio::run(async {
        let failing = task::Builder::new().name("boom").create(async {
            corio::yield_now().await;
            panic!("task failed on purpose");
        });
        let other = corio::create_task(async {
            corio::sleep(Duration::from_millis(5)).await;
            "still running"
        });
        let id = failing.id();
        let error = failing.await.unwrap_err();
        assert_eq!(error.id(), id);
        (error, other.await.unwrap())
    });
    assert_eq!(other, "still running");
    assert!(error.is_panic());
    assert!(!error.is_cancelled());
    assert_eq!(error.name(), Some("boom"));
    assert_eq!(error.panic_message(), Some("task failed on purpose"));
    let shown = error.to_string();
    assert!(shown.contains(&error.id().to_string()), "{shown}");
    assert!(shown.contains("boom"), "{shown}");
    assert!(shown.contains("task failed on purpose"), "{shown}");
    let payload = error.into_panic();
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"task failed on purpose")
    );
}

#[test]
fn a_panic_with_a_formatted_message_is_reported() {
    let error = corio::run(async {
        let n = 42;
        corio::create_task(async move { panic!("bad value {n}") })
            .await
            .unwrap_err()
    });
    assert_eq!(error.panic_message(), Some("bad value 42"));
}

#[test]
fn task_names_are_visible_from_handles_and_from_inside() {
    corio::run(async {
        let named = task::Builder::new().name("fetch-1").create(async {
            let me = corio::current_task().expect("current_task inside a task");
            me.name().map(str::to_owned)
        });
        assert_eq!(named.name(), Some("fetch-1"));
        let id = named.id();
        let unnamed = corio::create_task(async { corio::current_task().unwrap().id() });
        assert_eq!(unnamed.name(), None);
        let unnamed_id = unnamed.id();
        assert_ne!(id, unnamed_id);
        assert_eq!(named.await.unwrap().as_deref(), Some("fetch-1"));
        assert_eq!(unnamed.await.unwrap(), unnamed_id);
    });
}

#[test]
fn current_task_is_none_outside_a_task() {
    assert!(corio::current_task().is_none());
}

#[test]
fn all_tasks_lists_pending_tasks_and_not_finished_ones_or_callbacks() {
    corio::run(async {
        let names = || -> Vec<String> {
            corio::all_tasks()
                .iter()
                .filter_map(|t| t.name().map(str::to_owned))
                .collect()
        };
        let count_before = corio::all_tasks().len();

        let waiting = task::Builder::new()
            .name("waiting")
            .create(std::future::pending::<()>());
        let finishing = task::Builder::new().name("finishing").create(async {});
        let mut listed = names();
        listed.sort();
        assert_eq!(
            listed,
            ["finishing", "waiting"],
            "tasks not yet run are listed"
        );

        corio::yield_now().await;
        assert!(finishing.is_done());
        assert_eq!(names(), ["waiting"], "a finished task is not listed");
        assert!(corio::all_tasks().iter().any(|t| t.id() == waiting.id()));

        // Callbacks are tasks inside the loop, but not listed.
        let handle = corio::get_running_loop();
        let soon = handle.call_soon(|| {});
        let later = handle.call_later(Duration::from_secs(3600), || {});
        assert_eq!(corio::all_tasks().len(), count_before + 1);
        soon.cancel();
        later.cancel();
        waiting.cancel();
    });
}

#[test]
fn create_local_task_accepts_non_send_futures() {
    let total = corio::run(async {
        let shared = Rc::new(std::cell::Cell::new(0));
        let tasks: Vec<_> = (1..=3)
            .map(|i| {
                let shared = shared.clone();
                corio::create_local_task(async move {
                    corio::yield_now().await;
                    shared.set(shared.get() + i);
                    Rc::new(i)
                })
            })
            .collect();
        let mut outputs = Vec::new();
        for task in tasks {
            outputs.push(*task.await.unwrap());
        }
        assert_eq!(outputs, [1, 2, 3]);
        shared.get()
    });
    assert_eq!(total, 6);
}

#[test]
fn named_local_tasks_keep_their_name() {
    corio::run(async {
        let task = task::Builder::new()
            .name("local")
            .create_local(async { Rc::new("rc") });
        assert_eq!(task.name(), Some("local"));
        assert_eq!(*task.await.unwrap(), "rc");
    });
}

#[test]
fn try_result_is_none_before_done_and_the_result_after() {
    corio::run(async {
        let mut task = corio::create_task(async {
            corio::sleep(Duration::from_millis(5)).await;
            "value"
        });
        assert!(task.try_result().is_none());
        corio::yield_now().await;
        assert!(task.try_result().is_none(), "still sleeping");
        while !task.is_done() {
            corio::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(task.try_result().expect("done").unwrap(), "value");
    });
}

#[test]
fn try_result_reports_cancellation() {
    corio::run(async {
        let mut task = corio::create_task(std::future::pending::<()>());
        task.cancel();
        corio::yield_now().await;
        assert!(task.is_done());
        let result: Option<Result<(), TaskError>> = task.try_result();
        assert!(result.expect("done").unwrap_err().is_cancelled());
    });
}

#[test]
fn a_task_can_await_another_task() {
    let value = corio::run(async {
        let inner = corio::create_task(async {
            corio::sleep(Duration::from_millis(5)).await;
            20
        });
        let outer = corio::create_task(async move { inner.await.unwrap() + 1 });
        outer.await.unwrap() * 2
    });
    assert_eq!(value, 42);
}

/// A chain link: a pending task whose `Drop` spawns the next link.
struct Respawn {
    left: usize,
    dropped: Arc<std::sync::atomic::AtomicUsize>,
}

impl Drop for Respawn {
    fn drop(&mut self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
        if self.left > 0 {
            let next = Respawn {
                left: self.left - 1,
                dropped: self.dropped.clone(),
            };
            drop(corio::create_task(async move {
                let _next = next;
                std::future::pending::<()>().await
            }));
        }
    }
}

/// Soundness review, bug 6: during `run`'s teardown every `Drop` that spawns
/// again used to nest one level deeper on the stack (the closing loop
/// dropped the new future inside `create_task`): a long enough chain
/// overflowed it and aborted the process. Teardown now drains such drops in
/// a loop.
#[test]
fn a_chain_of_spawns_from_drop_during_teardown_uses_bounded_stack() {
    const LINKS: usize = 50_000;
    let dropped = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let first = Respawn {
        left: LINKS,
        dropped: dropped.clone(),
    };
    corio::run(async move {
        drop(corio::create_task(async move {
            let _first = first;
            std::future::pending::<()>().await
        }));
        corio::yield_now().await;
    });
    assert_eq!(dropped.load(Ordering::Relaxed), LINKS + 1);
}
