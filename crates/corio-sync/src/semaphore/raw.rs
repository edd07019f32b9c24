//! `RawSemaphore`: the fair permit counter behind [`Semaphore`],
//! [`BoundedSemaphore`] and [`Lock`](crate::Lock), and its [`Acquire`]
//! future.
//!
//! # Design
//!
//! The whole state is one atomic word: `permits << 1 | WAITERS`. The
//! `WAITERS` bit is set exactly while the FIFO [`WaitList`] (behind its own
//! mutex) holds a waiter, queued or granted-but-not-yet-run, and it is only
//! ever set or cleared with that mutex held. So:
//!
//! - with `WAITERS` clear, acquiring and releasing are one CAS on the word
//!   and the mutex is never touched (the uncontended fast path);
//! - with `WAITERS` set, every fast path fails its CAS and goes to the mutex,
//!   so whoever holds the mutex and sees `WAITERS` owns the word: it can hand
//!   released permits straight to the queued waiters in FIFO order (no
//!   barging) and store the rest.
//!
//! A granted waiter counts until its future takes the grant (or, dropped,
//! hands it back), as asyncio's woken-but-not-run waiter, whose future stays
//! in `Semaphore._waiters` until its task runs: `locked()` is true meanwhile,
//! and a task that releases and acquires again queues behind it even though
//! a permit is free. Permits released in that window are stored in the
//! word; the granted waiter, when it takes its grant, hands them to the
//! waiters queued behind it (asyncio's `finally: while self._value > 0:
//! self._wake_up_next()`). Every exit of a granted waiter thus re-runs the
//! hand-out, so a queued waiter whose request fits is always either granted
//! or behind a granted waiter that will grant it.
//!
//! A waiter enqueues by setting `WAITERS` with a CAS on the same word a
//! releaser CASes, so a release racing with a new waiter either lands first
//! (the waiter then sees the permits) or fails and takes the mutex (and then
//! sees the waiter): no lost wake-up. The loom models in `tests/loom/lock.rs`
//! check exactly this interplay.
//!
//! [`Semaphore`]: super::Semaphore
//! [`BoundedSemaphore`]: super::BoundedSemaphore

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::loom::{AtomicUsize, Mutex, MutexGuard, Ordering};
use crate::waiters::{self, Removed, WaitList, WaiterKey};

/// Bit 0 of the state word: the wait list holds a waiter (queued, or
/// granted and not yet run).
const WAITERS: usize = 1;
/// Permits are counted from bit 1 up.
const SHIFT: u32 = 1;

/// The most permits a semaphore can hold (`usize::MAX >> 3`, as tokio).
pub(super) const MAX_PERMITS: usize = usize::MAX >> 3;

/// Panics unless a semaphore can hold `n` permits: the check of every
/// initial count and every request.
#[inline]
pub(super) fn assert_fits(n: usize) {
    assert!(
        n <= MAX_PERMITS,
        "corio-sync: a semaphore holds at most {MAX_PERMITS} permits"
    );
}

/// Wakers collected under the wait-list mutex, woken after it is released.
/// The first one is kept inline so a lock hand-off never allocates.
#[derive(Default)]
struct Wakers {
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

/// The fair permit counter behind [`Semaphore`](super::Semaphore),
/// [`BoundedSemaphore`](super::BoundedSemaphore) and
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
        assert_fits(permits);
        RawSemaphore {
            state: AtomicUsize::new(permits << SHIFT),
            waiters: Mutex::new(WaitList::new()),
        }
    }

    /// Permits in the count right now (granted-but-not-taken ones excluded;
    /// free ones included even while a granted waiter keeps them from being
    /// taken, as asyncio's `_value`).
    pub(crate) fn available(&self) -> usize {
        self.state.load(Ordering::Acquire) >> SHIFT
    }

    /// Whether an `acquire(1)` would have to wait: no permit, or a waiter
    /// (queued, or granted and not yet run), as asyncio's `locked()`.
    pub(crate) fn is_locked(&self) -> bool {
        let state = self.state.load(Ordering::Acquire);
        state >> SHIFT == 0 || state & WAITERS != 0
    }

    /// Takes `n` permits if they are available and nobody waits, queued or
    /// granted-but-not-run (fair: never overtakes a waiter).
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
    /// stores the rest (clearing `WAITERS` once the list holds no waiter,
    /// queued or granted). With `n == 0` it re-checks the front after a
    /// waiter left the queue or took its grant.
    fn add_locked(
        &self,
        list: &mut MutexGuard<'_, WaitList<usize>>,
        n: usize,
        wakers: &mut Wakers,
    ) {
        let state = self.state.load(Ordering::Acquire);
        if state & WAITERS == 0 {
            // Nobody waits (the list is clear): the fast paths may be
            // running, so add with an atomic read-modify-write.
            debug_assert!(list.is_clear());
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
        let waiters = if list.is_clear() { 0 } else { WAITERS };
        self.state
            .store(available << SHIFT | waiters, Ordering::Release);
    }

    /// A granted waiter took its grant (it runs now), with the mutex held:
    /// it stops counting as a waiter, and permits released since it was
    /// granted go to the waiters queued behind it (asyncio's `finally` in
    /// `Semaphore.acquire`). Cheap in the common cases: nobody left (clear
    /// `WAITERS`), or the queue's front does not fit (nothing to do).
    #[inline]
    fn taken_locked(&self, list: MutexGuard<'_, WaitList<usize>>) {
        // `WAITERS` is set (the taker was in the list) and we hold the
        // mutex, so the word is ours (see `add_locked`).
        let state = self.state.load(Ordering::Acquire);
        debug_assert!(state & WAITERS != 0);
        if list.is_clear() {
            self.state.store(state & !WAITERS, Ordering::Release);
            return;
        }
        if list.front().is_some_and(|&wanted| wanted <= state >> SHIFT) {
            self.hand_out(list);
        }
    }

    /// Hands stored permits to the queue's front (see `taken_locked`),
    /// waking the new grantees once the mutex is released.
    #[cold]
    fn hand_out(&self, mut list: MutexGuard<'_, WaitList<usize>>) {
        let mut wakers = Wakers::default();
        self.add_locked(&mut list, 0, &mut wakers);
        drop(list);
        wakers.wake();
    }

    /// The first poll's slow path: with the mutex held, take the permits if
    /// they are free and nobody waits, else set `WAITERS` and queue.
    #[cold]
    fn acquire_slow(&self, n: usize, waker: &Waker) -> Option<WaiterKey> {
        let mut list = self.waiters.lock();
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if state & WAITERS != 0 {
                // The word is ours (see `add_locked`): just queue behind,
                // even with permits free: then either the front's request
                // does not fit, or a granted waiter has yet to run and its
                // exit hands them out in FIFO order.
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
/// go to the next waiter. Granted and not yet polled, it still counts as a
/// waiter (`WAITERS` stays set), as asyncio's woken-but-not-run waiter.
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
                let mut list = this.sem.waiters.lock();
                if let waiters::Poll::Waiting = list.poll(key, cx.waker()) {
                    return Poll::Pending;
                }
                this.state = AcquireState::Done;
                this.sem.taken_locked(list);
                Poll::Ready(())
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
