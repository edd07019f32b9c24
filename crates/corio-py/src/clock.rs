//! `loop.time()`: `time.monotonic()`, read in Rust (the same clock, the same
//! float) so the loop's own deadline arithmetic never calls into Python.

use pyo3::prelude::*;
use rustix::time::{clock_gettime, ClockId};

/// Seconds on `CLOCK_MONOTONIC`, computed as CPython's `time.monotonic()`
/// does (integer nanoseconds divided by 1e9), so the two agree exactly.
pub(crate) fn now() -> f64 {
    let ts = clock_gettime(ClockId::Monotonic);
    // i64 as CPython's `PyTime_t` (an i128 would convert to f64 in software).
    let ns = ts.tv_sec * 1_000_000_000 + ts.tv_nsec;
    ns as f64 / 1e9
}

/// The resolution of [`now`] in seconds (`time.get_clock_info('monotonic')`).
pub(crate) fn resolution() -> f64 {
    let ts = rustix::time::clock_getres(ClockId::Monotonic);
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// `corio._corio.monotonic()`: the loop's clock, for tests and tools.
#[pyfunction]
pub(crate) fn monotonic() -> f64 {
    now()
}
