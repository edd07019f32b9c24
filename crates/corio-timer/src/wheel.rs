//! [`TimerQueue`]: the hierarchical timing wheel, single-threaded with a
//! `&mut` API. The driver in `driver.rs` wraps it in a mutex for futures.
//!
//! Layout (as in tokio): 6 levels of 64 slots. A level-0 slot is one tick
//! (1 ms); a level-`L` slot spans `64^L` ticks, so the wheel covers `64^6` ms
//! (about 2.2 years) past its current tick. An entry sits at the lowest level
//! whose slot distinguishes its tick from the wheel's current tick (`elapsed`);
//! deadlines past the wheel's range sit on an overflow list.
//!
//! A slot is a `Vec` of entry indices, each entry recording its position in
//! it (removal is a swap-remove). Not an intrusive linked list: cascading or
//! opening a slot of 30,000 timers then reads their entries at addresses the
//! CPU knows in advance, so the cache misses overlap, where following `next`
//! links made each miss wait for the previous one (~100 ns per timer per
//! level, most of `fire`'s time with a million timers).
//!
//! The current tick is special: its entries (and entries whose deadline is
//! already past) live in a binary heap ordered by `(deadline, seq)`, not in a
//! slot. A driver calls `fire` and `next_deadline` many times within one
//! millisecond when deadlines are dense (every few microseconds at 1,000 per
//! ms); the heap makes each call O(fired * log n) and O(1), where scanning
//! the slot cost a cache miss per entry per call. The heap also hands
//! timers out already in deadline order, FIFO among equals, so `fire` needs
//! no sort. Cancelling an entry in the heap leaves a stale element behind
//! (told by the entry's `seq`), dropped when it reaches the top.
//!
//! Invariant that makes "find the next slot" a `trailing_zeros` per level:
//! every level-0 slot entry is in `elapsed`'s 64-tick block strictly after
//! `elapsed` (those at `elapsed` are in the heap), and every level-`L > 0`
//! entry is in `elapsed`'s level-`L+1` block, in a slot strictly after
//! `elapsed`'s. So the first occupied slot of the lowest non-empty level is
//! the earliest one, and no bitmap ever needs rotating. `elapsed` only moves
//! to the start of the earliest occupied slot (to process it, with the heap
//! empty) or, at the end of `fire`, to `now`'s tick, before every occupied
//! slot; the heap's live entries are always of tick `elapsed` or earlier.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::mem;
use std::task::Waker;

use crate::instant::Instant;
use crate::slab::{Level, Slab, CURRENT, NIL, OVERFLOW};

const LEVELS: usize = 6;
const SLOT_BITS: u32 = 6;
const SLOTS: usize = 1 << SLOT_BITS;
const SLOT_MASK: u64 = SLOTS as u64 - 1;
/// Ticks spanned by the whole wheel: entries whose tick differs from
/// `elapsed` in any bit at or above this go to the overflow list.
const WHEEL_BITS: u32 = SLOT_BITS * LEVELS as u32;
/// One tick (the level-0 resolution) in nanoseconds.
const TICK_NANOS: u64 = 1_000_000;

/// A handle to an entry in a [`TimerQueue`].
///
/// It carries the entry's generation, so a key whose timer already fired or
/// was cancelled is harmless: every operation on it reports "not pending",
/// even after the entry's storage has been reused by a newer timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimerKey {
    index: u32,
    generation: u32,
}

impl TimerKey {
    /// Two values no key ever takes (no entry has index `NIL`), for code that
    /// packs "no key" states into a key-sized field.
    pub(crate) const UNUSED: [TimerKey; 2] = [
        TimerKey {
            index: NIL,
            generation: 0,
        },
        TimerKey {
            index: NIL,
            generation: 1,
        },
    ];
}

/// Hierarchical timing wheel: 1 ms level-0 resolution, 6 levels × 64 slots.
///
/// Insert and cancel are O(1) (O(log n) for a deadline in the current
/// millisecond); entries live in a slab (a `Vec` with a free list, `u32`
/// indices) and each slot is a `Vec` of indices, except the current tick's,
/// which is a heap.
/// Deadlines beyond the wheel's range (including [`Instant::MAX`]) wait on an
/// overflow list and are re-placed as time advances.
///
/// [`fire`](Self::fire) is exact despite the 1 ms slots: it fires precisely
/// the timers whose deadline is `<= now`, never one early, in deadline order
/// with FIFO among equal deadlines.
///
/// ```
/// use corio_timer::{Instant, TimerQueue};
/// use std::sync::Arc;
/// use std::task::{Wake, Waker};
/// use std::time::Duration;
///
/// struct Noop;
/// impl Wake for Noop {
///     fn wake(self: Arc<Self>) {}
/// }
/// let waker = Waker::from(Arc::new(Noop));
///
/// let t0 = Instant::from_nanos(0);
/// let mut q = TimerQueue::new(t0);
/// let late = q.insert(t0 + Duration::from_millis(20), waker.clone());
/// q.insert(t0 + Duration::from_millis(10), waker.clone());
///
/// let mut woken = Vec::new();
/// assert_eq!(q.fire(t0 + Duration::from_millis(15), &mut woken), 1);
/// assert!(q.cancel(late));
/// assert!(q.is_empty());
/// ```
pub struct TimerQueue {
    slab: Slab,
    /// `slots[level][slot]`: the entries in that slot, in no order. An
    /// emptied slot keeps its allocation for the next round.
    slots: [[Vec<u32>; SLOTS]; LEVELS],
    /// Bit `s` of `occupied[level]` is set iff `slots[level][s]` is not empty.
    occupied: [u64; LEVELS],
    overflow: Vec<u32>,
    /// A lower bound on the overflow list's deadlines (exact unless the
    /// earliest was cancelled; it is recomputed when the list is re-placed).
    overflow_min: Option<u64>,
    /// The instant tick 0 starts at.
    origin: u64,
    /// The wheel's current tick; see the module docs for what it guarantees.
    elapsed: u64,
    /// The latest `now` passed to `fire` (nanoseconds), never decreasing.
    now: u64,
    next_seq: u64,
    len: usize,
    /// The entries of tick `elapsed` and earlier, earliest on top; elements
    /// whose entry was cancelled or rescheduled since are stale (see
    /// [`TimerQueue::is_current`]) and never on top after a public call.
    current: BinaryHeap<Reverse<Due>>,
    /// How many of `current`'s elements are stale; when they outnumber the
    /// live ones the heap is compacted, so churn within one tick (or under
    /// a clock that stands still) cannot grow it without bound.
    current_stale: usize,
}

/// An element of the current tick's heap: ordered by deadline, then by `seq`
/// (FIFO), which is unique, so `idx` never decides.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Due {
    deadline: u64,
    seq: u64,
    idx: u32,
}

/// The earliest occupied slot: what `fire` must process next.
#[derive(Clone, Copy)]
struct Expiration {
    /// `LEVELS` stands for the overflow list.
    level: usize,
    slot: usize,
    /// The first tick the slot covers.
    tick: u64,
}

impl TimerQueue {
    /// An empty queue whose time origin (tick 0) and current time are `now`.
    pub fn new(now: Instant) -> TimerQueue {
        TimerQueue {
            slab: Slab::new(),
            slots: std::array::from_fn(|_| std::array::from_fn(|_| Vec::new())),
            occupied: [0; LEVELS],
            overflow: Vec::new(),
            overflow_min: None,
            origin: now.as_nanos(),
            elapsed: 0,
            now: now.as_nanos(),
            next_seq: 0,
            len: 0,
            current: BinaryHeap::new(),
            current_stale: 0,
        }
    }

    /// Adds a timer that fires `waker` once `fire` is called with a time
    /// `>= deadline`. A deadline already `<=` the queue's current time fires
    /// on the next `fire`.
    pub fn insert(&mut self, deadline: Instant, waker: Waker) -> TimerKey {
        let seq = self.next_seq;
        self.next_seq += 1;
        let (index, generation) = self.slab.alloc(deadline.as_nanos(), seq, waker);
        self.place(index);
        self.len += 1;
        TimerKey { index, generation }
    }

    /// Cancels a pending timer. Returns `true` if it was pending; a key whose
    /// timer already fired or was cancelled returns `false`.
    pub fn cancel(&mut self, key: TimerKey) -> bool {
        self.remove(key).is_some()
    }

    /// Cancels a pending timer and hands back its waker (`None` if the key is
    /// stale), so a caller holding a lock can drop the waker after releasing
    /// it: dropping a waker may run arbitrary code.
    pub fn remove(&mut self, key: TimerKey) -> Option<Waker> {
        if !self.is_pending(key) {
            return None;
        }
        self.unlink(key.index);
        self.len -= 1;
        let waker = self.slab.free(key.index);
        self.clean_current();
        Some(waker)
    }

    /// Replaces a pending timer's waker, unless the stored one already
    /// `will_wake` the same task. Does nothing for a stale key.
    pub fn set_waker(&mut self, key: TimerKey, waker: &Waker) {
        drop(self.replace_waker(key, waker));
    }

    /// Like [`set_waker`](Self::set_waker), but returns the waker it replaced
    /// so a caller holding a lock can drop it after releasing the lock.
    pub fn replace_waker(&mut self, key: TimerKey, waker: &Waker) -> Option<Waker> {
        if !self.is_pending(key) {
            return None;
        }
        let slot = &mut self.slab.get_mut(key.index).waker;
        match slot {
            Some(old) if old.will_wake(waker) => None,
            _ => slot.replace(waker.clone()),
        }
    }

    /// Moves a pending timer to a new deadline, keeping its waker; it then
    /// orders as if inserted now among equal deadlines. Returns `false` (and
    /// does nothing) for a stale key.
    pub fn reschedule(&mut self, key: TimerKey, deadline: Instant) -> bool {
        if !self.is_pending(key) {
            return false;
        }
        self.unlink(key.index);
        let seq = self.next_seq;
        self.next_seq += 1;
        let e = self.slab.get_mut(key.index);
        e.deadline = deadline.as_nanos();
        e.seq = seq;
        self.place(key.index);
        self.clean_current();
        true
    }

    /// Whether `key`'s timer is still waiting to fire.
    pub fn is_pending(&self, key: TimerKey) -> bool {
        self.slab.is_live(key.index, key.generation)
    }

    /// A time to wake up for: `None` when empty, otherwise an instant no
    /// later than the earliest pending deadline.
    ///
    /// It is exact when the earliest timer sits in level 0 (within 64 ms of
    /// the current tick). Otherwise it is the start of the earliest occupied
    /// coarse slot; calling [`fire`](Self::fire) then cascades that slot and
    /// the next answer is finer. O(1) while the current millisecond has
    /// timers left; otherwise O(levels) plus one level-0 slot scan.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.len == 0 {
            return None;
        }
        // The heap's entries precede every slot's; its top is live.
        if let Some(Reverse(top)) = self.current.peek() {
            return Some(Instant::from_nanos(top.deadline));
        }
        let exp = self.next_expiration()?;
        let nanos = match exp.level {
            0 => {
                let slot = &self.slots[0][exp.slot];
                slot.iter()
                    .map(|&idx| self.slab.get(idx).deadline)
                    .min()
                    .unwrap_or(u64::MAX)
            }
            LEVELS => self.overflow_min?,
            _ => self.tick_start(exp.tick),
        };
        Some(Instant::from_nanos(nanos))
    }

    /// Fires every timer whose deadline is `<= now`: removes them and appends
    /// their wakers to `out` in deadline order, FIFO among equal deadlines.
    /// Returns how many fired.
    ///
    /// A `now` earlier than a previous call's does not move time backwards;
    /// it is treated as that previous time.
    pub fn fire(&mut self, now: Instant, out: &mut Vec<Waker>) -> usize {
        self.now = self.now.max(now.as_nanos());
        let now = self.now;
        let now_tick = self.tick_of(now);
        let mut count = self.fire_current(now, out);
        // Once the heap keeps a timer, it is due later in `now`'s own tick
        // and every slot is later still.
        while self.current.is_empty() {
            let Some(exp) = self.next_expiration() else {
                break;
            };
            if exp.tick > now_tick {
                break;
            }
            debug_assert!(exp.tick > self.elapsed, "wheel would move backwards");
            self.elapsed = exp.tick;
            match exp.level {
                0 => self.open_slot(exp.slot),
                LEVELS => self.cascade_overflow(),
                level => self.cascade(level, exp.slot),
            }
            count += self.fire_current(now, out);
        }
        debug_assert!(self.current.is_empty() || self.elapsed == now_tick);
        // Every occupied slot now starts after `now_tick`, and the heap holds
        // only timers of `now_tick`, so the invariant holds with `elapsed`
        // there.
        self.elapsed = now_tick;
        count
    }

    /// The queue's current time: the latest `now` given to `fire`, or the
    /// origin given to `new`.
    pub fn now(&self) -> Instant {
        Instant::from_nanos(self.now)
    }

    /// Number of pending timers.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no timer is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of entry cells allocated (pending plus free for reuse); it
    /// only grows when more timers are pending at once than ever before.
    pub fn capacity(&self) -> usize {
        self.slab.capacity()
    }

    /// The tick a deadline falls in; deadlines before the origin are tick 0.
    fn tick_of(&self, nanos: u64) -> u64 {
        nanos.saturating_sub(self.origin) / TICK_NANOS
    }

    /// The instant (nanoseconds) a tick starts at.
    fn tick_start(&self, tick: u64) -> u64 {
        self.origin.saturating_add(tick.saturating_mul(TICK_NANOS))
    }

    /// Links entry `idx` into the slot its deadline belongs in relative to
    /// `elapsed`. Deadlines in past ticks go to the current level-0 slot,
    /// which the next `fire` processes.
    fn place(&mut self, idx: u32) {
        let deadline = self.slab.get(idx).deadline;
        let tick = self.tick_of(deadline).max(self.elapsed);
        if tick == self.elapsed {
            let e = self.slab.get_mut(idx);
            e.level = CURRENT;
            let seq = e.seq;
            self.current.push(Reverse(Due { deadline, seq, idx }));
            return;
        }
        // The highest bit where the tick differs from `elapsed` picks the
        // level; OR-ing the slot mask makes equal ticks land on level 0.
        let masked = (self.elapsed ^ tick) | SLOT_MASK;
        let level = ((63 - masked.leading_zeros()) / SLOT_BITS) as usize;
        if level >= LEVELS {
            push(&mut self.slab, &mut self.overflow, idx, OVERFLOW, 0);
            self.overflow_min = Some(self.overflow_min.map_or(deadline, |m| m.min(deadline)));
            return;
        }
        let slot = ((tick >> (SLOT_BITS * level as u32)) & SLOT_MASK) as usize;
        push(
            &mut self.slab,
            &mut self.slots[level][slot],
            idx,
            level as Level,
            slot as u8,
        );
        self.occupied[level] |= 1 << slot;
    }

    /// Removes a live entry from whichever slot it is in. O(1).
    fn unlink(&mut self, idx: u32) {
        let e = self.slab.get(idx);
        let (level, slot) = (e.level, e.slot as usize);
        if level == CURRENT {
            // Its heap element goes stale once the caller frees or
            // re-sequences the entry; `clean_current` drops it.
            self.current_stale += 1;
            return;
        }
        if level == OVERFLOW {
            swap_remove(&mut self.slab, &mut self.overflow, idx);
            if self.overflow.is_empty() {
                self.overflow_min = None;
            }
            return;
        }
        let level = level as usize;
        swap_remove(&mut self.slab, &mut self.slots[level][slot], idx);
        if self.slots[level][slot].is_empty() {
            self.occupied[level] &= !(1 << slot);
        }
    }

    /// The earliest occupied slot. By the module invariant that is the first
    /// set bit of the lowest non-empty level; the overflow list only counts
    /// when the wheel proper is empty (its entries are all later).
    fn next_expiration(&self) -> Option<Expiration> {
        for (level, &occ) in self.occupied.iter().enumerate() {
            if occ == 0 {
                continue;
            }
            let shift = SLOT_BITS * level as u32;
            let slot = occ.trailing_zeros() as usize;
            let block_mask = (1u64 << (shift + SLOT_BITS)) - 1;
            let tick = (self.elapsed & !block_mask) + ((slot as u64) << shift);
            debug_assert!(
                tick >= self.elapsed && (level == 0 || tick > self.elapsed),
                "timing wheel slot behind the current tick"
            );
            return Some(Expiration { level, slot, tick });
        }
        let min = self.overflow_min?;
        let top_mask = (1u64 << WHEEL_BITS) - 1;
        let tick = self.tick_of(min) & !top_mask;
        Some(Expiration {
            level: LEVELS,
            slot: 0,
            tick,
        })
    }

    /// Whether a heap element still stands for its entry (not cancelled,
    /// fired or rescheduled since it was pushed).
    fn is_current(&self, due: &Due) -> bool {
        let e = self.slab.get(due.idx);
        e.level == CURRENT && e.seq == due.seq
    }

    /// Pops stale elements off the heap's top, so the top is a live timer,
    /// and compacts the heap if stale elements are the majority.
    fn clean_current(&mut self) {
        while let Some(Reverse(top)) = self.current.peek() {
            if self.is_current(top) {
                break;
            }
            self.current.pop();
            self.current_stale -= 1;
        }
        if self.current_stale > 32 && self.current_stale * 2 > self.current.len() {
            let mut heap = mem::take(&mut self.current);
            heap.retain(|Reverse(due)| self.is_current(due));
            self.current = heap;
            self.current_stale = 0;
        }
    }

    /// Fires the heap's timers with deadline `<= now`, in heap order, and
    /// returns how many.
    fn fire_current(&mut self, now: u64, out: &mut Vec<Waker>) -> usize {
        let mut count = 0;
        while let Some(&Reverse(top)) = self.current.peek() {
            if top.deadline > now {
                break;
            }
            self.current.pop();
            if self.is_current(&top) {
                out.push(self.slab.free(top.idx));
                self.len -= 1;
                count += 1;
            } else {
                self.current_stale -= 1;
            }
        }
        self.clean_current();
        count
    }

    /// Moves level-0 slot `slot`, the slot of tick `elapsed`, into the
    /// (empty) heap.
    fn open_slot(&mut self, slot: usize) {
        debug_assert!(self.current.is_empty() && self.current_stale == 0);
        let mut heap = mem::take(&mut self.current).into_vec();
        heap.clear();
        let mut entries = mem::take(&mut self.slots[0][slot]);
        self.occupied[0] &= !(1 << slot);
        heap.extend(entries.iter().map(|&idx| {
            let e = self.slab.get_mut(idx);
            e.level = CURRENT;
            Reverse(Due {
                deadline: e.deadline,
                seq: e.seq,
                idx,
            })
        }));
        self.current = BinaryHeap::from(heap);
        entries.clear();
        self.slots[0][slot] = entries;
    }

    /// Re-places every entry of a coarse slot now that `elapsed` is its start;
    /// each lands on a lower level (or in the heap).
    fn cascade(&mut self, level: usize, slot: usize) {
        let mut entries = mem::take(&mut self.slots[level][slot]);
        self.occupied[level] &= !(1 << slot);
        for &idx in &entries {
            self.place(idx);
            let placed = self.slab.get(idx).level;
            debug_assert!(placed == CURRENT || (placed as usize) < level);
        }
        entries.clear();
        // `place` never targets the slot being cascaded: keep its allocation.
        self.slots[level][slot] = entries;
    }

    /// Re-places the overflow list now that `elapsed` is the start of the
    /// wheel-range block holding its earliest deadline: those in that block
    /// enter the wheel, the rest stay (and `overflow_min` becomes exact).
    fn cascade_overflow(&mut self) {
        let entries = mem::take(&mut self.overflow);
        self.overflow_min = None;
        for &idx in &entries {
            self.place(idx);
        }
    }
}

/// Appends entry `idx` to `slot`, recording where it is.
fn push(slab: &mut Slab, slot: &mut Vec<u32>, idx: u32, level: Level, slot_index: u8) {
    let e = slab.get_mut(idx);
    e.pos = slot.len() as u32;
    e.level = level;
    e.slot = slot_index;
    slot.push(idx);
}

/// Removes entry `idx` from `slot` (the one it is in), moving the last entry
/// into its place.
fn swap_remove(slab: &mut Slab, slot: &mut Vec<u32>, idx: u32) {
    let pos = slab.get(idx).pos as usize;
    debug_assert_eq!(slot.get(pos), Some(&idx), "entry not where it says it is");
    slot.swap_remove(pos);
    if let Some(&moved) = slot.get(pos) {
        slab.get_mut(moved).pos = pos as u32;
    }
}

impl fmt::Debug for TimerQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerQueue")
            .field("len", &self.len)
            .field("now", &self.now())
            .field("next_deadline", &self.next_deadline())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn churn_within_one_tick_keeps_the_current_heap_small() {
        let t0 = Instant::from_nanos(0);
        let mut q = TimerQueue::new(t0);
        // One timer early in the current millisecond stays on top of the
        // heap; insert/cancel pairs behind it must not pile up there.
        let first = q.insert(t0 + Duration::from_nanos(10), Waker::noop().clone());
        for i in 0..100_000u64 {
            let deadline = t0 + Duration::from_nanos(100 + i % 1_000);
            let key = q.insert(deadline, Waker::noop().clone());
            assert!(q.cancel(key));
            assert!(q.current.len() <= 2 * 33 + 2, "{}", q.current.len());
        }
        assert_eq!(q.len(), 1);
        assert_eq!(q.next_deadline(), Some(t0 + Duration::from_nanos(10)));
        let mut out = Vec::new();
        assert_eq!(q.fire(t0 + Duration::from_millis(1), &mut out), 1);
        assert!(!q.cancel(first));
        assert!(q.is_empty() && q.current.is_empty() && q.current_stale == 0);
    }
}
