//! The crate's one test binary: tokio-based libraries on corio.

mod tokio_libraries;
