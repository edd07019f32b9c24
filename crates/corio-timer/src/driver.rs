//! [`Timers`] and [`TimerHandle`]: the thread-safe sharing of one
//! [`TimerQueue`] between the driver that fires it and the futures (on any
//! thread) that register in it.
//!
//! Locking rule: wakers are never woken or dropped while the queue's lock is
//! held, because waking or dropping a waker can run arbitrary code that may
//! come back here (poll a `Sleep`, drop a task holding one) and deadlock.

use std::fmt;
use std::mem;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use parking_lot::Mutex;

use crate::clock::Clock;
use crate::futures::Sleep;
use crate::instant::Instant;
use crate::wheel::{TimerKey, TimerQueue};

/// The hook a driver installs to be woken when a new, earlier deadline appears.
type Unpark = Arc<dyn Fn() + Send + Sync>;

/// Everything the driver and the handles share.
struct Shared {
    state: Mutex<State>,
    clock: Clock,
    /// The queue's current time (the latest `now` fired), readable without
    /// the lock so a `Sleep` whose deadline has passed completes without
    /// locking. It never runs ahead of the clock because the driver only
    /// fires times it read from the clock.
    fired_now: AtomicU64,
}

struct State {
    queue: TimerQueue,
    /// The deadline the driver last learned from `next_deadline` (or one an
    /// insert has since announced through `unpark`); an insert earlier than
    /// this is one the driver may be sleeping past.
    announced: Instant,
    unpark: Option<Unpark>,
}

/// The driver side of the timers: owns the shared queue and fires it.
///
/// A driver loop calls [`fire`](Self::fire) with the clock's time each time
/// around, then sleeps until [`next_deadline`](Self::next_deadline) (or until
/// its unpark hook is called). Futures reach the queue through a
/// [`TimerHandle`].
pub struct Timers {
    shared: Arc<Shared>,
    /// The wakers of one `fire`, kept to reuse the allocation.
    scratch: Mutex<Vec<Waker>>,
}

/// A cheap, cloneable, `Send + Sync` handle to a [`Timers`], from which
/// [`Sleep`], [`Timeout`](crate::Timeout) and [`Interval`](crate::Interval)
/// are made.
#[derive(Clone)]
pub struct TimerHandle {
    shared: Arc<Shared>,
}

impl Timers {
    /// Timers driven by `clock`; the queue's origin is the clock's current time.
    pub fn new(clock: Clock) -> Timers {
        let now = clock.now();
        Timers {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    queue: TimerQueue::new(now),
                    announced: Instant::MAX,
                    unpark: None,
                }),
                clock,
                fired_now: AtomicU64::new(now.as_nanos()),
            }),
            scratch: Mutex::new(Vec::new()),
        }
    }

    /// A handle for creating timer futures.
    pub fn handle(&self) -> TimerHandle {
        TimerHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The clock these timers follow.
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// Fires every timer with deadline `<= now`: collects their wakers under
    /// the lock and wakes them after releasing it, in deadline order (FIFO
    /// among equal deadlines). Returns how many fired. Reads no clock itself:
    /// pass the clock's current time.
    pub fn fire(&self, now: Instant) -> usize {
        let mut wakers = mem::take(&mut *self.scratch.lock());
        let count = {
            let mut state = self.shared.state.lock();
            let count = state.queue.fire(now, &mut wakers);
            // Under the lock, so `fired_now` never disagrees with the queue
            // in the direction that matters: anything it says elapsed has.
            self.shared
                .fired_now
                .store(state.queue.now().as_nanos(), Ordering::Release);
            count
        };
        for waker in wakers.drain(..) {
            waker.wake();
        }
        // Put the (empty) buffer back for the next call; if another thread
        // fired concurrently and stored its own, keep the bigger one.
        let mut scratch = self.scratch.lock();
        if wakers.capacity() > scratch.capacity() {
            *scratch = wakers;
        }
        count
    }

    /// An instant no later than the earliest pending deadline, or `None` if
    /// no timer is pending; see [`TimerQueue::next_deadline`]. The driver
    /// should sleep at most until then. Inserts with an earlier deadline
    /// made after this call trigger the unpark hook.
    pub fn next_deadline(&self) -> Option<Instant> {
        let mut state = self.shared.state.lock();
        let next = state.queue.next_deadline();
        state.announced = next.unwrap_or(Instant::MAX);
        next
    }

    /// Whether no timer is pending.
    pub fn is_empty(&self) -> bool {
        self.shared.state.lock().queue.is_empty()
    }

    /// Number of pending timers.
    pub fn len(&self) -> usize {
        self.shared.state.lock().queue.len()
    }

    /// Installs the hook called (outside the lock) whenever an insert or
    /// reschedule makes a deadline earlier than the one
    /// [`next_deadline`](Self::next_deadline) last reported, so a driver
    /// parked with a longer timeout can be woken. It may be called from any
    /// thread, including the driver's own.
    pub fn set_unpark(&self, f: Arc<dyn Fn() + Send + Sync>) {
        self.shared.state.lock().unpark = Some(f);
    }
}

impl fmt::Debug for Timers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timers")
            .field("clock", &self.shared.clock)
            .field("queue", &self.shared.state.lock().queue)
            .finish()
    }
}

impl TimerHandle {
    /// The clock the timers follow.
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// The clock's current time.
    pub fn now(&self) -> Instant {
        self.shared.clock.now()
    }

    /// A [`Sleep`] that completes `d` after the clock's current time.
    pub fn sleep(&self, d: Duration) -> Sleep {
        Sleep::new(self, self.now() + d)
    }

    /// A [`Sleep`] that completes at `deadline`.
    pub fn sleep_until(&self, deadline: Instant) -> Sleep {
        Sleep::new(self, deadline)
    }

    /// Whether `deadline` is known to have passed without taking the lock:
    /// the cheap check a `Sleep` does before registering.
    pub(crate) fn has_fired_past(&self, deadline: Instant) -> bool {
        deadline.as_nanos() <= self.shared.fired_now.load(Ordering::Acquire)
    }

    /// Arms a bare timer: `waker` is woken when `deadline` fires, in
    /// deadline order with every other timer (FIFO among equal deadlines),
    /// without a future around it. For drivers that keep many callbacks
    /// (an event loop's `call_later`). Returns `None`, arming nothing, if
    /// the queue's time is already at or past `deadline`: the caller orders
    /// such overdue timers itself. Disarm with
    /// [`disarm_waker`](Self::disarm_waker).
    ///
    /// ```
    /// use std::task::Waker;
    /// use corio_timer::{Clock, Instant, Timers};
    ///
    /// let timers = Timers::new(Clock::manual());
    /// let handle = timers.handle();
    /// let key = handle.arm_waker(Instant::from_nanos(1_000), Waker::noop()).unwrap();
    /// assert_eq!(timers.len(), 1);
    /// handle.disarm_waker(key);
    /// assert!(timers.is_empty());
    /// ```
    pub fn arm_waker(&self, deadline: Instant, waker: &Waker) -> Option<TimerKey> {
        self.register(deadline, waker)
    }

    /// Disarms a timer armed by [`arm_waker`](Self::arm_waker), dropping its
    /// waker (outside the lock). A no-op if it already fired.
    pub fn disarm_waker(&self, key: TimerKey) {
        self.cancel(key);
    }

    /// Registers a timer, or returns `None` if the queue's time is already at
    /// or past `deadline` (then there is nothing to wait for).
    pub(crate) fn register(&self, deadline: Instant, waker: &Waker) -> Option<TimerKey> {
        let (key, unpark) = {
            let mut state = self.shared.state.lock();
            if deadline <= state.queue.now() {
                return None;
            }
            let key = state.queue.insert(deadline, waker.clone());
            (key, announce(&mut state, deadline))
        };
        if let Some(unpark) = unpark {
            unpark();
        }
        Some(key)
    }

    /// For a registered timer: `true` if it has fired; otherwise stores
    /// `waker` as the one to wake and returns `false`.
    pub(crate) fn poll_registered(&self, key: TimerKey, waker: &Waker) -> bool {
        let old = {
            let mut state = self.shared.state.lock();
            if !state.queue.is_pending(key) {
                return true;
            }
            state.queue.replace_waker(key, waker)
        };
        drop(old);
        false
    }

    /// Moves a registered timer to `deadline`, keeping its waker. Returns
    /// `false` if it had already fired.
    pub(crate) fn reschedule(&self, key: TimerKey, deadline: Instant) -> bool {
        let unpark = {
            let mut state = self.shared.state.lock();
            if !state.queue.reschedule(key, deadline) {
                return false;
            }
            announce(&mut state, deadline)
        };
        if let Some(unpark) = unpark {
            unpark();
        }
        true
    }

    /// Cancels a registered timer (a no-op if it already fired).
    pub(crate) fn cancel(&self, key: TimerKey) {
        let waker = self.shared.state.lock().queue.remove(key);
        drop(waker);
    }
}

/// Called under the lock after `deadline` entered the queue: if the driver
/// may be sleeping past it, records it as announced and returns the hook to
/// call once the lock is released.
fn announce(state: &mut State, deadline: Instant) -> Option<Unpark> {
    if deadline >= state.announced {
        return None;
    }
    state.announced = deadline;
    state.unpark.clone()
}

impl fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerHandle")
            .field("clock", &self.shared.clock)
            .finish_non_exhaustive()
    }
}
