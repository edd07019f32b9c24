//! The local executor's registry of live tasks: a slab of task pointers.
//!
//! The executor owns every task that has not completed, even one nobody can
//! wake any more, so it can list them (`all_tasks`) and drop them when it
//! closes. A slot is a word: a task pointer (even) or a link in the free list
//! (odd), so a live task costs 8 bytes here and 4 in its header.

use std::ptr::NonNull;

use crate::raw::header::NO_SLOT;
use crate::raw::Header;

const FREE_END: usize = usize::MAX >> 1;

#[derive(Debug)]
pub(crate) struct Registry {
    slots: Vec<usize>,
    free: usize,
    len: usize,
}

impl Registry {
    pub(crate) fn new() -> Registry {
        Registry {
            slots: Vec::new(),
            free: FREE_END,
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Adds a task and records its slot in the header.
    pub(crate) fn insert(&mut self, task: NonNull<Header>) {
        let index = if self.free != FREE_END {
            let index = self.free;
            self.free = self.slots[index] >> 1;
            self.slots[index] = task.as_ptr() as usize;
            index
        } else {
            self.slots.push(task.as_ptr() as usize);
            self.slots.len() - 1
        };
        assert!(
            index < NO_SLOT as usize,
            "more than u32::MAX - 1 live tasks"
        );
        self.len += 1;
        // SAFETY: the task is live: it is being registered by its scheduler.
        unsafe { task.as_ref() }.set_slot(index as u32);
    }

    /// Removes the task in `slot` (as recorded in its header).
    pub(crate) fn remove(&mut self, task: &Header) {
        let index = task.slot();
        if index == NO_SLOT {
            return;
        }
        debug_assert_eq!(self.slots[index as usize], task as *const Header as usize);
        self.slots[index as usize] = (self.free << 1) | 1;
        self.free = index as usize;
        self.len -= 1;
        task.set_slot(NO_SLOT);
    }

    /// Whether `task` is registered here (at the slot its header records).
    pub(crate) fn contains(&self, task: &Header) -> bool {
        let index = task.slot();
        index != NO_SLOT
            && self.slots.get(index as usize) == Some(&(task as *const Header as usize))
    }

    /// Visits every live task.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Header)) {
        for &slot in &self.slots {
            if slot & 1 == 0 {
                // SAFETY: registered tasks are alive until they complete, and
                // completion removes them from the registry first.
                f(unsafe { &*(slot as *const Header) });
            }
        }
    }

    /// Empties the registry, returning every live task (slots cleared).
    pub(crate) fn take_all(&mut self) -> Vec<NonNull<Header>> {
        let mut tasks = Vec::with_capacity(self.len);
        for slot in self.slots.drain(..) {
            if slot & 1 == 0 {
                let ptr = NonNull::new(slot as *mut Header).expect("registry holds non-null tasks");
                // SAFETY: as in `for_each`.
                unsafe { ptr.as_ref() }.set_slot(NO_SLOT);
                tasks.push(ptr);
            }
        }
        self.free = FREE_END;
        self.len = 0;
        tasks
    }
}
