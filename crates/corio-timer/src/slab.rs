//! The entry storage behind the timing wheel: a `Vec` of entries with a free
//! list threaded through the vacant ones, addressed by `u32` indices.
//!
//! Hand-written rather than a slab crate because the wheel wants its slot
//! position and the generation counter inside the entry itself: one
//! allocation-free `Vec` index per operation, and entries stay 48 bytes.

use std::task::Waker;

/// "No entry": the end of a list, or an empty list head.
pub(crate) const NIL: u32 = u32::MAX;

/// Where an entry currently is. The wheel levels are `0..LEVELS`; the other
/// values are sentinels so one byte tells `unlink` which list head to fix.
pub(crate) type Level = u8;
/// `Entry::level` of an entry in the wheel's current tick (its heap, not a
/// slot): its `pos` is unused.
pub(crate) const CURRENT: Level = 0xFD;
/// `Entry::level` of an entry parked on the overflow list.
pub(crate) const OVERFLOW: Level = 0xFE;
/// `Entry::level` of a vacant entry (on the free list).
pub(crate) const VACANT: Level = 0xFF;

/// One timer, or one vacant cell on the free list.
pub(crate) struct Entry {
    /// Absolute deadline in [`crate::Instant`] nanoseconds.
    pub(crate) deadline: u64,
    /// Insertion sequence number: the FIFO tie-break among equal deadlines.
    pub(crate) seq: u64,
    /// `None` only while vacant.
    pub(crate) waker: Option<Waker>,
    /// Index in its slot's (or the overflow list's) `Vec`; for a vacant
    /// entry, the next on the free list.
    pub(crate) pos: u32,
    /// Bumped every time the cell is freed, so keys to earlier occupants are stale.
    pub(crate) generation: u32,
    pub(crate) level: Level,
    pub(crate) slot: u8,
}

/// A `Vec` of entries plus a free list; freed cells are reused before the
/// `Vec` grows, so insert/cancel churn keeps memory flat.
pub(crate) struct Slab {
    entries: Vec<Entry>,
    free_head: u32,
}

impl Slab {
    pub(crate) const fn new() -> Slab {
        Slab {
            entries: Vec::new(),
            free_head: NIL,
        }
    }

    /// Number of cells ever allocated (live plus vacant).
    pub(crate) fn capacity(&self) -> usize {
        self.entries.len()
    }

    /// Stores a new occupied entry (not yet on any list) and returns its index
    /// and generation.
    pub(crate) fn alloc(&mut self, deadline: u64, seq: u64, waker: Waker) -> (u32, u32) {
        if self.free_head != NIL {
            let idx = self.free_head;
            let e = &mut self.entries[idx as usize];
            self.free_head = e.pos;
            e.deadline = deadline;
            e.seq = seq;
            e.waker = Some(waker);
            e.pos = NIL;
            // Placement sets the real level; until then it is merely "not vacant".
            e.level = OVERFLOW;
            return (idx, e.generation);
        }
        let idx = u32::try_from(self.entries.len())
            .ok()
            .filter(|&i| i != NIL)
            .expect("corio-timer: more than u32::MAX - 1 timers pending at once");
        self.entries.push(Entry {
            deadline,
            seq,
            waker: Some(waker),
            pos: NIL,
            generation: 0,
            level: OVERFLOW,
            slot: 0,
        });
        (idx, 0)
    }

    /// Frees an entry that is already out of its slot, returning its
    /// waker. The generation bump makes every outstanding key to it stale.
    pub(crate) fn free(&mut self, idx: u32) -> Waker {
        let free_head = self.free_head;
        let e = &mut self.entries[idx as usize];
        debug_assert_ne!(e.level, VACANT, "double free of a timer entry");
        e.level = VACANT;
        e.generation = e.generation.wrapping_add(1);
        e.pos = free_head;
        self.free_head = idx;
        e.waker
            .take()
            .expect("occupied timer entry without a waker")
    }

    /// Whether `(idx, generation)` names a live entry.
    pub(crate) fn is_live(&self, idx: u32, generation: u32) -> bool {
        self.entries
            .get(idx as usize)
            .is_some_and(|e| e.generation == generation && e.level != VACANT)
    }

    pub(crate) fn get(&self, idx: u32) -> &Entry {
        &self.entries[idx as usize]
    }

    pub(crate) fn get_mut(&mut self, idx: u32) -> &mut Entry {
        &mut self.entries[idx as usize]
    }
}
