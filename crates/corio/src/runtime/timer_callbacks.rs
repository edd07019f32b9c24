//! `call_later`/`call_at` callbacks: armed straight in the timer wheel,
//! released into the run queue in deadline order (asyncio's `_scheduled`
//! heap).
//!
//! A timer callback is no task while it waits: it is a bare timer whose
//! waker is its [`TimerEntry`]. When the timer fires, the driver's park is
//! running, between two iterations; waking the entry creates the hidden task
//! that runs the callback, so due callbacks join the run queue after what is
//! already there, in deadline order (the wheel fires in deadline order, FIFO
//! among equal deadlines), as asyncio moves due timers to its ready queue.
//!
//! A deadline the wheel has already passed (`call_at` of a past instant)
//! cannot be armed; it waits in the `overdue` heap, which the driver
//! releases at the start of its next park, before firing the wheel: every
//! overdue deadline is earlier than any deadline still in the wheel, so the
//! merged order is deadline order.
//!
//! Ownership: the wheel holds each armed entry's waker; the entry holds the
//! user's closure and only a `Weak` to the loop. A closure that holds a
//! `LoopHandle` would make a cycle through the wheel, so cancelling takes
//! the closure out at once, and closing the loop takes out every one left
//! ([`TimerCallbacks::clear`]). Closures are dropped outside every lock: a
//! `Drop` may call back into the loop.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Wake, Waker};

use corio_executor::Builder as TaskBuilder;
use corio_timer::{Instant, TimerHandle, TimerKey};
use parking_lot::Mutex;

use super::exception_handler::run_callback;
use super::handle::LoopShared;

type Callback = Box<dyn FnOnce() + Send>;

/// The loop's pending timer callbacks.
pub(crate) struct TimerCallbacks {
    timers: TimerHandle,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Entries armed in the wheel, by sequence number: what `clear` disarms.
    armed: HashMap<u64, Arc<TimerEntry>>,
    /// Entries whose deadline the wheel had passed when they were scheduled,
    /// earliest (then oldest) first.
    overdue: BinaryHeap<Reverse<Overdue>>,
    next_seq: u64,
}

/// One overdue entry in the heap, ordered by deadline, then scheduling order.
struct Overdue {
    when: Instant,
    seq: u64,
    entry: Arc<TimerEntry>,
}

impl PartialEq for Overdue {
    fn eq(&self, other: &Self) -> bool {
        (self.when, self.seq) == (other.when, other.seq)
    }
}
impl Eq for Overdue {}
impl PartialOrd for Overdue {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Overdue {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.when, self.seq).cmp(&(other.when, other.seq))
    }
}

/// One pending callback; its own waker in the wheel.
pub(crate) struct TimerEntry {
    seq: u64,
    /// The user's closure until it is released, cancelled or cleared.
    callback: Mutex<Option<Callback>>,
    /// The wheel's key while armed.
    key: Mutex<Option<TimerKey>>,
    location: &'static Location<'static>,
    /// Shared with the `CallbackHandle`.
    cancelled: Arc<AtomicBool>,
    /// The loop, to spawn the callback's task on; weak, so a pending
    /// callback does not keep the loop alive.
    shared: Weak<LoopShared>,
}

impl TimerCallbacks {
    pub(crate) fn new(timers: TimerHandle) -> TimerCallbacks {
        TimerCallbacks {
            timers,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Schedules `f` at `when`. Returns the entry (for the handle to cancel)
    /// and whether it went to the overdue heap, which the caller must make
    /// the driver see (it releases the heap at its next park).
    pub(crate) fn schedule(
        &self,
        shared: &Arc<LoopShared>,
        when: Instant,
        f: Callback,
        location: &'static Location<'static>,
        cancelled: Arc<AtomicBool>,
    ) -> (Arc<TimerEntry>, bool) {
        let mut inner = self.inner.lock();
        let seq = inner.next_seq;
        inner.next_seq += 1;
        let entry = Arc::new(TimerEntry {
            seq,
            callback: Mutex::new(Some(f)),
            key: Mutex::new(None),
            location,
            cancelled,
            shared: Arc::downgrade(shared),
        });
        // Armed under our lock, so `clear` and `release` see the entry in
        // `armed` before its waker can run (the waker removes it, and takes
        // our lock first). The wheel's lock is taken inside ours, never the
        // other way round: the wheel wakes wakers after releasing its lock.
        let waker = Waker::from(entry.clone());
        match self.timers.arm_waker(when, &waker) {
            Some(key) => {
                *entry.key.lock() = Some(key);
                inner.armed.insert(seq, entry.clone());
                (entry, false)
            }
            None => {
                inner.overdue.push(Reverse(Overdue {
                    when,
                    seq,
                    entry: entry.clone(),
                }));
                (entry, true)
            }
        }
    }

    /// The driver, at the start of a park: releases every overdue callback
    /// into the run queue in deadline order. Returns how many.
    pub(crate) fn release_overdue(&self) -> usize {
        let overdue = {
            let mut inner = self.inner.lock();
            if inner.overdue.is_empty() {
                return 0;
            }
            std::mem::take(&mut inner.overdue).into_sorted_vec()
        };
        // `into_sorted_vec` of `Reverse` is descending: latest first.
        let mut released = 0;
        for Reverse(item) in overdue.into_iter().rev() {
            released += usize::from(item.entry.release());
        }
        released
    }

    /// Closing the loop: disarms every pending callback and drops the
    /// closures (outside the lock).
    pub(crate) fn clear(&self) {
        let (armed, overdue) = {
            let mut inner = self.inner.lock();
            (
                std::mem::take(&mut inner.armed),
                std::mem::take(&mut inner.overdue),
            )
        };
        let mut closures = Vec::new();
        for entry in armed
            .into_values()
            .chain(overdue.into_iter().map(|Reverse(item)| item.entry))
        {
            if let Some(key) = entry.key.lock().take() {
                self.timers.disarm_waker(key);
            }
            closures.extend(entry.callback.lock().take());
        }
        drop(closures);
    }

    fn forget(&self, seq: u64) {
        let entry = self.inner.lock().armed.remove(&seq);
        drop(entry);
    }
}

impl TimerEntry {
    /// Cancels the callback: it never runs, and its closure is dropped now.
    pub(crate) fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        let key = self.key.lock().take();
        let closure = self.callback.lock().take();
        if let Some(shared) = self.shared.upgrade() {
            if let Some(key) = key {
                shared.timers.disarm_waker(key);
            }
            shared.timer_callbacks.forget(self.seq);
        }
        drop(closure);
    }

    /// Whether the callback was handed to the run queue or dropped.
    pub(crate) fn is_released(&self) -> bool {
        self.callback.lock().is_none()
    }

    /// Hands the callback to the loop as a hidden task. Returns whether
    /// there was one to hand over (not cancelled, not released before).
    fn release(&self) -> bool {
        let Some(f) = self.callback.lock().take() else {
            return false;
        };
        let Some(shared) = self.shared.upgrade() else {
            drop(f);
            return false;
        };
        let reporting = shared.callback_reporting();
        let (location, cancelled) = (self.location, self.cancelled.clone());
        let body = async move {
            if !cancelled.load(Ordering::Acquire) {
                run_callback(f, location, &reporting);
            }
        };
        let builder = TaskBuilder::new().hidden(true).location(location);
        drop(shared.spawner.spawn_with(builder, body));
        true
    }
}

impl Wake for TimerEntry {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    /// The wheel fired the entry: release it and stop tracking it.
    fn wake_by_ref(self: &Arc<Self>) {
        self.key.lock().take();
        self.release();
        if let Some(shared) = self.shared.upgrade() {
            shared.timer_callbacks.forget(self.seq);
        }
    }
}
