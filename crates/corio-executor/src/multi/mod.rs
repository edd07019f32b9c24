//! The work-stealing multi-threaded [`Executor`].
//!
//! - `executor.rs`: the public [`Executor`] and [`ExecutorBuilder`]:
//!   starting and joining the worker threads, `block_on`, closing.
//! - `worker.rs`: one worker's loop: what to run next (its pinned local
//!   tasks, its local queue, the injector every 61 ticks and when empty),
//!   stealing half of another worker's queue, maintenance turns of the
//!   driver, and going to sleep.
//! - `idle.rs`: which workers sleep and which search, waking one worker per
//!   new batch of work (no thundering herd), and each slot's [`Parker`]
//!   (sleeping on the thread, or in the shared driver).
//!
//! The scheduler core they share (queues, registry, `Schedule`) is
//! `raw/multi_scheduler.rs`, where the crate's `unsafe` lives.

mod executor;
mod idle;
mod worker;

pub use executor::{Executor, ExecutorBuilder, MAX_WORKERS};
pub(crate) use idle::{Idle, Parker};
pub(crate) use worker::WATCH_LIFO;
