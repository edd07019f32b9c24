//! Dropping the tasks a closed executor rejects, with bounded stack.
//!
//! A task spawned onto a closed executor is cancelled at once: its future is
//! dropped. That `Drop` is user code, and it may spawn again (a cleanup task,
//! a guard that always respawns), whose future is dropped in turn: done
//! inline, each level would nest inside the last, and a long enough chain
//! overflows the stack. So while this thread is already dropping such tasks
//! (or closing an executor), a newly rejected task is queued in a
//! thread-local list instead, and the outermost frame drains the list in a
//! loop: the stack stays one `Drop` deep whatever user code does.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use crate::raw::Runnable;

thread_local! {
    /// Rejected Runnables waiting for the outermost frame to drop them.
    static DEFERRED: RefCell<VecDeque<Runnable>> = const { RefCell::new(VecDeque::new()) };
    /// A frame on this thread is draining `DEFERRED`.
    static DRAINING: Cell<bool> = const { Cell::new(false) };
}

/// Drops `runnable` (cancelling its task, unless it ended), or queues it for
/// the frame already dropping rejected tasks on this thread.
pub(crate) fn drop_rejected(runnable: Runnable) {
    if DRAINING.try_with(Cell::get).unwrap_or(false) {
        // During thread-local teardown `try_with` fails and drops the
        // closure, and with it the Runnable, inline: nothing else is left.
        let _ = DEFERRED.try_with(move |list| list.borrow_mut().push_back(runnable));
        return;
    }
    drain_scope(move || drop(runnable));
}

/// Runs `body` as the frame that drains rejected tasks on this thread (unless
/// an outer frame already is), then drops every task queued meanwhile,
/// including those queued by the drops themselves, one at a time.
pub(crate) fn drain_scope<R>(body: impl FnOnce() -> R) -> R {
    if DRAINING.try_with(|draining| draining.replace(true)) != Ok(false) {
        // An outer frame drains (or thread-locals are gone).
        return body();
    }
    let _drain = DrainOnExit;
    body()
}

/// Takes one queued rejected task, for a loop that drains as it goes.
pub(crate) fn pop_deferred() -> Option<Runnable> {
    DEFERRED
        .try_with(|list| list.borrow_mut().pop_front())
        .ok()
        .flatten()
}

/// Drains the list and clears the flag, also when `body` unwinds.
struct DrainOnExit;

impl Drop for DrainOnExit {
    fn drop(&mut self) {
        // Pop in its own statement: the drop runs user code that may queue
        // more.
        while let Some(runnable) = pop_deferred() {
            drop(runnable);
        }
        let _ = DRAINING.try_with(|draining| draining.set(false));
    }
}
