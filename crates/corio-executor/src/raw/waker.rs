//! Wakers that point at the task header: no allocation, one atomic per clone.
//!
//! A waker owns one reference. Waking schedules the task unless it is already
//! scheduled, running (then the poller reschedules it), completed or closed.

use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::header::Header;
use super::state::Wake;

static WAKER_VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// Makes a waker for `ptr` WITHOUT taking a reference: the result must be
/// wrapped in `ManuallyDrop` and must not outlive a reference the caller holds.
///
/// # Safety
///
/// The caller holds a reference for as long as the waker (not its clones) is used.
pub(crate) unsafe fn borrowed_waker(ptr: NonNull<Header>) -> Waker {
    // SAFETY: the vtable's functions uphold the RawWaker contract for a header
    // pointer with a counted reference; the caller's reference covers this one.
    unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr() as *const (), &WAKER_VTABLE)) }
}

unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: `data` is a header pointer kept alive by the waker being cloned.
    let header = unsafe { &*(data as *const Header) };
    header.state.ref_inc();
    RawWaker::new(data, &WAKER_VTABLE)
}

unsafe fn wake(data: *const ()) {
    // SAFETY: `data` is a live header pointer; this waker owns a reference.
    let ptr = unsafe { NonNull::new_unchecked(data as *mut Header) };
    // SAFETY: the waker's reference keeps the header alive until we give it away.
    let header = unsafe { ptr.as_ref() };
    match header.state.wake_by_val() {
        // SAFETY: our reference and the SCHEDULED bit move into the Runnable.
        Wake::Schedule => unsafe { (header.vtable.schedule)(ptr) },
        // SAFETY: we own one reference and give it up.
        Wake::DropRef => unsafe { drop_ref(ptr) },
    }
}

unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: `data` is a header pointer kept alive by the caller's waker.
    let ptr = unsafe { NonNull::new_unchecked(data as *mut Header) };
    // SAFETY: as above.
    unsafe { schedule_by_ref(ptr) }
}

/// Schedules the task if it is idle, taking a new reference for the Runnable.
///
/// # Safety
///
/// The caller keeps the header alive for the duration of the call.
pub(crate) unsafe fn schedule_by_ref(ptr: NonNull<Header>) {
    // SAFETY: the caller keeps the header alive.
    let header = unsafe { ptr.as_ref() };
    if header.state.wake_by_ref() {
        // SAFETY: the reference and SCHEDULED bit just added move into the Runnable.
        unsafe { (header.vtable.schedule)(ptr) };
    }
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: `data` is a live header pointer; this waker owns a reference.
    unsafe { drop_ref(NonNull::new_unchecked(data as *mut Header)) }
}

/// Gives up one reference, freeing the task if that was the last thing holding it.
///
/// # Safety
///
/// The caller owns one reference to `ptr` and does not use it afterwards.
pub(crate) unsafe fn drop_ref(ptr: NonNull<Header>) {
    // SAFETY: the reference we hold keeps the header alive until `ref_dec`.
    let header = unsafe { ptr.as_ref() };
    let vtable = header.vtable;
    if header.state.ref_dec() {
        // SAFETY: our decrement produced the free state; nobody else can see it.
        unsafe { (vtable.dealloc)(ptr) };
    }
}
