//! asyncio's queues: [`Queue`] (FIFO), [`LifoQueue`] and [`PriorityQueue`],
//! one core ([`Core`]) generic over where the items are kept ([`Storage`]).
//!
//! # How it works
//!
//! One mutex guards the items, the counters and three [`WaitList`]s
//! (getters, putters, joiners), so every operation is one critical section;
//! wakers are woken after it is released, and only when someone waits.
//!
//! - **Getters get tickets, not items.** A put that finds getters waiting
//!   stores its item as usual and hands the first waiting getter a *ticket*
//!   (`reserved += 1`): a promise of one item, redeemed (the storage's next
//!   item taken) when that getter runs. Items promised that way are not
//!   available to anyone else, so a `get_nowait` or a new `get` does not
//!   overtake getters that were already waiting. A getter dropped holding a
//!   ticket passes it to the next waiting getter (or un-reserves the item):
//!   the item itself never left the storage, so nothing is lost and the
//!   order of the items is untouched, whatever the kind of queue.
//! - **Putters are served by the getters.** A put that finds the queue full
//!   queues with its item; the get that frees room moves the first waiting
//!   putter's item into the storage on its behalf and wakes it with the put
//!   already done. So a putter that wakes never finds the room taken, and
//!   one dropped after that (its item is in the queue) has nothing to hand
//!   back.
//! - **Joiners** wait for `unfinished` (items put and not yet marked done)
//!   to reach zero and are all woken then.
//!
//! Invariants (under the mutex): putters wait only while the storage holds
//! `maxsize` items; getters wait only while every stored item is reserved;
//! `reserved` ≤ stored items, except after an immediate shutdown, which
//! empties the storage for good and sets `reserved` to zero.

use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::loom::Mutex;
use crate::waiters::{self, Removed, WaitList, WaiterKey};

mod error;
mod kinds;
mod storage;

pub use error::{QueueShutDown, TaskDoneError, TryGetError, TryPutError};
pub use kinds::{LifoQueue, PriorityQueue, Queue};
use storage::Storage;

/// Up to two wakers collected under the lock, woken after it is released.
#[derive(Default)]
struct Wakeups(Option<Waker>, Option<Waker>);

impl Wakeups {
    #[inline]
    fn wake(self) {
        if let Some(waker) = self.0 {
            waker.wake();
        }
        if let Some(waker) = self.1 {
            waker.wake();
        }
    }
}

/// Everything behind the queue's mutex.
struct State<S: Storage> {
    items: S,
    /// Stored items promised to getters that were woken and have not run yet.
    reserved: usize,
    /// Items put and not yet marked done (`task_done`).
    unfinished: usize,
    shut_down: bool,
    /// Waiting: `false`. Notified: `true` for a ticket (an item is reserved
    /// for it), `false` when the queue was shut down under it.
    getters: WaitList<bool>,
    /// Waiting: `Some(item)`. Notified: `None` once the item was inserted on
    /// its behalf, `Some(item)` (the item back) when the queue was shut down.
    putters: WaitList<Option<S::Item>>,
    joiners: WaitList<()>,
}

impl<S: Storage> State<S> {
    /// Stores an item that was put, handing a ticket to the first waiting getter.
    #[inline]
    fn insert(&mut self, item: S::Item) -> Option<Waker> {
        self.items.push(item);
        self.unfinished += 1;
        if self.getters.is_empty() {
            return None;
        }
        self.reserved += 1;
        self.getters.notify_front_with(|_| true)
    }

    /// Takes the next item (the caller checked there is one for it) and
    /// lets the first waiting putter fill the room it leaves.
    #[inline]
    fn take(&mut self, wakeups: &mut Wakeups) -> Option<S::Item> {
        let item = self.items.pop()?;
        if !self.putters.is_empty() {
            let mut moved = None;
            wakeups.0 = self.putters.notify_front_with(|slot| {
                moved = slot;
                None
            });
            if let Some(moved) = moved {
                wakeups.1 = self.insert(moved);
            }
        }
        Some(item)
    }

    /// Whether an item is there that is not promised to a woken getter.
    #[inline]
    fn available(&self) -> bool {
        self.items.len() > self.reserved
    }
}

/// The shared queue: state behind one mutex, plus the fixed capacity.
pub(crate) struct Core<S: Storage> {
    state: Mutex<State<S>>,
    maxsize: usize,
    /// `maxsize`, or `usize::MAX` when unbounded.
    capacity: usize,
}

impl<S: Storage> Core<S> {
    pub(crate) fn new(maxsize: usize) -> Self {
        Core {
            state: Mutex::new(State {
                items: S::default(),
                reserved: 0,
                unfinished: 0,
                shut_down: false,
                getters: WaitList::new(),
                putters: WaitList::new(),
                joiners: WaitList::new(),
            }),
            maxsize,
            capacity: if maxsize == 0 { usize::MAX } else { maxsize },
        }
    }

    pub(crate) fn maxsize(&self) -> usize {
        self.maxsize
    }

    pub(crate) fn qsize(&self) -> usize {
        self.state.lock().items.len()
    }

    pub(crate) fn is_full(&self) -> bool {
        self.maxsize != 0 && self.qsize() >= self.maxsize
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.state.lock().shut_down
    }

    pub(crate) fn put_nowait(&self, item: S::Item) -> Result<(), TryPutError<S::Item>> {
        let mut state = self.state.lock();
        if state.shut_down {
            return Err(TryPutError::ShutDown(item));
        }
        // Putters wait only while full, so "not full" also means nobody to overtake.
        if state.items.len() >= self.capacity {
            return Err(TryPutError::Full(item));
        }
        let waker = state.insert(item);
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    pub(crate) fn get_nowait(&self) -> Result<S::Item, TryGetError> {
        let mut state = self.state.lock();
        if !state.available() {
            return Err(if state.shut_down {
                TryGetError::ShutDown
            } else {
                TryGetError::Empty
            });
        }
        let mut wakeups = Wakeups::default();
        let item = state.take(&mut wakeups);
        drop(state);
        wakeups.wake();
        Ok(item.expect("an available item"))
    }

    pub(crate) fn put(&self, item: S::Item) -> Put<'_, S> {
        Put {
            core: self,
            stage: Stage::Start(item),
        }
    }

    pub(crate) fn get(&self) -> Get<'_, S> {
        Get {
            core: self,
            stage: Stage::Start(()),
        }
    }

    pub(crate) fn join(&self) -> Join<'_, S> {
        Join {
            core: self,
            stage: Stage::Start(()),
        }
    }

    pub(crate) fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut state = self.state.lock();
        if state.unfinished == 0 {
            return Err(TaskDoneError);
        }
        state.unfinished -= 1;
        if state.unfinished != 0 || state.joiners.is_empty() {
            return Ok(());
        }
        let mut wakers = Vec::with_capacity(state.joiners.len());
        state.joiners.notify_all(&mut wakers);
        drop(state);
        wakers.into_iter().for_each(Waker::wake);
        Ok(())
    }

    pub(crate) fn shutdown(&self, immediate: bool) {
        let mut wakers = Vec::new();
        let mut state = self.state.lock();
        state.shut_down = true;
        let drained = if immediate {
            // asyncio 3.13 calls task_done() for each item it throws away.
            let drained = mem::take(&mut state.items);
            state.unfinished = state.unfinished.saturating_sub(drained.len());
            // Tickets held by woken getters are void: they find the storage empty.
            state.reserved = 0;
            if state.unfinished == 0 {
                state.joiners.notify_all(&mut wakers);
            }
            Some(drained)
        } else {
            None
        };
        // Waiting getters fail (nothing unreserved is left for them and
        // nothing more comes); waiting putters get their item back.
        state.getters.notify_all(&mut wakers);
        state.putters.notify_all(&mut wakers);
        drop(state);
        wakers.into_iter().for_each(Waker::wake);
        // Items are dropped outside the lock: their Drop may use the queue.
        drop(drained);
    }
}

/// Where a waiter future stands.
enum Stage<T> {
    /// Not polled yet (a put holds its item here).
    Start(T),
    /// Queued in a wait list.
    Waiting(WaiterKey),
    /// Completed.
    Done,
}

const POLLED_AFTER_DONE: &str = "corio-sync: queue future polled after completion";

/// The future of `put(item)`.
pub(crate) struct Put<'a, S: Storage> {
    core: &'a Core<S>,
    stage: Stage<S::Item>,
}

// No self-references: the waiter is found by key, so the future can move.
impl<S: Storage> Unpin for Put<'_, S> {}

impl<S: Storage> Future for Put<'_, S> {
    type Output = Result<(), QueueShutDown<S::Item>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut state = this.core.state.lock();
        let result = match mem::replace(&mut this.stage, Stage::Done) {
            Stage::Start(item) => {
                if state.shut_down {
                    Err(QueueShutDown(item))
                } else if state.items.len() < this.core.capacity {
                    let waker = state.insert(item);
                    drop(state);
                    if let Some(waker) = waker {
                        waker.wake();
                    }
                    return Poll::Ready(Ok(()));
                } else {
                    this.stage = Stage::Waiting(state.putters.push_back(Some(item), cx.waker()));
                    return Poll::Pending;
                }
            }
            Stage::Waiting(key) => match state.putters.poll(key, cx.waker()) {
                waiters::Poll::Waiting => {
                    this.stage = Stage::Waiting(key);
                    return Poll::Pending;
                }
                waiters::Poll::Notified(None) => Ok(()),
                waiters::Poll::Notified(Some(item)) => Err(QueueShutDown(item)),
            },
            Stage::Done => panic!("{POLLED_AFTER_DONE}"),
        };
        Poll::Ready(result)
    }
}

impl<S: Storage> Drop for Put<'_, S> {
    fn drop(&mut self) {
        if let Stage::Waiting(key) = self.stage {
            // Still queued: the item goes with the future. Notified: the put
            // was done on its behalf (nothing to hand back) or failed.
            let removed = self.core.state.lock().putters.remove(key);
            // The item (if any) is dropped here, outside the lock.
            drop(removed);
        }
    }
}

/// The future of `get()`.
pub(crate) struct Get<'a, S: Storage> {
    core: &'a Core<S>,
    stage: Stage<()>,
}

impl<S: Storage> Unpin for Get<'_, S> {}

impl<S: Storage> Future for Get<'_, S> {
    type Output = Result<S::Item, QueueShutDown>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut state = this.core.state.lock();
        let mut wakeups = Wakeups::default();
        let item = match mem::replace(&mut this.stage, Stage::Done) {
            Stage::Start(()) => {
                if state.available() {
                    state.take(&mut wakeups)
                } else if state.shut_down {
                    None
                } else {
                    this.stage = Stage::Waiting(state.getters.push_back(false, cx.waker()));
                    return Poll::Pending;
                }
            }
            Stage::Waiting(key) => match state.getters.poll(key, cx.waker()) {
                waiters::Poll::Waiting => {
                    this.stage = Stage::Waiting(key);
                    return Poll::Pending;
                }
                // Redeem the ticket. The storage is empty only if an
                // immediate shutdown threw the reserved items away.
                waiters::Poll::Notified(true) => {
                    let item = state.take(&mut wakeups);
                    if item.is_some() {
                        state.reserved -= 1;
                    }
                    item
                }
                waiters::Poll::Notified(false) => None,
            },
            Stage::Done => panic!("{POLLED_AFTER_DONE}"),
        };
        drop(state);
        wakeups.wake();
        Poll::Ready(item.ok_or(QueueShutDown(())))
    }
}

impl<S: Storage> Drop for Get<'_, S> {
    fn drop(&mut self) {
        let Stage::Waiting(key) = self.stage else {
            return;
        };
        let mut state = self.core.state.lock();
        // A ticket never redeemed passes to the next waiting getter, or its
        // item becomes available again. (`reserved` is zero only after an
        // immediate shutdown voided every ticket.)
        if let Some(Removed::Notified(true)) = state.getters.remove(key) {
            if state.reserved > 0 {
                let waker = state.getters.notify_front_with(|_| true);
                if waker.is_none() {
                    state.reserved -= 1;
                }
                drop(state);
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
        }
    }
}

/// The future of `join()`.
pub(crate) struct Join<'a, S: Storage> {
    core: &'a Core<S>,
    stage: Stage<()>,
}

impl<S: Storage> Unpin for Join<'_, S> {}

impl<S: Storage> Future for Join<'_, S> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut state = this.core.state.lock();
        match mem::replace(&mut this.stage, Stage::Done) {
            Stage::Start(()) if state.unfinished == 0 => Poll::Ready(()),
            Stage::Start(()) => {
                this.stage = Stage::Waiting(state.joiners.push_back((), cx.waker()));
                Poll::Pending
            }
            Stage::Waiting(key) => match state.joiners.poll(key, cx.waker()) {
                waiters::Poll::Waiting => {
                    this.stage = Stage::Waiting(key);
                    Poll::Pending
                }
                waiters::Poll::Notified(()) => Poll::Ready(()),
            },
            Stage::Done => panic!("{POLLED_AFTER_DONE}"),
        }
    }
}

impl<S: Storage> Drop for Join<'_, S> {
    fn drop(&mut self) {
        if let Stage::Waiting(key) = self.stage {
            // Every joiner is woken at once: nothing to pass on.
            self.core.state.lock().joiners.remove(key);
        }
    }
}
