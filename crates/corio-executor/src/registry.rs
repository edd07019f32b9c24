//! The local executor's registry of live tasks: a slab of task pointers,
//! and when each task was spawned.
//!
//! The executor owns every task that has not completed, even one nobody can
//! wake any more, so it can list them (`all_tasks`) and drop them when it
//! closes. A slot is a word: a task pointer (even) or a link in the free list
//! (odd), so a live task costs 8 bytes here and 4 in its header.
//!
//! Spawn times cost no memory per task. Tasks spawned on the executor's own
//! thread take their ids from that thread's monotonic id blocks, in the order
//! they are registered, so a log of *epochs* (the first id registered at each
//! new clock stamp, and that stamp) tells every such task's stamp: the one of
//! the last epoch whose first id is not above the task's id. The log gains at
//! most one entry per iteration that spawns (an iteration reads the clock
//! once) and is pruned, amortized O(1), down to the epochs some live task
//! still needs once it outgrows twice the live tasks. Tasks registered from
//! the cross-thread injector have ids from other threads' blocks, out of
//! that order: their stamps are kept exactly, in a side map that is empty
//! (and costs one branch) unless such a task is alive. Stamps are
//! milliseconds on the executor's clock, wrapping, so a task's age is exact
//! to the millisecond up to 49 days.
//!
//! (A stamp per slot would be simpler, but 4 bytes more per task cost the
//! 1M-task spawn benchmark about 8% of its time.)

use std::collections::HashMap;
use std::ptr::NonNull;

use crate::raw::header::NO_SLOT;
use crate::raw::Header;

const FREE_END: usize = usize::MAX >> 1;

/// From `first_id` on, tasks spawned on the executor's thread were
/// registered at `stamp`, until the next epoch.
#[derive(Clone, Copy, Debug)]
struct Epoch {
    first_id: u64,
    stamp: u32,
}

#[derive(Debug)]
pub(crate) struct Registry {
    slots: Vec<usize>,
    free: usize,
    len: usize,
    /// Spawn stamps of tasks spawned on the executor's thread, by id range
    /// (see the module docs), in increasing `first_id` order.
    epochs: Vec<Epoch>,
    /// Spawn stamps of live tasks registered from other threads, by id.
    remote: HashMap<u64, u32>,
}

impl Registry {
    pub(crate) fn new() -> Registry {
        Registry {
            slots: Vec::new(),
            free: FREE_END,
            len: 0,
            epochs: Vec::new(),
            remote: HashMap::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Adds a task registered at `stamp` and records its slot in the header.
    /// `local`: the task was spawned on the executor's thread (its id is
    /// above every id registered before); otherwise it came through the
    /// injector.
    pub(crate) fn insert(&mut self, task: NonNull<Header>, stamp: u32, local: bool) {
        // SAFETY: the task is live: it is being registered by its scheduler.
        let header = unsafe { task.as_ref() };
        if local {
            match self.epochs.last() {
                Some(last) if last.stamp == stamp => {}
                _ => self.new_epoch(header.id().as_u64(), stamp),
            }
        } else if !header.is_hidden() {
            // Hidden tasks are never listed: no age needed.
            self.remote.insert(header.id().as_u64(), stamp);
        }
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
        header.set_slot(index as u32);
    }

    /// Starts an epoch at `first_id`; prunes the log when it has grown past
    /// twice the live tasks (so the pruning scans are amortized O(1) per
    /// epoch, and the log stays O(live tasks)).
    #[cold]
    fn new_epoch(&mut self, first_id: u64, stamp: u32) {
        debug_assert!(self
            .epochs
            .last()
            .is_none_or(|last| last.first_id < first_id));
        self.epochs.push(Epoch { first_id, stamp });
        if self.epochs.len() > 2 * self.len + 64 {
            self.prune_epochs();
        }
    }

    /// Keeps only the epochs a live local task maps to, and the last one
    /// (later local tasks may still join it). Dropping an epoch no live task
    /// maps to changes no live task's stamp: the ids of its range belong to
    /// tasks that are gone, and new ids are above every range.
    fn prune_epochs(&mut self) {
        let mut used = vec![false; self.epochs.len()];
        if let Some(last) = used.last_mut() {
            *last = true;
        }
        self.for_each(|task| {
            let id = task.id().as_u64();
            if !self.remote.contains_key(&id) {
                if let Some(index) = self.epoch_of(id) {
                    used[index] = true;
                }
            }
        });
        let mut used = used.into_iter();
        self.epochs.retain(|_| used.next().unwrap_or(true));
    }

    /// The index of the epoch of a local task with id `id`.
    fn epoch_of(&self, id: u64) -> Option<usize> {
        self.epochs
            .partition_point(|epoch| epoch.first_id <= id)
            .checked_sub(1)
    }

    /// The stamp `task` was registered at.
    fn stamp_of(&self, task: &Header) -> u32 {
        let id = task.id().as_u64();
        if !self.remote.is_empty() {
            if let Some(&stamp) = self.remote.get(&id) {
                return stamp;
            }
        }
        match self.epoch_of(id) {
            Some(index) => self.epochs[index].stamp,
            // Unreachable for a registered local task (its registration
            // started or joined an epoch at or below its id).
            None => self.epochs.first().map_or(0, |epoch| epoch.stamp),
        }
    }

    /// How many epochs the log holds (tests).
    #[cfg(test)]
    pub(crate) fn epoch_count(&self) -> usize {
        self.epochs.len()
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
        if !self.remote.is_empty() {
            self.remote.remove(&task.id().as_u64());
        }
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

    /// Visits every live task with the stamp it was registered at.
    pub(crate) fn for_each_stamped(&self, mut f: impl FnMut(&Header, u32)) {
        self.for_each(|task| f(task, self.stamp_of(task)));
    }

    /// Empties the registry, returning every live task (slots cleared).
    pub(crate) fn take_all(&mut self) -> Vec<NonNull<Header>> {
        let mut tasks = Vec::with_capacity(self.len);
        self.epochs.clear();
        self.remote.clear();
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
