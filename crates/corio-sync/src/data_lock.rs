//! [`DataLock`]: the synchronous readers-writer lock that holds the data of
//! [`RwLock`](crate::RwLock) and of the [`watch`](crate::watch) channel,
//! `parking_lot`'s normally and loom's under `--cfg loom` (the
//! [`loom`](crate::loom) switch's `Mutex`, for a readers-writer lock), with
//! one API in both builds.
//!
//! Its users take it only where it cannot block for long: `RwLock` only
//! once its async lock (a semaphore) admits them, `watch` only for the
//! moment a value is read or replaced.

#[cfg(not(loom))]
pub(crate) type ReadGuard<'a, T> = parking_lot::RwLockReadGuard<'a, T>;
#[cfg(not(loom))]
pub(crate) type WriteGuard<'a, T> = parking_lot::RwLockWriteGuard<'a, T>;
#[cfg(loom)]
pub(crate) type ReadGuard<'a, T> = loom::sync::RwLockReadGuard<'a, T>;
#[cfg(loom)]
pub(crate) type WriteGuard<'a, T> = loom::sync::RwLockWriteGuard<'a, T>;

/// A readers-writer lock with no poisoning (loom's results are unwrapped:
/// its models do not panic while holding it).
#[derive(Debug, Default)]
pub(crate) struct DataLock<T> {
    #[cfg(not(loom))]
    inner: parking_lot::RwLock<T>,
    #[cfg(loom)]
    inner: loom::sync::RwLock<T>,
}

impl<T> DataLock<T> {
    pub(crate) fn new(value: T) -> DataLock<T> {
        #[cfg(not(loom))]
        let inner = parking_lot::RwLock::new(value);
        #[cfg(loom)]
        let inner = loom::sync::RwLock::new(value);
        DataLock { inner }
    }

    #[inline]
    pub(crate) fn read(&self) -> ReadGuard<'_, T> {
        #[cfg(not(loom))]
        return self.inner.read();
        #[cfg(loom)]
        return self.inner.read().unwrap();
    }

    #[inline]
    pub(crate) fn write(&self) -> WriteGuard<'_, T> {
        #[cfg(not(loom))]
        return self.inner.write();
        #[cfg(loom)]
        return self.inner.write().unwrap();
    }

    pub(crate) fn into_inner(self) -> T {
        #[cfg(not(loom))]
        return self.inner.into_inner();
        #[cfg(loom)]
        return self.inner.into_inner().unwrap();
    }

    pub(crate) fn get_mut(&mut self) -> &mut T {
        #[cfg(not(loom))]
        return self.inner.get_mut();
        #[cfg(loom)]
        return self.inner.get_mut().unwrap();
    }
}
