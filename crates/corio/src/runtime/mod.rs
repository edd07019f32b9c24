//! The event loop and its runners: how a program enters corio.
//!
//! - `runner`: `run`, `Runner`, `Builder` (asyncio.run / asyncio.Runner).
//! - `event_loop`: `EventLoop`, the loop itself.
//! - `handle`: `LoopHandle` and `CallbackHandle`, the thread-safe face.
//! - `threadsafe`: `ThreadsafeTask`, for `run_coroutine_threadsafe`.
//! - `driver`: the executor's `Park`: timers and reactor.
//! - `context`: the thread-local running loop.

pub(crate) mod context;
pub(crate) mod driver;
pub(crate) mod event_loop;
pub(crate) mod exception_handler;
mod fd_callbacks;
pub(crate) mod handle;
pub(crate) mod runner;
pub(crate) mod threadsafe;
pub(crate) mod timer_callbacks;
#[cfg(feature = "tokio")]
pub(crate) mod tokio_bridge;
