//! [`RwLock`]: an async readers-writer lock, fair (FIFO, so writers are not
//! starved), with its guards [`RwLockReadGuard`] and [`RwLockWriteGuard`].
//! asyncio has none; this is the shape of tokio's `RwLock`.
//!
//! # Design
//!
//! As [`Lock`](crate::Lock), the lock is a `RawSemaphore` (see
//! `semaphore/raw.rs`), here with [`MAX_READS`] permits: a reader takes one,
//! a writer takes all of them. The semaphore serves its waiters strictly in
//! FIFO order and never lets a request overtake a queued one, so:
//!
//! - readers share the lock while no writer holds it or waits for it;
//! - a writer that queues stops the readers that come after it (no writer
//!   starvation), and gets the lock once the readers before it are done;
//! - when a writer unlocks, the readers queued right behind it are all let
//!   in together, up to the next queued writer.
//!
//! Uncontended, a read or write lock and unlock are one CAS each. Since the
//! crate forbids `unsafe`, the data sits in a synchronous readers-writer
//! lock (`parking_lot`'s; loom's under `--cfg loom`) that is only ever
//! taken by holders of the async lock (`data_lock.rs`): readers share it
//! with readers, a writer is alone, so taking it never blocks. Each guard releases that
//! inner lock (its first field) before giving the permits back (its second
//! field), so whoever is let in next, even from inside a waker run by the
//! release, finds it free.

use std::fmt;
use std::ops::{Deref, DerefMut};

use crate::data_lock::{DataLock, ReadGuard, WriteGuard};
use crate::semaphore::RawSemaphore;

/// The permits a writer takes: all of the semaphore's (its maximum, as
/// tokio), so that readers can never run out of them.
const MAX_READS: usize = usize::MAX >> 3;

/// An async readers-writer lock guarding a `T`, in the shape of
/// [`std::sync::RwLock`].
///
/// Fair: tasks get the lock in the order they asked for it. Many readers
/// hold it at once, but a writer that waits holds back every reader that
/// comes after it, so a steady stream of readers cannot starve writers.
/// [`try_read`](RwLock::try_read) and [`try_write`](RwLock::try_write) fail
/// while anyone is queued.
///
/// As with tokio's, a task that holds a read guard and asks for a second
/// one can deadlock: if a writer queued in between, the second read waits
/// behind the writer, which waits for the first read guard.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use corio_sync::RwLock;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let config = Arc::new(RwLock::new(String::from("v1")));
/// let reader = {
///     let config = config.clone();
///     tokio::spawn(async move { config.read().await.clone() })
/// };
/// config.write().await.push_str("+patch");
/// let seen = reader.await.unwrap();
/// assert!(seen == "v1" || seen == "v1+patch");
/// assert_eq!(*config.read().await, "v1+patch");
/// # });
/// ```
#[doc(alias = "RWLock")]
pub struct RwLock<T> {
    sem: RawSemaphore,
    /// Taken only by holders of the async lock, so never contended.
    data: DataLock<T>,
}

impl<T> RwLock<T> {
    /// Creates an unlocked lock guarding `value`.
    ///
    /// ```
    /// let lock = corio_sync::RwLock::new(5);
    /// assert_eq!(*lock.try_read().unwrap(), 5);
    /// ```
    pub fn new(value: T) -> RwLock<T> {
        RwLock {
            sem: RawSemaphore::new(MAX_READS),
            data: DataLock::new(value),
        }
    }

    /// Waits for shared read access; it is released when the guard drops.
    ///
    /// Waits while a writer holds the lock or is queued for it.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropped while queued, the future leaves the queue
    /// without a trace (a reader queued behind a dropped writer is let in
    /// then if it can be); dropped after the lock was handed to it, it hands
    /// its share back.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let lock = corio_sync::RwLock::new(1);
    /// let (a, b) = (lock.read().await, lock.read().await); // shared
    /// assert_eq!(*a + *b, 2);
    /// # });
    /// ```
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        self.sem.acquire(1).await;
        self.read_guard()
    }

    /// Takes shared read access if no writer holds the lock and nobody is
    /// queued for it.
    ///
    /// ```
    /// let lock = corio_sync::RwLock::new(0);
    /// let write = lock.try_write().unwrap();
    /// assert!(lock.try_read().is_none());
    /// drop(write);
    /// assert!(lock.try_read().is_some());
    /// ```
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        self.sem.try_acquire(1).then(|| self.read_guard())
    }

    /// Waits for exclusive write access; it is released when the guard drops.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, as [`read`](Self::read): a writer dropped while queued
    /// lets the readers queued behind it in, if nothing else holds them back.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let lock = corio_sync::RwLock::new(vec![1]);
    /// lock.write().await.push(2);
    /// assert_eq!(*lock.read().await, [1, 2]);
    /// # });
    /// ```
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.sem.acquire(MAX_READS).await;
        self.write_guard()
    }

    /// Takes exclusive write access if the lock is free and nobody is queued.
    ///
    /// ```
    /// let lock = corio_sync::RwLock::new(0);
    /// let read = lock.try_read().unwrap();
    /// assert!(lock.try_write().is_none());
    /// drop(read);
    /// *lock.try_write().unwrap() += 1;
    /// ```
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        self.sem.try_acquire(MAX_READS).then(|| self.write_guard())
    }

    /// Consumes the lock, returning the data.
    ///
    /// ```
    /// assert_eq!(corio_sync::RwLock::new("x").into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }

    /// A mutable reference to the data; the `&mut` borrow proves no guard
    /// exists, so no locking is needed.
    ///
    /// ```
    /// let mut lock = corio_sync::RwLock::new(1);
    /// *lock.get_mut() += 1;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Builds a read guard once one permit is ours: no writer holds the
    /// data lock, so this never blocks.
    fn read_guard(&self) -> RwLockReadGuard<'_, T> {
        let data = self.data.read();
        RwLockReadGuard {
            data,
            _release: Release {
                sem: &self.sem,
                permits: 1,
            },
        }
    }

    /// Builds a write guard once every permit is ours: nobody holds the data
    /// lock, so this never blocks.
    fn write_guard(&self) -> RwLockWriteGuard<'_, T> {
        let data = self.data.write();
        RwLockWriteGuard {
            data,
            release: Release {
                sem: &self.sem,
                permits: MAX_READS,
            },
            lock: self,
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}

/// Gives a guard's permits back when dropped: the last field of each guard,
/// so it runs after the inner data lock is released.
struct Release<'a> {
    sem: &'a RawSemaphore,
    permits: usize,
}

impl Drop for Release<'_> {
    #[inline]
    fn drop(&mut self) {
        self.sem.release(self.permits);
    }
}

/// Shared access to an [`RwLock`]'s data; released when it drops.
///
/// ```
/// let lock = corio_sync::RwLock::new(String::from("shared"));
/// let a = lock.try_read().unwrap();
/// let b = lock.try_read().unwrap();
/// assert_eq!(a.len() + b.len(), 12);
/// ```
#[must_use = "the lock is released at once if the guard is not held"]
pub struct RwLockReadGuard<'a, T> {
    // Field order matters: `data` is released before `_release` lets a writer in.
    data: ReadGuard<'a, T>,
    _release: Release<'a>,
}

impl<T> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Exclusive access to an [`RwLock`]'s data; released when it drops.
///
/// ```
/// let lock = corio_sync::RwLock::new(0);
/// {
///     let mut guard = lock.try_write().unwrap();
///     *guard += 1;
///     assert!(lock.try_read().is_none());
/// } // released here
/// assert_eq!(*lock.try_read().unwrap(), 1);
/// ```
#[must_use = "the lock is released at once if the guard is not held"]
pub struct RwLockWriteGuard<'a, T> {
    // Field order matters: `data` is released before `release` lets anyone in.
    data: WriteGuard<'a, T>,
    release: Release<'a>,
    lock: &'a RwLock<T>,
}

impl<'a, T> RwLockWriteGuard<'a, T> {
    /// Turns write access into read access without letting a writer in
    /// between (an associated function, so it does not shadow `T`'s methods).
    /// The readers queued right behind are let in with it.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use corio_sync::{RwLock, RwLockWriteGuard};
    /// let lock = RwLock::new(0);
    /// let mut write = lock.write().await;
    /// *write = 7;
    /// let read = RwLockWriteGuard::downgrade(write);
    /// assert_eq!((*read, *lock.try_read().unwrap()), (7, 7));
    /// assert!(lock.try_write().is_none());
    /// # });
    /// ```
    pub fn downgrade(this: Self) -> RwLockReadGuard<'a, T> {
        let RwLockWriteGuard {
            data,
            mut release,
            lock,
        } = this;
        // Every permit is still ours, so nobody can take the data lock
        // between these two lines.
        drop(data);
        let guard = lock.read_guard();
        // The new guard gives one permit (its read share) back when it
        // drops; the rest go now, letting the readers queued behind in.
        release.permits = MAX_READS - 1;
        drop(release);
        guard
    }
}

impl<T> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T> DerefMut for RwLockWriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.data
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
