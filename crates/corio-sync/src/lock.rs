//! [`Lock`]: asyncio's `Lock`, shaped as Rust's `Mutex` (it guards the data
//! it protects), with its guards [`LockGuard`] and [`OwnedLockGuard`].
//!
//! # Design
//!
//! The lock is a one-permit `RawSemaphore` (see `semaphore/raw.rs`): one CAS to
//! lock and one to unlock when nobody waits, a FIFO hand-off (no barging)
//! when somebody does. Since the crate forbids `unsafe`, the data sits in a
//! small synchronous mutex that only the async lock's holder ever takes, so
//! taking it never blocks; [`lock_owned`](Lock::lock_owned) moves the value
//! out into its guard and back on drop.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::loom::{Mutex, MutexGuard};
use crate::semaphore::RawSemaphore;

/// An async mutual-exclusion lock guarding a `T`, as asyncio's `Lock` (in
/// the shape of [`std::sync::Mutex`]).
///
/// Fair: tasks get the lock in the order they started waiting for it.
/// Unlocking hands the lock straight to the first waiter, so a task that
/// unlocks and immediately locks again queues behind the waiters already
/// there instead of overtaking them, and [`try_lock`](Lock::try_lock) fails
/// while anyone is queued. Uncontended, lock and unlock are a few atomic
/// operations and never touch the wait list.
///
/// A [`LockGuard`] may be held across `.await` points; it is `Send` when `T`
/// is, so it can be held in tasks that move between threads.
///
/// # Examples
///
/// A lock guarding a shared counter:
///
/// ```
/// use std::sync::Arc;
/// use corio_sync::Lock;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let counter = Arc::new(Lock::new(0));
/// let mut tasks = Vec::new();
/// for _ in 0..10 {
///     let counter = counter.clone();
///     tasks.push(tokio::spawn(async move {
///         let mut value = counter.lock().await;
///         let read = *value;
///         tokio::task::yield_now().await; // other tasks run, but cannot get in
///         *value = read + 1;
///     }));
/// }
/// for task in tasks {
///     task.await.unwrap();
/// }
/// assert_eq!(*counter.lock().await, 10);
/// # });
/// ```
#[doc(alias = "Mutex")]
pub struct Lock<T> {
    sem: RawSemaphore,
    /// Taken only by the async lock's holder, so never contended. `None`
    /// only while an [`OwnedLockGuard`] holds the value.
    data: Mutex<Option<T>>,
}

impl<T: fmt::Debug> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Lock");
        match self.try_lock() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<T: Default> Default for Lock<T> {
    fn default() -> Self {
        Lock::new(T::default())
    }
}

impl<T> From<T> for Lock<T> {
    fn from(value: T) -> Self {
        Lock::new(value)
    }
}

const TAKEN: &str = "corio-sync: Lock data taken by an OwnedLockGuard";

impl<T> Lock<T> {
    /// Creates an unlocked lock guarding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = corio_sync::Lock::new(5);
    /// assert!(!lock.is_locked());
    /// ```
    pub fn new(value: T) -> Lock<T> {
        Lock {
            sem: RawSemaphore::new(1),
            data: Mutex::new(Some(value)),
        }
    }

    /// Waits until the lock is free and takes it; it is released when the
    /// [`LockGuard`] drops.
    ///
    /// Waiters are served in FIFO order.
    ///
    /// Cancel safety: cancel-safe. Dropped while queued, the future leaves
    /// the queue without trace; dropped after the lock was handed to it (but
    /// before it returned the guard), it passes the lock on to the next
    /// waiter, or unlocks it if there is none.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let lock = corio_sync::Lock::new(vec![1]);
    /// lock.lock().await.push(2);
    /// assert_eq!(*lock.lock().await, [1, 2]);
    /// # });
    /// ```
    pub async fn lock(&self) -> LockGuard<'_, T> {
        self.sem.acquire(1).await;
        self.guard()
    }

    /// Takes the lock if it is free and no task is waiting for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = corio_sync::Lock::new(0);
    /// let guard = lock.try_lock().unwrap();
    /// assert!(lock.try_lock().is_none());
    /// drop(guard);
    /// assert!(lock.try_lock().is_some());
    /// ```
    pub fn try_lock(&self) -> Option<LockGuard<'_, T>> {
        self.sem.try_acquire(1).then(|| self.guard())
    }

    /// Waits for the lock, as [`lock`](Lock::lock), returning a guard that
    /// owns a reference to the lock (so it can move into a spawned task).
    /// The value moves into the guard while it is held, and back on drop.
    ///
    /// Cancel safety: cancel-safe, as [`lock`](Lock::lock).
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// let lock = Arc::new(corio_sync::Lock::new(1));
    /// let mut guard = lock.clone().lock_owned().await;
    /// tokio::spawn(async move {
    ///     *guard += 1;
    /// })
    /// .await
    /// .unwrap();
    /// assert_eq!(*lock.lock().await, 2);
    /// # });
    /// ```
    pub async fn lock_owned(self: Arc<Self>) -> OwnedLockGuard<T> {
        self.sem.acquire(1).await;
        let value = self.data.lock().take().expect(TAKEN);
        OwnedLockGuard {
            value: Some(value),
            lock: self,
        }
    }

    /// Takes the lock as an owned guard if it is free and no task is waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(corio_sync::Lock::new(1));
    /// let guard = lock.clone().try_lock_owned().unwrap();
    /// assert!(lock.clone().try_lock_owned().is_none());
    /// drop(guard);
    /// assert!(!lock.is_locked());
    /// ```
    pub fn try_lock_owned(self: Arc<Self>) -> Option<OwnedLockGuard<T>> {
        if !self.sem.try_acquire(1) {
            return None;
        }
        let value = self.data.lock().take().expect(TAKEN);
        Some(OwnedLockGuard {
            value: Some(value),
            lock: self,
        })
    }

    /// Whether the lock is held (or handed to a waiter that has not run yet).
    ///
    /// asyncio's `Lock.locked()` differs in that window: its `release()`
    /// only wakes the first waiter, so `locked()` is false until that waiter
    /// runs. Its `acquire()` still queues behind the woken waiter, exactly as
    /// [`lock`](Lock::lock) and [`try_lock`](Lock::try_lock) do here; corio
    /// hands the lock over, so it reports it as held.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = corio_sync::Lock::new(());
    /// let guard = lock.try_lock();
    /// assert!(lock.is_locked());
    /// drop(guard);
    /// assert!(!lock.is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.sem.available() == 0
    }

    /// Consumes the lock, returning the data.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = corio_sync::Lock::new(String::from("x"));
    /// assert_eq!(lock.into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner().expect(TAKEN)
    }

    /// A mutable reference to the data; the `&mut` borrow proves no guard
    /// exists, so no locking is needed.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut lock = corio_sync::Lock::new(1);
    /// *lock.get_mut() += 1;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut().as_mut().expect(TAKEN)
    }

    /// Builds the guard once the async lock is ours.
    #[inline]
    fn guard(&self) -> LockGuard<'_, T> {
        // Only the async lock's holder takes `data`, so this never blocks.
        LockGuard {
            data: self.data.lock(),
            unlock: Unlock(self),
        }
    }
}

/// Unlocks the async lock when dropped. The second field of [`LockGuard`],
/// so it runs after the data mutex is released (fields drop in order).
struct Unlock<'a, T>(&'a Lock<T>);

impl<T> Drop for Unlock<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.0.sem.release(1);
    }
}

/// Access to a [`Lock`]'s data; the lock is released when it drops.
///
/// # Examples
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let lock = corio_sync::Lock::new(0);
/// {
///     let mut guard = lock.lock().await;
///     *guard += 1;
///     assert!(lock.is_locked());
/// } // released here
/// assert!(!lock.is_locked());
/// # });
/// ```
#[must_use = "the lock is released at once if the guard is not held"]
pub struct LockGuard<'a, T> {
    // Field order matters: `data` (the inner mutex) is released before
    // `unlock` lets the next holder in.
    data: MutexGuard<'a, Option<T>>,
    unlock: Unlock<'a, T>,
}

impl<'a, T> LockGuard<'a, T> {
    /// The lock this guard holds (an associated function, so it does not
    /// shadow methods of `T`); `Condition` uses it to re-acquire.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use corio_sync::{Lock, LockGuard};
    /// let lock = Lock::new(0);
    /// let guard = lock.lock().await;
    /// assert!(std::ptr::eq(LockGuard::source(&guard), &lock));
    /// # });
    /// ```
    pub fn source(this: &Self) -> &'a Lock<T> {
        this.unlock.0
    }
}

impl<T> Deref for LockGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        self.data.as_ref().expect(TAKEN)
    }
}

impl<T> DerefMut for LockGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        self.data.as_mut().expect(TAKEN)
    }
}

impl<T: fmt::Debug> fmt::Debug for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Access to a [`Lock`]'s data through an `Arc` of the lock, from
/// [`Lock::lock_owned`]: it holds the value itself (moved out of the lock,
/// and back in when the guard drops, which releases the lock).
///
/// # Examples
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// let lock = Arc::new(corio_sync::Lock::new(Vec::new()));
/// let mut tasks = Vec::new();
/// for i in 0..3 {
///     let mut guard = lock.clone().lock_owned().await;
///     tasks.push(tokio::spawn(async move { guard.push(i) }));
/// }
/// for task in tasks {
///     task.await.unwrap();
/// }
/// assert_eq!(*lock.lock().await, [0, 1, 2]);
/// # });
/// ```
#[must_use = "the lock is released at once if the guard is not held"]
pub struct OwnedLockGuard<T> {
    /// `Some` until the guard drops.
    value: Option<T>,
    lock: Arc<Lock<T>>,
}

impl<T> OwnedLockGuard<T> {
    /// The lock this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// use corio_sync::{Lock, OwnedLockGuard};
    /// let lock = Arc::new(Lock::new(0));
    /// let guard = lock.clone().lock_owned().await;
    /// assert!(Arc::ptr_eq(OwnedLockGuard::source(&guard), &lock));
    /// # });
    /// ```
    pub fn source(this: &Self) -> &Arc<Lock<T>> {
        &this.lock
    }
}

impl<T> Drop for OwnedLockGuard<T> {
    fn drop(&mut self) {
        *self.lock.data.lock() = self.value.take();
        self.lock.sem.release(1);
    }
}

impl<T> Deref for OwnedLockGuard<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        self.value.as_ref().expect(TAKEN)
    }
}

impl<T> DerefMut for OwnedLockGuard<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_mut().expect(TAKEN)
    }
}

impl<T: fmt::Debug> fmt::Debug for OwnedLockGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for OwnedLockGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
