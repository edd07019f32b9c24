//! `wait` and [`ReturnWhen`]: asyncio's `wait`, which watches tasks without
//! taking their results and hands them back split into done and pending.

use std::future::poll_fn;
use std::task::{Context, Poll};
use std::time::Duration;

use super::ready::ReadyList;
use super::Task;

/// When [`wait`] returns (asyncio's `FIRST_COMPLETED`, `FIRST_EXCEPTION`,
/// `ALL_COMPLETED`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as any task is done: finished, panicked or cancelled.
    FirstCompleted,
    /// As soon as any task ends with a [`TaskError`](crate::TaskError) (it
    /// panicked or was cancelled), or when all are done. (asyncio does not
    /// count a cancelled future here; in corio awaiting a cancelled task
    /// gives an `Err`, so it does.)
    FirstException,
    /// When every task is done, whether it failed or not.
    AllCompleted,
}

/// Waits for `tasks` until `when` says so, or `timeout` passes, and returns
/// them split as `(done, pending)`, each in input order (asyncio's `wait`).
///
/// Nothing is cancelled, not even on timeout: pending tasks keep running,
/// and every result stays in its task, to await or
/// [`try_result`](Task::try_result). `done` holds every task that is done
/// when `wait` returns, so all tasks that finished in the same loop
/// iteration land there together. With no tasks, `wait` returns at once
/// (asyncio raises `ValueError`).
///
/// Awaiting `wait` registers interest in each task, as awaiting a task does;
/// a task that finishes after `wait` returned may still wake the caller
/// once, which is harmless.
///
/// # Iterations
///
/// `wait` returns in the loop iteration asyncio's would. In asyncio a task
/// that finishes in iteration *i* schedules its done-callbacks; `wait`'s
/// callback runs in *i + 1* and resolves a waiter future, whose awaiter
/// resumes in *i + 2*. So tasks that finish one iteration after the first
/// one are `done` too: with `a` finishing at its first step and `b` one step
/// later, `wait([b, a], FirstCompleted)` returns both done, in asyncio and
/// here. When the condition already holds as `wait` is called (a task is
/// done), `wait` returns two iterations later, as asyncio's does. A
/// `timeout` that expires returns in the next iteration, as in asyncio.
///
/// # Tasks of different output types
///
/// `wait` takes one `Vec<Task<T>>`. To wait on tasks of different output
/// types, give them one type where they are created, an enum of the
/// outputs (asyncio needs no such step: its futures are untyped):
///
/// ```
/// use corio::ReturnWhen;
///
/// enum Fetched {
///     Count(u64),
///     Name(String),
/// }
///
/// corio::run(async {
///     let tasks = vec![
///         corio::create_task(async { Fetched::Count(3) }),
///         corio::create_task(async { Fetched::Name("corio".into()) }),
///     ];
///     let (done, _) = corio::wait(tasks, ReturnWhen::AllCompleted, None).await;
///     for task in done {
///         match task.await.unwrap() {
///             Fetched::Count(n) => assert_eq!(n, 3),
///             Fetched::Name(name) => assert_eq!(name, "corio"),
///         }
///     }
/// });
/// ```
///
/// ```
/// use std::time::Duration;
/// use corio::ReturnWhen;
///
/// corio::run(async {
///     let tasks = vec![
///         corio::create_task(async {
///             corio::sleep(Duration::from_millis(10)).await;
///             "fast"
///         }),
///         corio::create_task(async {
///             corio::sleep(Duration::from_millis(50)).await;
///             "slow"
///         }),
///     ];
///     let (done, pending) = corio::wait(tasks, ReturnWhen::FirstCompleted, None).await;
///     assert_eq!(done.len(), 1);
///     assert_eq!(done.into_iter().next().unwrap().await.unwrap(), "fast");
///     // The slow task was not cancelled: it still finishes.
///     for task in pending {
///         assert_eq!(task.await.unwrap(), "slow");
///     }
/// });
/// ```
///
/// # Panics
///
/// With a `timeout`, outside a running loop.
pub async fn wait<T>(
    tasks: Vec<Task<T>>,
    when: ReturnWhen,
    timeout: Option<Duration>,
) -> (Vec<Task<T>>, Vec<Task<T>>) {
    let mut tasks = tasks;
    if !tasks.is_empty() {
        let mut watch = Watch::new(tasks.len());
        let mut polls = 0_usize;
        let mut met_on_first_poll = false;
        let until = poll_fn(|cx| {
            let met = watch.poll(&mut tasks, when, cx);
            polls += 1;
            met_on_first_poll = polls == 1 && met.is_ready();
            met
        });
        let met = match timeout {
            // Elapsed or not, the split below tells which tasks are done.
            Some(limit) => crate::timeout(limit, until).await.is_ok(),
            None => {
                until.await;
                true
            }
        };
        if met {
            // asyncio's iteration count (see "Iterations" above): one more
            // iteration for the waiter future, two when the condition held
            // before `wait` was called (the done-callback is scheduled then).
            super::yield_now().await;
            if met_on_first_poll {
                super::yield_now().await;
            }
        }
    }
    tasks.into_iter().partition(Task::is_done)
}

/// What `wait` knows so far: which tasks it saw end.
struct Watch {
    ready: ReadyList,
    seen_done: Vec<bool>,
    done: usize,
    failed: bool,
}

impl Watch {
    fn new(len: usize) -> Watch {
        Watch {
            ready: ReadyList::new(len),
            seen_done: vec![false; len],
            done: 0,
            failed: false,
        }
    }

    /// Looks at the tasks that woke (each once at first) and registers a
    /// waker in each that is not done; `Ready` when `when` is met.
    fn poll<T>(
        &mut self,
        tasks: &mut [Task<T>],
        when: ReturnWhen,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        let mut may_drain = true;
        while let Some(index) = self.ready.next(cx.waker(), &mut may_drain) {
            if self.seen_done[index] {
                continue; // a late wake
            }
            let task = &mut tasks[index];
            let done = task.is_done() || {
                let waker = self.ready.waker(index);
                task.poll_done(&mut Context::from_waker(waker)).is_ready()
            };
            if done {
                self.seen_done[index] = true;
                self.ready.release(index);
                self.done += 1;
                self.failed |= task.is_cancelled() || task.is_panicked();
            }
        }
        let met = match when {
            ReturnWhen::FirstCompleted => self.done > 0,
            ReturnWhen::FirstException => self.failed || self.done == tasks.len(),
            ReturnWhen::AllCompleted => self.done == tasks.len(),
        };
        if met {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
