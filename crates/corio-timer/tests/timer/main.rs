//! corio-timer's integration tests, as one binary (it links the crate graph
//! once): a module per part (the wheel, the driver, each future, the
//! clocks), the wheel's proptest model as `wheel_model`, and the helpers
//! they share as `common`.
//!
//! proptest keeps the model's regression seeds in
//! `tests/proptest-regressions/wheel_model.txt` (its default
//! `FileFailurePersistence::SourceParallel`, with this `main.rs` as the
//! root).

mod clock;
mod driver;
mod instant;
mod interval;
mod sleep;
mod timeout;
mod timeout_reschedule;
mod wheel;
mod wheel_model;

mod common;
