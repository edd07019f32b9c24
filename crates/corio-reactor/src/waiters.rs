//! The waiters of one readiness direction of a [`Source`](crate::Source), and the
//! guard a waiter future holds ([`Waiter`]).
//!
//! Two kinds of waiter park on a direction:
//!
//! * **poll-API callers** (`poll_readable`, `poll_read_with`, the `AsyncRead` and
//!   `AsyncWrite` impls) carry no identity across calls, so they share one slot:
//!   each poll replaces the stored waker, and only the latest poller is woken
//!   (tokio's `poll_read_ready`, async-io's `poll_readable`). That is the hot path:
//!   one reader and one writer per socket, no allocation, no bookkeeping on drop.
//! * **waiter futures** (`readable()`, `writable()`, `read_with`, `write_with`) hold a
//!   [`WaiterKey`] into a slab of entries: any number of them may wait at once, a
//!   re-poll with a new waker replaces its own entry, and the future removes its entry
//!   in its `Drop`, so a cancelled waiter leaves nothing behind (corio-sync's
//!   `WaitList` is the model).
//!
//! An event takes every waker out and clears the slab in one go; the slab's *epoch*
//! then moves on, which turns every key handed out before into a stale key: its
//! holder was woken and, if it must wait again, gets a new entry. Keys never name an
//! entry of a later epoch, so a stale key can neither update nor remove someone
//! else's entry.
//!
//! Nothing here drops a [`Waker`] while the source's lock is held: dropping the last
//! clone can free a task whose future owned the very socket and re-enters the reactor
//! to deregister it. Displaced wakers are handed back to the caller instead.

use std::io;
use std::task::{Context, Poll, Waker};

use crate::source::{Direction, Source};

const NONE: u32 = u32::MAX;

/// Identifies one waiter future's entry in a [`Waiters`] slab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WaiterKey {
    index: u32,
    epoch: u64,
}

#[derive(Debug)]
enum Entry {
    Vacant { next_free: u32 },
    Waiting(Waker),
}

/// The wakers parked on one direction.
#[derive(Debug, Default)]
pub(crate) struct Waiters {
    /// The poll-API slot: the waker of the latest `poll_*` caller.
    polled: Option<Waker>,
    /// Waiter futures' entries.
    entries: Vec<Entry>,
    /// Head of the free list through vacant entries.
    free: Option<u32>,
    /// Entries in the `Waiting` state.
    waiting: usize,
    /// Moves on each time the slab is drained; keys of older epochs are stale.
    epoch: u64,
}

impl Waiters {
    /// Whether any waker is parked.
    pub(crate) fn is_empty(&self) -> bool {
        self.polled.is_none() && self.waiting == 0
    }

    /// Number of parked wakers (the poll slot counts as one).
    pub(crate) fn len(&self) -> usize {
        usize::from(self.polled.is_some()) + self.waiting
    }

    /// Stores the waker of a poll-API caller in the single slot. Returns the waker it
    /// displaced, to be dropped once the source's lock is released.
    pub(crate) fn park_polled(&mut self, waker: &Waker) -> Option<Waker> {
        match &self.polled {
            Some(stored) if stored.will_wake(waker) => None,
            _ => self.polled.replace(waker.clone()),
        }
    }

    /// Parks a waiter future: updates its own entry if `key` is current, else gives
    /// it a new entry and stores the new key. Returns a displaced waker, to be dropped
    /// once the source's lock is released.
    pub(crate) fn park_keyed(
        &mut self,
        key: &mut Option<WaiterKey>,
        waker: &Waker,
    ) -> Option<Waker> {
        if let Some(current) = key.filter(|k| k.epoch == self.epoch) {
            match &mut self.entries[current.index as usize] {
                Entry::Waiting(stored) if stored.will_wake(waker) => return None,
                Entry::Waiting(stored) => return Some(std::mem::replace(stored, waker.clone())),
                Entry::Vacant { .. } => unreachable!("a current key names a waiting entry"),
            }
        }
        let entry = Entry::Waiting(waker.clone());
        let index = match self.free {
            Some(index) => {
                let Entry::Vacant { next_free } =
                    std::mem::replace(&mut self.entries[index as usize], entry)
                else {
                    unreachable!("the free list holds vacant entries")
                };
                self.free = (next_free != NONE).then_some(next_free);
                index
            }
            None => {
                let index = u32::try_from(self.entries.len())
                    .ok()
                    .filter(|&i| i != NONE)
                    .expect("corio-reactor: too many waiters on one source");
                self.entries.push(entry);
                index
            }
        };
        self.waiting += 1;
        *key = Some(WaiterKey {
            index,
            epoch: self.epoch,
        });
        None
    }

    /// Removes a waiter future's entry, if `key` is still current. Returns its waker,
    /// to be dropped once the source's lock is released.
    pub(crate) fn remove(&mut self, key: WaiterKey) -> Option<Waker> {
        if key.epoch != self.epoch {
            return None;
        }
        let vacant = Entry::Vacant {
            next_free: self.free.unwrap_or(NONE),
        };
        let Entry::Waiting(waker) =
            std::mem::replace(&mut self.entries[key.index as usize], vacant)
        else {
            unreachable!("a current key names a waiting entry")
        };
        self.waiting -= 1;
        if self.waiting == 0 {
            // Nobody holds a current key any more: start over, without the holes.
            self.reset();
        } else {
            self.free = Some(key.index);
        }
        Some(waker)
    }

    /// Hands every parked waker to `out` and makes every key handed out so far stale.
    pub(crate) fn drain_into(&mut self, out: &mut Vec<Waker>) {
        out.extend(self.polled.take());
        if self.waiting > 0 {
            out.extend(self.entries.drain(..).filter_map(|entry| match entry {
                Entry::Waiting(waker) => Some(waker),
                Entry::Vacant { .. } => None,
            }));
            self.waiting = 0;
            self.epoch += 1;
        }
        self.reset();
    }

    /// Empties the slab (no entry is waiting); gives back a large buffer.
    fn reset(&mut self) {
        debug_assert_eq!(self.waiting, 0);
        if self.entries.capacity() > 64 {
            self.entries = Vec::new();
        } else {
            self.entries.clear();
        }
        self.free = None;
    }
}

/// A waiter future's handle on one direction of a source: its key while it is parked.
/// Dropping it removes the entry, so a cancelled waiter releases its waker at once.
pub(crate) struct Waiter<'a> {
    source: &'a Source,
    dir: Direction,
    key: Option<WaiterKey>,
}

impl<'a> Waiter<'a> {
    pub(crate) fn new(source: &'a Source, dir: Direction) -> Waiter<'a> {
        Waiter {
            source,
            dir,
            key: None,
        }
    }

    /// Readiness check, else park under this waiter's own entry.
    pub(crate) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.source.poll_ready(self.dir, cx, Some(&mut self.key))
    }

    /// The retry loop of `Source::poll_io`, parking under this waiter's own entry.
    pub(crate) fn poll_io<R>(
        &mut self,
        cx: &mut Context<'_>,
        op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.source
            .poll_io(self.dir, cx, Some(&mut self.key), op, |_| false)
    }

    /// [`poll_io`](Waiter::poll_io) for a stream read into `len` bytes: a short
    /// read clears readiness (see `Source::poll_read_stream_with`).
    pub(crate) fn poll_read_stream(
        &mut self,
        cx: &mut Context<'_>,
        len: usize,
        mut op: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_read_stream_hinted(cx, || op().map(|n| (n, n < len)))
    }

    /// [`poll_io`](Waiter::poll_io) for a stream write of `len` bytes: a partial
    /// write clears readiness (see `Source::poll_write_stream_with`).
    pub(crate) fn poll_write_stream(
        &mut self,
        cx: &mut Context<'_>,
        len: usize,
        op: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.source.poll_io(
            self.dir,
            cx,
            Some(&mut self.key),
            op,
            crate::stream_io::partial_write(len),
        )
    }

    /// [`poll_io`](Waiter::poll_io) for a hinted stream read: a read that emptied
    /// the receive queue clears readiness (see `Source::poll_read_stream_hinted`).
    pub(crate) fn poll_read_stream_hinted(
        &mut self,
        cx: &mut Context<'_>,
        op: impl FnMut() -> io::Result<(usize, bool)>,
    ) -> Poll<io::Result<usize>> {
        self.source
            .poll_io(
                self.dir,
                cx,
                Some(&mut self.key),
                op,
                crate::stream_io::stream_read_emptied,
            )
            .map(|r| r.map(|(n, _)| n))
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        // `None` for a waiter that never parked or already gave its entry up: no lock.
        if let Some(key) = self.key.take() {
            // The waker drops here, after the source's lock was released.
            drop(self.source.remove_waiter(self.dir, key));
        }
    }
}

impl std::fmt::Debug for Waiter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiter")
            .field("dir", &self.dir)
            .field("parked", &self.key.is_some())
            .finish()
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
    fn keyed_entries_are_reused_updated_and_removed() {
        let mut waiters = Waiters::default();
        let (mut a, mut b) = (None, None);
        assert!(waiters.park_keyed(&mut a, &waker()).is_none());
        assert!(waiters.park_keyed(&mut b, &waker()).is_none());
        assert_eq!(waiters.len(), 2);
        // Re-parking with a new waker replaces the entry and hands the old one back.
        assert!(waiters.park_keyed(&mut a, &waker()).is_some());
        assert_eq!(waiters.len(), 2);
        assert!(waiters.remove(a.unwrap()).is_some());
        let mut c = None;
        waiters.park_keyed(&mut c, &waker());
        assert_eq!(c.unwrap().index, a.unwrap().index, "the hole is reused");
        assert!(waiters.remove(b.unwrap()).is_some());
        assert!(waiters.remove(c.unwrap()).is_some());
        assert!(waiters.is_empty());
        assert_eq!(waiters.entries.len(), 0);
    }

    #[test]
    fn draining_makes_old_keys_stale() {
        let mut waiters = Waiters::default();
        let mut a = None;
        waiters.park_keyed(&mut a, &waker());
        waiters.park_polled(&waker());
        let mut out = Vec::new();
        waiters.drain_into(&mut out);
        assert_eq!(out.len(), 2);
        assert!(waiters.is_empty());
        // A newcomer takes index 0 of the new epoch; the stale key cannot touch it.
        let mut b = None;
        waiters.park_keyed(&mut b, &waker());
        assert_eq!(b.unwrap().index, a.unwrap().index);
        assert!(waiters.remove(a.unwrap()).is_none());
        assert_eq!(waiters.len(), 1);
        // The stale holder re-parks under a fresh key.
        assert!(waiters.park_keyed(&mut a, &waker()).is_none());
        assert_ne!(a, b);
        assert_eq!(waiters.len(), 2);
    }

    #[test]
    fn the_poll_slot_keeps_the_latest_waker_only() {
        let mut waiters = Waiters::default();
        let first = waker();
        assert!(waiters.park_polled(&first).is_none());
        assert!(
            waiters.park_polled(&first).is_none(),
            "same waker: no churn"
        );
        assert!(waiters.park_polled(&waker()).is_some());
        assert_eq!(waiters.len(), 1);
    }
}
