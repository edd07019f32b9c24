//! Tasks: `create_task`, `create_local_task`, `yield_now`, `current_task`,
//! `current_task_handle` / `cancel_current`, `all_tasks`, the named-task
//! [`Builder`], and [`SharedTask`] (a task awaited from many places).
//!
//! A task is a future the loop owns and polls. Awaiting its [`Task`] handle
//! gives `Result<T, TaskError>`; dropping the handle does not cancel it.

mod as_completed;
mod builder;
mod gather;
mod group;
mod group_children;
mod group_error;
mod macros;
mod ready;
mod shield;
mod wait;
mod yield_now;

use std::future::Future;
use std::panic::Location;

pub use as_completed::{as_completed, AsCompleted, AsCompletedTimeout};
pub use builder::Builder;
pub use corio_executor::{AbortHandle, SharedTask, Task, TaskError, TaskId, TaskInfo, TaskState};
pub use gather::{gather, try_gather};
pub use group::{GroupTaskBuilder, TaskGroup};
pub use group_error::{Failure, NestedGroupError, PanicPayload, TaskGroupError};
pub use shield::shield;
pub use wait::{wait, ReturnWhen};
pub use yield_now::{yield_now, YieldNow};

use crate::runtime::context;

/// Creates a task on the running loop (asyncio's `create_task`). It first
/// runs in the loop's next iteration, after what is already scheduled.
///
/// ```
/// corio::run(async {
///     let task = corio::create_task(async { "done" });
///     assert_eq!(task.await.unwrap(), "done");
/// });
/// ```
///
/// # Panics
///
/// Outside a running loop, with a message naming the fix.
#[track_caller]
#[doc(alias = "spawn")]
pub fn create_task<F>(future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Builder::new().location(Location::caller()).create(future)
}

/// Creates a task that need not be `Send` (it stays on the loop's thread).
///
/// ```
/// use std::rc::Rc;
/// corio::run(async {
///     let shared = Rc::new(5);
///     let task = corio::create_local_task({
///         let shared = shared.clone();
///         async move { *shared + 1 }
///     });
///     assert_eq!(task.await.unwrap(), 6);
/// });
/// ```
///
/// # Panics
///
/// Outside a running loop.
#[track_caller]
#[doc(alias = "spawn_local")]
pub fn create_local_task<F>(future: F) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Builder::new()
        .location(Location::caller())
        .create_local(future)
}

/// The task being run right now, if called from inside one (asyncio's
/// `current_task()`). `None` in a callback (`call_soon`, `call_later`, an fd
/// or signal callback, a done-callback), as in asyncio, although corio runs
/// those inside internal tasks.
///
/// ```
/// corio::run(async {
///     assert!(corio::current_task().is_some(), "the main future is a task");
///     let handle = corio::get_running_loop();
///     let (tx, rx) = std::sync::mpsc::channel();
///     handle.call_soon(move || tx.send(corio::current_task().is_none()).unwrap());
///     corio::yield_now().await;
///     assert!(rx.recv().unwrap(), "no task inside a callback");
/// });
/// ```
pub fn current_task() -> Option<TaskInfo> {
    corio_executor::current_task().filter(|task| !task.is_hidden())
}

/// A handle to the task being run right now, if called from inside one
/// (asyncio's `current_task()`, as an object you can act on): it can
/// cancel the task, rename it, or register a done-callback.
///
/// ```
/// corio::run(async {
///     let task = corio::create_task(async {
///         let me = corio::task::current_task_handle().unwrap();
///         me.set_name("renamed");
///         corio::current_task().unwrap().name().map(str::to_owned)
///     });
///     assert_eq!(task.await.unwrap().as_deref(), Some("renamed"));
/// });
/// ```
pub fn current_task_handle() -> Option<AbortHandle> {
    // A callback is not a task (see `current_task`).
    current_task()?;
    AbortHandle::current()
}

/// Cancels the task being run right now (asyncio's
/// `asyncio.current_task().cancel()`), with an optional message for its
/// [`TaskError::cancel_message`]. As in asyncio, the cancellation takes
/// effect at the task's next await, not in the middle of the current step:
/// the code up to that await runs, then the future is dropped without being
/// polled again. (Where asyncio would still cancel a coroutine that returns
/// without awaiting again, corio's task keeps the value it returned.)
/// Returns `false` outside a task, or if the task is already done.
///
/// ```
/// corio::run(async {
///     let task = corio::create_task(async {
///         corio::task::cancel_current(Some("not needed"));
///         corio::sleep(std::time::Duration::from_secs(3600)).await;
///         unreachable!("cancelled at the await above");
///     });
///     let error = task.await.unwrap_err();
///     assert!(error.is_cancelled());
///     assert_eq!(error.cancel_message(), Some("not needed"));
/// });
/// ```
pub fn cancel_current(message: Option<&str>) -> bool {
    match (current_task_handle(), message) {
        (Some(me), Some(message)) => me.cancel_with(message),
        (Some(me), None) => me.cancel(),
        (None, _) => false,
    }
}

/// The running loop's tasks that are not done yet (callbacks left out).
///
/// # Panics
///
/// Outside a running loop.
#[track_caller]
pub fn all_tasks() -> Vec<TaskInfo> {
    context::with("corio::all_tasks()", |handle| {
        handle
            .shared
            .spawner
            .tasks()
            .expect("the running loop's executor is on this thread")
    })
}
