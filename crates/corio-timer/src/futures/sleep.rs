//! [`Sleep`]: a future that completes at a deadline. It registers in the
//! timer queue lazily (on first poll, and only if the deadline has not
//! already passed) and cancels its entry when dropped.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::driver::TimerHandle;
use crate::instant::Instant;
use crate::wheel::TimerKey;

/// A future that completes once the timers' clock reaches its deadline.
///
/// Creating one does not touch the timer queue; the first poll registers it
/// (unless the deadline has already been fired past), and dropping a
/// registered, unfired `Sleep` removes its entry. It never completes before
/// its deadline. `now + Duration::MAX` saturates to [`Instant::MAX`], a
/// deadline no real clock reaches, so such a sleep waits forever (parked on the
/// queue's overflow list) without panicking.
///
/// `Sleep` is `Unpin`, `Send` and `Sync`.
pub struct Sleep {
    handle: TimerHandle,
    deadline: Instant,
    /// A [`State`], packed into a key's 8 bytes: this keeps `Sleep` at 24
    /// bytes (a task sleeping in `sleep-cancel` fits a 16-byte-smaller
    /// allocation).
    state: Packed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Not in the queue: not polled yet, or reset after completing.
    Idle,
    /// In the queue (or fired from it since the last poll).
    Registered(TimerKey),
    /// Completed; stays so until `reset`.
    Elapsed,
}

/// [`State`] in 8 bytes: a registered key as is, the other two states as
/// key values the queue never hands out.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Packed(TimerKey);

impl Packed {
    const IDLE: Packed = Packed(TimerKey::UNUSED[0]);
    const ELAPSED: Packed = Packed(TimerKey::UNUSED[1]);

    fn get(self) -> State {
        match self {
            Packed::IDLE => State::Idle,
            Packed::ELAPSED => State::Elapsed,
            Packed(key) => State::Registered(key),
        }
    }
}

impl From<State> for Packed {
    fn from(state: State) -> Packed {
        match state {
            State::Idle => Packed::IDLE,
            State::Elapsed => Packed::ELAPSED,
            State::Registered(key) => Packed(key),
        }
    }
}

impl Sleep {
    /// A sleep until `deadline` on `handle`'s timers. Lazy: the queue is not
    /// touched until the first poll.
    pub fn new(handle: &TimerHandle, deadline: Instant) -> Sleep {
        Sleep {
            handle: handle.clone(),
            deadline,
            state: Packed::IDLE,
        }
    }

    /// [`new`](Self::new) taking the handle by value (no clone).
    pub(crate) fn from_handle(handle: TimerHandle, deadline: Instant) -> Sleep {
        Sleep {
            handle,
            deadline,
            state: Packed::IDLE,
        }
    }

    /// The instant this sleep completes at.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The timer handle this sleep is registered with.
    pub fn handle(&self) -> &TimerHandle {
        &self.handle
    }

    /// Whether this sleep has completed (been polled to `Ready`) and not
    /// been reset since.
    pub fn is_elapsed(&self) -> bool {
        self.state == Packed::ELAPSED
    }

    /// Re-arms the sleep for `deadline`, even if it already completed.
    ///
    /// A sleep still waiting in the queue keeps its waker, so the task that
    /// polled it is woken at the new deadline even if it does not poll again
    /// first.
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        self.get_mut().reset_unpinned(deadline);
    }

    /// [`reset`](Self::reset) for code holding `&mut Sleep` (it is `Unpin`).
    pub fn reset_unpinned(&mut self, deadline: Instant) {
        self.deadline = deadline;
        self.state = Packed::from(match self.state.get() {
            State::Registered(key) if self.handle.reschedule(key, deadline) => {
                State::Registered(key)
            }
            // Fired but not yet observed, or completed, or never polled:
            // the next poll starts from scratch.
            _ => State::Idle,
        });
    }

    /// [`Future::poll`] for code holding `&mut Sleep` (it is `Unpin`).
    pub fn poll_unpinned(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match self.state.get() {
            State::Elapsed => return Poll::Ready(()),
            State::Idle => {
                // Cheap lock-free check first: deadlines the driver has
                // already fired past need no registration at all.
                if !self.handle.has_fired_past(self.deadline) {
                    if let Some(key) = self.handle.register(self.deadline, cx.waker()) {
                        self.state = Packed::from(State::Registered(key));
                        return Poll::Pending;
                    }
                }
            }
            State::Registered(key) => {
                // A deadline the driver has fired past was removed from the
                // queue by that `fire` (which is exact): no lock, and no
                // visit to the entry, needed to know it elapsed.
                if !self.handle.has_fired_past(self.deadline)
                    && !self.handle.poll_registered(key, cx.waker())
                {
                    return Poll::Pending;
                }
            }
        }
        self.state = Packed::ELAPSED;
        Poll::Ready(())
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().poll_unpinned(cx)
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let State::Registered(key) = self.state.get() {
            if self.handle.has_fired_past(self.deadline) {
                return; // fired: the entry is gone already
            }
            self.handle.cancel(key);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("state", &self.state.get())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleep_is_three_words() {
        assert_eq!(std::mem::size_of::<Sleep>(), 24);
    }
}
