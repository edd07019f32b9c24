//! Scheduling order of `LocalExecutor`: FIFO spawn order, one iteration runs
//! exactly what was queued when it began, self-wakes interleave, and
//! `run_once` reports how many polls it ran.

use std::cell::RefCell;
use std::rc::Rc;

use crate::common::{drain, yield_now, WakerSlot};
use corio_executor::{LocalExecutor, ThreadPark};

type Log = Rc<RefCell<Vec<String>>>;

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

fn push(log: &Log, entry: impl Into<String>) {
    log.borrow_mut().push(entry.into());
}

fn entries(log: &Log) -> Vec<String> {
    log.borrow().clone()
}

#[test]
fn tasks_run_in_spawn_order() {
    let ex = LocalExecutor::new();
    let log = log();
    for i in 0..10 {
        let log = log.clone();
        drop(ex.spawn_local(async move { push(&log, i.to_string()) }));
    }
    assert_eq!(ex.run_once(), 10);
    let expected: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    assert_eq!(entries(&log), expected);
    assert!(ex.is_idle());
    assert_eq!(ex.task_count(), 0);
}

#[test]
fn run_once_on_an_empty_executor_runs_nothing() {
    let ex = LocalExecutor::new();
    assert!(ex.is_idle());
    assert_eq!(ex.run_once(), 0);
}

#[test]
fn task_spawned_during_an_iteration_runs_in_the_next_one() {
    let ex = Rc::new(LocalExecutor::new());
    let log = log();
    {
        let (ex2, log2) = (ex.clone(), log.clone());
        drop(ex.spawn_local(async move {
            push(&log2, "a");
            let log3 = log2.clone();
            drop(ex2.spawn_local(async move { push(&log3, "child of a") }));
        }));
    }
    {
        let log = log.clone();
        drop(ex.spawn_local(async move { push(&log, "b") }));
    }
    assert_eq!(ex.run_once(), 2);
    assert_eq!(entries(&log), ["a", "b"]);
    assert_eq!(ex.run_once(), 1);
    assert_eq!(entries(&log), ["a", "b", "child of a"]);
    assert_eq!(ex.run_once(), 0);
}

#[test]
fn task_spawned_through_a_spawner_during_an_iteration_runs_in_the_next_one() {
    let ex = LocalExecutor::new();
    let spawner = ex.spawner();
    let shared = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    {
        let shared = shared.clone();
        drop(ex.spawn(async move {
            shared.lock().unwrap().push("first");
            let inner = shared.clone();
            drop(spawner.spawn(async move { inner.lock().unwrap().push("spawned") }));
        }));
    }
    {
        let shared = shared.clone();
        drop(ex.spawn(async move { shared.lock().unwrap().push("second") }));
    }
    assert_eq!(ex.run_once(), 2);
    assert_eq!(*shared.lock().unwrap(), ["first", "second"]);
    assert_eq!(ex.run_once(), 1);
    assert_eq!(*shared.lock().unwrap(), ["first", "second", "spawned"]);
}

#[test]
fn two_tasks_interleave_at_a_self_wake_yield() {
    let ex = LocalExecutor::new();
    let log = log();
    for name in ["a", "b"] {
        let log = log.clone();
        drop(ex.spawn_local(async move {
            for i in 0..3 {
                push(&log, format!("{name}{i}"));
                yield_now().await;
            }
        }));
    }
    // Each iteration polls each task once.
    assert_eq!(ex.run_once(), 2);
    assert_eq!(entries(&log), ["a0", "b0"]);
    assert_eq!(ex.run_once(), 2);
    assert_eq!(entries(&log), ["a0", "b0", "a1", "b1"]);
    drain(&ex);
    assert_eq!(entries(&log), ["a0", "b0", "a1", "b1", "a2", "b2"]);
    assert_eq!(ex.task_count(), 0);
}

#[test]
fn a_task_woken_several_times_during_its_poll_runs_once_next_iteration() {
    let ex = LocalExecutor::new();
    let polls = Rc::new(RefCell::new(0));
    {
        let polls = polls.clone();
        drop(ex.spawn_local(std::future::poll_fn(move |cx| {
            *polls.borrow_mut() += 1;
            if *polls.borrow() == 1 {
                for _ in 0..5 {
                    cx.waker().wake_by_ref();
                    // A by-value wake of a clone, on purpose (it takes the other path).
                    let clone = cx.waker().clone();
                    clone.wake();
                }
                std::task::Poll::Pending
            } else {
                std::task::Poll::Ready(())
            }
        })));
    }
    assert_eq!(ex.run_once(), 1);
    assert_eq!(ex.run_once(), 1);
    assert_eq!(*polls.borrow(), 2);
    assert_eq!(ex.run_once(), 0);
}

#[test]
fn wakes_run_in_the_order_they_happened() {
    let ex = LocalExecutor::new();
    let log = log();
    let slots: Vec<WakerSlot> = (0..4).map(|_| WakerSlot::new()).collect();
    for (i, slot) in slots.iter().enumerate() {
        let (log, wait) = (log.clone(), slot.wait());
        drop(ex.spawn_local(async move {
            wait.await;
            push(&log, i.to_string());
        }));
    }
    assert_eq!(ex.run_once(), 4);
    assert!(ex.is_idle());
    // Wake them in a scrambled order, from this (the executor's) thread.
    for i in [2, 0, 3, 1] {
        slots[i].release();
    }
    assert_eq!(ex.run_once(), 4);
    assert_eq!(entries(&log), ["2", "0", "3", "1"]);
}

#[test]
fn a_wake_during_an_iteration_runs_in_the_next_one() {
    let ex = LocalExecutor::new();
    let log = log();
    let slot = WakerSlot::new();
    {
        let (log, wait) = (log.clone(), slot.wait());
        drop(ex.spawn_local(async move {
            push(&log, "waiter starts");
            wait.await;
            push(&log, "waiter woken");
        }));
    }
    assert_eq!(ex.run_once(), 1);
    {
        let (log, slot) = (log.clone(), slot.clone());
        drop(ex.spawn_local(async move {
            slot.release();
            push(&log, "waker done");
        }));
    }
    {
        let log = log.clone();
        drop(ex.spawn_local(async move { push(&log, "bystander") }));
    }
    assert_eq!(ex.run_once(), 2);
    assert_eq!(entries(&log), ["waiter starts", "waker done", "bystander"]);
    assert_eq!(ex.run_once(), 1);
    assert_eq!(entries(&log).last().unwrap(), "waiter woken");
}

#[test]
fn remote_wakes_keep_their_arrival_order_against_later_local_spawns() {
    let ex = LocalExecutor::new();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let slot = WakerSlot::new();
    {
        let (log, wait) = (log.clone(), slot.wait());
        drop(ex.spawn(async move {
            wait.await;
            log.lock().unwrap().push("remote-woken");
        }));
    }
    assert_eq!(ex.run_once(), 1);
    let releaser = slot.clone();
    std::thread::spawn(move || releaser.release())
        .join()
        .unwrap();
    assert!(!ex.is_idle(), "a remote wake is pending in the injector");
    {
        let log = log.clone();
        drop(ex.spawn(async move { log.lock().unwrap().push("local") }));
    }
    // One FIFO in arrival order (asyncio's one ready deque): the remote
    // wake came first, so it runs first.
    assert_eq!(ex.run_once(), 2);
    assert_eq!(*log.lock().unwrap(), ["remote-woken", "local"]);
}

#[test]
fn block_on_runs_spawned_tasks_alongside_in_fifo_order() {
    let ex = LocalExecutor::new();
    let log = log();
    let tasks: Vec<_> = (0..3)
        .map(|i| {
            let log = log.clone();
            ex.spawn_local(async move {
                push(&log, format!("t{i}"));
                yield_now().await;
                push(&log, format!("t{i} again"));
                i
            })
        })
        .collect();
    let sum = ex.block_on(
        async {
            let mut sum = 0;
            for task in tasks {
                sum += task.await.unwrap();
            }
            sum
        },
        &mut ThreadPark,
    );
    assert_eq!(sum, 3);
    assert_eq!(
        entries(&log),
        ["t0", "t1", "t2", "t0 again", "t1 again", "t2 again"]
    );
}
