//! `Runnable`: the right to poll a task once, and the transitions that end a task.
//!
//! A `Runnable` owns one reference and the `SCHEDULED` bit. Running it polls
//! the future (or drops it, if the task was cancelled), then either requeues
//! the task (woken during the poll), parks it (pending), or completes it.

use std::ptr::NonNull;

use super::header::Header;
use super::state::*;
use super::waker::drop_ref;
use crate::loom::{spin_wait, Ordering};

/// A task that is ready to be polled. Created by a wake or a spawn, consumed
/// by [`Runnable::run`]. Dropping it without running cancels the task.
pub struct Runnable {
    ptr: NonNull<Header>,
}

// SAFETY: a Runnable only moves a counted pointer; polling happens where the
// executor runs it, and executors only send Runnables of `!Send` tasks back to
// their own thread (see LocalExecutor's scheduler).
unsafe impl Send for Runnable {}
// SAFETY: `&Runnable` exposes only the immutable header.
unsafe impl Sync for Runnable {}

impl Runnable {
    /// # Safety
    ///
    /// `ptr` is a live task header and the caller transfers one reference and
    /// the `SCHEDULED` bit to the Runnable.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Runnable {
        Runnable { ptr }
    }

    /// The task's header: id, name, spawn location, scheduler slot.
    pub fn header(&self) -> &Header {
        // SAFETY: the Runnable's reference keeps the header alive.
        unsafe { self.ptr.as_ref() }
    }

    pub(crate) fn as_ptr(&self) -> NonNull<Header> {
        self.ptr
    }

    /// Polls the task once (or drops its future if it was cancelled).
    ///
    /// Returns `true` if the task finished during this call: its future is
    /// gone and its output (or its panic, or its cancellation) is recorded.
    pub fn run(self) -> bool {
        let ptr = self.ptr;
        std::mem::forget(self);
        // SAFETY: we own the Runnable's reference and SCHEDULED bit.
        unsafe { run(ptr) }
    }
}

impl Drop for Runnable {
    fn drop(&mut self) {
        // The executor discarded the task without running it (it is shutting
        // down): cancel it here, or just let go if it already ended.
        let ptr = self.ptr;
        // SAFETY: we own one reference and the SCHEDULED bit, which gives us
        // the right to drop the future (nobody else polls or drops it).
        unsafe {
            let state = ptr.as_ref().state.load(Ordering::Acquire);
            if state & COMPLETED == 0 {
                cancel_owned(ptr, true);
            }
            drop_ref(ptr);
        }
    }
}

impl std::fmt::Debug for Runnable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Runnable").field(self.header()).finish()
    }
}

/// # Safety
///
/// The caller owns one reference and the SCHEDULED bit of `ptr`.
unsafe fn run(ptr: NonNull<Header>) -> bool {
    // SAFETY: our reference keeps the header alive until the final drop_ref.
    let header = unsafe { ptr.as_ref() };
    let mut state = header.state.load(Ordering::Acquire);
    loop {
        if state & COMPLETED != 0 {
            // Ended while queued (the executor dropped it at close).
            // SAFETY: we own one reference.
            unsafe { drop_ref(ptr) };
            return false;
        }
        if state & CLOSED != 0 {
            // SAFETY: the SCHEDULED bit gives us the right to drop the future.
            unsafe {
                cancel_owned(ptr, true);
                drop_ref(ptr);
            }
            return true;
        }
        let next = (state & !SCHEDULED) | RUNNING;
        match header
            .state
            .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => break,
            Err(actual) => state = actual,
        }
    }

    header.count_poll();
    // SAFETY: RUNNING is ours; the vtable matches the allocation.
    let finished = unsafe { (header.vtable.poll)(ptr) };

    if let Some(panicked) = finished {
        // With no handle left nobody will read the output: mark it TAKEN in
        // the same step, and drop it below.
        let panicked = if panicked { PANICKED } else { 0 };
        let complete = |s: usize| {
            let taken = if s & HANDLE == 0 { TAKEN } else { 0 };
            (s & !(RUNNING | SCHEDULED)) | COMPLETED | taken | panicked
        };
        let new = complete(transition(header, complete));
        // SAFETY: COMPLETED is set; with no handle, nobody else will ever read
        // the output, so it is ours to drop. With a handle, it is the handle's.
        unsafe { after_complete(ptr, new) };
        // SAFETY: we own one reference.
        unsafe { drop_ref(ptr) };
        return true;
    }

    state = header.state.load(Ordering::Acquire);
    loop {
        if state & CLOSED != 0 {
            // Cancelled during the poll: drop the future now that the poll is over.
            // SAFETY: RUNNING is still ours, so the future is ours to drop.
            unsafe {
                cancel_owned(ptr, true);
                drop_ref(ptr);
            }
            return true;
        }
        let next = state & !RUNNING;
        match header
            .state
            .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => break,
            Err(actual) => state = actual,
        }
    }
    if state & SCHEDULED != 0 {
        // Woken during its own poll: requeue with our reference.
        // SAFETY: our reference and the SCHEDULED bit move to the new Runnable.
        unsafe { (header.vtable.schedule)(ptr) };
    } else {
        // SAFETY: we own one reference.
        unsafe { drop_ref(ptr) };
    }
    false
}

/// Applies `f` to the state in one read-modify-write; returns the old state.
#[inline]
fn transition(header: &Header, f: impl Fn(usize) -> usize) -> usize {
    let mut state = header.state.load(Ordering::Acquire);
    loop {
        match header.state.compare_exchange_weak(
            state,
            f(state),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(old) => return old,
            Err(actual) => state = actual,
        }
    }
}

/// Drops the future of a task the caller may drop (it holds RUNNING or the
/// SCHEDULED bit of a Runnable, or is the owning executor outside any poll),
/// records the cancellation and tells the awaiter. Does not give up the
/// caller's reference.
///
/// # Safety
///
/// The caller holds a reference and the exclusive right to drop the future.
pub(crate) unsafe fn cancel_owned(ptr: NonNull<Header>, clear_scheduled: bool) {
    // SAFETY: the caller's reference keeps the header alive.
    let header = unsafe { ptr.as_ref() };
    header.state.fetch_or(CLOSED, Ordering::AcqRel);
    // SAFETY: the caller holds the right to drop the future.
    unsafe { (header.vtable.drop_future)(ptr) };
    let clear = if clear_scheduled {
        RUNNING | SCHEDULED
    } else {
        RUNNING
    };
    let old = transition(header, |s| (s & !clear) | COMPLETED | CANCELLED);
    // SAFETY: COMPLETED is now set; the stage holds no output to drop.
    unsafe { after_complete(ptr, (old & !clear) | COMPLETED | CANCELLED) };
}

/// Cancels a task from its owning executor (loop close, or the end of
/// `block_on`). No-op if the task already ended.
///
/// If the task is running, we are inside its own poll (a task closing its
/// executor): then this only requests the cancellation, and the poller drops
/// the future when the poll returns, as for [`Task::cancel`](crate::Task::cancel).
///
/// # Safety
///
/// Called on the executor's thread for one of its registered tasks; `ptr` is
/// live (the registry keeps it so).
pub(crate) unsafe fn cancel_now(ptr: NonNull<Header>) {
    // SAFETY: a registered task is alive until COMPLETED.
    let header = unsafe { ptr.as_ref() };
    let old = transition(header, |s| {
        if s & COMPLETED != 0 {
            s
        } else if s & RUNNING != 0 {
            s | CLOSED
        } else {
            (s | CLOSED) + REF_ONE
        }
    });
    if old & (COMPLETED | RUNNING) != 0 {
        return;
    }
    // SAFETY: we took a reference above; the executor owns the right to drop
    // a registered task's future while it is not running. SCHEDULED stays set
    // so a queued Runnable just lets go when it sees COMPLETED.
    unsafe {
        cancel_owned(ptr, false);
        drop_ref(ptr);
    }
}

/// After COMPLETED was set (`new` is the resulting state): drops an output
/// nobody will read and wakes whoever awaits the handle.
///
/// # Safety
///
/// The caller holds a reference and just set COMPLETED.
unsafe fn after_complete(ptr: NonNull<Header>, new: usize) {
    // SAFETY: the caller's reference keeps the header alive.
    let header = unsafe { ptr.as_ref() };
    if new & HANDLE == 0 {
        if new & CANCELLED == 0 {
            // SAFETY: no handle means the output is ours (see state.rs); the
            // completing transition set TAKEN, and our reference keeps the
            // task alive while we drop it.
            unsafe { (header.vtable.drop_output)(ptr) };
        }
        return;
    }
    if new & AWAITER != 0 {
        notify_awaiter(header);
    }
}

/// Takes the awaiter's waker under the slot lock and wakes it outside.
fn notify_awaiter(header: &Header) {
    let mut round = 0;
    let mut state = header.state.load(Ordering::Acquire);
    loop {
        if state & AWAITER == 0 {
            return;
        }
        if state & LOCKED != 0 {
            spin_wait(round);
            round += 1;
            state = header.state.load(Ordering::Acquire);
            continue;
        }
        match header.state.compare_exchange_weak(
            state,
            state | LOCKED,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => break,
            Err(actual) => state = actual,
        }
    }
    let waker = header.awaiter.with_mut(|slot| {
        // SAFETY: LOCKED gives us exclusive access to the awaiter slot.
        unsafe { (*slot).take() }
    });
    header
        .state
        .fetch_and(!(AWAITER | LOCKED), Ordering::Release);
    if let Some(waker) = waker {
        waker.wake();
    }
}
