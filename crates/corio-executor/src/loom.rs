//! The one switch between std's and loom's atomics.
//!
//! The task state machine takes its atomics from here, so `RUSTFLAGS="--cfg loom"`
//! lets loom explore every interleaving of wake, poll, cancel and join (see
//! `tests/loom.rs`). Nothing else in the crate names `std::sync::atomic` for
//! state that loom should model.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicUsize, Ordering};

/// Backs off inside a short spin (the awaiter slot lock). Under loom this
/// yields to the model so it can schedule the lock holder.
#[inline]
pub(crate) fn spin_wait(round: u32) {
    #[cfg(loom)]
    {
        let _ = round;
        loom::thread::yield_now();
    }
    #[cfg(not(loom))]
    {
        if round < 16 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}
