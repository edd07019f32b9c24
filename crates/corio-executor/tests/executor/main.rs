//! The executor's behaviour tests, one binary (each module one behaviour).
//! `leaks.rs` and `loom.rs` are separate binaries: see their first lines.

mod abort;
mod block_on;
mod cancel;
mod close;
#[path = "../common/mod.rs"]
mod common;
#[cfg(feature = "console")]
mod console_cfg;
mod current;
mod debug_hooks;
mod detach;
mod done_callbacks;
mod eager;
mod harness;
mod introspection;
mod multi;
mod multi_blocked;
mod multi_close;
mod multi_stress;
mod multi_stress_kit;
mod ordering;
mod panic;
mod reentrancy;
mod result;
mod retained_wakers;
mod self_cancel;
mod shared_task;
mod spans;
mod spawner;
mod stress;
mod task_context;
mod task_error;
mod task_names;
mod wake;
