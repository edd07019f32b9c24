//! The facade's behaviour tests, one binary (each module one behaviour).
//!
//! The top-level `tests/*.rs` files are binaries of their own, each saying why
//! in its first line: `ctrl_c.rs`, `signal.rs`, `signal_stress.rs`, `process.rs`,
//! `process_fallback.rs`, `stress.rs` and `task_spans.rs`; and `hyper.rs` and
//! `console.rs`, built only with their features.

mod as_completed;
mod callback_order;
mod callbacks;
#[path = "../common/mod.rs"]
mod common;
mod context;
mod debug_dump;
mod debug_mode;
mod eager;
mod eager_group;
mod exception_handler;
mod fd_callbacks;
mod fs;
mod gather;
mod io_util;
#[cfg(feature = "macros")]
mod macros;
mod net_read_hint;
mod net_tcp;
mod net_udp;
mod net_unix;
#[cfg(all(target_os = "linux", feature = "io-uring"))]
mod net_uring;
mod net_writev;
mod promise_api;
mod protocol;
mod runner;
mod shield;
mod stream_feed;
mod streams;
mod sync;
mod sync_channels;
mod task_api;
mod task_group;
mod task_logs;
mod tasks;
mod time;
mod timeout_api;
mod to_thread;
mod virtual_time;
mod wait;
mod workers;
