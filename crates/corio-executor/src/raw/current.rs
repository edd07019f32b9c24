//! The task this thread is polling (or dropping) right now.
//!
//! The thread-local holds a header pointer only while the raw layer itself
//! holds a reference to that task: it is set by `enter` strictly inside the
//! poll or drop of the future (see `cell.rs`) and restored before the
//! caller's reference can go. Code that runs after a poll (the per-task
//! `tracing` span's exit, the slow-poll hook) sees the task that was current
//! before, never a task that may already be freed.

use std::cell::Cell;
use std::ptr::NonNull;

use super::header::Header;
use crate::{TaskId, TaskInfo};

thread_local! {
    static CURRENT: Cell<Option<NonNull<Header>>> = const { Cell::new(None) };
}

/// Marks `task` current until the guard drops (restoring the previous one,
/// so nested executors on one thread nest correctly).
///
/// The caller must hold a reference to `task` for the guard's whole life
/// (the guard is `!Send` and is dropped by the scope that made it).
#[inline]
pub(super) fn enter(task: NonNull<Header>) -> CurrentGuard {
    CurrentGuard {
        previous: CURRENT.with(|c| c.replace(Some(task))),
    }
}

/// Restores the previously current task when dropped.
pub(super) struct CurrentGuard {
    previous: Option<NonNull<Header>>,
}

impl Drop for CurrentGuard {
    #[inline]
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
    }
}

/// Applies `f` to the current task's header, if any.
fn with_current<R>(f: impl FnOnce(&Header) -> R) -> Option<R> {
    CURRENT.with(|c| {
        // SAFETY: the pointer is set only by `enter`, whose caller holds a
        // reference to the task for as long as the guard lives, and the guard
        // restores the previous value before that reference is released (see
        // the module docs). So a pointer read here is alive.
        c.get().map(|ptr| f(unsafe { ptr.as_ref() }))
    })
}

/// The task this thread is polling right now, if any.
pub fn current_task() -> Option<TaskInfo> {
    with_current(TaskInfo::of)
}

/// The id of the task this thread is polling right now, if any.
pub fn current_task_id() -> Option<TaskId> {
    with_current(Header::id)
}
