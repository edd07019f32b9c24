//! `wait` with `ReturnWhen::{FirstCompleted, FirstException, AllCompleted}`
//! and a timeout: when it returns, how it splits tasks into done and pending,
//! and that it never cancels or consumes anything.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use corio::{ReturnWhen, Task};

use crate::common::*;

const MS: Duration = Duration::from_millis(1);

/// A task that sleeps `delay`, then returns `value`.
fn sleeper<T: Send + 'static>(delay: Duration, value: T) -> Task<T> {
    corio::create_task(async move {
        corio::sleep(delay).await;
        value
    })
}

#[test]
fn first_completed_returns_when_the_first_finishes_and_the_others_keep_running() {
    corio::run(async {
        let tasks = vec![
            sleeper(60 * MS, "slow"),
            sleeper(10 * MS, "fast"),
            sleeper(80 * MS, "slower"),
        ];
        let (done, pending) = corio::wait(tasks, ReturnWhen::FirstCompleted, None).await;
        assert_eq!(done.len(), 1);
        assert_eq!(pending.len(), 2);
        assert!(pending.iter().all(|task| !task.is_done()));
        // The result is still in the task: wait does not take it.
        assert_eq!(done.into_iter().next().unwrap().await.unwrap(), "fast");
        // Not cancelled: the others finish later.
        let mut later = Vec::new();
        for task in pending {
            later.push(task.await.unwrap());
        }
        assert_eq!(later, ["slow", "slower"]);
    });
}

#[test]
fn first_exception_returns_on_a_panicking_task() {
    corio::run(async {
        let start = Instant::now();
        let tasks = vec![
            sleeper(Duration::from_secs(3600), 1),
            corio::create_task(async {
                corio::sleep(10 * MS).await;
                panic!("task failed");
            }),
            sleeper(30 * MS, 3),
        ];
        let (done, pending) = corio::wait(tasks, ReturnWhen::FirstException, None).await;
        assert!(start.elapsed() < Duration::from_secs(1));
        assert_eq!(done.len(), 1);
        assert_eq!(pending.len(), 2);
        let error = done.into_iter().next().unwrap().await.unwrap_err();
        assert!(error.is_panic());
        assert_eq!(error.panic_message(), Some("task failed"));
        // Nothing was cancelled.
        assert!(pending.iter().all(|task| !task.is_cancelled()));
        let mut pending = pending.into_iter();
        let long = pending.next().unwrap();
        assert_eq!(pending.next().unwrap().await.unwrap(), 3);
        assert!(!long.is_done());
    });
}

#[test]
fn first_exception_returns_on_a_cancelled_task() {
    corio::run(async {
        let victim = sleeper(Duration::from_secs(3600), 0);
        victim.cancel();
        let tasks = vec![sleeper(Duration::from_secs(3600), 1), victim];
        let (done, pending) = corio::wait(tasks, ReturnWhen::FirstException, None).await;
        assert_eq!(done.len(), 1);
        assert!(done[0].is_cancelled());
        assert_eq!(pending.len(), 1);
        assert!(!pending[0].is_done());
    });
}

#[test]
fn first_exception_without_failures_waits_for_all() {
    corio::run(async {
        let tasks = vec![sleeper(20 * MS, 1), sleeper(10 * MS, 2)];
        let (done, pending) = corio::wait(tasks, ReturnWhen::FirstException, None).await;
        assert!(pending.is_empty());
        let mut values = Vec::new();
        for task in done {
            values.push(task.await.unwrap());
        }
        assert_eq!(values, [1, 2]);
    });
}

#[test]
fn all_completed_puts_failed_tasks_in_done() {
    corio::run(async {
        let cancelled = sleeper(Duration::from_secs(3600), 0);
        cancelled.cancel();
        let tasks = vec![
            sleeper(20 * MS, 1),
            corio::create_task(async {
                corio::sleep(10 * MS).await;
                panic!("boom")
            }),
            cancelled,
        ];
        let (done, pending) = corio::wait(tasks, ReturnWhen::AllCompleted, None).await;
        assert!(pending.is_empty());
        assert_eq!(done.len(), 3);
        let mut done = done.into_iter();
        assert_eq!(done.next().unwrap().await.unwrap(), 1);
        assert!(done.next().unwrap().await.unwrap_err().is_panic());
        assert!(done.next().unwrap().await.unwrap_err().is_cancelled());
    });
}

#[test]
fn a_timeout_splits_into_done_and_pending_without_cancelling() {
    corio::run(async {
        let tasks = vec![sleeper(300 * MS, "late"), sleeper(10 * MS, "early")];
        let start = Instant::now();
        let (done, pending) = corio::wait(tasks, ReturnWhen::AllCompleted, Some(40 * MS)).await;
        let took = start.elapsed();
        assert!(
            took >= 40 * MS && took < 100 * MS,
            "returned after {took:?}"
        );
        assert_eq!(done.len(), 1);
        assert_eq!(pending.len(), 1);
        assert_eq!(done.into_iter().next().unwrap().await.unwrap(), "early");
        let late = pending.into_iter().next().unwrap();
        assert!(!late.is_cancelled());
        assert_eq!(late.await.unwrap(), "late");
    });
}

#[test]
fn every_task_finishing_in_the_same_iteration_lands_in_done() {
    corio::run(async {
        let finished = flag();
        let mut tasks: Vec<Task<usize>> = (0..3)
            .map(|i| {
                corio::create_task(async move {
                    corio::yield_now().await;
                    i
                })
            })
            .collect();
        let guard = SetOnDrop(finished.clone());
        tasks.push(corio::create_task(async move {
            let _guard = guard;
            corio::sleep(Duration::from_secs(3600)).await;
            99
        }));
        let (done, pending) = corio::wait(tasks, ReturnWhen::FirstCompleted, None).await;
        // All three finished in the same loop iteration: all are done.
        assert_eq!(done.len(), 3);
        assert_eq!(pending.len(), 1);
        assert!(!finished.load(Ordering::SeqCst));
        for (i, task) in done.into_iter().enumerate() {
            assert_eq!(task.await.unwrap(), i);
        }
    });
}

#[test]
fn tasks_already_done_return_at_once() {
    corio::run(async {
        let tasks = vec![sleeper(MS, 1), sleeper(MS, 2)];
        corio::sleep(20 * MS).await;
        let (done, pending) = corio::wait(tasks, ReturnWhen::AllCompleted, None).await;
        assert_eq!((done.len(), pending.len()), (2, 0));
    });
}

#[test]
fn wait_on_no_tasks_returns_at_once() {
    corio::run(async {
        let (done, pending) =
            corio::wait(Vec::<Task<()>>::new(), ReturnWhen::FirstCompleted, None).await;
        assert!(done.is_empty() && pending.is_empty());
    });
}

#[test]
fn all_completed_on_many_tasks_sees_each_completion() {
    corio::run(async {
        let tasks: Vec<Task<usize>> = (0..1000)
            .map(|i| {
                corio::create_task(async move {
                    for _ in 0..i % 7 {
                        corio::yield_now().await;
                    }
                    i
                })
            })
            .collect();
        let (done, pending) = corio::wait(tasks, ReturnWhen::AllCompleted, None).await;
        assert!(pending.is_empty());
        for (i, task) in done.into_iter().enumerate() {
            assert_eq!(task.await.unwrap(), i);
        }
    });
}

/// A task that finishes after `steps` yields.
fn stepper(steps: usize, value: &'static str) -> Task<&'static str> {
    corio::create_task(async move {
        for _ in 0..steps {
            corio::yield_now().await;
        }
        value
    })
}

#[test]
fn first_completed_resumes_in_asyncios_iteration() {
    // The same matrix on CPython 3.13:
    //
    //   async def stepper(n, v):
    //       for _ in range(n): await asyncio.sleep(0)
    //       return v
    //   async def t(nc, pre, c_first):
    //       if c_first: c = asyncio.create_task(stepper(nc, 'c'))
    //       a = asyncio.create_task(stepper(0, 'a'))
    //       if pre: await asyncio.sleep(0)
    //       if not c_first: c = asyncio.create_task(stepper(nc, 'c'))
    //       d, p = await asyncio.wait([c, a], return_when=FIRST_COMPLETED)
    //       return len(d)
    //
    // prints [[2, 2, 1, 1, 1], [2, 2, 1, 1, 1], [2, 2, 2, 1, 1], [2, 2, 2, 1, 1]]
    // for c_first in (False, True), pre in (False, True), nc in 0..5.
    // (A done task reaches `wait` through a done-callback and a waiter
    // future: `wait` resumes two iterations after the first task ends.)
    const ASYNCIO: [[usize; 5]; 4] = [
        [2, 2, 1, 1, 1],
        [2, 2, 1, 1, 1],
        [2, 2, 2, 1, 1],
        [2, 2, 2, 1, 1],
    ];
    corio::run(async {
        let mut row = 0;
        for c_first in [false, true] {
            for pre in [false, true] {
                let mut got = [0; 5];
                for (nc, slot) in got.iter_mut().enumerate() {
                    let mut c = c_first.then(|| stepper(nc, "c"));
                    let a = stepper(0, "a");
                    if pre {
                        corio::yield_now().await;
                    }
                    let c = c.take().unwrap_or_else(|| stepper(nc, "c"));
                    let (done, pending) =
                        corio::wait(vec![c, a], ReturnWhen::FirstCompleted, None).await;
                    *slot = done.len();
                    for task in pending {
                        task.await.unwrap();
                    }
                }
                assert_eq!(got, ASYNCIO[row], "c_first={c_first} pre={pre}");
                row += 1;
            }
        }
    });
}
