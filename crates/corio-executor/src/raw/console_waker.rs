//! (Feature `console`.) The waker a task's future sees while tokio-console
//! instrumentation is on: it forwards to the task's own waker and reports
//! each operation as a `tracing` event tokio-console understands.
//!
//! console-subscriber 0.5 reads events with target `runtime::waker`, a
//! string field `op` (`waker.wake`, `waker.wake_by_ref`, `waker.clone`,
//! `waker.drop`) and a `u64` field `task.id` holding the task span's tracing
//! id (`Span::id().into_u64()`). It counts a task's live wakers as clones
//! minus drops (a wake by value counts as a drop), and tokio-console flags a
//! pending task with no live waker as having lost its waker. So clones and
//! drops must be seen too, which `std::task::Wake` cannot do: hence this
//! hand-written vtable over an `Arc`, the same shape as std's `Wake` impl,
//! with one event per operation. As in tokio, the waker lent to a poll
//! (`waker_ref`) is not counted; only clones of it are.

use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::sync::Arc;
use std::task::{RawWaker, RawWakerVTable, Waker};

/// The `tracing` target of waker events (console-subscriber's).
const WAKER_TARGET: &str = "runtime::waker";

/// What a console waker points to: the task's waker, and the id of the
/// task's `runtime.spawn` span.
#[derive(Debug)]
pub(crate) struct ConsoleWaker {
    inner: Waker,
    span_id: u64,
}

impl ConsoleWaker {
    /// Wraps `inner` (the task's waker) for the task whose span has id `span_id`.
    pub(crate) fn new(inner: Waker, span_id: u64) -> Arc<ConsoleWaker> {
        Arc::new(ConsoleWaker { inner, span_id })
    }

    /// Whether this wraps a waker that wakes the same task as `waker`.
    #[inline]
    pub(crate) fn will_wake(&self, waker: &Waker) -> bool {
        self.inner.will_wake(waker)
    }
}

/// Reports one waker operation to console-subscriber.
#[inline]
fn emit(op: &'static str, span_id: u64) {
    tracing::trace!(target: WAKER_TARGET, op = op, task.id = span_id);
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// A `Waker` borrowed from an `Arc<ConsoleWaker>` for the length of a poll:
/// it owns no reference count and is never dropped (so it reports no drop).
pub(crate) struct WakerRef<'a> {
    waker: ManuallyDrop<Waker>,
    _shared: PhantomData<&'a Arc<ConsoleWaker>>,
}

impl Deref for WakerRef<'_> {
    type Target = Waker;

    #[inline]
    fn deref(&self) -> &Waker {
        &self.waker
    }
}

/// Lends a waker over `shared` for as long as the borrow lasts.
#[inline]
pub(crate) fn waker_ref(shared: &Arc<ConsoleWaker>) -> WakerRef<'_> {
    let data = Arc::as_ptr(shared).cast::<()>();
    // SAFETY: `data` points to a live `ConsoleWaker` in an `Arc` for at least
    // 'a (the borrow of `shared`), and the vtable's functions uphold the
    // `RawWaker` contract for such a pointer: `clone` takes a new strong
    // count, `wake` and `drop_waker` give one back, `wake_by_ref` only reads.
    // The `ManuallyDrop` keeps this borrowed waker, which owns no count, from
    // giving one back; a clone made from it owns its own count.
    let waker = unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) };
    WakerRef {
        waker: ManuallyDrop::new(waker),
        _shared: PhantomData,
    }
}

/// # Safety
///
/// `data` comes from `Arc::<ConsoleWaker>::as_ptr` (or `into_raw`) of an
/// `Arc` that stays alive while the returned reference is used.
unsafe fn shared<'a>(data: *const ()) -> &'a ConsoleWaker {
    // SAFETY: forwarded to the caller.
    unsafe { &*data.cast::<ConsoleWaker>() }
}

/// # Safety
///
/// `data` is a live console waker's pointer (from `waker_ref` or `clone`).
unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned keeps the Arc alive (it is either a
    // `WakerRef` whose borrow outlives it or an owned clone), so the strong
    // count is at least one; the new count belongs to the returned waker.
    unsafe { Arc::increment_strong_count(data.cast::<ConsoleWaker>()) };
    // SAFETY: as above, the Arc is alive.
    emit("waker.clone", unsafe { shared(data) }.span_id);
    RawWaker::new(data, &VTABLE)
}

/// # Safety
///
/// `data` is the pointer of an owned console waker (one made by `clone`);
/// this consumes its strong count.
unsafe fn wake(data: *const ()) {
    // SAFETY: an owned waker holds one strong count, which we take over.
    let shared = unsafe { Arc::from_raw(data.cast::<ConsoleWaker>()) };
    emit("waker.wake", shared.span_id);
    match Arc::try_unwrap(shared) {
        Ok(last) => last.inner.wake(),
        Err(shared) => shared.inner.wake_by_ref(),
    }
}

/// # Safety
///
/// `data` is a live console waker's pointer.
unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: the waker being woken keeps the Arc alive for this call.
    let shared = unsafe { shared(data) };
    emit("waker.wake_by_ref", shared.span_id);
    shared.inner.wake_by_ref();
}

/// # Safety
///
/// `data` is the pointer of an owned console waker (one made by `clone`);
/// this gives back its strong count.
unsafe fn drop_waker(data: *const ()) {
    // SAFETY: the waker being dropped holds a strong count until the line below.
    emit("waker.drop", unsafe { shared(data) }.span_id);
    // SAFETY: an owned waker holds exactly one strong count, given back once.
    unsafe { Arc::decrement_strong_count(data.cast::<ConsoleWaker>()) };
}
