//! [`Condition`]: asyncio's `Condition`, a condition variable used with a
//! [`Lock`]'s guard, in the shape of [`std::sync::Condvar`].
//!
//! The condition owns only a waiter list behind its own mutex; the state the
//! tasks wait on lives in the `Lock`. A waiting task goes through three
//! phases, each with its own cancel-safety rule:
//!
//! 1. **Registering.** On its first poll, the future queues itself while it
//!    still holds the lock's guard, and only then drops the guard. A task
//!    that changes the state under the lock and then notifies can therefore
//!    not slip in between the waiter's predicate check and its queueing:
//!    that is the "atomically releases the lock" of a condition variable.
//!    Dropped before its first poll, the future just drops the guard.
//! 2. **Waiting.** Queued in FIFO order; `notify(n)` unlinks the first `n`
//!    and wakes them. Dropped while queued, it leaves the list without a
//!    trace; dropped after being notified but before taking the
//!    notification, it passes the notification to the next queued waiter.
//! 3. **Re-acquiring.** It waits for the lock again (fairly, behind the
//!    lock's other waiters). Dropped here, it has consumed a notification
//!    but its task will never look at the state, so it notifies the next
//!    waiter instead, as asyncio does since 3.13. That may cause a spurious
//!    wakeup, which condition variables allow (hence [`Condition::wait_for`]).
//!
//! The lock is never left held: the guard is either dropped in phase 1, or
//! re-acquired in phase 3 by the lock's own cancel-safe future.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::lock::{Lock, LockGuard};
use crate::loom::Mutex;
use crate::waiters::{self, Removed, WaitList, WaiterKey};

/// asyncio's `Condition`: lets tasks wait until another task changes some
/// state guarded by a [`Lock`] and notifies them, as [`std::sync::Condvar`]
/// does for a `Mutex`.
///
/// [`wait`](Condition::wait) takes the lock's guard, releases the lock while
/// it waits for a notification, and re-acquires it before returning the
/// guard. [`notify`](Condition::notify) wakes at most `n` waiters and
/// [`notify_all`](Condition::notify_all) wakes them all, oldest first. Call
/// them while holding the lock, after changing the state, so no waiter can
/// miss the change. Use one condition with one lock.
///
/// A woken task must re-check the state: another task may have got the lock
/// first and changed it again. [`wait_for`](Condition::wait_for) does that
/// loop for you.
///
/// # Examples
///
/// A producer and consumers sharing a queue guarded by a lock:
///
/// ```
/// use std::collections::VecDeque;
/// use std::sync::Arc;
/// use corio_sync::{Condition, Lock};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let items = Arc::new(Lock::new(VecDeque::new()));
/// let ready = Arc::new(Condition::new());
///
/// let mut consumers = Vec::new();
/// for _ in 0..2 {
///     let (items, ready) = (Arc::clone(&items), Arc::clone(&ready));
///     consumers.push(tokio::spawn(async move {
///         let mut got = Vec::new();
///         for _ in 0..3 {
///             let guard = items.lock().await;
///             // Releases the lock while waiting, re-acquires it after.
///             let mut guard = ready.wait_for(guard, |q| !q.is_empty()).await;
///             got.push(guard.pop_front().unwrap());
///         }
///         got
///     }));
/// }
///
/// for item in 0..6 {
///     let mut guard = items.lock().await;
///     guard.push_back(item);
///     ready.notify(1); // Wake one consumer for one item.
///     drop(guard);
///     tokio::task::yield_now().await;
/// }
///
/// let mut all = Vec::new();
/// for consumer in consumers {
///     all.extend(consumer.await.unwrap());
/// }
/// all.sort();
/// assert_eq!(all, [0, 1, 2, 3, 4, 5]);
/// # });
/// ```
pub struct Condition {
    waiters: Mutex<WaitList<()>>,
}

impl Condition {
    /// Creates a condition with no waiters.
    pub fn new() -> Condition {
        Condition {
            waiters: Mutex::new(WaitList::new()),
        }
    }

    /// Releases the lock held by `guard`, waits until notified, then
    /// re-acquires the lock and returns its guard.
    ///
    /// The task may be woken without the state having changed in the way it
    /// waits for (another task got the lock first, or a notification was
    /// passed on by a cancelled waiter): check the state again, or use
    /// [`wait_for`](Condition::wait_for).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel-safe, and the lock is never left held: dropped
    /// before it was notified, the future leaves no trace (and releases the
    /// lock if it never ran). Dropped after it was notified, while it waits
    /// to re-acquire the lock, it passes the notification on to the next
    /// waiter, so a notification is never lost.
    pub async fn wait<'a, T>(&self, guard: LockGuard<'a, T>) -> LockGuard<'a, T> {
        let lock: &'a Lock<T> = LockGuard::source(&guard);
        Waiter {
            condition: self,
            guard: Some(guard),
            key: None,
        }
        .await;
        let pass_on = PassOn {
            condition: self,
            armed: true,
        };
        let guard = lock.lock().await;
        pass_on.disarm();
        guard
    }

    /// Waits until `predicate` holds for the locked data, then returns the
    /// guard. Returns at once if it already holds; otherwise it
    /// [`wait`](Condition::wait)s and checks again after every wakeup, with
    /// the lock held.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel-safe, as [`wait`](Condition::wait).
    pub async fn wait_for<'a, T, F>(
        &self,
        mut guard: LockGuard<'a, T>,
        mut predicate: F,
    ) -> LockGuard<'a, T>
    where
        F: FnMut(&mut T) -> bool,
    {
        while !predicate(&mut guard) {
            guard = self.wait(guard).await;
        }
        guard
    }

    /// Wakes at most `n` waiting tasks, the ones that have waited longest.
    ///
    /// Tasks already notified but not yet running do not count. With no
    /// task waiting, the call does nothing: notifications are not stored.
    pub fn notify(&self, n: usize) {
        let mut wakers = Vec::new();
        {
            let mut waiters = self.waiters.lock();
            for _ in 0..n {
                match waiters.notify_front() {
                    Some(waker) => wakers.push(waker),
                    None => break,
                }
            }
        }
        wake_all(wakers);
    }

    /// Wakes every waiting task.
    pub fn notify_all(&self) {
        let mut wakers = Vec::new();
        self.waiters.lock().notify_all(&mut wakers);
        wake_all(wakers);
    }
}

fn wake_all(wakers: Vec<Waker>) {
    for waker in wakers {
        waker.wake();
    }
}

impl Default for Condition {
    fn default() -> Condition {
        Condition::new()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let waiting = self.waiters.lock().len();
        f.debug_struct("Condition")
            .field("waiting", &waiting)
            .finish()
    }
}

/// Phases 1 and 2 of [`Condition::wait`]: queue, release the lock, wait to
/// be notified.
struct Waiter<'c, 'a, T> {
    condition: &'c Condition,
    /// The caller's guard, until the first poll has queued us.
    guard: Option<LockGuard<'a, T>>,
    /// Our place in the waiter list, once queued.
    key: Option<WaiterKey>,
}

// Nothing in it is address-sensitive, whatever `T` is.
impl<T> Unpin for Waiter<'_, '_, T> {}

impl<T> Future for Waiter<'_, '_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let mut waiters = this.condition.waiters.lock();
        match this.key {
            None => {
                this.key = Some(waiters.push_back((), cx.waker()));
                drop(waiters);
                // Queued first, unlocked second: a notifier holding the lock
                // comes after us.
                drop(this.guard.take());
                Poll::Pending
            }
            Some(key) => match waiters.poll(key, cx.waker()) {
                waiters::Poll::Waiting => Poll::Pending,
                waiters::Poll::Notified(()) => {
                    this.key = None;
                    Poll::Ready(())
                }
            },
        }
    }
}

impl<T> Drop for Waiter<'_, '_, T> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let waker = {
            let mut waiters = self.condition.waiters.lock();
            match waiters.remove(key) {
                // Notified but never told its task: hand it to the next one.
                Some(Removed::Notified(())) => waiters.notify_front(),
                _ => None,
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Phase 3 of [`Condition::wait`]: if dropped while armed (the task was
/// notified but is dropped before it re-acquired the lock), notifies the
/// next waiter in its place.
struct PassOn<'c> {
    condition: &'c Condition,
    armed: bool,
}

impl PassOn<'_> {
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for PassOn<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.condition.notify(1);
        }
    }
}
