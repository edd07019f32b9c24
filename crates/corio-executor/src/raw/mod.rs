//! The raw task: every `unsafe` line of the crate lives under this module.
//!
//! A task is one heap allocation: a [`Header`] (state word, vtable, awaiter
//! waker, id, spawn location, name, scheduler slot), the scheduler, and the
//! future's stage, which holds the future and later its output in place.
//! Wakers are the header pointer plus a static vtable, so they never allocate.
//!
//! Safe wrappers: [`Runnable`] (the right to poll once), [`Task`] (the
//! handle), and `spawn` in `crate::spawn`. The state machine is described in
//! `state.rs`; `tests/loom.rs` model-checks it.

pub(crate) mod cell;
#[cfg(feature = "console")]
pub(crate) mod console_waker;
pub(crate) mod handle;
pub(crate) mod header;
pub(crate) mod runnable;
pub(crate) mod state;
pub(crate) mod waker;

pub use handle::{AbortHandle, Task};
pub use header::Header;
pub use runnable::Runnable;
