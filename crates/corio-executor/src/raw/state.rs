//! The task state machine: one atomic word, and every transition of it.
//!
//! Nothing outside this file reads-modifies-writes the state word. Each
//! transition below is one atomic read-modify-write (a CAS loop, mostly the
//! one in `update`, or a single `fetch_*`), names its precondition (what the caller must hold) and its
//! postcondition (what the caller holds afterwards), and returns what the
//! caller must do next as an enum, so the callers in `runnable.rs`,
//! `handle.rs` and `waker.rs` contain no bit arithmetic.
//!
//! ```text
//!                 spawn
//!                   │  SCHEDULED (the Runnable exists)
//!                   ▼
//!   wake ──────▶ Scheduled ─────start_run─────▶ Running ──end_poll: Pending──▶ Idle
//!     ▲            │  ▲                          │  │                          │
//!     │            │  └──end_poll: woken─────────┘  │ Ready / panic            │
//!     └────────────┼────────────────────────────────┼──────────────────────────┘
//!                  │ start_run with CLOSED          │ (future dropped in place,
//!                  │ or claim_drop (executor)       │  output stored)
//!                  ▼                                ▼
//!               Dropping ──── complete ────────▶ Completed ──(no refs, no handle)──▶ freed
//!                  ▲
//!   Running ──end_poll with CLOSED──┘   (cancelled during its poll)
//! ```
//!
//! * **Idle**: not `SCHEDULED`, `RUNNING`, `DROPPING` nor `COMPLETED`. The
//!   future is live and nobody may touch it. A wake moves it to Scheduled;
//!   `request_cancel` sets `CLOSED` and schedules it; the owning executor may
//!   claim it for dropping (`claim_drop`).
//! * **Scheduled**: a `Runnable` exists (it owns one reference and the
//!   `SCHEDULED` bit). Only that Runnable may start polling it.
//! * **Running**: the holder of `RUNNING` polls the future; nobody else may
//!   touch it. A wake during the poll only sets `SCHEDULED`, and the poller
//!   requeues the task when the poll ends. A cancel only sets `CLOSED`, and
//!   the poller drops the future when the poll ends.
//! * **Dropping**: the holder of `DROPPING` is dropping the future, which
//!   runs user code (`Drop`) that may call back into the executor: wake the
//!   task, cancel it, run the executor, close it. Every one of those sees
//!   `DROPPING` and leaves the future alone. This is the state whose absence
//!   once let a re-entrant cancel drop a future twice.
//! * **Completed**: the future is gone for good; the stage holds the output
//!   (or nothing, if it was cancelled or the output was taken). Set once.
//!
//! Who may free the allocation: the party whose read-modify-write produces a
//! state with no references, no `HANDLE` and `COMPLETED` set. Exactly one
//! party can see that transition, because every other party either holds a
//! reference, holds the handle, or is about to complete the task.
//!
//! While a task is not `COMPLETED` it belongs to its executor's registry
//! even with zero references (asyncio's "the loop keeps its tasks"), and the
//! executor frees it when it closes. The scheduler is told (`release`)
//! before `complete`, so a registered task is never freed.

use crate::loom::{AtomicUsize, Ordering};

/// A `Runnable` for this task exists: it sits in a queue or is about to.
/// Wakes while this is set do nothing. Set again by a wake during a poll, in
/// which case the poller reschedules the task itself.
const SCHEDULED: usize = 1 << 0;
/// The future is being polled right now.
const RUNNING: usize = 1 << 1;
/// The future is being dropped right now (cancellation), by whoever set this.
/// Always set together with `CLOSED`.
const DROPPING: usize = 1 << 2;
/// The future has been dropped and the stage will not change again except by
/// the handle taking the output. Set exactly once.
const COMPLETED: usize = 1 << 3;
/// Cancellation was requested: the future must not be polled again and will
/// be dropped at the next scheduling point (never during a poll).
const CLOSED: usize = 1 << 4;
/// The `Task<T>` handle is alive. While set, only the handle may touch the output.
const HANDLE: usize = 1 << 5;
/// The awaiter slot holds the waker of whoever awaits the handle.
const AWAITER: usize = 1 << 6;
/// The awaiter slot is locked by the handle (registering, or letting go of
/// its waker) or by the completer (taking the waker to notify). Held for a
/// few instructions only, never across user code.
const LOCKED: usize = 1 << 7;
/// The future was dropped because of cancellation, before it completed.
const CANCELLED: usize = 1 << 8;
/// The output of a completed task was moved out by the handle, or dropped
/// because no handle was left to read it. With `CANCELLED` it tells which
/// stage field is live (see `cell.rs`).
const TAKEN: usize = 1 << 9;
/// The future panicked: the stored output is the panic payload.
const PANICKED: usize = 1 << 10;

/// Done-callbacks were registered for this task in the side table of
/// `done_callbacks.rs`. Set by `add_done_callback` (after it pushed its
/// callback) with one read-modify-write, never cleared; the completer reads
/// it in the state `complete` returns. Whichever of the two RMWs comes
/// second sees the other and drains the table (see `done_callbacks.rs`).
const CALLBACKS: usize = 1 << 11;

/// Where the reference count starts.
const REF_SHIFT: u32 = 12;
/// One reference: held by each `Waker`, each `AbortHandle`, and the `Runnable`.
const REF_ONE: usize = 1 << REF_SHIFT;

/// A copy of the state word, read with `Acquire`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

impl Snapshot {
    #[inline]
    fn has(self, bits: usize) -> bool {
        self.0 & bits != 0
    }

    #[inline]
    fn refs(self) -> usize {
        self.0 >> REF_SHIFT
    }

    /// Whether this state means the allocation must be freed now.
    #[inline]
    fn must_free(self) -> bool {
        self.refs() == 0 && !self.has(HANDLE) && self.has(COMPLETED)
    }

    /// The future is gone for good.
    #[inline]
    pub(crate) fn is_completed(self) -> bool {
        self.has(COMPLETED)
    }

    /// The future is being polled.
    #[inline]
    pub(crate) fn is_running(self) -> bool {
        self.has(RUNNING)
    }

    /// The future is being dropped.
    #[inline]
    pub(crate) fn is_dropping(self) -> bool {
        self.has(DROPPING)
    }

    /// A `Runnable` exists (or a wake during the poll asked for one).
    #[inline]
    pub(crate) fn is_scheduled(self) -> bool {
        self.has(SCHEDULED)
    }

    /// Completed by cancellation: there is no output.
    #[inline]
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & (COMPLETED | CANCELLED) == COMPLETED | CANCELLED
    }

    /// Completed by a panic.
    #[inline]
    pub(crate) fn is_panicked(self) -> bool {
        self.0 & (COMPLETED | PANICKED) == COMPLETED | PANICKED
    }

    /// Completed, and the output still lies in the stage: neither taken,
    /// dropped, nor absent because of a cancellation.
    #[inline]
    pub(crate) fn output_is_live(self) -> bool {
        self.0 & (COMPLETED | CANCELLED | TAKEN) == COMPLETED
    }

    /// Completed and the output was already moved out.
    #[inline]
    pub(crate) fn output_was_taken(self) -> bool {
        self.0 & (COMPLETED | TAKEN) == COMPLETED | TAKEN
    }

    /// The handle is alive.
    #[inline]
    pub(crate) fn has_handle(self) -> bool {
        self.has(HANDLE)
    }

    /// Someone awaits the handle.
    #[inline]
    pub(crate) fn has_awaiter(self) -> bool {
        self.has(AWAITER)
    }

    /// Done-callbacks were registered (see [`State::mark_callbacks`]).
    #[inline]
    pub(crate) fn has_callbacks(self) -> bool {
        self.has(CALLBACKS)
    }
}

/// What the holder of a `Runnable` does after [`State::start_run`].
pub(crate) enum StartRun {
    /// `RUNNING` is yours: poll the future, then call `end_poll` or `complete`.
    Poll,
    /// `DROPPING` is yours (the task was cancelled): drop the future, then
    /// call `complete(Outcome::Cancelled)`.
    Drop,
    /// The task completed or someone else is dropping it: just give up the
    /// Runnable's reference.
    Skip,
}

/// What the poller does after [`State::end_poll`] (the poll returned `Pending`).
pub(crate) enum EndPoll {
    /// Parked: give up the Runnable's reference.
    Idle,
    /// Woken during its poll: the reference and `SCHEDULED` go to a new Runnable.
    Reschedule,
    /// Cancelled during its poll: `RUNNING` became `DROPPING`; drop the
    /// future, then call `complete(Outcome::Cancelled)`.
    Drop,
}

/// How the future ended, for [`State::complete`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// It returned a value, now stored in the stage.
    Finished,
    /// It panicked; the payload is stored in the stage.
    Panicked,
    /// It was dropped unfinished; the stage holds nothing.
    Cancelled,
}

/// What [`State::claim_drop`] gave the executor.
pub(crate) enum Claim {
    /// `DROPPING` is yours: drop the future, then `complete(Outcome::Cancelled)`.
    Claimed,
    /// The future is being polled: `CLOSED` is set and the poller drops it
    /// when the poll returns.
    Deferred,
    /// Completed already, or someone else is dropping it: nothing to do.
    Ended,
}

/// What a wake does, see [`State::wake_by_val`].
pub(crate) enum Wake {
    /// `SCHEDULED` was set: move the waker's reference into a new Runnable.
    Schedule,
    /// Nothing to schedule: give up the waker's reference.
    DropRef,
}

/// What [`State::request_cancel`] did.
pub(crate) enum Cancel {
    /// The task had already completed.
    Ended,
    /// `CLOSED` is set; whoever holds the future drops it.
    Requested,
    /// The task was idle: `CLOSED`, `SCHEDULED` and a reference were added;
    /// hand them to a new Runnable, which drops the future when run.
    Schedule,
}

/// What dropping the handle must do next, see [`State::release_handle`].
pub(crate) enum ReleaseHandle {
    /// The task completed and its output is still in the stage: drop it
    /// (the handle still owns it), call `mark_taken`, then release again.
    DropOutput,
    /// The handle is gone; `true` if the caller must free the allocation.
    Released { free: bool },
}

/// The task's state word.
pub(crate) struct State(AtomicUsize);

impl State {
    /// A new task: scheduled (one reference, owned by the first `Runnable`)
    /// with its handle alive.
    pub(crate) fn new_spawned() -> State {
        State(AtomicUsize::new(SCHEDULED | HANDLE | REF_ONE))
    }

    /// The current state.
    #[inline]
    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Ordering::Acquire))
    }

    /// The one CAS loop: `step` maps the current state to the new one (or
    /// `None` to leave it as is) and the value returned to the caller.
    #[inline]
    fn update<R>(&self, mut step: impl FnMut(usize) -> (Option<usize>, R)) -> R {
        let mut current = self.0.load(Ordering::Acquire);
        loop {
            let (next, result) = step(current);
            let Some(next) = next else { return result };
            match self
                .0
                .compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return result,
                Err(actual) => current = actual,
            }
        }
    }

    // ---- references ----

    /// Takes one more reference (a waker clone, an `AbortHandle`).
    /// Pre: the caller keeps the task alive meanwhile. Aborts on overflow, as
    /// `Arc` does, rather than wrap into a use-after-free.
    #[inline]
    pub(crate) fn ref_inc(&self) {
        let old = self.0.fetch_add(REF_ONE, Ordering::Relaxed);
        if old > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Gives up one reference. Pre: the caller owns one. Post: `true` if this
    /// was the last thing keeping the task alive: the caller must free it.
    #[inline]
    pub(crate) fn ref_dec(&self) -> bool {
        let old = self.0.fetch_sub(REF_ONE, Ordering::AcqRel);
        Snapshot(old - REF_ONE).must_free()
    }

    // ---- the Runnable and the poller ----

    /// Pre: the caller owns a Runnable (one reference and `SCHEDULED`).
    /// Post: see [`StartRun`]; in every case the caller still owns its reference.
    #[inline]
    pub(crate) fn start_run(&self) -> StartRun {
        // Written out rather than through `update`: this runs once per poll,
        // and the common case (live, not cancelled) is one test and a CAS.
        let mut s = self.0.load(Ordering::Acquire);
        while s & (COMPLETED | DROPPING | CLOSED) == 0 {
            match self.0.compare_exchange_weak(
                s,
                (s & !SCHEDULED) | RUNNING,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return StartRun::Poll,
                Err(actual) => s = actual,
            }
        }
        self.start_run_ended()
    }

    /// `start_run` for a task that completed, is being dropped, or was
    /// cancelled.
    #[cold]
    fn start_run_ended(&self) -> StartRun {
        self.update(|s| {
            if s & (COMPLETED | DROPPING) != 0 {
                (None, StartRun::Skip)
            } else if s & CLOSED != 0 {
                (Some((s & !SCHEDULED) | DROPPING), StartRun::Drop)
            } else {
                (Some((s & !SCHEDULED) | RUNNING), StartRun::Poll)
            }
        })
    }

    /// The poll returned `Pending`. Pre: the caller holds `RUNNING` and a
    /// reference. Post: see [`EndPoll`].
    #[inline]
    pub(crate) fn end_poll(&self) -> EndPoll {
        // Written out rather than through `update`: this runs once per poll.
        let mut s = self.0.load(Ordering::Acquire);
        while s & CLOSED == 0 {
            match self
                .0
                .compare_exchange_weak(s, s & !RUNNING, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) if s & SCHEDULED != 0 => return EndPoll::Reschedule,
                Ok(_) => return EndPoll::Idle,
                Err(actual) => s = actual,
            }
        }
        // Cancelled during the poll (CLOSED is never cleared again).
        self.update(|s| (Some((s & !(RUNNING | SCHEDULED)) | DROPPING), EndPoll::Drop))
    }

    /// The future is gone. Pre: the caller holds `RUNNING` (the future
    /// finished or panicked, was dropped and its output stored) or
    /// `DROPPING` (it was dropped unfinished), and a reference, and the
    /// scheduler has been told (`release`). Post: `COMPLETED`; `TAKEN` too
    /// when no handle is left, in which case the output (if any) is the
    /// caller's to drop. Returns the new state.
    #[inline]
    pub(crate) fn complete(&self, outcome: Outcome) -> Snapshot {
        let ended = match outcome {
            Outcome::Finished => COMPLETED,
            Outcome::Panicked => COMPLETED | PANICKED,
            Outcome::Cancelled => COMPLETED | CANCELLED,
        };
        self.update(|s| {
            let taken = if s & HANDLE == 0 { TAKEN } else { 0 };
            let next = (s & !(RUNNING | DROPPING | SCHEDULED)) | ended | taken;
            (Some(next), Snapshot(next))
        })
    }

    /// The owning executor (closing, or cancelling a task now) or a dropped
    /// Runnable wants the future gone. Pre: the caller holds a reference and
    /// is entitled to drop the future (the executor on its own thread, or the
    /// Runnable's owner). Post: see [`Claim`].
    #[inline]
    pub(crate) fn claim_drop(&self) -> Claim {
        self.update(|s| {
            if s & (COMPLETED | DROPPING) != 0 {
                (None, Claim::Ended)
            } else if s & RUNNING != 0 {
                (Some(s | CLOSED), Claim::Deferred)
            } else {
                (Some(s | CLOSED | DROPPING), Claim::Claimed)
            }
        })
    }

    // ---- wakers and cancellation ----

    /// A waker is consumed by `wake`. Pre: the caller owns the waker's
    /// reference. Post: see [`Wake`].
    #[inline]
    pub(crate) fn wake_by_val(&self) -> Wake {
        self.update(|s| {
            if s & (COMPLETED | CLOSED | SCHEDULED) != 0 {
                (None, Wake::DropRef)
            } else if s & RUNNING != 0 {
                // The poller sees SCHEDULED and requeues the task itself.
                (Some(s | SCHEDULED), Wake::DropRef)
            } else {
                (Some(s | SCHEDULED), Wake::Schedule)
            }
        })
    }

    /// `wake_by_ref`. Pre: the caller keeps the task alive. Post: `true` if
    /// the task was idle: `SCHEDULED` and a new reference were added for the
    /// caller to hand to a new Runnable.
    #[inline]
    pub(crate) fn wake_by_ref(&self) -> bool {
        self.update(|s| {
            if s & (COMPLETED | CLOSED | SCHEDULED) != 0 {
                (None, false)
            } else if s & RUNNING != 0 {
                (Some(s | SCHEDULED), false)
            } else {
                if s > isize::MAX as usize {
                    std::process::abort();
                }
                (Some((s | SCHEDULED) + REF_ONE), true)
            }
        })
    }

    /// `Task::cancel`. Pre: the caller keeps the task alive. Post: see [`Cancel`].
    #[inline]
    pub(crate) fn request_cancel(&self) -> Cancel {
        self.update(|s| {
            if s & COMPLETED != 0 {
                (None, Cancel::Ended)
            } else if s & CLOSED != 0 {
                (None, Cancel::Requested)
            } else if s & (SCHEDULED | RUNNING) == 0 {
                (Some((s | CLOSED | SCHEDULED) + REF_ONE), Cancel::Schedule)
            } else {
                (Some(s | CLOSED), Cancel::Requested)
            }
        })
    }

    // ---- the awaiter slot (a spin lock held for a few instructions) ----

    /// Locks the awaiter slot, waiting out another holder. With
    /// `unless_completed`, gives up (returning `false`, not locked) once the
    /// task has completed. With `only_if_awaited`, gives up (returning
    /// `false`) when the slot is empty. Post: `true` means `LOCKED` is the
    /// caller's; release it with `unlock_awaiter`.
    #[inline]
    fn lock_awaiter(&self, unless_completed: bool, only_if_awaited: bool) -> bool {
        let mut round = 0;
        let mut s = self.0.load(Ordering::Acquire);
        loop {
            if unless_completed && s & COMPLETED != 0 {
                return false;
            }
            if only_if_awaited && s & AWAITER == 0 {
                return false;
            }
            if s & LOCKED != 0 {
                crate::loom::spin_wait(round);
                round += 1;
                s = self.0.load(Ordering::Acquire);
                continue;
            }
            match self
                .0
                .compare_exchange_weak(s, s | LOCKED, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(actual) => s = actual,
            }
        }
    }

    /// The handle is about to store its waker. Pre: the caller holds the
    /// handle. Post: `true` means the slot is locked for the caller (call
    /// `unlock_awaiter(true)` after storing); `false` means the task
    /// completed and there is nothing to register.
    #[inline]
    pub(crate) fn lock_awaiter_to_register(&self) -> bool {
        self.lock_awaiter(true, false)
    }

    /// The completer is about to take the awaiter's waker. Pre: the caller
    /// just completed the task. Post: `true` means the slot is locked and
    /// holds a waker (call `unlock_awaiter(false)` after taking it).
    #[inline]
    pub(crate) fn lock_awaiter_to_notify(&self) -> bool {
        self.lock_awaiter(false, true)
    }

    /// The handle is going away and takes back its waker. Pre: the caller
    /// holds the handle. Post: the slot is locked for the caller (call
    /// `unlock_awaiter(false)` after emptying it).
    pub(crate) fn lock_awaiter_to_clear(&self) {
        self.lock_awaiter(false, false);
    }

    /// Releases the slot lock. Pre: the caller holds `LOCKED`. Post: `AWAITER`
    /// says whether the slot now holds a waker.
    #[inline]
    pub(crate) fn unlock_awaiter(&self, holds_waker: bool) {
        if holds_waker {
            self.update(|s| (Some((s | AWAITER) & !LOCKED), ()));
        } else {
            self.0.fetch_and(!(AWAITER | LOCKED), Ordering::Release);
        }
    }

    // ---- done-callbacks ----

    /// `add_done_callback` pushed a callback into the side table. Pre: the
    /// caller keeps the task alive. Post: `CALLBACKS` is set; returns `true`
    /// if the task had already completed, in which case the completer did
    /// not see the bit and the caller must drain the table itself. Otherwise
    /// the completer's `complete` returns a state with the bit and drains it.
    #[inline]
    pub(crate) fn mark_callbacks(&self) -> bool {
        self.0.fetch_or(CALLBACKS, Ordering::AcqRel) & COMPLETED != 0
    }

    // ---- the handle ----

    /// The handle moved the output out. Pre: the caller holds the handle and
    /// the output was live. Post: `TAKEN`.
    #[inline]
    pub(crate) fn mark_taken(&self) {
        self.0.fetch_or(TAKEN, Ordering::AcqRel);
    }

    /// The handle is being dropped. Pre: the caller holds the handle and has
    /// emptied the awaiter slot. Post: see [`ReleaseHandle`].
    #[inline]
    pub(crate) fn release_handle(&self) -> ReleaseHandle {
        self.update(|s| {
            if s & (COMPLETED | CANCELLED | TAKEN) == COMPLETED {
                return (None, ReleaseHandle::DropOutput);
            }
            let next = if s & COMPLETED != 0 {
                (s | TAKEN) & !HANDLE
            } else {
                s & !HANDLE
            };
            let free = Snapshot(next).must_free();
            (Some(next), ReleaseHandle::Released { free })
        })
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
