//! Eager tasks (Python 3.12's `eager_task_factory`): `task::Builder::eager()`
//! and `Runner::builder().eager_tasks(true)` run a new task's first step
//! inside `create`, in asyncio's order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corio::task::{Builder, TaskError};

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

/// asyncio 3.12, `loop.set_task_factory(asyncio.eager_task_factory)`:
/// `create_task` runs the body up to its first await that waits before it
/// returns; the rest runs in a later iteration, after tasks scheduled before.
#[test]
fn the_first_step_runs_inside_create_in_asyncio_order() {
    let log = log();
    corio::run({
        let log = log.clone();
        async move {
            let normal = corio::create_task({
                let log = log.clone();
                async move { push(&log, "normal task runs") }
            });
            push(&log, "before create");
            let eager = Builder::new().eager().create({
                let log = log.clone();
                async move {
                    push(&log, "eager step 1");
                    corio::yield_now().await;
                    push(&log, "eager step 2");
                }
            });
            push(&log, "after create");
            assert!(!eager.is_done());
            eager.await.unwrap();
            normal.await.unwrap();
        }
    });
    assert_eq!(
        entries(&log),
        [
            "before create",
            "eager step 1",
            "after create",
            "normal task runs",
            "eager step 2"
        ]
    );
}

#[test]
fn a_task_that_finishes_in_its_first_step_is_done_when_create_returns_and_never_queued() {
    corio::run(async {
        let before = corio::all_tasks().len();
        let task = Builder::new().eager().name("quick").create(async { 7 });
        assert!(task.is_done());
        assert_eq!(corio::all_tasks().len(), before);
        assert_eq!(task.await.unwrap(), 7);
    });
}

#[test]
fn current_task_inside_the_eager_step_is_the_new_task_and_the_creator_after() {
    corio::run(async {
        let creator = corio::current_task().unwrap().id();
        let task = Builder::new()
            .eager()
            .name("inner")
            .create(async { corio::current_task().map(|t| (t.id(), t.name().map(str::to_owned))) });
        let id = task.id();
        assert_eq!(corio::current_task().unwrap().id(), creator);
        let (seen, name) = task.await.unwrap().unwrap();
        assert_eq!(seen, id);
        assert_eq!(name.as_deref(), Some("inner"));
    });
}

#[test]
fn a_panic_in_the_eager_step_is_the_tasks_never_the_creators() {
    corio::run(async {
        let task = Builder::new().eager().create(async {
            if true {
                panic!("boom in the eager step");
            }
        });
        assert!(task.is_done());
        match task.await {
            Err(TaskError::Panicked { .. }) => {}
            other => panic!("expected the task's panic, got {other:?}"),
        }
        // The creator goes on, and so does the loop.
        corio::yield_now().await;
    });
}

/// Each eager task creates the next, 1000 deep: no stack overflow. Beyond
/// `MAX_EAGER_DEPTH` nested steps the new task is scheduled instead.
#[test]
fn eager_tasks_nested_a_thousand_deep_fall_back_to_scheduling_past_the_cap() {
    fn chain(depth: usize, done_at_create: Arc<Mutex<Vec<bool>>>) -> corio::Task<usize> {
        Builder::new().eager().create(async move {
            if depth == 0 {
                return 0;
            }
            let child = chain(depth - 1, done_at_create.clone());
            done_at_create.lock().unwrap().push(child.is_done());
            child.await.unwrap() + 1
        })
    }
    let cap = corio_executor::Spawner::MAX_EAGER_DEPTH as usize;
    let done = Arc::new(Mutex::new(Vec::new()));
    let total = corio::run({
        let done = done.clone();
        async move { chain(1000, done).await.unwrap() }
    });
    assert_eq!(total, 1000);
    let done = done.lock().unwrap();
    assert_eq!(done.len(), 1000);
    // Some children could not run in place (depth cap): they were scheduled.
    assert!(done.iter().any(|d| !d), "the depth cap never applied");
    // The innermost ones (a stretch shorter than the cap) finished in place.
    let in_place = done.iter().filter(|d| **d).count();
    assert!(in_place >= 1 && in_place < cap, "{in_place}");
}

#[test]
fn the_depth_cap_is_exactly_max_eager_depth_nested_steps() {
    let cap = corio_executor::Spawner::MAX_EAGER_DEPTH as usize;
    let deepest = Arc::new(AtomicUsize::new(0));
    fn nest(level: usize, deepest: Arc<AtomicUsize>) {
        drop(Builder::new().eager().create(async move {
            deepest.fetch_max(level, Ordering::SeqCst);
            nest(level + 1, deepest);
        }));
    }
    let seen = corio::run({
        let deepest = deepest.clone();
        async move {
            nest(1, deepest.clone());
            // Everything nested synchronously ran before `nest` returned.
            deepest.load(Ordering::SeqCst)
        }
    });
    assert_eq!(seen, cap);
}

#[test]
fn an_eager_step_that_cancels_the_task_polling_it_ends_that_task() {
    corio::run(async {
        let after = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = std::sync::mpsc::channel::<corio_executor::AbortHandle>();
        let rx = Arc::new(Mutex::new(rx));
        let creator = corio::create_task({
            let after = after.clone();
            let rx = rx.clone();
            async move {
                let rx = rx.clone();
                drop(Builder::new().eager().create(async move {
                    // Cancels the creator while the creator is mid-poll.
                    let creator = rx.lock().unwrap().recv().unwrap();
                    creator.cancel();
                }));
                after.fetch_add(1, Ordering::SeqCst);
                corio::yield_now().await;
                after.fetch_add(1, Ordering::SeqCst);
            }
        });
        tx.send(creator.abort_handle()).unwrap();
        assert!(matches!(creator.await, Err(TaskError::Cancelled { .. })));
        // The creator's poll finished (the cancel took effect after it).
        assert_eq!(after.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn a_pending_eager_task_whose_handle_is_dropped_runs_to_completion() {
    let log = log();
    corio::run({
        let log = log.clone();
        async move {
            drop(Builder::new().eager().create({
                let log = log.clone();
                async move {
                    push(&log, "step 1");
                    corio::sleep(Duration::from_millis(2)).await;
                    push(&log, "step 2");
                }
            }));
            push(&log, "dropped");
            corio::sleep(Duration::from_millis(20)).await;
        }
    });
    assert_eq!(entries(&log), ["step 1", "dropped", "step 2"]);
}

#[test]
fn eager_tasks_on_the_runner_make_every_create_task_eager_but_not_callbacks() {
    let log = log();
    let mut runner = corio::Runner::builder().eager_tasks(true).build().unwrap();
    runner.run({
        let log = log.clone();
        async move {
            let handle = corio::get_running_loop();
            handle.call_soon({
                let log = log.clone();
                move || push(&log, "callback")
            });
            let task = corio::create_task({
                let log = log.clone();
                async move { push(&log, "task") }
            });
            assert!(task.is_done());
            let local = corio::create_local_task({
                let log = log.clone();
                async move { push(&log, "local task") }
            });
            assert!(local.is_done());
            push(&log, "main");
            corio::yield_now().await;
        }
    });
    runner.close();
    assert_eq!(entries(&log), ["task", "local task", "main", "callback"]);
}

#[test]
fn an_eager_task_created_from_a_callback_runs_inside_the_callback() {
    let log = log();
    corio::run({
        let log = log.clone();
        async move {
            let seen = Arc::new(Mutex::new(None));
            let tx = seen.clone();
            corio::get_running_loop().call_soon({
                let log = log.clone();
                move || {
                    let task = Builder::new().eager().create({
                        let log = log.clone();
                        async move { push(&log, "eager in callback") }
                    });
                    push(&log, "callback returns");
                    *tx.lock().unwrap() = Some(task.is_done());
                }
            });
            corio::sleep(Duration::from_millis(1)).await;
            assert_eq!(*seen.lock().unwrap(), Some(true));
        }
    });
    assert_eq!(entries(&log), ["eager in callback", "callback returns"]);
}

#[test]
fn eager_tasks_run_on_the_creating_thread_under_workers() {
    let mut runner = corio::Runner::builder().workers(4).build().unwrap();
    let ok = runner.run(async {
        let outer = corio::create_task(async {
            let here = std::thread::current().id();
            let mut all = true;
            for i in 0..100usize {
                let task = Builder::new()
                    .eager()
                    .create(async move { (std::thread::current().id(), i) });
                all &= task.is_done();
                let (thread, value) = task.await.unwrap();
                all &= thread == here && value == i;
            }
            // Pending eager tasks go on on the workers.
            let pending: Vec<_> = (0..100u64)
                .map(|i| {
                    Builder::new().eager().create(async move {
                        corio::yield_now().await;
                        corio::sleep(Duration::from_micros(i)).await;
                        i
                    })
                })
                .collect();
            let mut sum = 0;
            for task in pending {
                sum += task.await.unwrap();
            }
            all && sum == (0..100).sum::<u64>()
        });
        outer.await.unwrap()
    });
    runner.close();
    assert!(ok);
}

/// An eager step holding its own handle (`current_task_handle`) that
/// cancels itself, and drops that handle: the task ends cancelled at its
/// first await, inside `create`; the creator goes on.
#[test]
fn an_eager_step_that_cancels_itself_ends_cancelled_inside_create() {
    corio::run(async {
        let reached = Arc::new(AtomicUsize::new(0));
        let task = Builder::new().eager().create({
            let reached = reached.clone();
            async move {
                let me = corio::task::current_task_handle().unwrap();
                assert!(me.cancel());
                drop(me);
                reached.fetch_add(1, Ordering::SeqCst);
                corio::yield_now().await;
                reached.fetch_add(1, Ordering::SeqCst);
            }
        });
        assert!(task.is_done());
        assert!(matches!(task.await, Err(TaskError::Cancelled { .. })));
        assert_eq!(reached.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn loop_handle_create_task_is_eager_on_an_eager_loop() {
    let mut runner = corio::Runner::builder().eager_tasks(true).build().unwrap();
    runner.run(async {
        let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = ran.clone();
        let task = corio::get_running_loop().create_task(async move {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        assert!(
            ran.load(std::sync::atomic::Ordering::SeqCst),
            "first step ran inside create_task"
        );
        assert!(task.is_done());
    });
}
