//! `TaskList`: the local executor's live tasks, as uncounted pointers.
//!
//! A slot is a word: a task pointer (even) or a link in the free list (odd),
//! so a live task costs 8 bytes here and 4 in its header (its slot index).
//!
//! Invariant: every pointer in the list is a live task of the list's
//! executor. It holds because a task is inserted only by its own scheduler
//! (from a `Runnable`, which keeps it alive), the scheduler removes it in
//! `Schedule::release`, which the raw layer calls before it completes the
//! task, and nothing frees a task that has not completed (`state.rs`). So a
//! listed task is never freed, even though the list holds no reference.
//!
//! The list lives in the executor's owner-thread state, so everything handed
//! out of it (a [`RegisteredTask`]) exists only on the executor's thread,
//! where its tasks, `!Send` ones included, may be dropped.

use std::marker::PhantomData;
use std::ptr::NonNull;

use super::header::{Header, NO_SLOT};
use super::runnable::drop_now;
use super::waker::drop_ref;
use super::AbortHandle;

const FREE_END: usize = usize::MAX >> 1;

/// The live tasks of one executor (see the module docs).
#[derive(Debug)]
pub(crate) struct TaskList {
    slots: Vec<usize>,
    free: usize,
    len: usize,
    /// No task is listed at or above this index: `pop` scans down from
    /// here, so emptying the list is linear overall.
    scan_end: usize,
}

impl TaskList {
    pub(crate) fn new() -> TaskList {
        TaskList {
            slots: Vec::new(),
            free: FREE_END,
            len: 0,
            scan_end: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Adds a task and records its slot in its header.
    ///
    /// # Safety
    ///
    /// `task` belongs to this list's executor (its scheduler removes it from
    /// this list in `Schedule::release`), is not completed, and is not in
    /// the list yet; the caller is on the executor's thread.
    #[inline]
    pub(crate) unsafe fn insert(&mut self, task: &Header) {
        let ptr = task as *const Header as usize;
        let index = if self.free != FREE_END {
            let index = self.free;
            self.free = self.slots[index] >> 1;
            self.slots[index] = ptr;
            index
        } else {
            self.slots.push(ptr);
            self.slots.len() - 1
        };
        assert!(
            index < NO_SLOT as usize,
            "more than u32::MAX - 1 live tasks"
        );
        self.len += 1;
        self.scan_end = self.scan_end.max(index + 1);
        task.set_slot(index as u32);
    }

    /// Removes `task` if it is listed here (its scheduler releases it).
    #[inline]
    pub(crate) fn remove(&mut self, task: &Header) {
        let index = task.slot();
        if index == NO_SLOT {
            return;
        }
        let free_link = (self.free << 1) | 1;
        match self.slots.get_mut(index as usize) {
            Some(slot) if *slot == task as *const Header as usize => *slot = free_link,
            // A hard check: a slot that names another task would leave a
            // dangling pointer behind.
            _ => slot_mismatch(),
        }
        self.free = index as usize;
        self.len -= 1;
        task.set_slot(NO_SLOT);
    }

    /// Whether `task` is listed here (at the slot its header records).
    pub(crate) fn contains(&self, task: &Header) -> bool {
        let index = task.slot();
        index != NO_SLOT
            && self.slots.get(index as usize) == Some(&(task as *const Header as usize))
    }

    /// Visits every listed task.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Header)) {
        for &slot in &self.slots {
            if slot & 1 == 0 {
                // SAFETY: listed tasks are alive (module invariant).
                f(unsafe { &*(slot as *const Header) });
            }
        }
    }

    /// Counted handles to every listed task, to act on after the list's
    /// borrow has ended (acting may run user code that re-enters the list).
    pub(crate) fn handles(&self) -> Vec<AbortHandle> {
        let mut handles = Vec::with_capacity(self.len);
        self.for_each(|task| handles.push(AbortHandle::new(NonNull::from(task))));
        handles
    }

    /// Unlists one task and returns it with a counted reference, or `None`
    /// when the list is empty. Closing pops one task at a time, so a `Drop`
    /// that re-enters the executor never finds a task the outer loop holds
    /// uncounted.
    pub(crate) fn pop(&mut self) -> Option<RegisteredTask> {
        let index = loop {
            let index = self.scan_end.checked_sub(1)?;
            if self.slots[index] & 1 == 0 {
                break index;
            }
            self.scan_end = index;
        };
        let ptr = NonNull::new(self.slots[index] as *mut Header)?;
        // SAFETY: listed tasks are alive (module invariant).
        let task = unsafe { ptr.as_ref() };
        task.state.ref_inc();
        self.remove(task);
        Some(RegisteredTask {
            ptr,
            _owner_thread: PhantomData,
        })
    }

    /// The listed task behind `handle`, with a counted reference, if it is
    /// one of this list's tasks.
    pub(crate) fn registered(&self, handle: &AbortHandle) -> Option<RegisteredTask> {
        let ptr = handle.as_ptr();
        // SAFETY: the AbortHandle's reference keeps the header alive.
        let task = unsafe { ptr.as_ref() };
        if !self.contains(task) {
            return None;
        }
        task.state.ref_inc();
        Some(RegisteredTask {
            ptr,
            _owner_thread: PhantomData,
        })
    }
}

/// The hard check of `remove`, out of line.
#[cold]
#[inline(never)]
fn slot_mismatch() -> ! {
    panic!("a task's registry slot does not match its executor's registry")
}

/// A counted reference to a task of the executor whose list it came from,
/// on that executor's thread (`!Send`): the one place that may drop the
/// task's future outside a poll.
pub(crate) struct RegisteredTask {
    ptr: NonNull<Header>,
    _owner_thread: PhantomData<*const ()>,
}

impl RegisteredTask {
    /// Drops the future now, unless it is being polled (then the poller drops
    /// it when the poll returns: `CLOSED` is set), being dropped by someone
    /// else (a `Drop` re-entering the executor), or already ended. Returns
    /// whether this call dropped it.
    pub(crate) fn drop_now(&self) -> bool {
        // SAFETY: we hold a reference, and a RegisteredTask exists only on
        // its executor's thread (it came from the executor's list, which is
        // reached only there, and it is !Send), where the future may be dropped.
        unsafe { drop_now(self.ptr) }
    }
}

impl Drop for RegisteredTask {
    fn drop(&mut self) {
        // SAFETY: we own one counted reference and give it up.
        unsafe { drop_ref(self.ptr) }
    }
}
