//! [`Semaphore`] and [`BoundedSemaphore`] (asyncio's), their permit guards
//! ([`Permit`], [`OwnedPermit`]), the [`BoundedSemaphoreOverflow`] error, and
//! the fair permit counter they share with [`Lock`](crate::Lock)
//! (`RawSemaphore`).
//!
//! # Design
//!
//! The whole state is one atomic word: `permits << 1 | WAITERS`. The
//! `WAITERS` bit is set exactly while the FIFO [`WaitList`] (behind its own
//! mutex) holds a queued waiter, and it is only ever set or cleared with that
//! mutex held. So:
//!
//! - with `WAITERS` clear, acquiring and releasing are one CAS on the word
//!   and the mutex is never touched (the uncontended fast path);
//! - with `WAITERS` set, every fast path fails its CAS and goes to the mutex,
//!   so whoever holds the mutex and sees `WAITERS` owns the word: it can hand
//!   released permits straight to the queued waiters in FIFO order (no
//!   barging) and store the rest.
//!
//! A waiter enqueues by setting `WAITERS` with a CAS on the same word a
//! releaser CASes, so a release racing with a new waiter either lands first
//! (the waiter then sees the permits) or fails and takes the mutex (and then
//! sees the waiter): no lost wake-up. The loom models in `tests/loom/lock.rs`
//! check exactly this interplay.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use std::sync::Arc;

use crate::loom::{AtomicUsize, Mutex, MutexGuard, Ordering};
use crate::waiters::{self, Removed, WaitList, WaiterKey};

/// Bit 0 of the state word: the wait list holds a queued waiter.
const WAITERS: usize = 1;
/// Permits are counted from bit 1 up.
const SHIFT: u32 = 1;

/// The most permits a semaphore can hold (`usize::MAX >> 3`, as tokio).
pub(crate) const MAX_PERMITS: usize = usize::MAX >> 3;

/// Wakers collected under the wait-list mutex, woken after it is released.
/// The first one is kept inline so a lock hand-off never allocates.
#[derive(Default)]
pub(crate) struct Wakers {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl Wakers {
    fn push(&mut self, waker: Waker) {
        if self.first.is_none() {
            self.first = Some(waker);
        } else {
            self.rest.push(waker);
        }
    }

    fn wake(self) {
        if let Some(first) = self.first {
            first.wake();
        }
        for waker in self.rest {
            waker.wake();
        }
    }
}

/// The fair permit counter behind [`Semaphore`], [`BoundedSemaphore`] and
/// [`Lock`](crate::Lock): an atomic word for the fast path and a FIFO wait
/// list (requests of `usize` permits) for the slow path.
pub(crate) struct RawSemaphore {
    /// `permits << 1 | WAITERS`.
    state: AtomicUsize,
    waiters: Mutex<WaitList<usize>>,
}

impl fmt::Debug for RawSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Ordering::Relaxed);
        f.debug_struct("RawSemaphore")
            .field("available", &(state >> SHIFT))
            .field("waiters", &(state & WAITERS != 0))
            .finish()
    }
}

impl RawSemaphore {
    pub(crate) fn new(permits: usize) -> RawSemaphore {
        assert!(
            permits <= MAX_PERMITS,
            "corio-sync: a semaphore holds at most {MAX_PERMITS} permits"
        );
        RawSemaphore {
            state: AtomicUsize::new(permits << SHIFT),
            waiters: Mutex::new(WaitList::new()),
        }
    }

    /// Permits available right now (granted-but-not-taken ones excluded).
    pub(crate) fn available(&self) -> usize {
        self.state.load(Ordering::Acquire) >> SHIFT
    }

    /// Whether an `acquire(1)` would have to wait: no permit, or a queued waiter.
    pub(crate) fn is_locked(&self) -> bool {
        let state = self.state.load(Ordering::Acquire);
        state >> SHIFT == 0 || state & WAITERS != 0
    }

    /// Takes `n` permits if they are available and nobody is queued (fair:
    /// never overtakes a waiter).
    #[inline]
    pub(crate) fn try_acquire(&self, n: usize) -> bool {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & WAITERS != 0 || state >> SHIFT < n {
                return false;
            }
            match self.state.compare_exchange_weak(
                state,
                state - (n << SHIFT),
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => state = actual,
            }
        }
    }

    /// Waits for `n` permits, in FIFO order with the other waiters.
    pub(crate) fn acquire(&self, n: usize) -> Acquire<'_> {
        Acquire {
            sem: self,
            n,
            state: AcquireState::Init,
        }
    }

    /// Adds `n` permits, handing them to queued waiters first (FIFO).
    ///
    /// # Panics
    ///
    /// If the count would exceed [`MAX_PERMITS`].
    #[inline]
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut state = self.state.load(Ordering::Relaxed);
        while state & WAITERS == 0 {
            let new = add_checked(state, n);
            match self
                .state
                .compare_exchange_weak(state, new, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(actual) => state = actual,
            }
        }
        self.release_slow(n);
    }

    #[cold]
    fn release_slow(&self, n: usize) {
        let mut wakers = Wakers::default();
        {
            let mut list = self.waiters.lock();
            self.add_locked(&mut list, n, &mut wakers);
        }
        wakers.wake();
    }

    /// Adds `n` permits with the wait-list mutex held: grants them to the
    /// queued waiters in FIFO order while the front one's request fits, and
    /// stores the rest (clearing `WAITERS` once the list is empty). With
    /// `n == 0` it re-checks the front after a waiter left the queue.
    fn add_locked(
        &self,
        list: &mut MutexGuard<'_, WaitList<usize>>,
        n: usize,
        wakers: &mut Wakers,
    ) {
        let state = self.state.load(Ordering::Acquire);
        if state & WAITERS == 0 {
            // Nobody queued (the list is empty): the fast paths may be
            // running, so add with an atomic read-modify-write.
            debug_assert!(list.is_empty());
            if n != 0 {
                let mut state = state;
                loop {
                    let new = add_checked(state, n);
                    match self.state.compare_exchange_weak(
                        state,
                        new,
                        Ordering::Release,
                        Ordering::Relaxed,
                    ) {
                        Ok(_) => return,
                        Err(actual) => state = actual,
                    }
                }
            }
            return;
        }
        // `WAITERS` is set and we hold the mutex: every other writer of the
        // word fails its CAS and waits for this mutex, so the word is ours.
        let mut available = add_checked(state, n) >> SHIFT;
        while let Some(&wanted) = list.front() {
            if wanted > available {
                break;
            }
            available -= wanted;
            if let Some(waker) = list.notify_front() {
                wakers.push(waker);
            }
        }
        let waiters = if list.is_empty() { 0 } else { WAITERS };
        self.state
            .store(available << SHIFT | waiters, Ordering::Release);
    }

    /// The first poll's slow path: with the mutex held, take the permits if
    /// they are free and nobody is queued, else set `WAITERS` and queue.
    #[cold]
    fn acquire_slow(&self, n: usize, waker: &Waker) -> Option<WaiterKey> {
        let mut list = self.waiters.lock();
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if state & WAITERS != 0 {
                // The word is ours (see `add_locked`): just queue behind.
                return Some(list.push_back(n, waker));
            }
            let (new, acquired) = if state >> SHIFT >= n {
                (state - (n << SHIFT), true)
            } else {
                (state | WAITERS, false)
            };
            match self
                .state
                .compare_exchange(state, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) if acquired => return None,
                Ok(_) => return Some(list.push_back(n, waker)),
                Err(actual) => state = actual,
            }
        }
    }
}

fn add_checked(state: usize, n: usize) -> usize {
    match (state >> SHIFT).checked_add(n) {
        Some(total) if total <= MAX_PERMITS => state + (n << SHIFT),
        _ => panic!("corio-sync: a semaphore holds at most {MAX_PERMITS} permits"),
    }
}

#[derive(Debug)]
enum AcquireState {
    Init,
    Waiting(WaiterKey),
    Done,
}

/// The future of [`RawSemaphore::acquire`]: resolves once it owns its
/// permits. Dropped while queued it leaves no trace; dropped after being
/// granted its permits (but before taking them) it gives them back, so they
/// go to the next waiter.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub(crate) struct Acquire<'a> {
    sem: &'a RawSemaphore,
    n: usize,
    state: AcquireState,
}

impl Future for Acquire<'_> {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        match this.state {
            AcquireState::Init => {
                if this.n == 0 || this.sem.try_acquire(this.n) {
                    this.state = AcquireState::Done;
                    return Poll::Ready(());
                }
                match this.sem.acquire_slow(this.n, cx.waker()) {
                    None => {
                        this.state = AcquireState::Done;
                        Poll::Ready(())
                    }
                    Some(key) => {
                        this.state = AcquireState::Waiting(key);
                        Poll::Pending
                    }
                }
            }
            AcquireState::Waiting(key) => {
                let polled = this.sem.waiters.lock().poll(key, cx.waker());
                match polled {
                    waiters::Poll::Waiting => Poll::Pending,
                    waiters::Poll::Notified(_) => {
                        this.state = AcquireState::Done;
                        Poll::Ready(())
                    }
                }
            }
            AcquireState::Done => panic!("corio-sync: acquire future polled after completion"),
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let AcquireState::Waiting(key) = self.state else {
            return;
        };
        let mut wakers = Wakers::default();
        {
            let mut list = self.sem.waiters.lock();
            match list.remove(key) {
                // Granted but never taken: pass the permits on.
                Some(Removed::Notified(n)) => self.sem.add_locked(&mut list, n, &mut wakers),
                // Still queued: gone without trace, but if it was the front
                // its request may have been blocking smaller ones behind it
                // (and if it was the last, `WAITERS` must be cleared).
                Some(Removed::Waiting(_)) => self.sem.add_locked(&mut list, 0, &mut wakers),
                None => {}
            }
        }
        wakers.wake();
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
/// waiters already there. Uncontended, acquire and release are one atomic
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
    raw: RawSemaphore,
    /// The initial count for a [`BoundedSemaphore`], `usize::MAX` otherwise.
    bound: usize,
    /// Permits forgotten with [`Permit::forget`] (tracked only when bounded):
    /// how many [`BoundedSemaphore::release`] may still add.
    forgotten: AtomicUsize,
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
            raw: RawSemaphore::new(permits),
            bound: usize::MAX,
            forgotten: AtomicUsize::new(0),
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
        self.raw.acquire(1).await;
        Permit { sem: self, n: 1 }
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
        assert!(
            n <= MAX_PERMITS,
            "corio-sync: a semaphore holds at most {MAX_PERMITS} permits"
        );
        self.raw.acquire(n).await;
        Permit { sem: self, n }
    }

    /// Takes one permit if one is available and no task is waiting.
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
    /// (it never overtakes a queued waiter).
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
        self.raw.try_acquire(n).then(|| Permit { sem: self, n })
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
        self.raw.acquire(1).await;
        OwnedPermit {
            sem: Source::Plain(self),
            n: 1,
        }
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
        assert!(
            n <= MAX_PERMITS,
            "corio-sync: a semaphore holds at most {MAX_PERMITS} permits"
        );
        self.raw.acquire(n).await;
        OwnedPermit {
            sem: Source::Plain(self),
            n,
        }
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
        self.raw.release(1);
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
        self.raw.release(n);
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
        self.raw.available()
    }

    /// asyncio's `locked()`: whether [`acquire`](Semaphore::acquire) would
    /// have to wait, because no permit is available or a task is already
    /// waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(1);
    /// assert!(!sem.is_locked());
    /// let _p = sem.try_acquire().unwrap();
    /// assert!(sem.is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }
}

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
    sem: Semaphore,
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("available", &self.available())
            .field("bound", &self.sem.bound)
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
        let mut sem = Semaphore::new(permits);
        sem.bound = permits;
        BoundedSemaphore { sem }
    }

    /// The initial count, which the permits in circulation never exceed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(corio_sync::BoundedSemaphore::new(7).bound(), 7);
    /// ```
    pub fn bound(&self) -> usize {
        self.sem.bound
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
        self.sem.acquire().await
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
        self.sem.acquire_many(n).await
    }

    /// Takes one permit if one is available and no task is waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = corio_sync::BoundedSemaphore::new(1);
    /// let _p = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_none());
    /// ```
    pub fn try_acquire(&self) -> Option<Permit<'_>> {
        self.sem.try_acquire()
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
        self.sem.try_acquire_many(n)
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
        self.sem.raw.acquire(1).await;
        OwnedPermit {
            sem: Source::Bounded(self),
            n: 1,
        }
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
        assert!(
            n <= MAX_PERMITS,
            "corio-sync: a semaphore holds at most {MAX_PERMITS} permits"
        );
        self.sem.raw.acquire(n).await;
        OwnedPermit {
            sem: Source::Bounded(self),
            n,
        }
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
        let mut forgotten = self.sem.forgotten.load(Ordering::Relaxed);
        loop {
            if forgotten == 0 {
                return Err(BoundedSemaphoreOverflow(()));
            }
            match self.sem.forgotten.compare_exchange_weak(
                forgotten,
                forgotten - 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => forgotten = actual,
            }
        }
        self.sem.raw.release(1);
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
        self.sem.available()
    }

    /// asyncio's `locked()`: whether [`acquire`](BoundedSemaphore::acquire)
    /// would have to wait.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(corio_sync::BoundedSemaphore::new(0).is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.sem.is_locked()
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
    sem: &'a Semaphore,
    n: usize,
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").field("permits", &self.n).finish()
    }
}

impl Permit<'_> {
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
        forget_permits(self.sem, std::mem::take(&mut self.n));
    }
}

impl Drop for Permit<'_> {
    #[inline]
    fn drop(&mut self) {
        self.sem.raw.release(self.n);
    }
}

fn forget_permits(sem: &Semaphore, n: usize) {
    if sem.bound != usize::MAX {
        sem.forgotten.fetch_add(n, Ordering::Relaxed);
    }
}

#[derive(Debug)]
enum Source {
    Plain(Arc<Semaphore>),
    Bounded(Arc<BoundedSemaphore>),
}

impl Source {
    fn semaphore(&self) -> &Semaphore {
        match self {
            Source::Plain(sem) => sem,
            Source::Bounded(sem) => &sem.sem,
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
        forget_permits(self.sem.semaphore(), std::mem::take(&mut self.n));
    }
}

impl Drop for OwnedPermit {
    fn drop(&mut self) {
        self.sem.semaphore().raw.release(self.n);
    }
}
