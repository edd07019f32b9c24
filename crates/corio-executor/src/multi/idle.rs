//! Idle workers: who sleeps, who searches, and how a sleeping thread is woken.
//!
//! **No lost wake-ups.** A thread that queues work then calls
//! [`Idle::notify_one`], which wakes one sleeping worker unless some worker
//! is already searching (that one will find the work, or hand the search
//! on). A worker that found nothing leaves the searching count, registers as
//! a sleeper and *then* looks at every queue once more before it parks. Both
//! sides put a `SeqCst` fence between their write (the queued Runnable; the
//! sleeper registration) and their read (the counts; the queues), so at
//! least one of them sees the other: either the queuer wakes a sleeper, or
//! the would-be sleeper sees the work and stays up.
//!
//! **No thundering herd.** One wake per batch: while a woken worker
//! searches, further queued work wakes nobody; when the last searcher finds
//! work and more is visible, it wakes the next sleeper.
//!
//! **[`Parker`]**: each slot's sleep. A state word (`EMPTY`, `NOTIFIED`,
//! `PARKED_THREAD`, `PARKED_DRIVER`) makes a wake sent before the sleep
//! begins stick; a thread asleep in the driver is woken through the
//! driver's unpark callback, one asleep on its own through `Thread::unpark`.
//! Its sleeper resets the state with a swap, never a store (see
//! `Parker::consume`).
//!
//! Loom models of this protocol, driving the real worker loop, are in
//! `idle/loom_models/` (`cfg(all(test, loom))`, run by `cargo xtask loom`).

use std::sync::OnceLock;

use crate::loom::thread::Thread;
use crate::loom::{fence, AtomicU8, AtomicUsize, Mutex, Ordering};
use std::time::Duration;

use crate::park::Park;
use crate::raw::MultiScheduler;

/// Which workers sleep and how many search.
pub(crate) struct Idle {
    searching: AtomicUsize,
    sleeping: AtomicUsize,
    /// The slots of the sleeping workers, most recent last.
    sleepers: Mutex<Vec<usize>>,
}

impl Idle {
    pub(crate) fn new(workers: usize) -> Idle {
        Idle {
            searching: AtomicUsize::new(0),
            sleeping: AtomicUsize::new(0),
            sleepers: Mutex::new(Vec::with_capacity(workers)),
        }
    }

    /// Called after queuing work: wakes one sleeping worker unless one is
    /// already searching.
    #[inline]
    pub(crate) fn notify_one(&self, scheduler: &MultiScheduler) {
        fence(Ordering::SeqCst);
        if self.searching.load(Ordering::SeqCst) != 0 || self.sleeping.load(Ordering::SeqCst) == 0 {
            return;
        }
        self.wake_one(scheduler);
    }

    #[cold]
    fn wake_one(&self, scheduler: &MultiScheduler) {
        let slot = {
            let mut sleepers = self.sleepers.lock();
            if self.searching.load(Ordering::SeqCst) != 0 {
                return;
            }
            let Some(slot) = sleepers.pop() else { return };
            self.sleeping.fetch_sub(1, Ordering::SeqCst);
            // Counted as searching before it runs: the next queued work
            // wakes nobody else until it has looked.
            self.searching.fetch_add(1, Ordering::SeqCst);
            slot
        };
        scheduler.unpark_slot(slot);
    }

    /// A worker left the driver with work queued: wakes one sleeper (if
    /// any) whatever the searching count, so that an idle worker goes back
    /// to sleep in the driver while this one runs tasks.
    pub(crate) fn hand_off(&self, scheduler: &MultiScheduler) {
        if self.sleeping.load(Ordering::SeqCst) == 0 {
            return;
        }
        let slot = {
            let mut sleepers = self.sleepers.lock();
            let Some(slot) = sleepers.pop() else { return };
            self.sleeping.fetch_sub(1, Ordering::SeqCst);
            self.searching.fetch_add(1, Ordering::SeqCst);
            slot
        };
        scheduler.unpark_slot(slot);
    }

    /// A worker starts searching (its own queues ran dry).
    #[inline]
    pub(crate) fn start_search(&self) {
        self.searching.fetch_add(1, Ordering::SeqCst);
    }

    /// A worker stops searching; returns whether it was the last one.
    #[inline]
    pub(crate) fn end_search(&self) -> bool {
        self.searching.fetch_sub(1, Ordering::SeqCst) == 1
    }

    /// A worker that found nothing registers as a sleeper; the caller then
    /// looks at every queue once more (see the module docs) before parking.
    pub(crate) fn register_sleeper(&self, slot: usize) {
        let mut sleepers = self.sleepers.lock();
        sleepers.push(slot);
        self.sleeping.fetch_add(1, Ordering::SeqCst);
        drop(sleepers);
        fence(Ordering::SeqCst);
    }

    /// A worker is awake again (woken, spuriously, or it saw work before
    /// parking): afterwards it counts as searching either way. If
    /// `notify_one` already took it off the list, it was counted then.
    pub(crate) fn wake_up(&self, slot: usize) {
        let mut sleepers = self.sleepers.lock();
        if let Some(position) = sleepers.iter().position(|&sleeper| sleeper == slot) {
            sleepers.swap_remove(position);
            self.sleeping.fetch_sub(1, Ordering::SeqCst);
            self.searching.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// How many workers sleep (tests and debugging).
    pub(crate) fn sleeping(&self) -> usize {
        self.sleeping.load(Ordering::SeqCst)
    }
}

const EMPTY: u8 = 0;
const NOTIFIED: u8 = 1;
const PARKED_THREAD: u8 = 2;
const PARKED_DRIVER: u8 = 3;

/// How one slot's thread sleeps and is woken (see the module docs).
pub(crate) struct Parker {
    state: AtomicU8,
    thread: OnceLock<Thread>,
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker {
            state: AtomicU8::new(EMPTY),
            thread: OnceLock::new(),
        }
    }

    /// Records the thread this slot runs on (its first call wins: a slot
    /// keeps its thread for the executor's lifetime).
    pub(crate) fn set_thread(&self, thread: Thread) {
        let _ = self.thread.set(thread);
    }

    /// Wakes the slot's thread: at once if it sleeps, or makes its next
    /// sleep return at once.
    pub(crate) fn unpark(&self, unpark_driver: &dyn Fn()) {
        match self.state.swap(NOTIFIED, Ordering::SeqCst) {
            PARKED_THREAD => {
                if let Some(thread) = self.thread.get() {
                    thread.unpark();
                }
            }
            PARKED_DRIVER => unpark_driver(),
            _ => {}
        }
    }

    /// Sleeps on the thread until [`unpark`](Self::unpark) (returns at once
    /// if a wake is pending). On the slot's own thread.
    pub(crate) fn park_thread(&self) {
        if self
            .state
            .compare_exchange(EMPTY, PARKED_THREAD, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            // NOTIFIED: consume the wake (a swap: see `consume`).
            self.consume();
            return;
        }
        loop {
            crate::loom::thread::park();
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return;
            }
        }
    }

    /// Sleeps on the thread until [`unpark`](Self::unpark) or `timeout`
    /// (the watch of the LIFO slots, on an executor without a driver).
    pub(crate) fn park_thread_timeout(&self, timeout: Duration) {
        #[cfg(loom)]
        {
            // The models never set a watch (`worker::WATCH_LIFO`).
            let _ = timeout;
            self.park_thread();
        }
        #[cfg(not(loom))]
        {
            if self
                .state
                .compare_exchange(EMPTY, PARKED_THREAD, Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
            {
                self.consume();
                return;
            }
            std::thread::park_timeout(timeout);
            // Woken, timed out or spurious: back to EMPTY, taking any wake.
            self.consume();
        }
    }

    /// Sleeps in the driver (which the caller holds) until an event, a
    /// timer, [`unpark`](Self::unpark) or `timeout` (returns at once if a
    /// wake is pending).
    pub(crate) fn park_driver(&self, driver: &mut dyn Park, timeout: Option<Duration>) {
        if self
            .state
            .compare_exchange(EMPTY, PARKED_DRIVER, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            self.consume();
            return;
        }
        driver.park(timeout);
        // Left the driver (woken, an event, a timer): back to EMPTY, taking
        // any wake that arrived meanwhile.
        self.consume();
    }

    /// Resets the state to EMPTY, consuming a pending wake, with a swap.
    ///
    /// A plain store would read nothing: a second `unpark` that arrived
    /// after the wake this thread woke for (it found the state NOTIFIED and
    /// so unparked no one, e.g. `begin_close` after a `notify_one`) would be
    /// erased *and* its sender's writes (the `closed` flag, a pinned
    /// Runnable) need not be visible to this thread's next look, so it could
    /// park again with nobody left to wake it. The swap reads the latest
    /// state: it either takes that wake, and with it everything its sender
    /// wrote before, or comes before it, and the wake then finds this slot
    /// EMPTY and sticks. (Found by the loom model
    /// `driver::a_foreign_spawn_while_one_worker_sleeps_in_the_driver_...`.)
    #[inline]
    fn consume(&self) {
        self.state.swap(EMPTY, Ordering::SeqCst);
    }
}

#[cfg(all(test, loom))]
mod loom_models;
