//! The reactor's source table: registered [`Source`]s indexed by file descriptor
//! number, and the generation-tagged keys handed to the poller.
//!
//! Indexing by fd (as libuv does) makes event dispatch a bounds-checked array load and
//! guarantees at most one live registration per fd number, which lets the reactor spot
//! a descriptor that was closed without being deregistered when its number comes back.
//!
//! A poller key is the fd number in its low 32 bits and a registration generation in
//! the high 32 bits (on 64-bit targets; elsewhere the key is the fd number alone).
//! The generation matters because a poller registration belongs to the open file
//! description, not to the number: if a registered fd is closed while a `dup` of it
//! keeps the description open, the kernel keeps reporting events under the old key,
//! and once the number is reused those events would otherwise reach the new source.
//! [`SourceTable::get`] only answers for the key of the source in the slot now.

use std::sync::Arc;

use crate::Source;

/// Bits of a key that hold the fd number.
const FD_BITS: u32 = 32;

/// Whether keys can carry a generation (`usize` wider than the fd number).
const TAGGED: bool = usize::BITS > FD_BITS;

/// The bits of a key that hold the fd number (all of them where keys are untagged).
const FD_MASK: usize = match 1usize.checked_shl(FD_BITS) {
    Some(bit) if TAGGED => bit - 1,
    _ => usize::MAX,
};

/// The slot (fd number) a poller key refers to.
fn slot_of(key: usize) -> usize {
    key & FD_MASK
}

/// Registered sources, slot `k` holding the source whose fd number is `k`.
#[derive(Default)]
pub(crate) struct SourceTable {
    slots: Vec<Option<Arc<Source>>>,
    len: usize,
    /// Generation of the latest registration (wraps after 2^32 registrations).
    generation: u32,
}

impl SourceTable {
    /// A fresh poller key for fd number `fd`: a new generation each call.
    pub(crate) fn next_key(&mut self, fd: usize) -> usize {
        self.generation = self.generation.wrapping_add(1);
        let tag = (self.generation as usize).checked_shl(FD_BITS).unwrap_or(0);
        fd | if TAGGED { tag } else { 0 }
    }

    /// The source registered under poller key `key`, if it is still the registration
    /// that key was made for.
    pub(crate) fn get(&self, key: usize) -> Option<&Arc<Source>> {
        self.slots
            .get(slot_of(key))?
            .as_ref()
            .filter(|source| source.key() == key)
    }

    /// The source in fd number `fd`'s slot, whatever its generation.
    pub(crate) fn in_slot(&self, fd: usize) -> Option<&Arc<Source>> {
        self.slots.get(fd)?.as_ref()
    }

    /// Stores `source` in its fd's slot, returning the source that was there before.
    pub(crate) fn insert(&mut self, source: Arc<Source>) -> Option<Arc<Source>> {
        let slot = slot_of(source.key());
        if slot >= self.slots.len() {
            self.slots.resize_with(slot + 1, || None);
        }
        let previous = self.slots[slot].replace(source);
        if previous.is_none() {
            self.len += 1;
        }
        previous
    }

    /// Removes `source` if it is the one stored in its fd's slot; returns whether it was.
    pub(crate) fn remove(&mut self, source: &Source) -> bool {
        match self.slots.get_mut(slot_of(source.key())) {
            Some(slot) if slot.as_deref().is_some_and(|s| std::ptr::eq(s, source)) => {
                *slot = None;
                self.len -= 1;
                true
            }
            _ => false,
        }
    }

    /// Number of registered sources.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_one_fd_differ_by_generation_and_map_to_its_slot() {
        let mut table = SourceTable::default();
        let a = table.next_key(7);
        let b = table.next_key(7);
        assert_eq!(slot_of(a), 7);
        assert_eq!(slot_of(b), 7);
        if TAGGED {
            assert_ne!(a, b);
        }
    }
}
