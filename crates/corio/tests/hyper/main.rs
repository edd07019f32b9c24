//! Separate binary: built only with the `hyper` feature; as a module of tests/corio/ it would
//! make CI compile that whole binary once more for the feature (measured: +10 s on 2 cores).
//!
//! hyper 1.x on corio (the `hyper` feature), all on a plain `corio::run` loop with no tokio
//! runtime anywhere: CI builds this without corio's `tokio` feature, so anything in hyper,
//! hyper-util or axum that reached for a tokio runtime would panic here ("there is no reactor
//! running, must be called from the context of a Tokio 1.x runtime").
//!
//! - `conn`: hyper's connection builders over `HyperIo`, `CorioExecutor`, `CorioTimer`.
//! - `client`: hyper-util's pooled client on `corio::hyper::Connector` against
//!   `corio::hyper::serve`: connection reuse, HTTP/2, connector errors.
//! - `server`: `corio::hyper::serve`'s graceful shutdown.
//! - `axum_app`: an axum Router served by `corio::hyper::serve`.
#![cfg(feature = "hyper")]

mod axum_app;
mod client;
mod common;
mod conn;
mod server;
