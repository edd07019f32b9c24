//! The typed task allocation: header, scheduler and the future's stage, and
//! the vtable functions that know their types.
//!
//! The stage holds the future while it runs and its output once it finished,
//! in place, so a task costs exactly one allocation.

use std::any::Any;
use std::cell::UnsafeCell;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::AtomicU32;
use std::task::{Context, Poll};

use super::header::{next_task_id, Header, TaskVTable, NO_SLOT};
use super::waker::borrowed_waker;
use crate::loom::AtomicUsize;
use crate::{Runnable, Schedule};

/// A caught panic payload, boxed once more so the stored output stays one word.
pub(crate) type Panic = Box<Box<dyn Any + Send + 'static>>;

/// What the task's storage holds.
pub(crate) enum Stage<F: Future> {
    /// The future, not finished yet.
    Running(F),
    /// The future's output, or the panic it raised.
    Finished(Result<F::Output, Panic>),
    /// The future was dropped by cancellation.
    Cancelled,
    /// The output was taken by the handle.
    Taken,
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
    };
}

/// Allocates a task with the given initial state and returns its header.
///
/// # Safety
///
/// The caller takes on the future's `'static` and `Send` obligations: the
/// future must not be polled or dropped after data it borrows is gone, and a
/// `!Send` future must only be polled and dropped on one thread.
pub(crate) unsafe fn allocate<F: Future, S: Schedule>(
    future: F,
    scheduler: S,
    state: usize,
    name: Option<Box<str>>,
    location: &'static Location<'static>,
    flags: u32,
) -> NonNull<Header> {
    let cell = Box::new(Cell {
        header: Header {
            state: AtomicUsize::new(state),
            vtable: &VTableFor::<F, S>::VTABLE,
            awaiter: UnsafeCell::new(None),
            id: next_task_id(),
            location,
            name: name.map(Box::new),
            slot: AtomicU32::new(NO_SLOT),
            flags: AtomicU32::new(flags),
        },
        scheduler,
        stage: UnsafeCell::new(Stage::Running(future)),
    });
    NonNull::from(Box::leak(cell)).cast()
}

/// # Safety
///
/// `ptr` is a live `Cell<F, S>`, and the state machine grants the caller
/// exclusive access to the stage (it set `RUNNING`, or the task is `COMPLETED`
/// and the caller owns the output).
unsafe fn stage<'a, F: Future, S>(ptr: NonNull<Header>) -> &'a mut Stage<F> {
    // SAFETY: the header is the first field of a `#[repr(C)]` Cell<F, S>, so
    // the pointer is the cell's; exclusivity is the caller's contract.
    unsafe { &mut *ptr.cast::<Cell<F, S>>().as_ref().stage.get() }
}

/// Drops the stage's current value where it lies (a pinned future must be
/// dropped in place), then writes `next`. A panic from the old value's `Drop`
/// is swallowed: the task's first outcome is the one reported.
///
/// # Safety
///
/// `stage` is initialised and exclusively owned by the caller.
unsafe fn replace_in_place<F: Future>(stage: &mut Stage<F>, next: Stage<F>) {
    let place: *mut Stage<F> = stage;
    // SAFETY: `place` is initialised; after this it is treated as uninitialised
    // until the write below, whether or not the drop panicked.
    let _ = catch_unwind(AssertUnwindSafe(|| unsafe {
        std::ptr::drop_in_place(place)
    }));
    // SAFETY: `place` is valid for writes and its old value was dropped above.
    unsafe { std::ptr::write(place, next) };
}

/// # Safety
///
/// `ptr` is a live `Cell<F, S>` whose state is `RUNNING` (set by the caller).
unsafe fn poll<F: Future, S: Schedule>(ptr: NonNull<Header>) -> bool {
    // SAFETY: RUNNING gives this call exclusive access to the stage.
    let stage = unsafe { stage::<F, S>(ptr) };
    let Stage::Running(future) = stage else {
        unreachable!("corio-executor: polled a task whose future is gone");
    };
    // SAFETY: the future lives inside the heap allocation and is never moved
    // out of it until it is dropped in place.
    let future = unsafe { Pin::new_unchecked(future) };
    // SAFETY: the Runnable being run holds a reference for the whole poll.
    let waker = ManuallyDrop::new(unsafe { borrowed_waker(ptr) });
    let mut cx = Context::from_waker(&waker);
    let outcome = catch_unwind(AssertUnwindSafe(|| future.poll(&mut cx)));
    let result = match outcome {
        Ok(Poll::Pending) => return false,
        Ok(Poll::Ready(output)) => Ok(output),
        Err(payload) => Err(Box::new(payload)),
    };
    // Drop the future in place before storing its output. A panic from its
    // Drop is swallowed: the first outcome is the one we report.
    // SAFETY: the stage holds the future, which we own exclusively.
    unsafe { replace_in_place(stage, Stage::Finished(result)) };
    // SAFETY: see above; the scheduler lives as long as the cell.
    let scheduler = unsafe { &ptr.cast::<Cell<F, S>>().as_ref().scheduler };
    // SAFETY: the header is live for the duration of the call.
    scheduler.release(unsafe { ptr.as_ref() });
    true
}

/// # Safety
///
/// `ptr` is a live `Cell<F, S>`; the caller has exclusive access to the stage
/// (the task is not running, and the caller won the right to drop it).
unsafe fn drop_future<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: exclusivity is the caller's contract.
    let stage = unsafe { stage::<F, S>(ptr) };
    if matches!(stage, Stage::Running(_)) {
        // SAFETY: the stage holds the future, which we own exclusively.
        unsafe { replace_in_place(stage, Stage::Cancelled) };
        // SAFETY: the scheduler lives as long as the cell.
        let scheduler = unsafe { &ptr.cast::<Cell<F, S>>().as_ref().scheduler };
        // SAFETY: the header is live for the duration of the call.
        scheduler.release(unsafe { ptr.as_ref() });
    }
}

/// # Safety
///
/// `ptr` is a live, `COMPLETED` `Cell<F, S>` whose output the caller (the
/// handle) owns; `out` points to an `Option<Result<F::Output, Panic>>`.
unsafe fn take_output<F: Future, S: Schedule>(ptr: NonNull<Header>, out: *mut ()) -> bool {
    // SAFETY: the handle owns a completed task's stage.
    let stage = unsafe { stage::<F, S>(ptr) };
    let out = out.cast::<Option<Result<F::Output, Panic>>>();
    match std::mem::replace(stage, Stage::Taken) {
        Stage::Finished(result) => {
            // SAFETY: the caller passes a valid, typed out-pointer.
            unsafe { *out = Some(result) };
            true
        }
        Stage::Cancelled => {
            *stage = Stage::Cancelled;
            true
        }
        Stage::Taken => false,
        Stage::Running(_) => unreachable!("corio-executor: output taken before completion"),
    }
}

/// # Safety
///
/// As for `take_output`.
unsafe fn drop_output<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller owns a completed task's stage.
    let stage = unsafe { stage::<F, S>(ptr) };
    if matches!(stage, Stage::Finished(_)) {
        let output = std::mem::replace(stage, Stage::Taken);
        // Nobody reads this output, so nobody could receive a panic from its
        // Drop: swallow it rather than unwind through the executor.
        let _ = catch_unwind(AssertUnwindSafe(move || drop(output)));
    }
}

/// # Safety
///
/// The caller transfers one reference to the new `Runnable`.
unsafe fn schedule<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the reference the caller transfers keeps the cell alive.
    let scheduler = unsafe { &ptr.cast::<Cell<F, S>>().as_ref().scheduler };
    // SAFETY: the caller transfers one reference to the Runnable.
    scheduler.schedule(unsafe { Runnable::from_raw(ptr) });
}

/// # Safety
///
/// The state says the task must be freed (no references, no handle,
/// completed) and the caller is the one party that observed it.
unsafe fn dealloc<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: allocated by `allocate` as a Box<Cell<F, S>>; nobody else holds it.
    drop(unsafe { Box::from_raw(ptr.cast::<Cell<F, S>>().as_ptr()) });
}
