//! [`Deadline`]: a timeout's deadline as a shared, cloneable cell, so that
//! code running *inside* a [`Timeout`](crate::Timeout) (or any other task)
//! can read, move or disable it and ask whether it expired — asyncio's
//! `async with asyncio.timeout(None) as cm: ... cm.reschedule(t)`.
//!
//! The cell holds the deadline (`None`: disabled), a version bumped by each
//! [`reschedule`](Deadline::reschedule), the expired flag, and the waker of
//! the task whose `Timeout` last went pending on it. A `Timeout` compares
//! versions when it polls and re-arms its timer only on a change, so the
//! cell is the single source of truth and the timer is a cache of it.
//!
//! Locking rule: the waker is taken out under the lock and woken after
//! releasing it (waking runs arbitrary code). While a `Timeout` polls its
//! inner future the cell holds no waker, so a reschedule from inside the
//! body does not wake its own task: the `Timeout` picks the change up right
//! after the body returns.

use std::fmt;
use std::sync::Arc;
use std::task::Waker;

use parking_lot::Mutex;

use crate::instant::Instant;

/// A shared, movable deadline for [`Timeout::with_deadline`](crate::Timeout::with_deadline):
/// the handle asyncio's `async with asyncio.timeout(..) as cm` gives the
/// block (`cm.when()`, `cm.reschedule(..)`, `cm.expired()`).
///
/// Clone it into the future the timeout runs (or anywhere else: it is
/// `Send + Sync`); every clone sees and moves the same deadline.
/// `None` means no deadline (asyncio's `timeout(None)`).
///
/// ```
/// use std::pin::pin;
/// use std::task::{Context, Poll, Waker};
/// use std::time::Duration;
/// use corio_timer::{Clock, Deadline, Timeout, Timers};
///
/// let timers = Timers::new(Clock::manual());
/// let handle = timers.handle();
/// let deadline = Deadline::new(None); // asyncio.timeout(None)
/// let body = {
///     let (deadline, handle) = (deadline.clone(), handle.clone());
///     async move {
///         // Inside the block: now that we know how long it may take, set
///         // the deadline (cm.reschedule(loop.time() + 10)).
///         deadline.reschedule(Some(handle.now() + Duration::from_secs(10)));
///         handle.sleep(Duration::from_secs(60)).await;
///     }
/// };
/// let mut timeout = pin!(Timeout::with_deadline(&handle, &deadline, body));
/// let mut cx = Context::from_waker(Waker::noop());
/// assert!(timeout.as_mut().poll(&mut cx).is_pending());
/// assert_eq!(deadline.when(), Some(handle.now() + Duration::from_secs(10)));
/// timers.clock().advance(Duration::from_secs(10));
/// timers.fire(handle.now());
/// assert!(matches!(timeout.as_mut().poll(&mut cx), Poll::Ready(Err(_))));
/// assert!(deadline.expired());
/// # use std::future::Future;
/// ```
#[derive(Clone)]
pub struct Deadline {
    cell: Arc<Mutex<Cell>>,
}

struct Cell {
    when: Option<Instant>,
    /// Bumped by every reschedule; a `Timeout` re-arms when it differs from
    /// the version it last applied.
    version: u64,
    expired: bool,
    /// The task of the `Timeout` that last went pending on this deadline;
    /// `None` while that `Timeout` is polling its body.
    waker: Option<Waker>,
    /// Which follower ([`Follower::id`]) stored `waker`.
    owner: u64,
    /// The id the next [`Deadline::follow`] hands out.
    next_follower: u64,
}

impl Deadline {
    /// A deadline at `when`, or none (`None`).
    ///
    /// ```
    /// use corio_timer::{Deadline, Instant};
    ///
    /// let at = Deadline::new(Some(Instant::from_nanos(5)));
    /// assert_eq!(at.when(), Some(Instant::from_nanos(5)));
    /// assert_eq!(Deadline::new(None).when(), None);
    /// ```
    pub fn new(when: Option<Instant>) -> Deadline {
        Deadline {
            cell: Arc::new(Mutex::new(Cell {
                when,
                version: 0,
                expired: false,
                waker: None,
                owner: 0,
                next_follower: 1,
            })),
        }
    }

    /// The deadline, or `None` if there is none (asyncio's `when()`).
    pub fn when(&self) -> Option<Instant> {
        self.cell.lock().when
    }

    /// Moves the deadline, earlier or later, or removes it with `None`
    /// (asyncio's `reschedule(when)`). A deadline already past makes the
    /// timeout elapse at its next poll. The `Timeout` using it is woken to
    /// re-arm its timer (unless the call comes from inside its own body,
    /// which needs no wake-up).
    ///
    /// Rescheduling also clears [`expired`](Self::expired): the timeout is
    /// armed again. (asyncio refuses to reschedule an expired timeout.)
    ///
    /// ```
    /// use corio_timer::{Deadline, Instant};
    ///
    /// let deadline = Deadline::new(Some(Instant::from_nanos(5)));
    /// deadline.reschedule(None);
    /// assert_eq!(deadline.when(), None);
    /// deadline.reschedule(Some(Instant::from_nanos(9)));
    /// assert_eq!(deadline.when(), Some(Instant::from_nanos(9)));
    /// ```
    pub fn reschedule(&self, when: Option<Instant>) {
        let waker = {
            let mut cell = self.cell.lock();
            cell.when = when;
            cell.version = cell.version.wrapping_add(1);
            cell.expired = false;
            cell.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Whether the timeout using this deadline elapsed: it returned
    /// `Err(Elapsed)` and cut its future off (asyncio's `expired()`).
    ///
    /// ```
    /// assert!(!corio_timer::Deadline::new(None).expired());
    /// ```
    pub fn expired(&self) -> bool {
        self.cell.lock().expired
    }

    /// The version to compare against, for a `Timeout` starting on it.
    /// A follower for a new `Timeout`, and the version its deadline is at.
    pub(crate) fn follow(&self) -> Follower {
        let mut cell = self.cell.lock();
        let id = cell.next_follower;
        cell.next_follower = cell.next_follower.wrapping_add(1);
        let version = cell.version;
        drop(cell);
        let deadline = self.clone();
        Follower {
            deadline,
            id,
            seen: version,
        }
    }

    /// Before a `Timeout` polls its body: drop the stored waker, so a
    /// reschedule from inside the body does not wake its own task.
    pub(crate) fn begin_poll(&self) {
        let waker = self.cell.lock().waker.take();
        drop(waker);
    }

    /// After the body returned pending: the deadline to apply if it changed
    /// since `seen` (updating `seen`), and the waker to store.
    pub(crate) fn sync(
        &self,
        seen: &mut u64,
        waker: &Waker,
        owner: u64,
    ) -> Option<Option<Instant>> {
        let mut cell = self.cell.lock();
        cell.owner = owner;
        let old = match &cell.waker {
            Some(stored) if stored.will_wake(waker) => None,
            _ => cell.waker.replace(waker.clone()),
        };
        let changed = (cell.version != *seen).then_some(cell.when);
        *seen = cell.version;
        drop(cell);
        drop(old);
        changed
    }

    /// Applies `when` from the `Timeout` that owns a pinned reference
    /// ([`Timeout::reschedule_at`](crate::Timeout::reschedule_at)): as
    /// [`reschedule`](Self::reschedule), returning the new version.
    pub(crate) fn reschedule_from_owner(&self, when: Option<Instant>) -> u64 {
        let mut cell = self.cell.lock();
        cell.when = when;
        cell.version = cell.version.wrapping_add(1);
        cell.expired = false;
        cell.version
    }

    /// Records that the timeout elapsed, dropping its waker (it will not
    /// poll again).
    pub(crate) fn set_expired(&self) {
        let waker = {
            let mut cell = self.cell.lock();
            cell.expired = true;
            cell.waker.take()
        };
        drop(waker);
    }
}

impl fmt::Debug for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cell = self.cell.lock();
        f.debug_struct("Deadline")
            .field("when", &cell.when)
            .field("expired", &cell.expired)
            .finish()
    }
}

/// A `Timeout`'s hold on the [`Deadline`] it follows. Dropping it takes
/// back the waker that timeout left in the cell (if no other timeout has
/// replaced it since), so a deadline that outlives its timeout holds no
/// stale waker (and through it no task).
pub(crate) struct Follower {
    pub(crate) deadline: Deadline,
    /// Recorded with the waker this follower stores.
    id: u64,
    /// The version of the deadline the timeout's timer reflects.
    seen: u64,
}

impl Follower {
    /// After the body returned pending: the deadline to apply if it moved
    /// since the last look, and this task's waker left for later moves.
    pub(crate) fn sync(&mut self, waker: &Waker) -> Option<Option<Instant>> {
        self.deadline.sync(&mut self.seen, waker, self.id)
    }

    /// The timeout's owner moves the deadline (no wake: it applies it).
    pub(crate) fn reschedule(&mut self, when: Option<Instant>) {
        self.seen = self.deadline.reschedule_from_owner(when);
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let waker = {
            let mut cell = self.deadline.cell.lock();
            match cell.owner == self.id {
                true => cell.waker.take(),
                false => None,
            }
        };
        // Dropped outside the lock: a waker's drop may run any code.
        drop(waker);
    }
}
