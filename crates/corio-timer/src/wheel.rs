//! [`TimerQueue`]: the hierarchical timing wheel, single-threaded with a
//! `&mut` API. The driver in `driver.rs` wraps it in a mutex for futures.
//!
//! Layout (as in tokio): 6 levels of 64 slots. A level-0 slot is one tick
//! (1 ms); a level-`L` slot spans `64^L` ticks, so the wheel covers `64^6` ms
//! (about 2.2 years) past its current tick. An entry sits at the lowest level
//! whose slot distinguishes its tick from the wheel's current tick (`elapsed`);
//! deadlines past the wheel's range sit on an overflow list.
//!
//! Invariant that makes "find the next slot" a `trailing_zeros` per level:
//! every level-0 entry is in `elapsed`'s 64-tick block at or after `elapsed`,
//! and every level-`L > 0` entry is in `elapsed`'s level-`L+1` block, in a
//! slot strictly after `elapsed`'s. So the first occupied slot of the lowest
//! non-empty level is the earliest one, and no bitmap ever needs rotating.
//! `elapsed` only moves to the start of the earliest occupied slot (to process
//! it) or, at the end of `fire`, to a tick before every occupied slot.

use std::fmt;
use std::mem;
use std::task::Waker;

use crate::instant::Instant;
use crate::slab::{Level, Slab, NIL, OVERFLOW};

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

/// Hierarchical timing wheel: 1 ms level-0 resolution, 6 levels × 64 slots.
///
/// Insert and cancel are O(1); entries live in a slab (a `Vec` with a free
/// list, `u32` indices) and each slot is an intrusive doubly-linked list.
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
    /// `heads[level][slot]`: first entry of that slot's list, or `NIL`.
    heads: [[u32; SLOTS]; LEVELS],
    /// Bit `s` of `occupied[level]` is set iff `heads[level][s] != NIL`.
    occupied: [u64; LEVELS],
    overflow_head: u32,
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
    /// The current `fire` call's batch, kept to reuse its allocation.
    fired: Vec<Fired>,
}

/// A fired timer awaiting the batch sort: `(deadline, seq)` then its waker.
struct Fired {
    deadline: u64,
    seq: u64,
    waker: Waker,
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
            heads: [[NIL; SLOTS]; LEVELS],
            occupied: [0; LEVELS],
            overflow_head: NIL,
            overflow_min: None,
            origin: now.as_nanos(),
            elapsed: 0,
            now: now.as_nanos(),
            next_seq: 0,
            len: 0,
            fired: Vec::new(),
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
        Some(self.slab.free(key.index))
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
    /// the next answer is finer. Costs O(levels) plus one level-0 slot scan.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.len == 0 {
            return None;
        }
        let exp = self.next_expiration()?;
        let nanos = match exp.level {
            0 => {
                let mut min = u64::MAX;
                let mut cur = self.heads[0][exp.slot];
                while cur != NIL {
                    let e = self.slab.get(cur);
                    min = min.min(e.deadline);
                    cur = e.next;
                }
                min
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
        while let Some(exp) = self.next_expiration() {
            if exp.tick > now_tick {
                break;
            }
            debug_assert!(exp.tick >= self.elapsed, "wheel would move backwards");
            self.elapsed = exp.tick;
            match exp.level {
                0 => {
                    self.fire_slot(exp.slot, now);
                    // The slot of `now`'s own tick may keep entries due later
                    // in that millisecond; every other slot is later still.
                    if exp.tick == now_tick {
                        break;
                    }
                    debug_assert_eq!(self.heads[0][exp.slot], NIL);
                }
                LEVELS => self.cascade_overflow(),
                level => self.cascade(level, exp.slot),
            }
        }
        // Every occupied slot now starts after `now_tick` (or is its level-0
        // slot), so the invariant holds with `elapsed` there.
        self.elapsed = now_tick;

        let count = self.fired.len();
        // Slots come out in tick order, but within a tick (and for entries
        // inserted late, which wait in the current slot) deadlines are mixed.
        self.fired.sort_unstable_by_key(|f| (f.deadline, f.seq));
        out.extend(self.fired.drain(..).map(|f| f.waker));
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
        // The highest bit where the tick differs from `elapsed` picks the
        // level; OR-ing the slot mask makes equal ticks land on level 0.
        let masked = (self.elapsed ^ tick) | SLOT_MASK;
        let level = ((63 - masked.leading_zeros()) / SLOT_BITS) as usize;
        if level >= LEVELS {
            self.slab
                .push_front(&mut self.overflow_head, idx, OVERFLOW, 0);
            self.overflow_min = Some(self.overflow_min.map_or(deadline, |m| m.min(deadline)));
            return;
        }
        let slot = ((tick >> (SLOT_BITS * level as u32)) & SLOT_MASK) as usize;
        self.slab.push_front(
            &mut self.heads[level][slot],
            idx,
            level as Level,
            slot as u8,
        );
        self.occupied[level] |= 1 << slot;
    }

    /// Removes a live entry from whichever list it is on. O(1).
    fn unlink(&mut self, idx: u32) {
        let e = self.slab.get(idx);
        let (level, slot) = (e.level, e.slot as usize);
        if level == OVERFLOW {
            self.slab.unlink(&mut self.overflow_head, idx);
            if self.overflow_head == NIL {
                self.overflow_min = None;
            }
            return;
        }
        let level = level as usize;
        self.slab.unlink(&mut self.heads[level][slot], idx);
        if self.heads[level][slot] == NIL {
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

    /// Fires the level-0 slot's entries with deadline `<= now` into `fired`.
    fn fire_slot(&mut self, slot: usize, now: u64) {
        let mut cur = self.heads[0][slot];
        while cur != NIL {
            let (next, deadline, seq) = {
                let e = self.slab.get(cur);
                (e.next, e.deadline, e.seq)
            };
            if deadline <= now {
                self.slab.unlink(&mut self.heads[0][slot], cur);
                let waker = self.slab.free(cur);
                self.len -= 1;
                self.fired.push(Fired {
                    deadline,
                    seq,
                    waker,
                });
            }
            cur = next;
        }
        if self.heads[0][slot] == NIL {
            self.occupied[0] &= !(1 << slot);
        }
    }

    /// Re-places every entry of a coarse slot now that `elapsed` is its start;
    /// each lands on a lower level.
    fn cascade(&mut self, level: usize, slot: usize) {
        let mut cur = mem::replace(&mut self.heads[level][slot], NIL);
        self.occupied[level] &= !(1 << slot);
        while cur != NIL {
            let next = self.slab.get(cur).next;
            self.place(cur);
            debug_assert!((self.slab.get(cur).level as usize) < level);
            cur = next;
        }
    }

    /// Re-places the overflow list now that `elapsed` is the start of the
    /// wheel-range block holding its earliest deadline: those in that block
    /// enter the wheel, the rest stay (and `overflow_min` becomes exact).
    fn cascade_overflow(&mut self) {
        let mut cur = mem::replace(&mut self.overflow_head, NIL);
        self.overflow_min = None;
        while cur != NIL {
            let next = self.slab.get(cur).next;
            self.place(cur);
            cur = next;
        }
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
