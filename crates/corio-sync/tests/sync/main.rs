//! corio-sync's integration tests, as one binary (it links the crate graph
//! once): a module per primitive or behaviour, the proptest models as
//! `model_*`, and the helpers they share as `*_support` modules.
//!
//! proptest keeps the models' regression seeds in
//! `tests/proptest-regressions/<module>.txt` (its default
//! `FileFailurePersistence::SourceParallel`, with this `main.rs` as the
//! root). The loom models are a separate binary, `tests/loom.rs`.

mod barrier;
mod broadcast;
mod cancel;
mod channel;
mod condition;
mod event;
mod granted_waiters;
mod lifo_priority;
mod lock;
mod model_barrier;
mod model_channel;
mod model_lock;
mod model_queue;
mod model_signal;
mod promise;
mod promise_callbacks;
mod queue;
mod runtime_agnostic;
mod rwlock;
mod semaphore;
mod watch;

mod lock_support;
mod queue_support;
mod signal_support;
