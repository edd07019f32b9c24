#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
//!
//! # Crate layout
//!
//! - `raw/`: the task allocation, its state machine (`raw/state.rs`),
//!   wakers, `Runnable`, `Task`, the [`Builder`], and the local executor's
//!   scheduler core: all the crate's `unsafe`.
//! - `schedule`: the [`Schedule`] trait.
//! - `local/`: [`LocalExecutor`] and the debug hooks.
//! - `multi/`: the work-stealing [`Executor`]: worker loop, stealing, idle
//!   workers and the driver hand-off (its scheduler core is in `raw/`).
//! - `spawner`: the [`Spawner`] handle, for both executors.
//! - `teardown`: dropping tasks a closed executor rejects, with bounded stack.
//! - `park`: the [`Park`] hook.
//! - `registry`: the spawn stamps of the local executor's live tasks.
//! - `console` (feature `console`): the `runtime.spawn` span and waker
//!   events tokio-console reads.
//! - `shared_task`: [`SharedTask`], a task awaited from many places.
//! - `info`, `error`: [`TaskInfo`] (state, poll count, age), [`TaskId`], [`TaskError`].

#[cfg(feature = "console")]
mod console;
mod error;
mod info;
mod local;
mod loom;
mod multi;
mod park;
mod raw;
mod registry;
mod schedule;
mod shared_task;
mod spawner;
mod teardown;

#[cfg(feature = "console")]
pub use console::CONSOLE_SPAN_TARGET;
pub use error::{payload_message, TaskError, TaskId};
pub use info::{TaskInfo, TaskState};
pub use local::{
    LocalExecutor, SlowPoll, UnretrievedPanic, MAINTENANCE_INTERVAL, TASK_SPAN_TARGET,
};
pub use multi::{Executor, ExecutorBuilder, MAX_WORKERS};
pub use park::{Park, ThreadPark};
pub use raw::{current_task, current_task_id, AbortHandle, Builder, Header, Runnable, Task};
pub use schedule::Schedule;
pub use shared_task::SharedTask;
pub use spawner::Spawner;
