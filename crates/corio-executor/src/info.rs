//! Snapshots of tasks for introspection: [`TaskInfo`], [`TaskState`], and
//! the thread's currently running task.

use std::cell::Cell;
use std::panic::Location;
use std::ptr::NonNull;
use std::time::Duration;

use crate::raw::Header;
use crate::TaskId;

/// What a task is doing at the moment a snapshot was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    /// Being polled right now.
    Running,
    /// Ready, waiting in the run queue.
    Scheduled,
    /// Waiting for a wake-up.
    Waiting,
    /// Finished, panicked or cancelled.
    Done,
}

/// A snapshot of one task: id, name, spawn location, state, poll count and
/// (in an executor's listing) age.
#[derive(Clone, Debug)]
pub struct TaskInfo {
    id: TaskId,
    name: Option<Box<str>>,
    location: &'static Location<'static>,
    state: TaskState,
    polls: u64,
    age: Option<Duration>,
    block_on: bool,
}

impl TaskInfo {
    /// A listed task: `age` comes from the executor's registry.
    pub(crate) fn listed(header: &Header, age: Duration) -> TaskInfo {
        TaskInfo {
            age: Some(age),
            ..TaskInfo::of(header)
        }
    }

    pub(crate) fn of(header: &Header) -> TaskInfo {
        let state = if header.is_completed() {
            TaskState::Done
        } else if header.is_running() {
            TaskState::Running
        } else if header.is_scheduled() {
            TaskState::Scheduled
        } else {
            TaskState::Waiting
        };
        TaskInfo {
            id: header.id(),
            name: header.name().map(Into::into),
            location: header.location(),
            state,
            polls: header.polls(),
            age: None,
            block_on: header.is_block_on(),
        }
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The task's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the task was spawned.
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// What the task was doing when the snapshot was taken.
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// How many times the task's future had been polled (a poll that is
    /// running counts), saturating at 536,870,911.
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// How long ago the task was spawned, on its executor's clock (see
    /// [`LocalExecutor::set_clock`](crate::LocalExecutor::set_clock)), to the
    /// millisecond. `Some` in an executor's listing
    /// ([`LocalExecutor::tasks`](crate::LocalExecutor::tasks)), `None` from
    /// [`current_task`], which does not reach the executor.
    pub fn age(&self) -> Option<Duration> {
        self.age
    }

    /// Whether this task runs the future passed to `block_on` (in the corio
    /// facade: the main future of `run`).
    pub fn is_block_on(&self) -> bool {
        self.block_on
    }
}

impl std::fmt::Display for TaskInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "task {}", self.id)?;
        if let Some(name) = &self.name {
            write!(f, " '{name}'")?;
        }
        write!(f, " ({:?}, spawned at {})", self.state, self.location)
    }
}

thread_local! {
    static CURRENT: Cell<Option<NonNull<Header>>> = const { Cell::new(None) };
}

/// Marks `task` as the one this thread is polling until the guard drops.
pub(crate) fn enter(task: NonNull<Header>) -> CurrentGuard {
    CurrentGuard(CURRENT.with(|c| c.replace(Some(task))))
}

pub(crate) struct CurrentGuard(Option<NonNull<Header>>);

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

/// The task this thread is polling right now, if any.
pub fn current_task() -> Option<TaskInfo> {
    // SAFETY: the pointer is set only for the duration of a poll, during
    // which the running task's Runnable keeps the header alive.
    CURRENT.with(|c| c.get().map(|ptr| TaskInfo::of(unsafe { ptr.as_ref() })))
}

/// The id of the task this thread is polling right now, if any.
pub fn current_task_id() -> Option<TaskId> {
    // SAFETY: as in `current_task`.
    CURRENT.with(|c| c.get().map(|ptr| unsafe { ptr.as_ref() }.id()))
}
