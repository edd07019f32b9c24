//! [`BoundedSemaphore`], asyncio's: a semaphore whose `release` only adds
//! back permits that were taken out of circulation with [`Permit::forget`],
//! and [`BoundedSemaphoreOverflow`], the error of one release too many.

use std::fmt;
use std::sync::Arc;

use super::permit::Source;
#[cfg(doc)]
use super::Semaphore;
use super::{Core, OwnedPermit, Permit};

/// A [`Semaphore`] that refuses to be released past its initial count, as
/// asyncio's `BoundedSemaphore`.
///
/// Permits come back through their guards, so dropping a [`Permit`] can
/// never overflow; [`release`](BoundedSemaphore::release) only adds back a
/// permit that was taken out of circulation with [`Permit::forget`], and
/// returns [`BoundedSemaphoreOverflow`] otherwise (where asyncio raises
/// `ValueError`).
///
/// # Examples
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use corio_sync::BoundedSemaphore;
///
/// let sem = BoundedSemaphore::new(2);
/// // asyncio style: acquire without a guard, release by hand.
/// sem.acquire().await.forget();
/// assert_eq!(sem.available(), 1);
/// sem.release().unwrap();
/// // A second release would exceed the initial value.
/// let err = sem.release().unwrap_err();
/// assert_eq!(err.to_string(), "BoundedSemaphore released too many times");
/// assert_eq!(sem.available(), 2);
/// # });
/// ```
pub struct BoundedSemaphore {
    pub(super) core: Core,
    /// The initial count, which the permits in circulation never exceed.
    bound: usize,
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("available", &self.available())
            .field("bound", &self.bound)
            .finish()
    }
}

impl BoundedSemaphore {
    /// Creates a bounded semaphore with `permits` permits, which is also its
    /// bound.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::BoundedSemaphore::new(2);
    /// assert_eq!(sem.bound(), 2);
    /// ```
    pub fn new(permits: usize) -> BoundedSemaphore {
        BoundedSemaphore {
            core: Core::new(permits, true),
            bound: permits,
        }
    }

    /// The initial count, which the permits in circulation never exceed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(corio_sync::BoundedSemaphore::new(7).bound(), 7);
    /// ```
    pub fn bound(&self) -> usize {
        self.bound
    }

    /// Waits for one permit, as [`Semaphore::acquire`].
    ///
    /// Cancel safety: cancel-safe, as [`Semaphore::acquire`].
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let sem = corio_sync::BoundedSemaphore::new(1);
    /// let _permit = sem.acquire().await;
    /// assert!(sem.is_locked());
    /// # });
    /// ```
    pub async fn acquire(&self) -> Permit<'_> {
        self.core.wait(1).await;
        Permit::new(&self.core, 1)
    }

    /// Waits for `n` permits at once, as [`Semaphore::acquire_many`].
    ///
    /// Cancel safety: cancel-safe, as [`Semaphore::acquire`].
    ///
    /// # Panics
    ///
    /// If `n` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let sem = corio_sync::BoundedSemaphore::new(3);
    /// let permits = sem.acquire_many(2).await;
    /// assert_eq!(sem.available(), 1);
    /// drop(permits);
    /// assert_eq!(sem.available(), 3);
    /// # });
    /// ```
    pub async fn acquire_many(&self, n: usize) -> Permit<'_> {
        self.core.wait(n).await;
        Permit::new(&self.core, n)
    }

    /// Takes one permit if one is available and no task is waiting (queued,
    /// or granted a permit and not yet run).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::BoundedSemaphore::new(1);
    /// let _p = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_none());
    /// ```
    pub fn try_acquire(&self) -> Option<Permit<'_>> {
        self.core.try_acquire(1)
    }

    /// Takes `n` permits if they are available and no task is waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::BoundedSemaphore::new(2);
    /// assert!(sem.try_acquire_many(2).is_some());
    /// ```
    pub fn try_acquire_many(&self, n: usize) -> Option<Permit<'_>> {
        self.core.try_acquire(n)
    }

    /// Waits for one permit, returning an owned guard.
    ///
    /// Cancel safety: cancel-safe, as [`Semaphore::acquire`].
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// let sem = Arc::new(corio_sync::BoundedSemaphore::new(1));
    /// let permit = sem.clone().acquire_owned().await;
    /// drop(permit);
    /// assert_eq!(sem.available(), 1);
    /// # });
    /// ```
    pub async fn acquire_owned(self: Arc<Self>) -> OwnedPermit {
        self.core.wait(1).await;
        OwnedPermit::new(Source::Bounded(self), 1)
    }

    /// Waits for `n` permits, returning an owned guard.
    ///
    /// Cancel safety: cancel-safe, as [`Semaphore::acquire`].
    ///
    /// # Panics
    ///
    /// If `n` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// let sem = Arc::new(corio_sync::BoundedSemaphore::new(2));
    /// let permits = sem.clone().acquire_many_owned(2).await;
    /// assert_eq!(permits.num_permits(), 2);
    /// # });
    /// ```
    pub async fn acquire_many_owned(self: Arc<Self>, n: usize) -> OwnedPermit {
        self.core.wait(n).await;
        OwnedPermit::new(Source::Bounded(self), n)
    }

    /// Adds back one permit that was taken out of circulation with
    /// [`Permit::forget`], waking the first waiter if its request is now met.
    ///
    /// # Errors
    ///
    /// [`BoundedSemaphoreOverflow`] if no permit is missing, i.e. the release
    /// would raise the count past the initial value; the semaphore is left
    /// unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::BoundedSemaphore::new(1);
    /// assert!(sem.release().is_err());
    /// sem.try_acquire().unwrap().forget();
    /// assert!(sem.release().is_ok());
    /// ```
    pub fn release(&self) -> Result<(), BoundedSemaphoreOverflow> {
        if !self.core.take_forgotten() {
            return Err(BoundedSemaphoreOverflow(()));
        }
        self.core.raw.release(1);
        Ok(())
    }

    /// The number of permits available now.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(corio_sync::BoundedSemaphore::new(2).available(), 2);
    /// ```
    pub fn available(&self) -> usize {
        self.core.raw.available()
    }

    /// asyncio's `locked()`: whether [`acquire`](BoundedSemaphore::acquire)
    /// would have to wait (no permit free, or a task queued or granted a
    /// permit and not yet run), as [`Semaphore::is_locked`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(corio_sync::BoundedSemaphore::new(0).is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.core.raw.is_locked()
    }
}

/// The error of [`BoundedSemaphore::release`] past the initial count.
///
/// # Examples
///
/// ```
/// let sem = corio_sync::BoundedSemaphore::new(1);
/// let err: corio_sync::BoundedSemaphoreOverflow = sem.release().unwrap_err();
/// assert_eq!(err.to_string(), "BoundedSemaphore released too many times");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoundedSemaphoreOverflow(());

impl fmt::Display for BoundedSemaphoreOverflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BoundedSemaphore released too many times")
    }
}

impl std::error::Error for BoundedSemaphoreOverflow {}
