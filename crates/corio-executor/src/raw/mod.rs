//! The raw task: every `unsafe` line of the crate lives under this module.
//!
//! A task is one heap allocation: a [`Header`] (state word, vtable, awaiter
//! waker, id, spawn location, name, registry slot), the scheduler, and the
//! future's stage, which holds the future and later its output in place.
//! Wakers are the header pointer plus a static vtable, so they never allocate.
//!
//! - `state.rs`: the state machine, the only code that changes the state word.
//! - `cell.rs`: the typed allocation and its vtable; `header.rs` its front.
//! - `runnable.rs`, `handle.rs`, `waker.rs`, `awaiter.rs`: the parties that
//!   hold a task (Runnable, `Task`/`AbortHandle`, wakers, the awaiter slot).
//! - `current.rs`: the task this thread polls, for introspection.
//! - `done_callbacks.rs`: done-callbacks (side table, hidden task that runs them).
//! - `builder.rs`: allocating a task ([`Builder`]).
//! - `task_list.rs`, `local_scheduler.rs`: the local executor's registry of
//!   uncounted task pointers, and its scheduler (thread confinement,
//!   spawning `!Send` and borrowing futures, dropping futures at close).
//! - `multi_scheduler.rs`: the work-stealing executor's scheduler core
//!   (worker slots and their queues, the injector, the sharded registry,
//!   local tasks pinned to their worker).
//!
//! Safe wrappers outside: `LocalExecutor` and `Spawner` in `crate::local`.
//! `tests/loom.rs` model-checks the state machine.

pub(crate) mod awaiter;
pub(crate) mod builder;
pub(crate) mod cell;
#[cfg(feature = "console")]
pub(crate) mod console_waker;
pub(crate) mod current;
pub(crate) mod done_callbacks;
pub(crate) mod handle;
pub(crate) mod header;
pub(crate) mod local_scheduler;
pub(crate) mod multi_scheduler;
pub(crate) mod runnable;
pub(crate) mod state;
pub(crate) mod task_list;
pub(crate) mod waker;

pub use builder::Builder;
pub use current::{current_task, current_task_id};
pub use handle::{AbortHandle, Task};
pub use header::Header;
pub(crate) use local_scheduler::{LocalScheduler, OwnerState};
pub(crate) use multi_scheduler::MultiScheduler;
pub use runnable::Runnable;
pub(crate) use task_list::TaskList;
