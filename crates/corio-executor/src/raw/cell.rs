//! The typed task allocation: header, scheduler and the future's stage, and
//! the vtable functions that know their types.
//!
//! The stage holds the future while it runs and its output once it finished,
//! in place, so a task costs exactly one allocation. It is a union, not an
//! enum: which field is live follows from the state word (see `state.rs`),
//! so no tag word is spent per task:
//!
//! | state                          | live field |
//! |--------------------------------|------------|
//! | not `COMPLETED`                | `future`   |
//! | `COMPLETED`, not `CANCELLED`/`TAKEN` | `output` |
//! | `COMPLETED` with `CANCELLED` or `TAKEN` | none |
//!
//! The one moment the table does not cover is inside `poll`, between dropping
//! the future and setting `COMPLETED`; only the `RUNNING` poller is there.
//!
//! Every access to the stage is one `with_mut` closure on its cell (see
//! `crate::loom`), so under loom each one is checked against the accesses of
//! other threads: the state-word transition that hands over the right to the
//! stage must also order the accesses.

use std::any::Any;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::AtomicU32;
use std::task::{Context, Poll};

use super::current;
use super::header::{Header, Meta, TaskVTable, NO_SLOT};
use super::state::State;
use super::waker::borrowed_waker;
use crate::loom::UnsafeCell;
use crate::{Runnable, Schedule, TaskId};

/// A caught panic payload, boxed once more so the stored output stays one word.
pub(crate) type Panic = Box<Box<dyn Any + Send + 'static>>;

/// The future, or later its output (or panic). See the module docs for which
/// field is live.
pub(crate) union Stage<F: Future> {
    future: ManuallyDrop<F>,
    output: ManuallyDrop<Result<F::Output, Panic>>,
}

/// One task allocation.
#[repr(C)]
pub(crate) struct Cell<F: Future, S> {
    pub(crate) header: Header,
    pub(crate) scheduler: S,
    pub(crate) stage: UnsafeCell<Stage<F>>,
}

/// The per-type vtable.
struct VTableFor<F, S>(std::marker::PhantomData<(F, S)>);

impl<F: Future, S: Schedule> VTableFor<F, S> {
    const VTABLE: TaskVTable = TaskVTable {
        poll: poll::<F, S>,
        drop_future: drop_future::<F, S>,
        take_output: take_output::<F, S>,
        drop_output: drop_output::<F, S>,
        schedule: schedule::<F, S>,
        dealloc: dealloc::<F, S>,
        scheduler: scheduler::<F, S>,
    };
}

/// Allocates a task in its initial state (see `State::new_spawned`) with an
/// id from `header::next_task_id`, and returns its header.
///
/// # Safety
///
/// The caller takes on the future's `'static` and `Send` obligations: the
/// future must not be polled or dropped after data it borrows is gone, and a
/// `!Send` future must only be polled and dropped on one thread.
pub(crate) unsafe fn allocate<F: Future, S: Schedule>(
    future: F,
    scheduler: S,
    id: TaskId,
    name: Option<Box<str>>,
    location: &'static Location<'static>,
    flags: u32,
) -> NonNull<Header> {
    let cell = Box::new(Cell {
        header: Header {
            state: State::new_spawned(),
            vtable: &VTableFor::<F, S>::VTABLE,
            awaiter: UnsafeCell::new(None),
            id,
            meta: Meta::new(location, name),
            slot: AtomicU32::new(NO_SLOT),
            flags: AtomicU32::new(flags),
        },
        scheduler,
        stage: UnsafeCell::new(Stage {
            future: ManuallyDrop::new(future),
        }),
    });
    NonNull::from(Box::leak(cell)).cast()
}

/// The typed cell behind a task header. Only shared: the stage is reached
/// through `stage.with_mut`, under the access rights the state word grants
/// (the caller holds `RUNNING` or the right to drop the future, or the task is
/// `COMPLETED` and the caller owns the output).
///
/// # Safety
///
/// `ptr` is the header of a live `Cell<F, S>` that stays live for `'a`.
unsafe fn cell<'a, F: Future, S>(ptr: NonNull<Header>) -> &'a Cell<F, S> {
    // SAFETY: the header is the first field of a `#[repr(C)]` Cell<F, S>, so
    // the pointer is the cell's; liveness is the caller's contract.
    unsafe { ptr.cast::<Cell<F, S>>().as_ref() }
}

/// # Safety
///
/// `ptr` is a live `Cell<F, S>` whose `RUNNING` bit the caller holds, with a
/// reference, so its future is live and nobody else touches it.
unsafe fn poll<F: Future, S: Schedule>(ptr: NonNull<Header>) -> Option<bool> {
    // SAFETY: the Runnable being run holds a reference for the whole poll,
    // which keeps the cell alive.
    let cell = unsafe { cell::<F, S>(ptr) };
    // One access for the whole poll: RUNNING is ours until we return.
    let finished = cell.stage.with_mut(|stage| {
        // SAFETY: RUNNING gives this call exclusive access to the stage, and
        // the reference does not outlive this closure.
        let stage = unsafe { &mut *stage };
        // SAFETY: not COMPLETED, so `future` is the live field. It lives inside
        // the heap allocation and is never moved until it is dropped in place.
        let future = unsafe { Pin::new_unchecked(&mut *stage.future) };
        // SAFETY: the Runnable's reference outlives this borrowed waker.
        let waker = ManuallyDrop::new(unsafe { borrowed_waker(ptr) });
        let mut cx = Context::from_waker(&waker);
        // Current for the poll and, if it finishes, the drop of the future;
        // the Runnable's reference outlives the guard (see `current.rs`).
        let _current = current::enter(ptr);
        let outcome = catch_unwind(AssertUnwindSafe(|| future.poll(&mut cx)));
        let result = match outcome {
            Ok(Poll::Pending) => return None,
            Ok(Poll::Ready(output)) => Ok(output),
            Err(payload) => Err(Box::new(payload)),
        };
        let panicked = result.is_err();
        // SAFETY: the future is live and ours; after this the field is dead.
        unsafe { drop_future_in_place::<F>(stage) };
        stage.output = ManuallyDrop::new(result);
        Some(panicked)
    });
    if finished.is_some() {
        cell.scheduler.release(&cell.header);
    }
    finished
}

/// Drops the live future where it lies (a pinned future must be dropped in
/// place). A panic from its `Drop` is swallowed: the task's first outcome is
/// the one reported.
///
/// The caller makes the task current (see `current.rs`) while its `Drop` runs.
///
/// # Safety
///
/// `future` is the live field and the caller may drop it; afterwards no
/// field is live until the caller writes one.
unsafe fn drop_future_in_place<F: Future>(stage: &mut Stage<F>) {
    // SAFETY: the caller guarantees the future is live and droppable.
    let _ = catch_unwind(AssertUnwindSafe(|| unsafe {
        ManuallyDrop::drop(&mut stage.future)
    }));
}

/// # Safety
///
/// `ptr` is a live `Cell<F, S>` whose `DROPPING` bit the caller holds
/// (see `State::claim_drop`), with a reference.
unsafe fn drop_future<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: liveness is the caller's contract.
    let cell = unsafe { cell::<F, S>(ptr) };
    cell.stage.with_mut(|stage| {
        // The caller's reference outlives the guard (see `current.rs`).
        let _current = current::enter(ptr);
        // SAFETY: DROPPING gives the caller the exclusive right to drop the
        // future, which is live (not COMPLETED); the reference does not
        // outlive this closure.
        unsafe { drop_future_in_place::<F>(&mut *stage) }
    });
    cell.scheduler.release(&cell.header);
}

/// # Safety
///
/// `ptr` is a live `COMPLETED` `Cell<F, S>` whose output is live (neither
/// `CANCELLED` nor `TAKEN`) and owned by the caller; `out` points to an
/// `Option<Result<F::Output, Panic>>`. The caller sets `TAKEN` afterwards.
unsafe fn take_output<F: Future, S: Schedule>(ptr: NonNull<Header>, out: *mut ()) {
    // SAFETY: liveness is the caller's contract.
    let cell = unsafe { cell::<F, S>(ptr) };
    let output = cell.stage.with_mut(|stage| {
        // SAFETY: per the contract the output is live and ours to move out.
        unsafe { ManuallyDrop::take(&mut (*stage).output) }
    });
    // SAFETY: per the contract `out` points to this option type.
    unsafe { *out.cast::<Option<Result<F::Output, Panic>>>() = Some(output) };
}

/// # Safety
///
/// As for `take_output`, without `out`.
unsafe fn drop_output<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: liveness is the caller's contract.
    let cell = unsafe { cell::<F, S>(ptr) };
    let output = cell.stage.with_mut(|stage| {
        // SAFETY: per the contract the output is live and ours to drop.
        unsafe { ManuallyDrop::take(&mut (*stage).output) }
    });
    if let Err(payload) = &output {
        cell.scheduler
            .panic_never_retrieved(&cell.header, &***payload);
    }
    // Nobody reads this output, so nobody could receive a panic from its
    // Drop: swallow it rather than unwind through the executor.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(output)));
}

/// # Safety
///
/// The caller transfers one reference to the new `Runnable`.
unsafe fn schedule<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the reference the caller transfers keeps the cell alive.
    let scheduler = unsafe { &cell::<F, S>(ptr).scheduler };
    // SAFETY: the caller transfers one reference to the Runnable.
    scheduler.schedule(unsafe { Runnable::from_raw(ptr) });
}

/// # Safety
///
/// `ptr` is a live `Cell<F, S>`; the pointer returned is valid while it stays live.
unsafe fn scheduler<F: Future, S: Schedule>(ptr: NonNull<Header>) -> *const dyn Schedule {
    // SAFETY: liveness is the caller's contract.
    let scheduler: &dyn Schedule = unsafe { &cell::<F, S>(ptr).scheduler };
    scheduler
}

/// # Safety
///
/// The state says the task must be freed (no references, no handle,
/// completed) and the caller is the one party that observed it.
unsafe fn dealloc<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: allocated by `allocate` as a Box<Cell<F, S>>; nobody else holds it.
    let cell = unsafe { Box::from_raw(ptr.cast::<Cell<F, S>>().as_ptr()) };
    // Under loom, the free counts as a write to both cells, so loom checks
    // that it is ordered after every access to them on any thread (not while
    // unwinding from a failed check, when loom's own state is mid-access).
    #[cfg(loom)]
    if !std::thread::panicking() {
        cell.header.awaiter.with_mut(|_| ());
        cell.stage.with_mut(|_| ());
    }
    if cell.header.state.load().output_is_live() {
        // Normally the handle or the executor consumed the output already;
        // never leak one that is still live.
        let output = cell.stage.with_mut(|stage| {
            // SAFETY: the table in the module docs says `output` is live, and
            // we own the whole cell.
            unsafe { ManuallyDrop::take(&mut (*stage).output) }
        });
        let _ = catch_unwind(AssertUnwindSafe(move || drop(output)));
    }
    if cell.header.has_side_context() {
        // Its future was leaked with a context set aside (see `current.rs`).
        current::forget_side_context(&cell.header);
    }
    drop(cell);
}
