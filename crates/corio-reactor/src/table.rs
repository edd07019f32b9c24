//! The reactor's source table: registered [`Source`]s indexed by file descriptor
//! number, which is also the key handed to the poller.
//!
//! Indexing by fd (as libuv does) makes event dispatch a bounds-checked array load and
//! guarantees at most one live registration per fd number, which lets the reactor spot
//! a descriptor that was closed without being deregistered when its number comes back.

use std::sync::Arc;

use crate::source::key_of;
use crate::Source;

/// Registered sources, slot `k` holding the source whose fd number is `k`.
#[derive(Default)]
pub(crate) struct SourceTable {
    slots: Vec<Option<Arc<Source>>>,
    len: usize,
}

impl SourceTable {
    /// The source registered under poller key `key`, if any.
    pub(crate) fn get(&self, key: usize) -> Option<&Arc<Source>> {
        self.slots.get(key)?.as_ref()
    }

    /// Stores `source` in its fd's slot, returning the source that was there before.
    pub(crate) fn insert(&mut self, source: Arc<Source>) -> Option<Arc<Source>> {
        let key = key_of(source.raw());
        if key >= self.slots.len() {
            self.slots.resize_with(key + 1, || None);
        }
        let previous = self.slots[key].replace(source);
        if previous.is_none() {
            self.len += 1;
        }
        previous
    }

    /// Removes `source` if it is the one stored in its fd's slot; returns whether it was.
    pub(crate) fn remove(&mut self, source: &Source) -> bool {
        let key = key_of(source.raw());
        match self.slots.get_mut(key) {
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
