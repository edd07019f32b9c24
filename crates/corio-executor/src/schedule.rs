//! The [`Schedule`] trait: where a task's Runnables go, and what its
//! scheduler hears of the task's end.

use std::any::Any;

use crate::raw::{Header, Runnable};

/// Where woken tasks go. Implemented by executors (and by tests).
pub trait Schedule: Send + Sync + 'static {
    /// Queues a task that became ready. Called from whichever thread woke it.
    fn schedule(&self, runnable: Runnable);

    /// Called once when the task's future has been dropped (finished or
    /// cancelled), on the thread that dropped it, before the task is marked
    /// completed. Executors use it to drop the task from their registry.
    fn release(&self, task: &Header) {
        let _ = task;
    }

    /// Called when a task's panic is dropped without anyone having taken it:
    /// the task was detached, or its handle was dropped unread (asyncio's
    /// "Task exception was never retrieved"). On whichever thread dropped it.
    fn panic_never_retrieved(&self, task: &Header, payload: &(dyn Any + Send)) {
        let _ = (task, payload);
    }
}
