#![doc = include_str!("../README.md")]
//!
//! # Crate layout
//!
//! - `raw/`: the task allocation, its state machine, wakers, `Runnable` and
//!   `Task` (all the crate's `unsafe`).
//! - `spawn`: [`Builder`] and the [`Schedule`] trait.
//! - `local`: [`LocalExecutor`] and [`Spawner`].
//! - `park`: the [`Park`] hook.
//! - `registry`: the local executor's live tasks and their spawn stamps.
//! - `console` (feature `console`): the `runtime.spawn` span and waker
//!   events tokio-console reads.
//! - `info`, `error`: [`TaskInfo`] (state, poll count, age), [`TaskId`], [`TaskError`].

#[cfg(feature = "console")]
mod console;
mod error;
mod info;
mod local;
mod loom;
mod park;
mod raw;
mod registry;
mod spawn;

#[cfg(feature = "console")]
pub use console::CONSOLE_SPAN_TARGET;
pub use error::{payload_message, TaskError, TaskId};
pub use info::{current_task, current_task_id, TaskInfo, TaskState};
pub use local::{
    LocalExecutor, SlowPoll, Spawner, UnretrievedPanic, MAINTENANCE_INTERVAL, TASK_SPAN_TARGET,
};
pub use park::{Park, ThreadPark};
pub use raw::{AbortHandle, Header, Runnable, Task};
pub use spawn::{Builder, Schedule};
