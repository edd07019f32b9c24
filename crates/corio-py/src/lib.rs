//! `corio._corio`: the Rust core of corio's asyncio event loop for CPython.
//!
//! The Python package `corio` (in `python/corio/`) builds its `EventLoop` on
//! [`Loop`](event_loop::Loop), which owns what runs per callback: the FIFO
//! ready queue of [`Handle`](handle::Handle)s, the timer heap, one asyncio
//! iteration (`_run_once`, with the GIL released while waiting) and the fd
//! callbacks on a [`corio_reactor::Reactor`]. Everything else of the
//! `AbstractEventLoop` API comes from asyncio's own Python classes; see
//! `docs/python.md`.

use pyo3::prelude::*;

mod callbacks;
mod clock;
mod event_loop;
mod handle;
mod io;
mod run_once;
// loop.sock_* in Rust (py-sock).
mod sock;
mod sys;
mod timers;
// The Rust socket transport (py-transport).
mod transport;

/// The extension module `corio._corio`.
#[pymodule]
fn _corio(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<event_loop::Loop>()?;
    m.add_class::<handle::Handle>()?;
    m.add_class::<handle::TimerHandle>()?;
    m.add_function(wrap_pyfunction!(clock::monotonic, m)?)?;
    // The Rust socket transport (py-transport).
    m.add_class::<transport::SocketTransport>()?;
    // loop.sock_* in Rust (py-sock).
    sock::add_functions(m)?;
    Ok(())
}
