//! corio-reactor's integration tests, one binary (rust-analyzer's `slow-tests`
//! layout): a module per behaviour, sharing the helpers in `common`.

mod common;

mod async_io;
mod deregister;
mod dup;
mod inq_reads;
mod notify;
mod partial_writes;
mod poll_timeout;
mod read_edges;
mod readiness;
mod short_reads;
#[cfg(all(target_os = "linux", feature = "io-uring"))]
mod uring;
mod waiters;
