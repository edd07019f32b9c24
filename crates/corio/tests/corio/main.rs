//! The facade's behaviour tests, one binary (each module one behaviour).
//!
//! The top-level `tests/*.rs` files are binaries of their own, each saying why
//! in its first line: `ctrl_c.rs`, `signal.rs`, `signal_stress.rs`, `process.rs`,
//! `process_fallback.rs`, `stress.rs` and `task_spans.rs`.
//!
//! `hyper` and `console` are built only with their features; CI runs them as
//! `cargo test -p corio --features hyper --test corio -- hyper::` (and
//! `console::`), so the rest of the binary does not run twice.

mod as_completed;
mod callbacks;
#[path = "../common/mod.rs"]
mod common;
#[cfg(feature = "console")]
mod console;
mod debug_dump;
mod debug_mode;
mod gather;
#[cfg(feature = "hyper")]
mod hyper;
mod net_tcp;
mod net_udp;
mod net_unix;
mod runner;
mod shield;
mod streams;
mod sync;
mod task_group;
mod tasks;
mod time;
mod to_thread;
mod virtual_time;
mod wait;
