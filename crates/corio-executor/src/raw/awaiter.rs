//! The awaiter slot: the waker of whoever awaits a task's handle.
//!
//! The slot (`Header::awaiter`) is guarded by the state word's `LOCKED` bit
//! (see `state.rs`): the handle locks it to store its waker or to take it
//! back when the handle is dropped, the completer locks it to take the waker
//! it must wake. The lock is held for a few instructions and never across
//! user code: a waker is cloned, woken or dropped only after the lock is
//! released, so a waker whose `Drop` or `wake` re-enters the task is fine.

use std::task::Waker;

use super::header::Header;

/// Stores `waker` to be woken when the task completes (replacing an earlier
/// one unless it would wake the same task). Does nothing if the task has
/// completed. Called by the handle only.
pub(super) fn register(header: &Header, waker: &Waker) {
    if !header.state.lock_awaiter_to_register() {
        return;
    }
    let old = header.awaiter.with_mut(|slot| {
        // SAFETY: LOCKED gives us exclusive access to the slot, and the
        // reference does not outlive this closure.
        let slot = unsafe { &mut *slot };
        match slot {
            Some(current) if current.will_wake(waker) => None,
            _ => slot.replace(waker.clone()),
        }
    });
    header.state.unlock_awaiter(true);
    drop(old);
}

/// Takes the awaiter's waker and wakes it. Called once, by the party that
/// completed the task.
pub(super) fn notify(header: &Header) {
    if !header.state.lock_awaiter_to_notify() {
        return;
    }
    let waker = take_locked(header);
    header.state.unlock_awaiter(false);
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// Empties the slot: the handle is going away, and the waker it registered
/// must not stay behind (it would keep the awaiting task, and through it
/// possibly this one, alive). Returns the waker for the caller to drop.
pub(super) fn clear(header: &Header) -> Option<Waker> {
    header.state.lock_awaiter_to_clear();
    let waker = take_locked(header);
    header.state.unlock_awaiter(false);
    waker
}

/// Moves the waker out of the slot. The caller holds `LOCKED`.
fn take_locked(header: &Header) -> Option<Waker> {
    header.awaiter.with_mut(|slot| {
        // SAFETY: the caller holds LOCKED, which gives exclusive access to
        // the slot; the reference does not outlive this closure.
        unsafe { (*slot).take() }
    })
}
