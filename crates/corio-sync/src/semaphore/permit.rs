//! The permit guards of [`Semaphore`] and [`BoundedSemaphore`]: [`Permit`]
//! borrows the semaphore, [`OwnedPermit`] holds an `Arc` of it. Both give
//! their permits back when dropped, or keep them out of circulation with
//! `forget`.

use std::fmt;
use std::sync::Arc;

use super::{BoundedSemaphore, Core, Semaphore};

/// Permits taken from a [`Semaphore`] or [`BoundedSemaphore`], given back
/// when dropped.
///
/// # Examples
///
/// ```
/// let sem = corio_sync::Semaphore::new(2);
/// {
///     let permit = sem.try_acquire_many(2).unwrap();
///     assert_eq!(permit.num_permits(), 2);
///     assert_eq!(sem.available(), 0);
/// }
/// assert_eq!(sem.available(), 2);
/// ```
#[must_use = "the permit is given back at once if not held"]
pub struct Permit<'a> {
    core: &'a Core,
    n: usize,
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").field("permits", &self.n).finish()
    }
}

impl<'a> Permit<'a> {
    pub(super) fn new(core: &'a Core, n: usize) -> Permit<'a> {
        Permit { core, n }
    }

    /// How many permits this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(1);
    /// assert_eq!(sem.try_acquire().unwrap().num_permits(), 1);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.n
    }

    /// Keeps the permits out of circulation instead of giving them back:
    /// the semaphore's count stays lower until [`Semaphore::release`] (or
    /// [`BoundedSemaphore::release`]) adds them back, asyncio style.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(1);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available(), 0);
    /// sem.release();
    /// assert_eq!(sem.available(), 1);
    /// ```
    pub fn forget(mut self) {
        self.core.forget(std::mem::take(&mut self.n));
    }
}

impl Drop for Permit<'_> {
    #[inline]
    fn drop(&mut self) {
        self.core.raw.release(self.n);
    }
}

/// The semaphore an [`OwnedPermit`] keeps alive.
#[derive(Debug)]
pub(super) enum Source {
    Plain(Arc<Semaphore>),
    Bounded(Arc<BoundedSemaphore>),
}

impl Source {
    fn core(&self) -> &Core {
        match self {
            Source::Plain(sem) => &sem.core,
            Source::Bounded(sem) => &sem.core,
        }
    }
}

/// Permits taken with [`Semaphore::acquire_owned`] (or
/// [`BoundedSemaphore::acquire_owned`]): like [`Permit`], but holding an
/// `Arc` of the semaphore instead of a borrow, so it can move into a task.
///
/// # Examples
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// let sem = Arc::new(corio_sync::Semaphore::new(3));
/// let mut tasks = Vec::new();
/// for _ in 0..3 {
///     let permit = sem.clone().acquire_owned().await;
///     tasks.push(tokio::spawn(async move {
///         let _permit = permit; // held for the task's lifetime
///     }));
/// }
/// assert_eq!(sem.available(), 0);
/// for task in tasks {
///     task.await.unwrap();
/// }
/// assert_eq!(sem.available(), 3);
/// # });
/// ```
#[must_use = "the permit is given back at once if not held"]
pub struct OwnedPermit {
    sem: Source,
    n: usize,
}

impl fmt::Debug for OwnedPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit")
            .field("permits", &self.n)
            .finish()
    }
}

impl OwnedPermit {
    pub(super) fn new(sem: Source, n: usize) -> OwnedPermit {
        OwnedPermit { sem, n }
    }

    /// How many permits this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let sem = std::sync::Arc::new(corio_sync::Semaphore::new(1));
    /// assert_eq!(sem.acquire_owned().await.num_permits(), 1);
    /// # });
    /// ```
    pub fn num_permits(&self) -> usize {
        self.n
    }

    /// Keeps the permits out of circulation, as [`Permit::forget`].
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let sem = std::sync::Arc::new(corio_sync::Semaphore::new(1));
    /// sem.clone().acquire_owned().await.forget();
    /// assert_eq!(sem.available(), 0);
    /// # });
    /// ```
    pub fn forget(mut self) {
        self.sem.core().forget(std::mem::take(&mut self.n));
    }
}

impl Drop for OwnedPermit {
    fn drop(&mut self) {
        self.sem.core().raw.release(self.n);
    }
}
