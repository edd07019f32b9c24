//! `LocalExecutor`: asyncio's single-threaded scheduling, deterministic.
//!
//! Invariants:
//! - One FIFO run queue touched only by the owner thread. Wakes from other
//!   threads go to a lock-free injector, drained at the start of every
//!   iteration and before every spawn on the owner thread (so new tasks
//!   and callbacks keep arrival order across threads, as in asyncio's one
//!   ready deque), and call the unpark callback (see `raw/local_scheduler.rs`,
//!   which owns the queues, the registry and thread confinement).
//! - An iteration runs exactly the tasks that were queued when it began;
//!   whatever they wake or spawn runs in the next iteration, in that order.
//! - Every task that has not completed is in the registry; `close` drops
//!   them all on the owner thread, so a `!Send` future never leaves it.
//! - The executor never blocks except inside `Park::park(None)`, and only
//!   when both queues are empty.
//! - Introspection costs the hot paths almost nothing (see `registry.rs`
//!   and `hooks.rs`).
//!
//! Files: `executor.rs` the executor and its run loop, `hooks.rs` what a
//! poll runs inside (span, debug hooks), `task_spans.rs` the opt-in per-task
//! spans; the last two are shared with the multi-threaded executor.
//! The cross-thread [`Spawner`](crate::Spawner) is `crate::spawner`.

mod executor;
mod hooks;
pub(crate) mod task_spans;

pub use executor::{LocalExecutor, MAINTENANCE_INTERVAL};
pub(crate) use hooks::{run_hooked, run_step, spans_for_iteration};
pub use hooks::{SlowPoll, UnretrievedPanic, TASK_SPAN_TARGET};
