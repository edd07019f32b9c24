//! Entering corio: `run`, `Runner`, `Builder`, the running-loop lookups
//! (`get_running_loop`, `try_get_running_loop`) and their error messages,
//! clean-up of leftover tasks, and talking to a loop from other threads
//! (`run_coroutine_threadsafe`, `call_soon_threadsafe`).

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corio::Runner;

use crate::common::*;

/// The message of a panic payload (`panic!` with a literal or a format).
fn message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("<non-string panic payload>")
}

/// Runs `f`, expecting it to panic; returns the panic message.
fn panic_message_of<R>(f: impl FnOnce() -> R) -> String {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic"),
        Err(payload) => message(&*payload).to_owned(),
    }
}

#[test]
fn run_returns_the_output_of_main() {
    assert_eq!(corio::run(async { "output" }), "output");
    // `main` may borrow from the caller: it need not be 'static.
    let mut numbers = vec![1, 2, 3];
    corio::run(async {
        corio::yield_now().await;
        numbers.push(4);
    });
    assert_eq!(numbers, [1, 2, 3, 4]);
}

#[test]
fn the_example_from_the_issue_adds_up_to_three() {
    let total = corio::run(async {
        let a = corio::create_task(async {
            corio::sleep(Duration::from_millis(50)).await;
            1
        });
        let b = corio::create_task(async { 2 });
        a.await.unwrap() + b.await.unwrap()
    });
    assert_eq!(total, 3);
}

#[test]
fn run_drops_every_leftover_task_before_returning() {
    let never_woken = flag();
    let sleeping = flag();
    let never_polled = flag();
    let started = std::time::Instant::now();
    corio::run(async {
        let guard = SetOnDrop(never_woken.clone());
        corio::create_task(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        let guard = SetOnDrop(sleeping.clone());
        corio::create_task(async move {
            let _guard = guard;
            corio::sleep(Duration::from_secs(3600)).await;
        });
        corio::yield_now().await; // both are now parked
        let guard = SetOnDrop(never_polled.clone());
        corio::create_task(async move {
            let _guard = guard;
        });
        // main returns with three tasks left: two parked, one never polled.
    });
    assert!(never_woken.load(Ordering::SeqCst));
    assert!(sleeping.load(Ordering::SeqCst));
    assert!(never_polled.load(Ordering::SeqCst));
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "run waited for a leftover sleep"
    );
}

#[test]
fn cleanup_of_leftover_tasks_may_use_the_loop() {
    // A leftover task's Drop spawns its cleanup as a task (the corio way of
    // asyncio's `except CancelledError: await cleanup()`); run lets it run.
    let cleaned = flag();
    corio::run(async {
        struct SpawnCleanupOnDrop(Arc<AtomicBool>);
        impl Drop for SpawnCleanupOnDrop {
            fn drop(&mut self) {
                let cleaned = self.0.clone();
                corio::create_task(async move { cleaned.store(true, Ordering::SeqCst) });
            }
        }
        let guard = SpawnCleanupOnDrop(cleaned.clone());
        corio::create_task(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        corio::yield_now().await;
    });
    assert!(cleaned.load(Ordering::SeqCst));
}

#[test]
fn runner_runs_share_one_loop() {
    let mut runner = Runner::new();
    let before = runner.handle();
    let (task, first_loop) = runner.run(async {
        let task = corio::create_task(async {
            corio::sleep(Duration::from_millis(20)).await;
            "finished in a later run"
        });
        (task, corio::get_running_loop())
    });
    assert!(
        !task.is_done(),
        "the task cannot have finished: its sleep is still pending"
    );
    let second_loop = runner.run(async { corio::get_running_loop() });
    assert!(first_loop.same_loop(&before));
    assert!(second_loop.same_loop(&before));
    // Awaited in a third run: the task kept its timer across runs.
    assert_eq!(runner.run(task).unwrap(), "finished in a later run");
    runner.close();
    assert!(before.is_closed());
}

#[test]
fn a_task_created_in_one_run_progresses_during_the_next() {
    let mut runner = Runner::new();
    let done = flag();
    runner.run({
        let done = done.clone();
        async move {
            corio::create_task(async move {
                corio::sleep(Duration::from_millis(10)).await;
                done.store(true, Ordering::SeqCst);
            });
        }
    });
    assert!(!done.load(Ordering::SeqCst));
    // The second run does not await the task; it just gives it time.
    runner.run(async { corio::sleep(Duration::from_millis(30)).await });
    assert!(done.load(Ordering::SeqCst));
}

#[test]
fn dropping_a_runner_drops_its_pending_tasks() {
    let dropped = flag();
    let mut runner = Runner::new();
    let handle = runner.handle();
    runner.run({
        let guard = SetOnDrop(dropped.clone());
        async move {
            corio::create_task(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
        }
    });
    assert!(!dropped.load(Ordering::SeqCst));
    drop(runner);
    assert!(dropped.load(Ordering::SeqCst));
    assert!(handle.is_closed());
}

#[test]
fn run_inside_run_panics_with_a_clear_message() {
    const NESTED: &str = "corio::run() cannot be called from a running event loop";
    corio::run(async {
        assert_eq!(panic_message_of(|| corio::run(async {})), NESTED);
        // A Runner made inside a loop cannot run there either (and must not
        // abort the process while unwinding).
        assert_eq!(panic_message_of(|| Runner::new().run(async {})), NESTED);
        // The outer loop is unharmed.
        assert!(corio::try_get_running_loop().is_some());
        assert_eq!(corio::create_task(async { 5 }).await.unwrap(), 5);
    });
    assert!(corio::try_get_running_loop().is_none());
}

#[test]
#[should_panic(expected = "corio::run() cannot be called from a running event loop")]
fn run_inside_run_propagates_out_of_the_outer_run() {
    corio::run(async {
        corio::run(async {});
    });
}

#[test]
fn an_event_loop_can_be_created_and_closed_inside_a_running_loop() {
    corio::run(async {
        let mut inner = corio::EventLoop::new().unwrap();
        inner
            .handle()
            .call_soon(|| panic!("never runs: the inner loop never runs"));
        inner.close();
        assert!(inner.is_closed());
        // The outer loop is still the running one.
        assert!(!corio::get_running_loop().same_loop(&inner.handle()));
        corio::yield_now().await;
    });
}

#[test]
fn get_running_loop_outside_a_loop_panics_with_a_clear_message() {
    let shown = panic_message_of(corio::get_running_loop);
    assert!(shown.contains("no running event loop"), "{shown}");
}

#[test]
fn create_task_outside_a_loop_panics_naming_the_fix() {
    let shown = panic_message_of(|| corio::create_task(async {}));
    assert!(shown.contains("create_task"), "{shown}");
    assert!(shown.contains("corio::run"), "{shown}");
    let shown = panic_message_of(|| corio::sleep(Duration::from_millis(1)));
    assert!(shown.contains("sleep"), "{shown}");
}

#[test]
fn try_get_running_loop_is_none_outside_and_the_loop_inside() {
    assert!(corio::try_get_running_loop().is_none());
    let mut runner = Runner::new();
    let handle = runner.handle();
    let inside = runner.run(async { corio::try_get_running_loop() });
    assert!(inside
        .expect("a loop runs inside Runner::run")
        .same_loop(&handle));
    assert!(corio::try_get_running_loop().is_none());
}

#[test]
fn builder_rejects_worker_counts_it_cannot_build() {
    let error = Runner::builder().workers(1025).build().unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(error.to_string().contains("at most 1024"), "{error}");
    let error = Runner::builder().workers(0).build().unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    let mut runner = Runner::builder().workers(1).debug(true).build().unwrap();
    assert!(runner.handle().is_debug());
    assert_eq!(runner.run(async { 1 }), 1);
}

#[test]
fn a_panic_in_main_propagates_after_cleanup() {
    let dropped = flag();
    let result = catch_unwind(AssertUnwindSafe(|| {
        corio::run(async {
            let guard = SetOnDrop(dropped.clone());
            corio::create_task(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
            corio::yield_now().await;
            panic!("main failed on purpose");
        })
    }));
    let payload = result.expect_err("the panic of main must propagate");
    assert_eq!(message(&*payload), "main failed on purpose");
    assert!(
        dropped.load(Ordering::SeqCst),
        "the leftover task was not dropped before the panic propagated"
    );
    // The thread can start a new loop afterwards.
    assert_eq!(corio::run(async { 1 }), 1);
}

#[test]
fn run_coroutine_threadsafe_hands_the_value_to_another_thread() {
    let mut runner = Runner::new();
    let handle = runner.handle();
    let loop_thread = std::thread::current().id();
    let worker = std::thread::spawn(move || {
        let task = handle.run_coroutine_threadsafe(async {
            corio::sleep(Duration::from_millis(10)).await;
            (6 * 7, std::thread::current().id())
        });
        task.wait().unwrap()
    });
    // The loop runs until the worker thread has its answer.
    let (value, ran_on) = runner.run(async {
        corio::to_thread(move || worker.join().unwrap())
            .await
            .unwrap()
    });
    assert_eq!(value, 42);
    assert_eq!(
        ran_on, loop_thread,
        "the coroutine runs on the loop's thread"
    );
}

#[test]
fn wait_timeout_returns_none_while_pending_then_the_value() {
    let mut runner = Runner::new();
    let handle = runner.handle();
    let release = flag();
    let worker = std::thread::spawn({
        let release = release.clone();
        move || {
            let gate = release.clone();
            let mut task = handle.run_coroutine_threadsafe(async move {
                while !gate.load(Ordering::SeqCst) {
                    corio::sleep(Duration::from_millis(1)).await;
                }
                "released"
            });
            // The coroutine cannot finish before we release it.
            let early = task.wait_timeout(Duration::from_millis(20));
            assert!(early.is_none());
            assert!(!task.is_done());
            release.store(true, Ordering::SeqCst);
            let late = task.wait_timeout(Duration::from_secs(5));
            late.expect("the task finished once released").unwrap()
        }
    });
    let value = runner.run(async { corio::to_thread(move || worker.join()).await.unwrap() });
    assert_eq!(value.expect("worker thread panicked"), "released");
}

#[test]
fn waiting_on_a_threadsafe_task_from_the_loop_thread_panics() {
    corio::run(async {
        let task = corio::get_running_loop().run_coroutine_threadsafe(async { 1 });
        let shown = panic_message_of(|| task.wait());
        assert!(shown.contains("runs an event loop"), "{shown}");
        // Awaiting it is the way.
        let task = corio::get_running_loop().run_coroutine_threadsafe(async { 2 });
        assert_eq!(task.await.unwrap(), 2);
    });
}

#[test]
fn call_soon_threadsafe_from_another_thread_delivers_a_value() {
    corio::run(async {
        let handle = corio::get_running_loop();
        let received = Arc::new(Mutex::new(None));
        let sender = std::thread::spawn({
            let received = received.clone();
            move || {
                handle.call_soon_threadsafe(move || {
                    *received.lock().unwrap() =
                        Some(("from another thread", std::thread::current().id()));
                });
            }
        });
        corio::timeout(Duration::from_secs(2), async {
            while received.lock().unwrap().is_none() {
                corio::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .expect("the callback never ran");
        sender.join().unwrap();
        let (value, ran_on) = received.lock().unwrap().take().unwrap();
        assert_eq!(value, "from another thread");
        assert_eq!(ran_on, std::thread::current().id());
    });
}

#[test]
fn create_task_through_a_handle_from_another_thread() {
    let mut runner = Runner::new();
    let handle = runner.handle();
    let task = std::thread::spawn(move || {
        handle.create_task(async {
            corio::yield_now().await;
            "spawned remotely"
        })
    })
    .join()
    .unwrap();
    assert_eq!(runner.run(task).unwrap(), "spawned remotely");
}

#[test]
fn a_main_future_panic_with_a_non_string_payload_is_re_raised_as_itself() {
    #[derive(Debug, PartialEq)]
    struct Custom(u32);
    let payload = std::panic::catch_unwind(|| {
        corio::run(async {
            corio::yield_now().await;
            std::panic::panic_any(Custom(42));
        })
    })
    .unwrap_err();
    assert_eq!(payload.downcast_ref::<Custom>(), Some(&Custom(42)));
}
