//! How the loop runs a socket transport: the transport itself is the
//! ready-queue entry of its socket ([`Ready::Stream`](crate::handle::Ready),
//! queued by `io.rs` on each edge), so a connection needs no `Handle` and
//! no bound method (160 B per idle connection), and a readiness edge goes
//! from the loop's iteration to `_io_event` without the handle's run path.
//!
//! [`run_ready`] calls the transport (its `__call__` is `_io_event`) in the
//! transport's `contextvars.Context`, as a handle would (uvloop's rule:
//! every protocol callback runs in the context the transport was made
//! in); an exception other than `KeyboardInterrupt`/`SystemExit` goes to
//! the loop's exception handler with a handle's keys. In debug mode the
//! loop runs a [`debug_handle`] instead, so a slow read is logged and
//! `loop._current_handle` is set as for any callback.

use pyo3::exceptions::{PyKeyboardInterrupt, PySystemExit};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use super::SocketTransport;
use crate::callbacks;
use crate::handle::Handle;

/// The transport's context and loop (`None` once `connection_lost` ran).
fn context_and_loop(slf: &Bound<'_, SocketTransport>) -> Option<(PyObject, PyObject)> {
    let py = slf.py();
    let this = slf.borrow();
    let event_loop = this.event_loop.as_ref()?.clone_ref(py).into_any();
    Some((this.context.clone_ref(py), event_loop))
}

/// One readiness edge of the transport, run by the loop's iteration.
pub(crate) fn run_ready(slf: &Bound<'_, SocketTransport>) -> PyResult<()> {
    let py = slf.py();
    let Some((context, event_loop)) = context_and_loop(slf) else {
        return Ok(());
    };
    let context = context.into_bound(py);
    match callbacks::run_in_context(py, &context, slf.as_any(), None) {
        Ok(()) => Ok(()),
        Err(err) => {
            if err.is_instance_of::<PyKeyboardInterrupt>(py)
                || err.is_instance_of::<PySystemExit>(py)
            {
                return Err(err);
            }
            let handle = make_handle(slf, context.unbind(), event_loop.clone_ref(py))?;
            let event_loop = event_loop.bind(py);
            let info = callbacks::callback_error_context(
                py,
                &err,
                slf.as_any(),
                &PyTuple::empty(py),
                handle.as_any(),
                event_loop,
                None,
            )?;
            event_loop.call_method1(pyo3::intern!(py, "call_exception_handler"), (info,))?;
            Ok(())
        }
    }
}

/// A handle that runs the transport's IO event once (debug mode).
pub(crate) fn debug_handle<'py>(slf: &Bound<'py, SocketTransport>) -> PyResult<Bound<'py, Handle>> {
    let py = slf.py();
    let (context, event_loop) = match context_and_loop(slf) {
        Some(c) => c,
        None => (slf.borrow().context.clone_ref(py), py.None()),
    };
    make_handle(slf, context, event_loop)
}

fn make_handle<'py>(
    slf: &Bound<'py, SocketTransport>,
    context: PyObject,
    event_loop: PyObject,
) -> PyResult<Bound<'py, Handle>> {
    let py = slf.py();
    let callback = slf.getattr(pyo3::intern!(py, "_io_event"))?.unbind();
    Handle::create(
        py,
        Handle::with_args(callback, None, context, event_loop, None),
    )
}
