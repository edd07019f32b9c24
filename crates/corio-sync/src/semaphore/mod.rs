//! [`Semaphore`] and [`BoundedSemaphore`] (asyncio's), their permit guards
//! ([`Permit`], [`OwnedPermit`]) and the [`BoundedSemaphoreOverflow`] error.
//!
//! The two semaphores are one thing: a `Core` (the fair permit counter of
//! `raw.rs`, plus the count of forgotten permits that only a bounded one
//! keeps), wrapped in a public type whose methods call into it; they differ
//! only in `release` (and `Semaphore::add_permits`,
//! `BoundedSemaphore::bound`). The permits point at the `Core`, so one guard
//! type serves both.
//!
//! - `raw.rs`: `RawSemaphore`, the atomic-word-plus-wait-list counter (also
//!   behind [`Lock`](crate::Lock)), with its invariants;
//! - this file: `Core` and [`Semaphore`];
//! - `bounded.rs`: [`BoundedSemaphore`] and its overflow error;
//! - `permit.rs`: [`Permit`] and [`OwnedPermit`].

mod bounded;
mod permit;
mod raw;

use std::fmt;
use std::sync::Arc;

use crate::loom::{AtomicUsize, Ordering};
use permit::Source;
use raw::{assert_fits, MAX_PERMITS};

pub use bounded::{BoundedSemaphore, BoundedSemaphoreOverflow};
pub use permit::{OwnedPermit, Permit};
pub(crate) use raw::RawSemaphore;

/// What [`Semaphore`] and [`BoundedSemaphore`] share, and what their permits
/// point at: the permit counter, and for a bounded semaphore the count of
/// forgotten permits.
#[derive(Debug)]
struct Core {
    raw: RawSemaphore,
    /// `Some` for a [`BoundedSemaphore`]: the permits taken out of
    /// circulation with [`Permit::forget`], i.e. how many
    /// [`BoundedSemaphore::release`]s may still add one. `None` for a
    /// [`Semaphore`], whose `release` is unlimited, so forgetting is not
    /// counted there.
    forgotten: Option<AtomicUsize>,
}

impl Core {
    /// A core with `permits` permits; `bounded` keeps the forgotten count.
    fn new(permits: usize, bounded: bool) -> Core {
        Core {
            raw: RawSemaphore::new(permits),
            forgotten: bounded.then(|| AtomicUsize::new(0)),
        }
    }

    /// Checks a request of `n` permits and waits for them (FIFO). The
    /// public acquires call it in their own body and build the guard after
    /// it: the future they return then holds just this one, as small as if
    /// they were written out. `#[inline]`: those bodies are inlined into the
    /// caller's crate, where a call to this non-leaf function would stay a
    /// call (about 18 more instructions per acquire in the `semaphore`
    /// benchmark).
    #[inline]
    fn wait(&self, n: usize) -> raw::Acquire<'_> {
        assert_fits(n);
        self.raw.acquire(n)
    }

    /// Takes `n` permits if they are free and nobody is queued.
    #[inline]
    fn try_acquire(&self, n: usize) -> Option<Permit<'_>> {
        self.raw.try_acquire(n).then(|| Permit::new(self, n))
    }

    /// Takes `n` permits out of circulation (counted when bounded).
    fn forget(&self, n: usize) {
        if let Some(forgotten) = &self.forgotten {
            forgotten.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Takes one permit off the forgotten count; `false` if it is zero
    /// (or the core is not bounded).
    fn take_forgotten(&self) -> bool {
        self.forgotten.as_ref().is_some_and(|forgotten| {
            forgotten
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
        })
    }
}

/// An async counting semaphore, as asyncio's `Semaphore`: it holds a number
/// of permits; [`acquire`](Semaphore::acquire) waits for one and returns a
/// [`Permit`] that gives it back when dropped, and
/// [`release`](Semaphore::release) adds one (even past the initial count).
///
/// Fair: waiters are served strictly in the order they started waiting. A
/// waiter wanting `k` permits at the head of the queue holds back every later
/// one until `k` are free, so large requests are never starved, and a task
/// that drops its permit and immediately acquires again queues behind the
/// waiters already there. As in asyncio, a waiter that was granted its
/// permits but has not run yet still counts as waiting: until it runs,
/// [`is_locked`](Semaphore::is_locked) is true, `try_acquire` fails and a
/// new `acquire` queues behind it, even if permits are free (they go to the
/// queue when it runs). Uncontended, acquire and release are one atomic
/// compare-and-swap each.
///
/// # Examples
///
/// Limit concurrent downloads to 3:
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use corio_sync::Semaphore;
///
/// async fn download(url: usize, limit: &Semaphore, running: &AtomicUsize) -> usize {
///     let _permit = limit.acquire().await;
///     let now = running.fetch_add(1, Ordering::SeqCst) + 1;
///     assert!(now <= 3, "at most 3 downloads at a time");
///     tokio::task::yield_now().await; // the simulated transfer
///     running.fetch_sub(1, Ordering::SeqCst);
///     url * 10
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let limit = Arc::new(Semaphore::new(3));
/// let running = Arc::new(AtomicUsize::new(0));
/// let mut tasks = Vec::new();
/// for url in 0..10 {
///     let (limit, running) = (limit.clone(), running.clone());
///     tasks.push(tokio::spawn(async move { download(url, &limit, &running).await }));
/// }
/// let mut total = 0;
/// for task in tasks {
///     total += task.await.unwrap();
/// }
/// assert_eq!(total, 450);
/// assert_eq!(limit.available(), 3);
/// # });
/// ```
pub struct Semaphore {
    core: Core,
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available", &self.available())
            .finish_non_exhaustive()
    }
}

impl Default for Semaphore {
    /// A semaphore with one permit, like asyncio's `Semaphore()`.
    fn default() -> Self {
        Semaphore::new(1)
    }
}

impl Semaphore {
    /// The most permits a semaphore can hold.
    pub const MAX_PERMITS: usize = MAX_PERMITS;

    /// Creates a semaphore with `permits` permits.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(2);
    /// assert_eq!(sem.available(), 2);
    /// ```
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            core: Core::new(permits, false),
        }
    }

    /// Waits for one permit; it is given back when the [`Permit`] drops.
    ///
    /// Waiters are served in FIFO order.
    ///
    /// Cancel safety: cancel-safe. Dropped before it is granted a permit, the
    /// future leaves the queue without trace; dropped after being granted one
    /// but before returning it, it passes the permit on to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let sem = corio_sync::Semaphore::new(1);
    /// let permit = sem.acquire().await;
    /// assert!(sem.is_locked());
    /// drop(permit);
    /// assert_eq!(sem.available(), 1);
    /// # });
    /// ```
    pub async fn acquire(&self) -> Permit<'_> {
        self.core.wait(1).await;
        Permit::new(&self.core, 1)
    }

    /// Waits for `n` permits at once, given back together when the [`Permit`]
    /// drops.
    ///
    /// The request takes its place in the FIFO queue as a whole: while it is
    /// at the head, later waiters wait too, even if they want fewer permits
    /// than are free. If `n` is larger than the semaphore ever held, it waits
    /// until enough [`release`](Semaphore::release)s have accumulated `n`
    /// (blocking the queue until then). `n == 0` returns at once.
    ///
    /// Cancel safety: cancel-safe, as [`acquire`](Semaphore::acquire); a
    /// waiter never holds some of its permits while waiting for the rest.
    ///
    /// # Panics
    ///
    /// If `n` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let sem = corio_sync::Semaphore::new(5);
    /// let permits = sem.acquire_many(3).await;
    /// assert_eq!(permits.num_permits(), 3);
    /// assert_eq!(sem.available(), 2);
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
    /// let sem = corio_sync::Semaphore::new(1);
    /// let permit = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_none());
    /// drop(permit);
    /// assert!(sem.try_acquire().is_some());
    /// ```
    pub fn try_acquire(&self) -> Option<Permit<'_>> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are available and no task is waiting
    /// (it never overtakes a queued waiter, nor one granted permits that
    /// has not run yet).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(3);
    /// assert!(sem.try_acquire_many(4).is_none());
    /// let permits = sem.try_acquire_many(3).unwrap();
    /// assert_eq!(permits.num_permits(), 3);
    /// ```
    pub fn try_acquire_many(&self, n: usize) -> Option<Permit<'_>> {
        self.core.try_acquire(n)
    }

    /// Waits for one permit, returning a guard that owns a reference to the
    /// semaphore (so it can be moved into a spawned task).
    ///
    /// Cancel safety: cancel-safe, as [`acquire`](Semaphore::acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// let sem = Arc::new(corio_sync::Semaphore::new(1));
    /// let permit = sem.clone().acquire_owned().await;
    /// let task = tokio::spawn(async move {
    ///     // ... work while holding the permit ...
    ///     drop(permit);
    /// });
    /// task.await.unwrap();
    /// assert_eq!(sem.available(), 1);
    /// # });
    /// ```
    pub async fn acquire_owned(self: Arc<Self>) -> OwnedPermit {
        self.core.wait(1).await;
        OwnedPermit::new(Source::Plain(self), 1)
    }

    /// Waits for `n` permits, as [`acquire_many`](Semaphore::acquire_many),
    /// returning an owned guard.
    ///
    /// Cancel safety: cancel-safe, as [`acquire`](Semaphore::acquire).
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
    /// let sem = Arc::new(corio_sync::Semaphore::new(4));
    /// let permits = sem.clone().acquire_many_owned(4).await;
    /// assert_eq!(permits.num_permits(), 4);
    /// assert!(sem.is_locked());
    /// # });
    /// ```
    pub async fn acquire_many_owned(self: Arc<Self>, n: usize) -> OwnedPermit {
        self.core.wait(n).await;
        OwnedPermit::new(Source::Plain(self), n)
    }

    /// Adds one permit, waking the first waiter if its request is now met.
    ///
    /// As asyncio's `Semaphore.release`, this may raise the count past the
    /// initial value (use [`BoundedSemaphore`] to forbid that). Pair it with
    /// [`Permit::forget`] to hand out permits without a guard.
    ///
    /// # Panics
    ///
    /// If the count would exceed [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(0);
    /// sem.release();
    /// sem.release();
    /// assert_eq!(sem.available(), 2);
    /// ```
    pub fn release(&self) {
        self.core.raw.release(1);
    }

    /// Adds `n` permits at once, as `n` calls to [`release`](Semaphore::release).
    ///
    /// # Panics
    ///
    /// If the count would exceed [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(0);
    /// sem.add_permits(3);
    /// assert_eq!(sem.available(), 3);
    /// ```
    pub fn add_permits(&self, n: usize) {
        self.core.raw.release(n);
    }

    /// The number of permits available now.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(3);
    /// let _p = sem.try_acquire().unwrap();
    /// assert_eq!(sem.available(), 2);
    /// ```
    pub fn available(&self) -> usize {
        self.core.raw.available()
    }

    /// asyncio's `locked()`: whether [`acquire`](Semaphore::acquire) would
    /// have to wait, because no permit is available or a task is already
    /// waiting: queued, or granted a permit and not yet run (asyncio keeps a
    /// woken waiter in `_waiters` until its task runs).
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// let sem = Arc::new(corio_sync::Semaphore::new(1));
    /// assert!(!sem.is_locked());
    /// let permit = sem.try_acquire().unwrap();
    /// assert!(sem.is_locked());
    /// let waiter = tokio::spawn(sem.clone().acquire_owned());
    /// tokio::task::yield_now().await; // the waiter queues
    /// drop(permit); // granted to the waiter, which has not run yet
    /// sem.release(); // a free permit...
    /// assert_eq!(sem.available(), 1);
    /// assert!(sem.is_locked()); // ...but the granted waiter comes first
    /// assert!(sem.try_acquire().is_none());
    /// drop(waiter.await.unwrap());
    /// assert!(!sem.is_locked());
    /// assert_eq!(sem.available(), 2);
    /// # });
    /// ```
    pub fn is_locked(&self) -> bool {
        self.core.raw.is_locked()
    }
}
