//! The read side of the socket transport: one `recv` per readable edge,
//! `data_received(bytes)` or `get_buffer`/`buffer_updated`, and EOF; how
//! a protocol is called for reads ([`Receiver`], set with the protocol).
//!
//! A short read clears the source's read readiness (the reactor's
//! `poll_read_stream_with`), and the waker is stored for the next edge; a
//! full read leaves it set and the transport wakes itself, so the next
//! iteration reads again (one read per iteration, as asyncio).

use std::cell::Cell;
use std::os::fd::AsFd;
use std::task::{Context, Poll};

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::PyBytes;

use super::{close, is_exit, os_error, SocketTransport, READ_SIZE};
use crate::sys;

thread_local! {
    /// The read buffer of every transport on this thread (a loop runs on
    /// one): lent for one `recv` and given back once its bytes are copied
    /// into a `bytes` object, before any Python code runs. So an idle
    /// connection holds no buffer (uvloop keeps one per loop too); each
    /// kept its own 256 KiB before, 270 KB of RSS per idle connection.
    static READ_BUF: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// How a read reaches the protocol (found once per `set_protocol`).
pub(super) enum Receiver {
    /// `data_received` is a plain function of the protocol's class: called
    /// as `function(protocol, data)`, so a connection keeps no bound method
    /// (64 B per idle connection).
    Function(PyObject),
    /// Any other `data_received` (an instance attribute, a C method),
    /// bound once.
    Bound(PyObject),
    /// The protocol has no `data_received` (a read is a fatal error).
    Missing,
    /// A `BufferedProtocol`: `get_buffer` and `buffer_updated`.
    Buffered,
}

impl Receiver {
    pub(super) fn object(&self) -> Option<&PyObject> {
        match self {
            Receiver::Function(f) | Receiver::Bound(f) => Some(f),
            Receiver::Missing | Receiver::Buffered => None,
        }
    }
}

/// `types.FunctionType` and `types.MethodType`.
fn function_types(py: Python<'_>) -> PyResult<&(PyObject, PyObject)> {
    static CELL: GILOnceCell<(PyObject, PyObject)> = GILOnceCell::new();
    CELL.get_or_try_init(py, || {
        let types = py.import("types")?;
        Ok::<_, PyErr>((
            types.getattr("FunctionType")?.unbind(),
            types.getattr("MethodType")?.unbind(),
        ))
    })
}

/// `asyncio.BufferedProtocol`.
fn buffered_protocol_type(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static CELL: GILOnceCell<PyObject> = GILOnceCell::new();
    CELL.get_or_try_init(py, || {
        Ok::<_, PyErr>(
            py.import("asyncio.protocols")?
                .getattr("BufferedProtocol")?
                .unbind(),
        )
    })
    .map(|o| o.bind(py))
}

/// How reads reach `protocol` (see [`Receiver`]).
pub(super) fn receiver(protocol: &Bound<'_, PyAny>) -> PyResult<Receiver> {
    let py = protocol.py();
    if protocol.is_instance(buffered_protocol_type(py)?)? {
        return Ok(Receiver::Buffered);
    }
    let Ok(bound) = protocol.getattr(pyo3::intern!(py, "data_received")) else {
        return Ok(Receiver::Missing);
    };
    let (function_type, method_type) = function_types(py)?;
    if bound.get_type().is(method_type.bind(py))
        && bound.getattr(pyo3::intern!(py, "__self__"))?.is(protocol)
    {
        let function = bound.getattr(pyo3::intern!(py, "__func__"))?;
        if function.get_type().is(function_type.bind(py)) {
            return Ok(Receiver::Function(function.unbind()));
        }
    }
    Ok(Receiver::Bound(bound.unbind()))
}

/// What one read attempt gave.
enum Outcome {
    Data(usize),
    Eof,
    Failed(std::io::Error),
    Pending,
}

impl SocketTransport {
    fn wants_read(&self) -> bool {
        self.conn_lost == 0 && !self.closing && !self.paused && !self.read_eof && self.io.is_some()
    }

    /// One non-blocking `recv` into `buf` (pure Rust: called under the
    /// borrow). Re-arms the waker, or wakes the transport again if the
    /// socket stays readable.
    fn read_into(&self, buf: &mut [u8]) -> Outcome {
        let (Some((source, waker)), Some(fd)) = (&self.io, &self.fd) else {
            return Outcome::Pending;
        };
        let mut cx = Context::from_waker(waker);
        let len = buf.len();
        let result = source.poll_read_stream_with(&mut cx, len, || {
            rustix::net::recv(fd.as_fd(), &mut *buf, rustix::net::RecvFlags::empty())
                .map(|(n, _)| n)
                .map_err(Into::into)
        });
        match result {
            Poll::Pending => Outcome::Pending,
            Poll::Ready(Ok(0)) => Outcome::Eof,
            Poll::Ready(Ok(n)) => {
                // A short read cleared readiness: store the waker. A full
                // one did not: it reports ready, and we come back next
                // iteration.
                if source.poll_readable(&mut cx).is_ready() {
                    waker.wake_by_ref();
                }
                Outcome::Data(n)
            }
            Poll::Ready(Err(e)) => Outcome::Failed(e),
        }
    }
}

/// The read half of `_io_event`.
pub(super) fn on_readable(slf: &Bound<'_, SocketTransport>) -> PyResult<()> {
    if matches!(slf.borrow().receiver, Receiver::Buffered) {
        return on_readable_buffered(slf);
    }
    let py = slf.py();
    let (outcome, buf, callback) = {
        let this = slf.borrow();
        if !this.wants_read() {
            return Ok(());
        }
        // Empty only the first time on this thread, or if Python code ran
        // between a lend and its return (never: see `READ_BUF`).
        let mut buf = READ_BUF.take();
        if buf.len() != READ_SIZE {
            buf.resize(READ_SIZE, 0);
        }
        let outcome = this.read_into(&mut buf);
        let callback = match (&outcome, &this.receiver, &this.protocol) {
            (Outcome::Data(_), Receiver::Function(f), Some(p)) => {
                Some((f.clone_ref(py), Some(p.clone_ref(py))))
            }
            (Outcome::Data(_), Receiver::Bound(m), _) => Some((m.clone_ref(py), None)),
            _ => None,
        };
        (outcome, buf, callback)
    };
    let data = match outcome {
        Outcome::Data(n) => Some(PyBytes::new(py, &buf[..n])),
        _ => None,
    };
    READ_BUF.set(buf);
    match outcome {
        Outcome::Pending => Ok(()),
        Outcome::Eof => on_eof(slf),
        Outcome::Failed(e) => {
            SocketTransport::fatal(slf, os_error(e), "Fatal read error on socket transport")
        }
        Outcome::Data(_) => {
            let data = data.expect("made above");
            let result = match callback {
                Some((f, Some(protocol))) => f.bind(py).call1((protocol, data)).map(drop),
                Some((m, None)) => m.bind(py).call1((data,)).map(drop),
                None => Err(PyRuntimeError::new_err("protocol has no data_received()")),
            };
            match result {
                Ok(()) => Ok(()),
                Err(err) => protocol_failed(
                    slf,
                    err,
                    "Fatal error: protocol.data_received() call failed.",
                ),
            }
        }
    }
}

/// `BufferedProtocol`: `get_buffer(-1)`, `recv` into it, `buffer_updated`.
fn on_readable_buffered(slf: &Bound<'_, SocketTransport>) -> PyResult<()> {
    let py = slf.py();
    let protocol = {
        let this = slf.borrow();
        if !this.wants_read() {
            return Ok(());
        }
        match &this.protocol {
            Some(p) => p.clone_ref(py),
            None => return Ok(()),
        }
    };
    let protocol = protocol.bind(py);
    let buffer = protocol
        .call_method1(pyo3::intern!(py, "get_buffer"), (-1,))
        .and_then(|b| {
            let buffer = PyBuffer::<u8>::get(&b)?;
            if buffer.len_bytes() == 0 {
                return Err(PyRuntimeError::new_err(
                    "get_buffer() returned an empty buffer",
                ));
            }
            Ok(buffer)
        });
    let buffer = match buffer {
        Ok(b) => b,
        Err(err) => {
            return protocol_failed(slf, err, "Fatal error: protocol.get_buffer() call failed.")
        }
    };
    let outcome = {
        let this = slf.borrow();
        // get_buffer() may have closed or paused us.
        if !this.wants_read() {
            return Ok(());
        }
        sys::with_writable_buffer(&buffer, |bytes| this.read_into(bytes))
    };
    buffer.release(py);
    match outcome {
        None => SocketTransport::fatal(
            slf,
            PyRuntimeError::new_err("get_buffer() returned a read-only or non-contiguous buffer"),
            "Fatal error: protocol.get_buffer() call failed.",
        ),
        Some(Outcome::Pending) => Ok(()),
        Some(Outcome::Eof) => on_eof(slf),
        Some(Outcome::Failed(e)) => {
            SocketTransport::fatal(slf, os_error(e), "Fatal read error on socket transport")
        }
        Some(Outcome::Data(n)) => {
            match protocol.call_method1(pyo3::intern!(py, "buffer_updated"), (n,)) {
                Ok(_) => Ok(()),
                Err(err) => protocol_failed(
                    slf,
                    err,
                    "Fatal error: protocol.buffer_updated() call failed.",
                ),
            }
        }
    }
}

/// A protocol callback raised: `KeyboardInterrupt` and `SystemExit`
/// propagate, anything else is a fatal error of the transport with
/// `message` (asyncio's `_fatal_error`).
fn protocol_failed(slf: &Bound<'_, SocketTransport>, err: PyErr, message: &str) -> PyResult<()> {
    if is_exit(slf.py(), &err) {
        return Err(err);
    }
    SocketTransport::fatal(slf, err, message)
}

/// EOF: `eof_received()`; a true result keeps the transport half-open
/// (no more reads), anything else closes it.
fn on_eof(slf: &Bound<'_, SocketTransport>) -> PyResult<()> {
    let py = slf.py();
    let protocol = match &slf.borrow().protocol {
        Some(p) => p.clone_ref(py),
        None => return Ok(()),
    };
    let keep_open = match protocol
        .bind(py)
        .call_method0(pyo3::intern!(py, "eof_received"))
        .and_then(|r| r.is_truthy())
    {
        Ok(k) => k,
        Err(err) => {
            return protocol_failed(
                slf,
                err,
                "Fatal error: protocol.eof_received() call failed.",
            )
        }
    };
    if keep_open {
        slf.borrow_mut().read_eof = true;
        Ok(())
    } else {
        close::close(slf)
    }
}
