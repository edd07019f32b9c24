//! The FIFO waiter list every primitive of this crate queues its waiters in.
//!
//! A plain data structure: each primitive keeps one inside its own mutex,
//! together with the state it guards, so "check the state, else enqueue" is
//! one critical section. Entries live in a slab (`Vec` + free list) linked
//! in FIFO order by `u32` indices, so push, notify-front and remove are O(1)
//! and churn does not grow it.
//!
//! A waiter goes through two states. **Waiting**: linked in the FIFO, with
//! its waker. **Notified**: unlinked by the primitive, which handed it
//! something (a lock, permits, an item) stored in `T`; the slot stays until
//! the waiter's future polls (and takes the grant) or is dropped (and hands
//! the grant back so the primitive can pass it on). That split is what makes
//! every primitive cancel-safe: a future dropped while waiting leaves no
//! trace; one dropped after being notified gives back what it was given.
//!
//! Keys carry a generation, so a stale key (a future polled after its slot
//! was reused) is detected instead of touching someone else's entry.
//! Wakers are returned to the caller, to be woken after its mutex is
//! released.

use std::task::Waker;

const NONE: u32 = u32::MAX;

/// Identifies one waiter in a [`WaitList`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WaiterKey {
    index: u32,
    generation: u32,
}

/// What a waiter's slot holds.
#[derive(Debug)]
enum Slot<T> {
    Vacant { next_free: u32 },
    Waiting { waker: Waker, data: T },
    Notified { data: T },
}

#[derive(Debug)]
struct Entry<T> {
    generation: u32,
    prev: u32,
    next: u32,
    slot: Slot<T>,
}

/// Where a waiter stands when its future polls.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Poll<T> {
    /// Still queued (its waker was updated).
    Waiting,
    /// Handed `T` by the primitive; the slot is now free.
    Notified(T),
}

/// What a removed waiter left behind.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Removed<T> {
    /// It was still queued: nothing to pass on (`T` is its request).
    Waiting(T),
    /// It had been handed `T` and never took it: pass it on.
    Notified(T),
}

/// A FIFO of waiters with O(1) push, notify and removal.
#[derive(Debug)]
pub(crate) struct WaitList<T> {
    entries: Vec<Entry<T>>,
    head: u32,
    tail: u32,
    free: u32,
    /// Waiters linked in the FIFO (not counting notified ones).
    waiting: usize,
    /// Waiters notified that have not yet taken (or handed back) their grant.
    notified: usize,
}

impl<T> Default for WaitList<T> {
    fn default() -> Self {
        WaitList::new()
    }
}

impl<T> WaitList<T> {
    pub(crate) const fn new() -> WaitList<T> {
        WaitList {
            entries: Vec::new(),
            head: NONE,
            tail: NONE,
            free: NONE,
            waiting: 0,
            notified: 0,
        }
    }

    /// How many waiters are queued (notified ones excluded).
    pub(crate) fn len(&self) -> usize {
        self.waiting
    }

    /// Whether no waiter is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.waiting == 0
    }

    /// Whether the list holds no waiter at all: none queued and none
    /// notified that has yet to take its grant. (asyncio keeps a woken
    /// waiter's future in `_waiters` until its task runs; a semaphore counts
    /// it as a waiter until then.)
    pub(crate) fn is_clear(&self) -> bool {
        self.waiting == 0 && self.notified == 0
    }

    /// Queues a waiter at the back with its request `data`.
    pub(crate) fn push_back(&mut self, data: T, waker: &Waker) -> WaiterKey {
        let slot = Slot::Waiting {
            waker: waker.clone(),
            data,
        };
        let index = if self.free != NONE {
            let index = self.free;
            let entry = &mut self.entries[index as usize];
            let Slot::Vacant { next_free } = entry.slot else {
                unreachable!("free list holds vacant slots")
            };
            self.free = next_free;
            entry.slot = slot;
            index
        } else {
            assert!(self.entries.len() < NONE as usize, "too many waiters");
            self.entries.push(Entry {
                generation: 0,
                prev: NONE,
                next: NONE,
                slot,
            });
            (self.entries.len() - 1) as u32
        };
        self.link_back(index);
        self.waiting += 1;
        WaiterKey {
            index,
            generation: self.entries[index as usize].generation,
        }
    }

    /// The request of the first queued waiter.
    pub(crate) fn front(&self) -> Option<&T> {
        if self.head == NONE {
            return None;
        }
        match &self.entries[self.head as usize].slot {
            Slot::Waiting { data, .. } => Some(data),
            _ => unreachable!("only waiting entries are linked"),
        }
    }

    /// Unlinks the first queued waiter and hands it `grant` (computed from
    /// its request). Returns its waker, to wake once the caller's lock is released.
    pub(crate) fn notify_front_with(&mut self, grant: impl FnOnce(T) -> T) -> Option<Waker> {
        if self.head == NONE {
            return None;
        }
        let index = self.head;
        self.unlink(index);
        self.waiting -= 1;
        let entry = &mut self.entries[index as usize];
        let Slot::Waiting { waker, data } =
            std::mem::replace(&mut entry.slot, Slot::Vacant { next_free: NONE })
        else {
            unreachable!("only waiting entries are linked")
        };
        entry.slot = Slot::Notified { data: grant(data) };
        self.notified += 1;
        Some(waker)
    }

    /// Unlinks the first queued waiter, leaving its data as the grant.
    pub(crate) fn notify_front(&mut self) -> Option<Waker> {
        self.notify_front_with(|data| data)
    }

    /// Notifies every queued waiter, in FIFO order, pushing their wakers to `out`.
    pub(crate) fn notify_all(&mut self, out: &mut Vec<Waker>) {
        while let Some(waker) = self.notify_front() {
            out.push(waker);
        }
    }

    /// Called from the waiter's poll: a notified waiter takes its grant (and
    /// its slot is freed); a queued one stores its newest waker.
    ///
    /// # Panics
    ///
    /// If `key` is stale (the waiter's slot was already freed).
    pub(crate) fn poll(&mut self, key: WaiterKey, waker: &Waker) -> Poll<T> {
        let entry = self.entry_mut(key);
        match &mut entry.slot {
            Slot::Waiting { waker: stored, .. } => {
                if !stored.will_wake(waker) {
                    *stored = waker.clone();
                }
                Poll::Waiting
            }
            Slot::Notified { .. } => match self.release(key.index) {
                Slot::Notified { data } => {
                    self.notified -= 1;
                    Poll::Notified(data)
                }
                _ => unreachable!(),
            },
            Slot::Vacant { .. } => unreachable!("entry_mut checks the generation"),
        }
    }

    /// Removes a waiter whose future is dropped. `None` for a stale key.
    pub(crate) fn remove(&mut self, key: WaiterKey) -> Option<Removed<T>> {
        let entry = self.entries.get(key.index as usize)?;
        if entry.generation != key.generation || matches!(entry.slot, Slot::Vacant { .. }) {
            return None;
        }
        if matches!(entry.slot, Slot::Waiting { .. }) {
            self.unlink(key.index);
            self.waiting -= 1;
        }
        Some(match self.release(key.index) {
            Slot::Waiting { data, .. } => Removed::Waiting(data),
            Slot::Notified { data } => {
                self.notified -= 1;
                Removed::Notified(data)
            }
            Slot::Vacant { .. } => unreachable!(),
        })
    }

    /// Whether `key` names a waiter that was notified and has not taken its grant.
    #[cfg(test)]
    pub(crate) fn is_notified(&self, key: WaiterKey) -> bool {
        self.entries.get(key.index as usize).is_some_and(|e| {
            e.generation == key.generation && matches!(e.slot, Slot::Notified { .. })
        })
    }

    /// Visits the queued waiters' requests in FIFO order.
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        let mut index = self.head;
        std::iter::from_fn(move || {
            if index == NONE {
                return None;
            }
            let entry = &self.entries[index as usize];
            index = entry.next;
            match &entry.slot {
                Slot::Waiting { data, .. } => Some(data),
                _ => unreachable!("only waiting entries are linked"),
            }
        })
    }

    fn entry_mut(&mut self, key: WaiterKey) -> &mut Entry<T> {
        let entry = &mut self.entries[key.index as usize];
        assert!(
            entry.generation == key.generation && !matches!(entry.slot, Slot::Vacant { .. }),
            "corio-sync: a waiter polled after its slot was released (polled after completion?)"
        );
        entry
    }

    /// Frees a slot (already unlinked) and returns what it held.
    fn release(&mut self, index: u32) -> Slot<T> {
        let entry = &mut self.entries[index as usize];
        entry.generation = entry.generation.wrapping_add(1);
        let slot = std::mem::replace(
            &mut entry.slot,
            Slot::Vacant {
                next_free: self.free,
            },
        );
        self.free = index;
        slot
    }

    fn link_back(&mut self, index: u32) {
        let tail = self.tail;
        {
            let entry = &mut self.entries[index as usize];
            entry.prev = tail;
            entry.next = NONE;
        }
        if tail == NONE {
            self.head = index;
        } else {
            self.entries[tail as usize].next = index;
        }
        self.tail = index;
    }

    fn unlink(&mut self, index: u32) {
        let (prev, next) = {
            let entry = &self.entries[index as usize];
            (entry.prev, entry.next)
        };
        if prev == NONE {
            self.head = next;
        } else {
            self.entries[prev as usize].next = next;
        }
        if next == NONE {
            self.tail = prev;
        } else {
            self.entries[next as usize].prev = prev;
        }
        let entry = &mut self.entries[index as usize];
        entry.prev = NONE;
        entry.next = NONE;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::Wake;

    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    fn waker() -> Waker {
        Waker::from(Arc::new(Noop))
    }

    #[test]
    fn fifo_notify_and_cancel_safe_removal() {
        let w = waker();
        let mut list = WaitList::new();
        let a = list.push_back(1, &w);
        let b = list.push_back(2, &w);
        let c = list.push_back(3, &w);
        assert_eq!(list.iter().copied().collect::<Vec<_>>(), [1, 2, 3]);
        // Dropped while waiting: no trace.
        assert_eq!(list.remove(b), Some(Removed::Waiting(2)));
        assert_eq!(list.iter().copied().collect::<Vec<_>>(), [1, 3]);
        // Notified in order, grant computed from the request.
        assert!(list.notify_front_with(|r| r * 10).is_some());
        assert!(list.is_notified(a));
        assert_eq!(list.len(), 1);
        assert_eq!(list.poll(a, &w), Poll::Notified(10));
        // Notified then dropped: the grant comes back.
        list.notify_front();
        assert!(list.is_empty());
        assert!(!list.is_clear(), "a notified waiter still counts");
        assert_eq!(list.remove(c), Some(Removed::Notified(3)));
        assert!(list.is_empty());
        assert!(list.is_clear());
        // Stale keys are harmless.
        assert_eq!(list.remove(a), None);
        assert_eq!(list.remove(c), None);
        // Slots are reused: churn does not grow the slab.
        for i in 0..100 {
            let k = list.push_back(i, &w);
            assert_eq!(list.remove(k), Some(Removed::Waiting(i)));
        }
        assert!(list.entries.len() <= 3);
    }
}
