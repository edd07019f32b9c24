//! The engine under `gather`, `try_gather`, `as_completed` and `wait`: many
//! futures polled in place, where each wake-up records *which* future woke,
//! so a poll touches only the futures that can make progress.
//!
//! Every future gets its own waker, an `Arc<IndexWaker>` that holds its index.
//! Waking it pushes the index onto a shared ready list (once: a `queued` flag
//! deduplicates) and wakes the parent task when the list goes from empty to
//! non-empty. The parent drains the list and polls just those futures, so
//! gathering N futures that each wake k times costs O(N·k) polls, not O(N²·k).
//! A waker whose future finished and that nobody else holds is recycled for
//! the next future, so futures that finish on their first poll share one.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use parking_lot::Mutex;

/// The ready list and the parent's waker, shared with every index waker.
struct Shared {
    inner: Mutex<Inner>,
}

struct Inner {
    /// Indices woken since the parent last drained the list.
    ready: Vec<usize>,
    /// `queued[i]`: `i` is in `ready` (so a second wake adds nothing).
    queued: Vec<bool>,
    /// Whoever polls the set: woken when `ready` stops being empty.
    parent: Option<Waker>,
}

/// The waker of one entry: records its index, then wakes the parent.
struct IndexWaker {
    index: AtomicUsize,
    shared: Arc<Shared>,
}

impl Wake for IndexWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let index = self.index.load(Ordering::Relaxed);
        let parent = {
            let mut inner = self.shared.inner.lock();
            if inner.queued[index] {
                return;
            }
            inner.queued[index] = true;
            let was_empty = inner.ready.is_empty();
            inner.ready.push(index);
            // A non-empty list means the parent was woken and has not drained yet.
            if was_empty {
                inner.parent.clone()
            } else {
                None
            }
        };
        // Woken outside the lock: a waker may do anything, even poll inline.
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

/// Per-entry wakers and the ready list: which entries to poll next.
pub(crate) struct ReadyList {
    shared: Arc<Shared>,
    /// Entry `i`'s waker, made the first time it is polled. The `Arc` is kept
    /// beside the `Waker` to see, when the entry ends, whether it can be reused.
    wakers: Vec<Option<(Arc<IndexWaker>, Waker)>>,
    /// Wakers of finished entries that nobody else holds.
    spare: Vec<Arc<IndexWaker>>,
    /// The indices being worked through, and how far.
    batch: Vec<usize>,
    cursor: usize,
}

impl ReadyList {
    /// `len` entries, all due for a first poll.
    pub(crate) fn new(len: usize) -> ReadyList {
        ReadyList {
            shared: Arc::new(Shared {
                inner: Mutex::new(Inner {
                    ready: Vec::new(),
                    queued: vec![false; len],
                    parent: None,
                }),
            }),
            wakers: (0..len).map(|_| None).collect(),
            spare: Vec::new(),
            batch: (0..len).collect(),
            cursor: 0,
        }
    }

    /// The next entry to look at: from the current batch, else, if `may_drain`
    /// (once per poll of the parent, so an entry that wakes itself while being
    /// polled is polled again in the parent's next poll, not in a loop), from
    /// the entries woken since. `None`: nothing to do until a wake, which will
    /// wake `parent`.
    pub(crate) fn next(&mut self, parent: &Waker, may_drain: &mut bool) -> Option<usize> {
        if let Some(&index) = self.batch.get(self.cursor) {
            self.cursor += 1;
            return Some(index);
        }
        if !*may_drain {
            return None;
        }
        *may_drain = false;
        self.batch.clear();
        self.cursor = 0;
        let mut inner = self.shared.inner.lock();
        if !inner
            .parent
            .as_ref()
            .is_some_and(|old| old.will_wake(parent))
        {
            inner.parent = Some(parent.clone());
        }
        std::mem::swap(&mut inner.ready, &mut self.batch);
        for &index in &self.batch {
            inner.queued[index] = false;
        }
        drop(inner);
        let index = *self.batch.first()?;
        self.cursor = 1;
        Some(index)
    }

    /// Entry `index`'s waker.
    pub(crate) fn waker(&mut self, index: usize) -> &Waker {
        let (_, waker) = self.wakers[index].get_or_insert_with(|| {
            let arc = match self.spare.pop() {
                Some(arc) => {
                    arc.index.store(index, Ordering::Relaxed);
                    arc
                }
                None => Arc::new(IndexWaker {
                    index: AtomicUsize::new(index),
                    shared: self.shared.clone(),
                }),
            };
            let waker = Waker::from(arc.clone());
            (arc, waker)
        });
        waker
    }

    /// Entry `index` is finished: its waker may serve another entry.
    pub(crate) fn release(&mut self, index: usize) {
        if let Some((arc, waker)) = self.wakers[index].take() {
            drop(waker);
            // Only ours: no stale clone can ever wake the old index.
            if Arc::strong_count(&arc) == 1 {
                self.spare.push(arc);
            }
        }
    }
}

/// One input future of a [`Concurrent`] set, and then its output.
pub(crate) enum Slot<F: Future> {
    /// Still running (boxed: the set moves, the future must not).
    Pending(Pin<Box<F>>),
    /// Finished; the output waits to be taken.
    Done(F::Output),
    /// The output was taken.
    Taken,
}

/// Futures polled concurrently in place; [`poll_next`](Self::poll_next)
/// reports each one as it finishes.
pub(crate) struct Concurrent<F: Future> {
    slots: Vec<Slot<F>>,
    ready: ReadyList,
    remaining: usize,
}

impl<F: Future> Concurrent<F> {
    pub(crate) fn new(futures: impl IntoIterator<Item = F>) -> Concurrent<F> {
        let slots: Vec<Slot<F>> = futures
            .into_iter()
            .map(|future| Slot::Pending(Box::pin(future)))
            .collect();
        Concurrent {
            ready: ReadyList::new(slots.len()),
            remaining: slots.len(),
            slots,
        }
    }

    /// How many futures have not finished.
    pub(crate) fn remaining(&self) -> usize {
        self.remaining
    }

    /// Polls woken futures until one finishes: `Ready(Some(index))`, its
    /// output left in its slot for [`take`](Self::take); `Ready(None)` once
    /// all have finished. Pass one `may_drain = true` for all the calls of a
    /// single poll of the parent.
    pub(crate) fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
        may_drain: &mut bool,
    ) -> Poll<Option<usize>> {
        while self.remaining > 0 {
            let Some(index) = self.ready.next(cx.waker(), may_drain) else {
                return Poll::Pending;
            };
            let Slot::Pending(future) = &mut self.slots[index] else {
                continue; // a late wake of a finished future
            };
            let waker = self.ready.waker(index);
            if let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(waker)) {
                self.slots[index] = Slot::Done(output);
                self.ready.release(index);
                self.remaining -= 1;
                return Poll::Ready(Some(index));
            }
        }
        Poll::Ready(None)
    }

    /// Moves out the output of finished future `index`.
    ///
    /// # Panics
    ///
    /// If it is not finished or was taken.
    pub(crate) fn take(&mut self, index: usize) -> F::Output {
        match std::mem::replace(&mut self.slots[index], Slot::Taken) {
            Slot::Done(output) => output,
            _ => unreachable!("take() of a future that has no output"),
        }
    }

    /// Every output, in input order, once all have finished (none taken).
    pub(crate) fn into_outputs(self) -> impl Iterator<Item = F::Output> {
        self.slots.into_iter().map(|slot| match slot {
            Slot::Done(output) => output,
            _ => unreachable!("into_outputs() before every future finished"),
        })
    }

    /// Drops every future and output now.
    pub(crate) fn clear(&mut self) {
        self.slots = Vec::new();
        self.remaining = 0;
    }
}

impl<F, T, E> Concurrent<F>
where
    F: Future<Output = Result<T, E>>,
{
    /// Moves out the error of finished future `index`, if it failed; a value
    /// stays in its slot.
    pub(crate) fn take_err(&mut self, index: usize) -> Result<(), E> {
        if !matches!(self.slots[index], Slot::Done(Err(_))) {
            return Ok(());
        }
        match self.take(index) {
            Err(error) => Err(error),
            Ok(_) => unreachable!("the slot holds an Err"),
        }
    }
}
