//! The one switch between std's and loom's concurrency primitives.
//!
//! The task state machine takes its atomics and its `UnsafeCell`s from here,
//! so `RUSTFLAGS="--cfg loom"` lets loom explore every interleaving of wake,
//! poll, cancel and join, and check every access to the awaiter slot and the
//! stage against the happens-before order the state word establishes (see
//! `tests/loom.rs`). The multi-threaded executor's idle-worker bookkeeping
//! (`multi/idle.rs`: its counts, its sleeper list, each slot's parker and the
//! thread it parks; and the scheduler's `closed` flag, driver lock and
//! worker marking) takes its atomics, fence, [`Mutex`] and [`thread`] park
//! from here too, so the loom models of `multi/idle/` explore the real sleep
//! and wake protocol. Nothing else in the crate names `std::sync::atomic` or
//! `std::cell::UnsafeCell` for state that loom should model.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicU8, AtomicUsize, Ordering};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicU8, AtomicUsize, Ordering};

/// Thread handles, the current thread and parking: std's, or loom's (whose
/// `park` the model checker sees, and reports a deadlock when every thread
/// of a model sleeps).
pub(crate) mod thread {
    #[cfg(loom)]
    pub(crate) use loom::thread::{current, park, Thread};
    #[cfg(not(loom))]
    pub(crate) use std::thread::{current, park, Thread};
}

/// A mutex with one API in both builds: `parking_lot`'s (a byte, no
/// poisoning, fast when uncontended) normally, loom's under `--cfg loom`.
#[derive(Debug, Default)]
pub(crate) struct Mutex<T> {
    #[cfg(not(loom))]
    inner: parking_lot::Mutex<T>,
    #[cfg(loom)]
    inner: loom::sync::Mutex<T>,
}

/// The guard of [`Mutex`].
#[cfg(not(loom))]
pub(crate) type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;
/// The guard of [`Mutex`].
#[cfg(loom)]
pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Mutex<T> {
        Mutex {
            #[cfg(not(loom))]
            inner: parking_lot::Mutex::new(value),
            #[cfg(loom)]
            inner: loom::sync::Mutex::new(value),
        }
    }

    #[inline]
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        #[cfg(not(loom))]
        {
            self.inner.lock()
        }
        #[cfg(loom)]
        {
            self.inner.lock().unwrap()
        }
    }

    /// The guard, unless another thread holds the lock.
    #[inline]
    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        #[cfg(not(loom))]
        {
            self.inner.try_lock()
        }
        #[cfg(loom)]
        {
            self.inner.try_lock().ok()
        }
    }
}

/// Under loom, loom's checked cell: every access goes through `with` or
/// `with_mut`, and loom reports one that is not ordered after a conflicting
/// access on another thread.
#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

/// `std::cell::UnsafeCell` behind loom's closure API, so that the same code
/// compiles against both. Transparent and fully inlined: it is exactly a std
/// `UnsafeCell`, with the same layout and auto traits.
#[cfg(not(loom))]
#[repr(transparent)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    #[inline]
    pub(crate) const fn new(data: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(data))
    }

    /// Runs `f` with a pointer for shared (read) access. The pointer must not
    /// escape `f`: under loom the access ends when `f` returns.
    #[inline]
    #[allow(dead_code)] // loom's API, kept in step; every current access writes.
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a pointer for exclusive (write) access. The pointer must
    /// not escape `f`: under loom the access ends when `f` returns.
    #[inline]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// Backs off inside a short spin (the awaiter slot lock). Under loom this
/// yields to the model so it can schedule the lock holder.
#[inline]
pub(crate) fn spin_wait(round: u32) {
    #[cfg(loom)]
    {
        let _ = round;
        loom::thread::yield_now();
    }
    #[cfg(not(loom))]
    {
        if round < 16 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}
