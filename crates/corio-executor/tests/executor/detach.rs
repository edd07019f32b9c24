//! Dropping a `Task` handle detaches the task: it keeps running to
//! completion, and its output is dropped by the executor.

use crate::common::{drain, yield_now, Counter, Flag, WakerSlot};
use corio_executor::{LocalExecutor, ThreadPark};

#[test]
fn dropping_the_handle_does_not_cancel_the_task() {
    let ex = LocalExecutor::new();
    let finished = Flag::new();
    let slot = WakerSlot::new();
    let outputs = Counter::new();
    let futures = Counter::new();
    let task = {
        let (finished, wait, output, token) = (
            finished.clone(),
            slot.wait(),
            outputs.token(),
            futures.token(),
        );
        ex.spawn(async move {
            let _token = token;
            wait.await;
            finished.set();
            output
        })
    };
    drain(&ex);
    drop(task);
    assert_eq!(
        ex.task_count(),
        1,
        "a detached task stays with its executor"
    );
    assert_eq!(futures.get(), 0);
    slot.release();
    drain(&ex);
    assert!(finished.get());
    assert_eq!(futures.get(), 1);
    assert_eq!(
        outputs.get(),
        1,
        "nobody reads a detached task's output: it is dropped"
    );
    assert_eq!(ex.task_count(), 0);
}

#[test]
fn dropping_the_handle_before_the_first_poll_still_runs_the_task() {
    let ex = LocalExecutor::new();
    let outputs = Counter::new();
    let ran = Flag::new();
    let (ran2, output) = (ran.clone(), outputs.token());
    drop(ex.spawn_local(async move {
        yield_now().await;
        ran2.set();
        output
    }));
    drain(&ex);
    assert!(ran.get());
    assert_eq!(outputs.get(), 1);
}

#[test]
fn dropping_the_handle_of_a_finished_task_drops_its_output() {
    let ex = LocalExecutor::new();
    let outputs = Counter::new();
    let output = outputs.token();
    let task = ex.spawn(async move { output });
    drain(&ex);
    assert!(task.is_done());
    assert_eq!(
        outputs.get(),
        0,
        "the handle owns the output until it lets go"
    );
    drop(task);
    assert_eq!(outputs.get(), 1);
}

#[test]
fn dropping_the_handle_on_another_thread_while_the_task_runs() {
    let ex = LocalExecutor::new();
    let outputs = Counter::new();
    let slot = WakerSlot::new();
    let (wait, output) = (slot.wait(), outputs.token());
    let task = ex.spawn(async move {
        wait.await;
        output
    });
    drain(&ex);
    std::thread::spawn(move || drop(task)).join().unwrap();
    slot.release();
    drain(&ex);
    assert_eq!(outputs.get(), 1);
    assert_eq!(ex.task_count(), 0);
}

#[test]
fn a_detached_task_can_still_be_awaited_through_a_helper_task() {
    // Detaching is per-handle: a task awaiting another task's handle keeps
    // the result flowing even if the spawner forgot about both.
    let ex = LocalExecutor::new();
    let inner = ex.spawn(async {
        yield_now().await;
        21
    });
    let outer = ex.spawn(async move { inner.await.unwrap() * 2 });
    assert_eq!(ex.block_on(outer, &mut ThreadPark).unwrap(), 42);
}
