//! Separate binary: built only under `--cfg loom` (loom's atomics), run by `cargo xtask loom`.
//!
//! The loom models of corio-sync's waiter lists and primitives, run with
//! `RUSTFLAGS="--cfg loom" cargo test --release -p corio-sync --test loom`
//! (or `cargo xtask loom`). One module per primitive family.
#![cfg(loom)]

#[path = "loom/channel.rs"]
mod channel;
#[path = "loom/lock.rs"]
mod lock;
#[path = "loom/queue.rs"]
mod queue;
#[path = "loom/rwlock.rs"]
mod rwlock;
#[path = "loom/signal.rs"]
mod signal;
