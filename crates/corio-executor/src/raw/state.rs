//! The bits of a task's state word and the invariant each one carries.
//!
//! One `AtomicUsize` holds every flag and the reference count, so every
//! transition is a single read-modify-write and two racing transitions always
//! see each other. The count lives above [`REF_SHIFT`].
//!
//! Who may free the allocation: the party whose read-modify-write produces a
//! state with no references, no [`HANDLE`] and [`COMPLETED`] set. Exactly one
//! party can see that transition, because every other party either holds a
//! reference, holds the handle, or is about to complete the task.
//!
//! While a task is not [`COMPLETED`] it is owned by its executor's registry
//! even with zero references: a pending task nobody can wake still belongs to
//! the loop (asyncio's "loop keeps the task" promise), and the executor frees
//! it when it closes.

/// A `Runnable` for this task exists: it sits in a queue or is about to.
/// Wakes while this is set do nothing. Set again by a wake during a poll, in
/// which case the poller reschedules the task itself.
pub(crate) const SCHEDULED: usize = 1 << 0;
/// The future is being polled right now, on the executor's thread.
pub(crate) const RUNNING: usize = 1 << 1;
/// The future has been dropped and the stage will not change again except by
/// the handle taking the output. Set exactly once.
pub(crate) const COMPLETED: usize = 1 << 2;
/// Cancellation was requested: the future must not be polled again and will
/// be dropped at the next scheduling point (never during a poll).
pub(crate) const CLOSED: usize = 1 << 3;
/// The `Task<T>` handle is alive. While set, only the handle may touch the output.
pub(crate) const HANDLE: usize = 1 << 4;
/// The awaiter slot holds the waker of whoever awaits the handle.
pub(crate) const AWAITER: usize = 1 << 5;
/// The awaiter slot is locked by the handle (registering) or by the executor
/// (taking the waker to notify). Held for a few instructions only.
pub(crate) const LOCKED: usize = 1 << 6;
/// The future was dropped because of cancellation, before it completed.
pub(crate) const CANCELLED: usize = 1 << 7;

/// The output of a completed task was moved out by the handle, or dropped
/// because no handle was left to read it. With `CANCELLED` it tells which
/// stage field is live (see `cell.rs`).
pub(crate) const TAKEN: usize = 1 << 8;

/// The future panicked: the stored output is the panic payload. Lets a
/// handle tell how a task ended without taking its result.
pub(crate) const PANICKED: usize = 1 << 9;

/// Where the reference count starts.
pub(crate) const REF_SHIFT: u32 = 10;
/// One reference: held by each `Waker` and by the `Runnable`.
pub(crate) const REF_ONE: usize = 1 << REF_SHIFT;

/// The number of references in a state word.
#[inline]
pub(crate) fn refs(state: usize) -> usize {
    state >> REF_SHIFT
}

/// Whether this state word means the allocation must be freed now.
#[inline]
pub(crate) fn must_free(state: usize) -> bool {
    refs(state) == 0 && state & HANDLE == 0 && state & COMPLETED != 0
}
