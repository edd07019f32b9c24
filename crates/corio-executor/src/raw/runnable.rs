//! `Runnable`: the right to poll a task once, and the paths that end a task.
//!
//! A `Runnable` owns one reference and the `SCHEDULED` bit. Running it polls
//! the future (or drops it, if the task was cancelled), then requeues the
//! task (woken during the poll), parks it (pending), or completes it. Every
//! state change is a named transition of `state.rs`.

use std::ptr::NonNull;

use super::awaiter;
use super::current;
use super::done_callbacks;
use super::header::Header;
use super::state::{Claim, EndPoll, Outcome, Snapshot, StartRun};
use super::waker::drop_ref;

/// A task that is ready to be polled. Created by a wake or a spawn, consumed
/// by [`Runnable::run`]. Dropping it without running cancels the task.
pub struct Runnable {
    ptr: NonNull<Header>,
}

// SAFETY: a Runnable only moves a counted pointer; polling happens where the
// executor runs it, and executors only run or drop Runnables of `!Send`
// tasks on their own thread (see `LocalScheduler`).
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

    /// The task's header: id, name, spawn location.
    pub fn header(&self) -> &Header {
        // SAFETY: the Runnable's reference keeps the header alive.
        unsafe { self.ptr.as_ref() }
    }

    /// Gives up the Runnable's reference without touching the future: the
    /// task stays uncompleted, its future leaked. For a `!Send` task whose
    /// Runnable ended up off its thread, where its future must not be dropped.
    pub(crate) fn abandon(self) {
        let ptr = self.ptr;
        std::mem::forget(self);
        // SAFETY: we own one reference; the task is not completed, so giving
        // it up cannot free it (nor touch the future).
        unsafe { drop_ref(ptr) }
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
        // The executor discarded the task without running it (it is closing):
        // cancel it here, unless it ended or someone else is dropping it.
        // SAFETY: we own one reference and the SCHEDULED bit, which entitles
        // us to claim the future for dropping.
        unsafe {
            drop_now(self.ptr);
            drop_ref(self.ptr);
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
    match header.state.start_run() {
        StartRun::Skip => {
            // SAFETY: we own one reference.
            unsafe { drop_ref(ptr) };
            return false;
        }
        StartRun::Drop => {
            // SAFETY: DROPPING is ours, and our reference.
            unsafe {
                drop_claimed(ptr);
                drop_ref(ptr);
            }
            return true;
        }
        StartRun::Poll => {}
    }

    let flags = header.count_poll();
    let mut result = None;
    // The poll runs in the task's context (see `current/side.rs`).
    current::around(header, flags, || {
        // SAFETY: RUNNING is ours; the vtable matches the allocation.
        result = unsafe { (header.vtable.poll)(ptr) };
        result.is_some()
    });
    if let Some(panicked) = result {
        let outcome = if panicked {
            Outcome::Panicked
        } else {
            Outcome::Finished
        };
        let state = header.state.complete(outcome);
        // SAFETY: we just completed the task and hold a reference.
        unsafe {
            after_complete(ptr, state);
            drop_ref(ptr);
        }
        return true;
    }

    match header.state.end_poll() {
        EndPoll::Idle => {
            // SAFETY: we own one reference.
            unsafe { drop_ref(ptr) };
            false
        }
        EndPoll::Reschedule => {
            // SAFETY: our reference and the SCHEDULED bit move to the new Runnable.
            unsafe { (header.vtable.schedule)(ptr) };
            false
        }
        EndPoll::Drop => {
            // Cancelled during the poll: RUNNING became DROPPING.
            // SAFETY: DROPPING is ours, and our reference.
            unsafe {
                drop_claimed(ptr);
                drop_ref(ptr);
            }
            true
        }
    }
}

/// Drops the future of a task whose `DROPPING` bit the caller holds, records
/// the cancellation and tells the awaiter. Keeps the caller's reference.
///
/// # Safety
///
/// The caller holds `DROPPING` (from a transition of `state.rs`) and a reference.
unsafe fn drop_claimed(ptr: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the header alive.
    let header = unsafe { ptr.as_ref() };
    let flags = header.flags.load(std::sync::atomic::Ordering::Relaxed);
    // The future's `Drop` runs in the task's context (see `current/side.rs`).
    current::around(header, flags, || {
        // SAFETY: DROPPING gives us the exclusive right to drop the future.
        unsafe { (header.vtable.drop_future)(ptr) };
        true
    });
    let state = header.state.complete(Outcome::Cancelled);
    // SAFETY: we just completed the task and hold a reference.
    unsafe { after_complete(ptr, state) };
}

/// The owning executor (or a discarded Runnable) drops a task's future now,
/// unless it is being polled (then the poller drops it when the poll
/// returns), being dropped by someone else, or already ended. Returns
/// whether the future was dropped by this call. Keeps the caller's reference.
///
/// # Safety
///
/// The caller holds a reference, and may drop the future: it is the task's
/// own executor, on the thread that polls the task (a `!Send` future must be
/// dropped there), or it owns the task's Runnable.
pub(crate) unsafe fn drop_now(ptr: NonNull<Header>) -> bool {
    // SAFETY: the caller's reference keeps the header alive.
    let header = unsafe { ptr.as_ref() };
    match header.state.claim_drop() {
        Claim::Claimed => {
            // SAFETY: DROPPING is ours, and the caller's reference.
            unsafe { drop_claimed(ptr) };
            true
        }
        Claim::Deferred | Claim::Ended => false,
    }
}

/// After `complete` (`state` is what it returned): drops an output nobody
/// will read, wakes whoever awaits the handle, and schedules the done-callbacks.
///
/// # Safety
///
/// The caller holds a reference and just completed the task.
unsafe fn after_complete(ptr: NonNull<Header>, state: Snapshot) {
    if state.has_callbacks() {
        // SAFETY: forwarded.
        return unsafe { after_complete_with_callbacks(ptr, state) };
    }
    // SAFETY: forwarded.
    unsafe { drop_output_or_notify(ptr, state) }
}

/// `after_complete` for a task with done-callbacks: the bit was set before
/// our `complete`, so they are ours to schedule (see `done_callbacks.rs`).
/// Out of line, so that the poll loop's common path keeps its registers.
///
/// # Safety
///
/// As for `after_complete`.
#[cold]
#[inline(never)]
unsafe fn after_complete_with_callbacks(ptr: NonNull<Header>, state: Snapshot) {
    // SAFETY: forwarded.
    unsafe {
        drop_output_or_notify(ptr, state);
        done_callbacks::completed(ptr);
    }
}

/// Drops an output nobody will read, or wakes whoever awaits the handle.
///
/// # Safety
///
/// As for `after_complete`.
#[inline(always)]
unsafe fn drop_output_or_notify(ptr: NonNull<Header>, state: Snapshot) {
    // SAFETY: the caller's reference keeps the header alive.
    let header = unsafe { ptr.as_ref() };
    if !state.has_handle() {
        if !state.is_cancelled() {
            // SAFETY: no handle was left when we completed the task, so the
            // completing transition set TAKEN and the output is ours; our
            // reference keeps the task alive while we drop it.
            unsafe { (header.vtable.drop_output)(ptr) };
        }
        return;
    }
    if state.has_awaiter() {
        awaiter::notify(header);
    }
}
