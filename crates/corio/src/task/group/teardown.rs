//! A scope's end: dropping every child's future when the scope is dropped
//! (also the children their `Drop`s add), and, under workers, waiting for
//! children being polled or just finishing on another worker, so that the
//! scope's guarantees hold there too.

use corio_executor::{AbortHandle, TaskId};

use super::{Group, State};

impl<E> Group<E> {
    /// Drops every child's future before returning (the scope's drop),
    /// including the children that those futures' `Drop`s add meanwhile: it
    /// loops until a pass finds no child it has not tried, one pass at a time,
    /// so a chain of children each adding the next uses bounded stack.
    ///
    /// A child `cancel_now` cannot drop here (being polled or dropped further
    /// up the stack, or we are off the loop's thread) is cancelled instead,
    /// and not tried again, so the loop ends unless user code keeps adding
    /// children forever.
    pub(super) fn drop_children(&self) {
        let mut not_dropped: Vec<TaskId> = Vec::new();
        let mut pass: Vec<AbortHandle> = Vec::new();
        loop {
            pass.extend(
                self.state
                    .lock()
                    .children
                    .handles()
                    .filter(|child| !not_dropped.contains(&child.id()))
                    .cloned(),
            );
            if pass.is_empty() {
                return;
            }
            // Outside the lock: each drop runs user code, which may add
            // children (they show up in the next pass).
            for child in pass.drain(..) {
                if !self.spawner.cancel_now(&child) && !self.await_drop_elsewhere(&child) {
                    not_dropped.push(child.id());
                }
            }
        }
    }
}

impl<E> Group<E> {
    /// Under workers, a child `cancel_now` could not drop is usually being
    /// polled on another worker right now: that worker drops its future as
    /// soon as the poll returns (it is cancelled). Waits for that, at most
    /// [`DROP_ELSEWHERE_WAIT`], so that the scope's drop still returns with
    /// every child gone. Returns whether the child is gone. On one thread
    /// there is no one else to wait for: returns false at once.
    fn await_drop_elsewhere(&self, child: &AbortHandle) -> bool {
        if !self.multi {
            return false;
        }
        let deadline = std::time::Instant::now() + DROP_ELSEWHERE_WAIT;
        while !child.is_done() {
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::yield_now();
        }
        true
    }
}

/// Under workers: waits (briefly: the worker marks each done right after
/// dropping its future) until every child in `finishing` is marked done.
pub(super) fn await_marked_done(finishing: Vec<AbortHandle>) {
    let deadline = std::time::Instant::now() + DROP_ELSEWHERE_WAIT;
    for child in &finishing {
        while !child.is_done() && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
    }
}

/// How long a scope's drop waits for a child being polled on another worker.
const DROP_ELSEWHERE_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

impl<E> State<E> {
    /// Under workers: keeps the handle of a child whose future is gone
    /// until its task is marked done (see `finishing`). Returns the handles
    /// of children already marked done, for the caller to drop outside the
    /// lock; bounded, so a long-lived group does not keep finished tasks.
    #[cold]
    pub(super) fn note_finishing(&mut self, handle: AbortHandle) -> Vec<AbortHandle> {
        self.finishing.push(handle);
        if self.finishing.len() < 64 {
            return Vec::new();
        }
        let (finished, waiting) = std::mem::take(&mut self.finishing)
            .into_iter()
            .partition(AbortHandle::is_done);
        self.finishing = waiting;
        finished
    }
}
