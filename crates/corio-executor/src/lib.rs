#![doc = include_str!("../README.md")]
//!
//! # Crate layout
//!
//! - `raw/`: the task allocation, its state machine, wakers, `Runnable` and
//!   `Task` (all the crate's `unsafe`).
//! - `spawn`: [`Builder`] and the [`Schedule`] trait.
//! - `local`: [`LocalExecutor`] and [`Spawner`].
//! - `park`: the [`Park`] hook.
//! - `info`, `error`: [`TaskInfo`], [`TaskId`], [`TaskError`].

mod error;
mod info;
mod local;
mod loom;
mod park;
mod raw;
mod registry;
mod spawn;

pub use error::{payload_message, TaskError, TaskId};
pub use info::{current_task, current_task_id, TaskInfo, TaskState};
pub use local::{LocalExecutor, SlowPoll, Spawner, UnretrievedPanic, MAINTENANCE_INTERVAL};
pub use park::{Park, ThreadPark};
pub use raw::{AbortHandle, Header, Runnable, Task};
pub use spawn::{Builder, Schedule};
