//! Nothing here: the crate exists for its tests (`tests/`), which run
//! tokio-based libraries on corio's loop with the `tokio` feature.
