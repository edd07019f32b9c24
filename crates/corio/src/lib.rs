//! corio: Python's asyncio, rebuilt as a Rust async runtime.
//!
//! ```
//! use std::time::Duration;
//!
//! let total = corio::run(async {
//!     let a = corio::create_task(async { corio::sleep(Duration::from_millis(50)).await; 1 });
//!     let b = corio::create_task(async { 2 });
//!     a.await.unwrap() + b.await.unwrap()
//! });
//! assert_eq!(total, 3);
//! ```
//!
//! | asyncio | corio |
//! |---|---|
//! | `asyncio.run(main())` | [`run`]`(main())` |
//! | `asyncio.Runner()` | [`Runner`] |
//! | `asyncio.get_running_loop()` | [`get_running_loop`] → [`LoopHandle`] |
//! | `asyncio.create_task(coro)` | [`create_task`]`(fut)` → [`Task`] |
//! | `await asyncio.sleep(0)` | [`yield_now`]`().await` |
//! | `await asyncio.sleep(1)` | [`sleep`]`(Duration::from_secs(1)).await` |
//! | `asyncio.wait_for(aw, t)` | [`timeout`]`(t, fut).await` |
//! | `asyncio.to_thread(f)` | [`to_thread`]`(f).await` |
//! | `async with asyncio.TaskGroup()` | [`TaskGroup::scope`] |
//! | `asyncio.gather(*aws)` | [`gather`](fn@gather)`(futs).await`, [`gather!`](macro@gather) |
//! | `asyncio.wait(tasks, return_when=...)` | [`wait`]`(tasks, ReturnWhen::..., timeout).await` |
//! | `asyncio.as_completed(aws)` | [`as_completed`]`(futs)` (a `Stream`) |
//! | `asyncio.shield(aw)` | [`shield`]`(fut).await` |
//! | `loop.call_soon(cb)` | [`LoopHandle::call_soon`] |
//! | `asyncio.open_connection(host, port)` | [`open_connection`]`((host, port)).await` → ([`StreamReader`], [`StreamWriter`]) |
//! | `loop.set_debug(True)`, `PYTHONASYNCIODEBUG=1` | [`Builder::debug`], `CORIO_DEBUG=1` |
//! | `python -m asyncio pstree <pid>` | [`debug::dump_tasks`], [`debug::install_dump_on_signal`] |
//! | `loop.add_signal_handler(sig, cb)` | [`LoopHandle::add_signal_handler`], [`signal::Signals`] |
//! | `asyncio.start_server(cb, host, port)` | [`start_server`]`(cb, addr).await` → [`Server`] |
//! | `asyncio.create_subprocess_exec(prog, *args)` | [`process::create_subprocess_exec`]`(prog, args).await` → [`process::Child`] |
//! | `asyncio.create_subprocess_shell(cmd)` | [`process::create_subprocess_shell`]`(cmd).await` |
//!
//! Scheduling is asyncio's, and deterministic: one FIFO queue holds ready
//! tasks and callbacks, in arrival order (a `call_soon_threadsafe` from
//! another thread that came first runs first); each iteration runs what was
//! ready when it began. Due `call_later`/`call_at` callbacks join the queue
//! in deadline order, after what is already there, whenever the loop looks
//! at its timers: each time it would wait for IO, and every 61 polls while
//! it stays busy (asyncio looks every iteration; corio saves that clock read
//! and `epoll_wait` on a busy loop, so a due timer may run up to 61 polls
//! later than asyncio's would).
//! Cancellation is Rust's: [`Task::cancel`] drops the future at the next
//! scheduling point, so cleanup lives in `Drop`.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod blocking;
pub mod context;
pub mod debug;
pub mod fs;
#[cfg(feature = "hyper")]
pub mod hyper;
pub mod io;
pub mod net;
pub mod process;
pub mod protocol;
mod runtime;
pub mod signal;
pub mod streams;
pub mod task;
pub mod time;
mod to_thread;

pub use runtime::context::{get_running_loop, try_get_running_loop};
pub use runtime::event_loop::EventLoop;
pub use runtime::exception_handler::{default_exception_handler, LoopError, LoopErrorKind};
pub use runtime::handle::{CallbackHandle, LoopHandle};
pub use runtime::runner::{run, Builder, Runner};
pub use runtime::threadsafe::ThreadsafeTask;
pub use streams::StreamFeeder;
pub use streams::{
    open_connection, open_unix_connection, start_server, start_unix_server, Server, StreamError,
    StreamReader, StreamWriter,
};
pub use task::{
    all_tasks, create_local_task, create_task, current_task, yield_now, Failure, NestedGroupError,
    Task, TaskError, TaskGroup, TaskGroupError, TaskId, TaskInfo,
};
pub use task::{
    as_completed, gather, shield, try_gather, wait, AsCompleted, AsCompletedTimeout, ReturnWhen,
};
pub use time::{interval, sleep, sleep_until, timeout, timeout_at, Elapsed};
pub use to_thread::to_thread;

#[cfg(feature = "macros")]
pub use corio_macros::{main, test};

/// asyncio's synchronization primitives and queues (the `corio-sync` crate).
#[doc(inline)]
pub use corio_sync as sync;

/// The repository README's examples, compiled and run as doctests.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// This crate's README examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct CrateReadmeDoctests;

/// The TaskGroup guide's examples (docs/taskgroup.md), compiled and run as doctests.
#[doc = include_str!("../../../docs/taskgroup.md")]
#[cfg(doctest)]
pub struct TaskGroupGuideDoctests;

/// The worker-threads guide's examples (docs/multithread.md), compiled and run as doctests.
#[doc = include_str!("../../../docs/multithread.md")]
#[cfg(doctest)]
pub struct MultithreadGuideDoctests;
