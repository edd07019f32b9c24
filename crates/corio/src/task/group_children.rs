//! `Children`: a TaskGroup's live children, by key, without hashing.
//!
//! A key is reserved before the child is spawned (its guard needs it) and
//! filled with the child's `AbortHandle` once the spawn returned; the guard
//! removes it when the child's future is dropped, possibly before the fill.
//! Slots are reused, so each key also carries a sequence number: a stale
//! fill or removal (for a child whose slot was already freed and reused)
//! finds another number there and does nothing.

use corio_executor::AbortHandle;
use slab::Slab;

/// One child's place in [`Children`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChildKey {
    index: usize,
    seq: u64,
}

/// The live children of one group.
#[derive(Default)]
pub(crate) struct Children {
    slots: Slab<(u64, Option<AbortHandle>)>,
    next_seq: u64,
}

impl Children {
    /// A key for a child about to be spawned.
    pub(crate) fn reserve(&mut self) -> ChildKey {
        self.next_seq += 1;
        let seq = self.next_seq;
        let index = self.slots.insert((seq, None));
        ChildKey { index, seq }
    }

    /// Records the handle of the child spawned under `key`, unless it is
    /// already gone.
    pub(crate) fn fill(&mut self, key: ChildKey, handle: AbortHandle) {
        if let Some((seq, slot)) = self.slots.get_mut(key.index) {
            if *seq == key.seq {
                *slot = Some(handle);
            }
        }
    }

    /// Forgets the child under `key` (its future was dropped); returns its
    /// handle, if it was filled in.
    pub(crate) fn remove(&mut self, key: ChildKey) -> Option<AbortHandle> {
        if self
            .slots
            .get(key.index)
            .is_some_and(|(seq, _)| *seq == key.seq)
        {
            return self.slots.remove(key.index).1;
        }
        None
    }

    /// The handles of the live children, in slot order.
    pub(crate) fn handles(&self) -> impl Iterator<Item = &AbortHandle> {
        self.slots
            .iter()
            .filter_map(|(_, (_, handle))| handle.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_keys_neither_fill_nor_remove_a_reused_slot() {
        let mut children = Children::default();
        let first = children.reserve();
        children.remove(first);
        let second = children.reserve();
        assert_eq!(first.index, second.index, "the slot is reused");
        children.remove(first); // stale: the second child stays
        assert_eq!(children.slots.len(), 1);
        children.remove(second);
        assert_eq!(children.slots.len(), 0);
        assert_eq!(children.handles().count(), 0);
    }
}
