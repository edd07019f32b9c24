//! Where a `TaskGroup` scope's failures go when the scope is dropped before
//! it could return them: to its *enclosing* group, or, with none, to the
//! log as failures never retrieved. No failure is ever lost.
//!
//! asyncio: an outer group's body awaits an inner group; a child of each
//! fails. The outer group's `_abort` cancels its body, the inner group's
//! `__aexit__` still raises its `ExceptionGroup` through the body, and the
//! outer `__aexit__` appends that exception to its own errors: the outer
//! `ExceptionGroup` holds the outer child's error and the inner group,
//! nested. corio cancels by dropping: the outer scope drops its body, and
//! the inner scope with it, so the inner failures must travel another way.
//!
//! **Which group encloses a scope** is decided when the scope starts: the
//! group whose body, or one of whose children, is being polled on this
//! thread right then (the innermost, as the polls nest). `Scope::poll` and
//! `ChildFuture::poll` publish their group's address in a thread-local for
//! the length of the inner poll (a word written and restored: the cheapest
//! thing a child poll can do, and this crate has no unsafe code to turn an
//! address back into a reference). Each scope lists its group in a
//! process-wide table, address to `Weak`, while it lives; a starting scope
//! looks the published address up there (only when one is published) and
//! keeps a strong handle to the enclosing group and the task it runs in.
//! The `Weak` keeps the allocation, so an address in the table is never
//! reused by another group meanwhile.
//!
//! **What the enclosing group receives** is one failure,
//! [`Failure::Nested`], holding the inner `TaskGroupError` whole, whatever
//! its error type: nested, not flattened, as asyncio nests `ExceptionGroup`s
//! (and as `inner.await?` through an error type that a `TaskGroupError`
//! converts into nests it). Flattening would need the inner error type to
//! be the outer one, would lose which failures belonged to the inner group,
//! and would attribute them to tasks that are not the outer group's. It
//! counts as a failure of the body: if the enclosing group was not already
//! cancelling (its code dropped the inner scope itself, e.g. under a
//! timeout), it starts to now. A group that finished already, or a scope
//! with no enclosing group, hands the failures on up, or reports them with a
//! `tracing` warning (target `corio`), as the loop reports a task's panic
//! that nobody retrieved; unlike that one, this is reported in every mode, a
//! dropped failure being the loss the rule forbids.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use corio_executor::{TaskId, TaskInfo};

use super::super::group_error::{NestedGroupError, TaskGroupError};

/// A group that can take the failures of a scope nested in it.
pub(super) trait Adopt: Send + Sync {
    /// `task` (which ran the nested scope) left `group`'s failures behind.
    fn adopt(self: Arc<Self>, task: TaskInfo, group: NestedGroupError);
}

thread_local! {
    /// The address of the group whose body or child this thread is
    /// polling (0: none).
    static POLLING: Cell<usize> = const { Cell::new(0) };
}

/// Every live scope's group, by address.
static GROUPS: Mutex<BTreeMap<usize, Weak<dyn Adopt>>> = Mutex::new(BTreeMap::new());

/// The address `POLLING` and `GROUPS` know a group by.
pub(super) fn address<T>(group: &Arc<T>) -> usize {
    Arc::as_ptr(group) as usize
}

/// Runs `poll` (a poll of `group`'s body or of one of its children) with
/// `group` published as the enclosing group of scopes that start in it.
#[inline]
pub(super) fn polling<R>(group: usize, poll: impl FnOnce() -> R) -> R {
    /// Restores the previous value, even if `poll` unwinds.
    struct Restore(usize);
    impl Drop for Restore {
        #[inline]
        fn drop(&mut self) {
            POLLING.set(self.0);
        }
    }
    let _restore = Restore(POLLING.replace(group));
    poll()
}

/// A scope's entry in `GROUPS`, removed on drop.
pub(super) struct Listing(usize);

impl Listing {
    /// Lists `group` as a possible enclosing group while the scope lives.
    pub(super) fn new<G: Adopt + 'static>(group: &Arc<G>) -> Listing {
        let weak: Weak<dyn Adopt> = Arc::downgrade(group) as Weak<dyn Adopt>;
        let address = address(group);
        groups().insert(address, weak);
        Listing(address)
    }
}

impl Drop for Listing {
    fn drop(&mut self) {
        // Outside the lock: dropping the `Weak` may free the allocation.
        let removed = groups().remove(&self.0);
        drop(removed);
    }
}

fn groups() -> std::sync::MutexGuard<'static, BTreeMap<usize, Weak<dyn Adopt>>> {
    GROUPS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The group a scope starting now is nested in, and the task it runs in.
pub(super) struct Enclosing {
    group: Arc<dyn Adopt>,
    task: TaskInfo,
}

impl Enclosing {
    /// The group published by the poll this thread is inside, if any.
    pub(super) fn current() -> Option<Enclosing> {
        let address = POLLING.get();
        if address == 0 {
            return None;
        }
        let group = groups().get(&address)?.upgrade()?;
        let task = corio_executor::current_task()?;
        Some(Enclosing { group, task })
    }
}

/// Hands the failures of a scope dropped before it returned them to its
/// enclosing group, or, with none, reports them as never retrieved.
pub(super) fn hand_on<E: Send + 'static>(
    enclosing: Option<&Enclosing>,
    owner: Option<TaskId>,
    error: TaskGroupError<E>,
) {
    let group = NestedGroupError::new(error);
    match enclosing {
        Some(enclosing) => enclosing.group.clone().adopt(enclosing.task.clone(), group),
        None => {
            let owner = owner.map_or_else(|| "none".to_string(), |id| id.to_string());
            tracing::warn!(
                target: "corio",
                owner_task = %owner,
                failures = group.len(),
                "task group failures never retrieved: a TaskGroup scope run by task {} \
                 was dropped with a {}",
                owner,
                group
            );
        }
    }
}
