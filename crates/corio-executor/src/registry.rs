//! When each of the local executor's live tasks was spawned, at no memory
//! cost per task.
//!
//! The tasks themselves are listed in `raw/task_list.rs`; this file only
//! knows ids and stamps. Tasks spawned on the executor's own thread take
//! their ids from that thread's monotonic id blocks, in the order they are
//! registered, so a log of *epochs* (the first id registered at each new
//! clock stamp, and that stamp) tells every such task's stamp: the one of
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

use crate::raw::{Header, TaskList};

/// From `first_id` on, tasks spawned on the executor's thread were
/// registered at `stamp`, until the next epoch.
#[derive(Clone, Copy, Debug)]
struct Epoch {
    first_id: u64,
    stamp: u32,
}

/// The spawn stamps of an executor's live tasks (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct SpawnStamps {
    /// Spawn stamps of tasks spawned on the executor's thread, by id range,
    /// in increasing `first_id` order.
    epochs: Vec<Epoch>,
    /// Spawn stamps of live tasks registered from other threads, by id.
    remote: HashMap<u64, u32>,
}

impl SpawnStamps {
    /// Records that `task` was registered at `stamp`. `local`: it was
    /// spawned on the executor's thread (its id is above every id
    /// registered before); otherwise it came through the injector. `live`
    /// lists the registered tasks (for pruning).
    #[inline]
    pub(crate) fn record(&mut self, task: &Header, stamp: u32, local: bool, live: &TaskList) {
        if local {
            match self.epochs.last() {
                Some(last) if last.stamp == stamp => {}
                _ => self.new_epoch(task.id().as_u64(), stamp, live),
            }
        } else if !task.is_hidden() {
            // Hidden tasks are never listed: no age needed.
            self.remote.insert(task.id().as_u64(), stamp);
        }
    }

    /// Forgets a task that left the registry.
    #[inline]
    pub(crate) fn forget(&mut self, task: &Header) {
        if !self.remote.is_empty() {
            self.remote.remove(&task.id().as_u64());
        }
    }

    /// Forgets every task.
    pub(crate) fn clear(&mut self) {
        self.epochs.clear();
        self.remote.clear();
    }

    /// Starts an epoch at `first_id`; prunes the log when it has grown past
    /// twice the live tasks (so the pruning scans are amortized O(1) per
    /// epoch, and the log stays O(live tasks)).
    #[cold]
    fn new_epoch(&mut self, first_id: u64, stamp: u32, live: &TaskList) {
        debug_assert!(self
            .epochs
            .last()
            .is_none_or(|last| last.first_id < first_id));
        self.epochs.push(Epoch { first_id, stamp });
        if self.epochs.len() > 2 * live.len() + 64 {
            self.prune_epochs(live);
        }
    }

    /// Keeps only the epochs a live local task maps to, and the last one
    /// (later local tasks may still join it). Dropping an epoch no live task
    /// maps to changes no live task's stamp: the ids of its range belong to
    /// tasks that are gone, and new ids are above every range.
    fn prune_epochs(&mut self, live: &TaskList) {
        let mut used = vec![false; self.epochs.len()];
        if let Some(last) = used.last_mut() {
            *last = true;
        }
        live.for_each(|task| {
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
    pub(crate) fn stamp_of(&self, task: &Header) -> u32 {
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
}
