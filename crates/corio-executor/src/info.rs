//! Snapshots of tasks for introspection: [`TaskInfo`] and [`TaskState`].

use std::panic::Location;
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
#[derive(Clone)]
pub struct TaskInfo {
    id: TaskId,
    name: Option<Box<str>>,
    location: &'static Location<'static>,
    state: TaskState,
    polls: u64,
    age: Option<Duration>,
    block_on: bool,
    hidden: bool,
    /// The header's address (provenance exposed), for
    /// [`AbortHandle::current`](crate::AbortHandle::current) only: it turns
    /// the snapshot `current_task` takes back into a counted handle at once,
    /// while the task is still being polled. Never dereferenced otherwise.
    pub(crate) addr: usize,
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
        let snapshot = header.state.load();
        let state = if snapshot.is_completed() {
            TaskState::Done
        } else if snapshot.is_running() || snapshot.is_dropping() {
            // A future being dropped runs its `Drop` code: it is running.
            TaskState::Running
        } else if snapshot.is_scheduled() {
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
            hidden: header.is_hidden(),
            addr: (header as *const Header).expose_provenance(),
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
    /// [`current_task`](crate::current_task), which does not reach the executor.
    pub fn age(&self) -> Option<Duration> {
        self.age
    }

    /// Whether this task runs the future passed to `block_on` (in the corio
    /// facade: the main future of `run`).
    pub fn is_block_on(&self) -> bool {
        self.block_on
    }

    /// Whether this is a hidden task: the runtime's own (the facade runs
    /// `call_soon` callbacks in them), spawned with
    /// [`Builder::hidden`](crate::Builder::hidden) and left out of task
    /// listings.
    pub fn is_hidden(&self) -> bool {
        self.hidden
    }
}

impl std::fmt::Debug for TaskInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `addr` is left out: an address, meaningless to a reader.
        f.debug_struct("TaskInfo")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("location", &self.location)
            .field("state", &self.state)
            .field("polls", &self.polls)
            .field("age", &self.age)
            .field("block_on", &self.block_on)
            .finish()
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
