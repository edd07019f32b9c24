//! `corio._corio.SocketTransport`: asyncio's socket transport (TCP and Unix
//! stream sockets) in Rust, under `corio._transport.SocketTransport`.
//!
//! The transport holds its socket open (`sys::HeldFd`: one io-reference of
//! the socket object, so one descriptor per connection, as uvloop) and
//! registers the descriptor with the loop's reactor as an edge-triggered
//! *stream* (`io.rs`); on each edge the loop runs the transport itself
//! (`entry.rs`: [`SocketTransport::_io_event`] in the transport's
//! `contextvars.Context`, no handle per connection). Reads (`read.rs`) go into the thread's read buffer, copied
//! into the `bytes` handed to `data_received` (or `recv` straight into a
//! `BufferedProtocol`'s buffer); a short read clears readiness, so a message
//! costs one `recv`, no `poll(2)` and no `epoll_ctl`. `write` (`write.rs`)
//! sends at once when nothing is buffered, buffers the rest and flushes it
//! on writable edges, with asyncio's flow control. Closing (`close.rs`)
//! follows `_SelectorTransport`: `close` flushes then calls
//! `connection_lost(None)`, `abort` drops the buffer, errors go through
//! `_fatal_error` (Python, asyncio's logging rules).
//!
//! The Python subclass (`python/corio/_transport.py`) does the one-off
//! parts: `__init__` (extra info, server attach, `connection_made` and the
//! waiter), `__repr__`, `__del__`, `_fatal_error`, sendfile's hooks.
//!
//! **Borrows.** As in `event_loop.rs`, the object is borrowed only around
//! pure-Rust work (syscalls included), never across a call into Python, a
//! Python allocation or the release of a last reference: every protocol
//! callback may call back into the transport (write, close, abort,
//! pause_reading, set_protocol), close the loop or drop the last reference.
//! State is re-read after each such call.

mod close;
mod entry;
mod read;
mod write;

pub(crate) use entry::{debug_handle, run_ready};

use std::os::fd::AsFd;
use std::sync::Arc;
use std::task::Waker;

use corio_reactor::Source;
use pyo3::exceptions::{PyKeyboardInterrupt, PySystemExit};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use pyo3::{PyTraverseError, PyVisit};

use crate::event_loop::Loop;
use crate::sys;
use read::Receiver;

/// Bytes read per `recv`, into the thread's read buffer (`read.rs`):
/// uvloop's 256 KiB, so a 100 KiB message is one `recv` (asyncio's
/// transport on corio reads 64 KiB: its buffer is a new `bytes` per read,
/// and 256 KiB would cost an mmap per read).
const READ_SIZE: usize = 256 * 1024;
/// asyncio's default high-water mark of the write buffer.
const DEFAULT_HIGH: usize = 64 * 1024;
/// asyncio's `constants.LOG_THRESHOLD_FOR_CONNLOST_WRITES`.
const CONNLOST_WARN: u32 = 5;

/// The Rust core of `corio._transport.SocketTransport`.
#[pyclass(subclass, module = "corio._corio")]
pub struct SocketTransport {
    /// `None` once `connection_lost` has run.
    event_loop: Option<Py<Loop>>,
    /// The Python socket object; closed and dropped after `connection_lost`.
    sock: Option<PyObject>,
    /// The socket's fd number (asyncio's `_sock_fd`; the key of
    /// `loop._transports`).
    sock_fd: i32,
    /// The socket's descriptor, held open until `connection_lost`: reads,
    /// writes and the registration.
    fd: Option<sys::HeldFd>,
    /// The reactor's source and the waker of our stream entry; `None`
    /// before `_start` and after deregistration.
    io: Option<(Arc<Source>, Waker)>,
    protocol: Option<PyObject>,
    /// How reads reach the protocol; set with it.
    receiver: Receiver,
    context: PyObject,
    server: Option<PyObject>,
    /// `_make_empty_waiter()`'s future (sendfile), resolved once the write
    /// buffer is empty.
    empty_waiter: Option<PyObject>,
    protocol_connected: bool,
    closing: bool,
    paused: bool,
    /// `eof_received()` returned true: no more reads.
    read_eof: bool,
    /// `write_eof()` was called.
    eof: bool,
    conn_lost: u32,
    protocol_paused: bool,
    high: usize,
    low: usize,
    /// Unsent bytes: `wbuf[wpos..]`.
    wbuf: Vec<u8>,
    wpos: usize,
}

/// An `io::Error` as Python's `OSError` with the message Python gives
/// (`os.strerror`), the errno picking the subclass
/// (`ConnectionResetError`, ...).
pub(super) fn os_error(e: std::io::Error) -> PyErr {
    let Some(code) = e.raw_os_error() else {
        return crate::event_loop::os_error(e);
    };
    Python::with_gil(|py| {
        let message = py
            .import("os")
            .and_then(|os| os.call_method1("strerror", (code,)))
            .and_then(|m| m.extract::<String>())
            .unwrap_or_else(|_| e.to_string());
        pyo3::exceptions::PyOSError::new_err((code, message))
    })
}

/// Whether a callback's exception must end the iteration (asyncio re-raises
/// these two from transports; everything else goes to `_fatal_error`).
fn is_exit(py: Python<'_>, err: &PyErr) -> bool {
    err.is_instance_of::<PyKeyboardInterrupt>(py) || err.is_instance_of::<PySystemExit>(py)
}

impl SocketTransport {
    fn unsent(&self) -> usize {
        self.wbuf.len() - self.wpos
    }

    /// Wakes the transport's handle for the next iteration (still ready).
    fn wake_self(&self) {
        if let Some((_, waker)) = &self.io {
            waker.wake_by_ref();
        }
    }

    /// `_fatal_error(exc, message)` (Python: asyncio's logging rules, then
    /// `_force_close`).
    fn fatal(slf: &Bound<'_, Self>, err: PyErr, message: &str) -> PyResult<()> {
        let py = slf.py();
        slf.call_method1(
            pyo3::intern!(py, "_fatal_error"),
            (err.into_value(py), message),
        )?;
        Ok(())
    }

    /// `loop.call_soon(callback, *args, context=self's context)`.
    fn call_soon(
        slf: &Bound<'_, Self>,
        callback: Bound<'_, PyAny>,
        args: Vec<PyObject>,
    ) -> PyResult<()> {
        let py = slf.py();
        let (event_loop, context) = {
            let this = slf.borrow();
            let Some(l) = &this.event_loop else {
                return Ok(());
            };
            (l.clone_ref(py), this.context.clone_ref(py))
        };
        let mut items = vec![callback.unbind()];
        items.extend(args);
        let kwargs = PyDict::new(py);
        kwargs.set_item(pyo3::intern!(py, "context"), context)?;
        event_loop.bind(py).call_method(
            pyo3::intern!(py, "call_soon"),
            PyTuple::new(py, items)?,
            Some(&kwargs),
        )?;
        Ok(())
    }

    /// Calls `protocol.<name>()` in a copy of the transport's context
    /// (uvloop's rule for callbacks triggered by user calls, where the
    /// context may already be entered); an exception goes to the loop's
    /// exception handler with `message`.
    fn call_protocol_copied(slf: &Bound<'_, Self>, name: &str, message: &str) -> PyResult<()> {
        let py = slf.py();
        let (protocol, context, event_loop) = {
            let this = slf.borrow();
            let (Some(p), Some(l)) = (&this.protocol, &this.event_loop) else {
                return Ok(());
            };
            (p.clone_ref(py), this.context.clone_ref(py), l.clone_ref(py))
        };
        let callback = protocol.bind(py).getattr(name)?;
        let copy = context.bind(py).call_method0(pyo3::intern!(py, "copy"))?;
        match copy.call_method1(pyo3::intern!(py, "run"), (callback,)) {
            Ok(_) => Ok(()),
            Err(err) => Self::report_protocol_error(slf, &event_loop, &protocol, message, err),
        }
    }

    /// A flow-control callback of the protocol raised: `KeyboardInterrupt`
    /// and `SystemExit` propagate; anything else goes to the loop's
    /// exception handler with `message` (asyncio's keys), and the
    /// transport carries on.
    fn report_protocol_error(
        slf: &Bound<'_, Self>,
        event_loop: &Py<Loop>,
        protocol: &PyObject,
        message: &str,
        err: PyErr,
    ) -> PyResult<()> {
        let py = slf.py();
        if is_exit(py, &err) {
            return Err(err);
        }
        let info = PyDict::new(py);
        info.set_item("message", message)?;
        info.set_item("exception", err.into_value(py))?;
        info.set_item("transport", slf)?;
        info.set_item("protocol", protocol)?;
        event_loop
            .bind(py)
            .call_method1(pyo3::intern!(py, "call_exception_handler"), (info,))?;
        Ok(())
    }
}

#[pymethods]
impl SocketTransport {
    #[new]
    #[pyo3(signature = (event_loop, sock, protocol, waiter=None, extra=None, server=None))]
    fn py_new(
        event_loop: &Bound<'_, PyAny>,
        sock: &Bound<'_, PyAny>,
        protocol: &Bound<'_, PyAny>,
        waiter: Option<&Bound<'_, PyAny>>,
        extra: Option<&Bound<'_, PyAny>>,
        server: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let py = sock.py();
        let _ = (waiter, extra);
        let event_loop = event_loop.downcast::<Loop>()?.clone().unbind();
        let sock_fd: i32 = sock.call_method0(pyo3::intern!(py, "fileno"))?.extract()?;
        let fd = sys::HeldFd::hold(sock, sock_fd)?;
        let context = py.import("contextvars")?.call_method0("copy_context")?;
        let mut this = SocketTransport {
            event_loop: Some(event_loop),
            sock: Some(sock.clone().unbind()),
            sock_fd,
            fd: Some(fd),
            io: None,
            protocol: None,
            receiver: Receiver::Missing,
            context: context.unbind(),
            server: server.filter(|s| !s.is_none()).map(|s| s.clone().unbind()),
            empty_waiter: None,
            protocol_connected: false,
            closing: false,
            paused: false,
            read_eof: false,
            eof: false,
            conn_lost: 0,
            protocol_paused: false,
            high: DEFAULT_HIGH,
            low: DEFAULT_HIGH / 4,
            wbuf: Vec::new(),
            wpos: 0,
        };
        this.receiver = read::receiver(protocol)?;
        this.protocol = Some(protocol.clone().unbind());
        this.protocol_connected = true;
        Ok(this)
    }

    /// Registers the socket with the loop's reactor (called once by
    /// `__init__`, and again when sendfile is over).
    fn _start(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let event_loop = {
            let this = slf.borrow();
            if this.io.is_some() || this.conn_lost > 0 {
                return Ok(());
            }
            let Some(l) = &this.event_loop else {
                return Ok(());
            };
            l.clone_ref(py)
        };
        let registered = {
            let this = slf.borrow();
            let fd = this.fd.as_ref().expect("open until connection_lost");
            let mut l = event_loop.bind(py).borrow_mut();
            l.io.add_transport(fd.as_fd(), slf.clone().unbind())
        };
        let registered = registered.map_err(os_error)?;
        let mut this = slf.borrow_mut();
        this.io = Some(registered);
        // Whatever is ready now shows as the registration's first edge;
        // a resumed registration (after sendfile) looks once more itself.
        this.wake_self();
        Ok(())
    }

    /// Gives the socket's io-reference back without `connection_lost`
    /// (`__del__` of a transport never closed, once its loop is closed), so
    /// that `sock.close()` closes the descriptor at once.
    fn _release_fd(slf: &Bound<'_, Self>) -> PyResult<()> {
        let fd = slf.borrow_mut().fd.take();
        fd.map_or(Ok(()), |fd| fd.release(slf.py()))
    }

    /// One readiness edge: one read and one flush, each as ready.
    fn _io_event(slf: &Bound<'_, Self>) -> PyResult<()> {
        read::on_readable(slf)?;
        write::on_writable(slf)
    }

    /// `_io_event()`: the loop calls the transport itself (`entry.rs`).
    fn __call__(slf: &Bound<'_, Self>) -> PyResult<()> {
        Self::_io_event(slf)
    }

    fn write(slf: &Bound<'_, Self>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        write::write(slf, data)
    }

    fn writelines(slf: &Bound<'_, Self>, list_of_data: &Bound<'_, PyAny>) -> PyResult<()> {
        write::writelines(slf, list_of_data)
    }

    fn write_eof(slf: &Bound<'_, Self>) -> PyResult<()> {
        write::write_eof(slf)
    }

    fn can_write_eof(&self) -> bool {
        true
    }

    fn get_write_buffer_size(&self) -> usize {
        self.unsent()
    }

    fn get_write_buffer_limits(&self) -> (usize, usize) {
        (self.low, self.high)
    }

    #[pyo3(signature = (high=None, low=None))]
    fn set_write_buffer_limits(
        slf: &Bound<'_, Self>,
        high: Option<i64>,
        low: Option<i64>,
    ) -> PyResult<()> {
        write::set_limits(slf, high, low)
    }

    fn is_reading(&self) -> bool {
        !self.closing && !self.paused
    }

    fn pause_reading(&mut self) {
        if self.closing || self.paused {
            return;
        }
        self.paused = true;
    }

    fn resume_reading(&mut self) {
        if self.closing || !self.paused {
            return;
        }
        self.paused = false;
        // Readiness seen while paused is still set: look at once.
        self.wake_self();
    }

    fn is_closing(&self) -> bool {
        self.closing
    }

    fn close(slf: &Bound<'_, Self>) -> PyResult<()> {
        close::close(slf)
    }

    fn abort(slf: &Bound<'_, Self>) -> PyResult<()> {
        close::force_close(slf, slf.py().None())
    }

    fn _force_close(slf: &Bound<'_, Self>, exc: PyObject) -> PyResult<()> {
        close::force_close(slf, exc)
    }

    fn _call_connection_lost(slf: &Bound<'_, Self>, exc: PyObject) -> PyResult<()> {
        close::call_connection_lost(slf, exc)
    }

    fn get_protocol(&self, py: Python<'_>) -> PyObject {
        self.protocol
            .as_ref()
            .map_or_else(|| py.None(), |p| p.clone_ref(py))
    }

    fn set_protocol(slf: &Bound<'_, Self>, protocol: &Bound<'_, PyAny>) -> PyResult<()> {
        let receiver = read::receiver(protocol)?;
        let old = {
            let mut this = slf.borrow_mut();
            this.protocol_connected = true;
            (
                this.protocol.replace(protocol.clone().unbind()),
                std::mem::replace(&mut this.receiver, receiver),
            )
        };
        drop(old);
        Ok(())
    }

    /// `_make_empty_waiter()` (sendfile): a future resolved once the write
    /// buffer is empty.
    fn _make_empty_waiter(slf: &Bound<'_, Self>) -> PyResult<PyObject> {
        write::make_empty_waiter(slf)
    }

    fn _reset_empty_waiter(slf: &Bound<'_, Self>) {
        let old = slf.borrow_mut().empty_waiter.take();
        drop(old);
    }

    #[getter]
    fn _sock(&self, py: Python<'_>) -> PyObject {
        self.sock
            .as_ref()
            .map_or_else(|| py.None(), |s| s.clone_ref(py))
    }

    #[getter]
    fn _sock_fd(&self) -> i32 {
        self.sock_fd
    }

    #[getter]
    fn _loop(&self, py: Python<'_>) -> PyObject {
        self.event_loop
            .as_ref()
            .map_or_else(|| py.None(), |l| l.clone_ref(py).into_any())
    }

    #[getter]
    fn _protocol(&self, py: Python<'_>) -> PyObject {
        self.get_protocol(py)
    }

    #[getter]
    fn _server(&self, py: Python<'_>) -> PyObject {
        self.server
            .as_ref()
            .map_or_else(|| py.None(), |s| s.clone_ref(py))
    }

    #[getter]
    fn _context(&self, py: Python<'_>) -> PyObject {
        self.context.clone_ref(py)
    }

    #[getter]
    fn _closing(&self) -> bool {
        self.closing
    }

    #[getter]
    fn _conn_lost(&self) -> u32 {
        self.conn_lost
    }

    #[getter]
    fn _paused(&self) -> bool {
        self.paused
    }

    #[getter]
    fn _protocol_paused(&self) -> bool {
        self.protocol_paused
    }

    /// Whether the socket is registered with the reactor (`__repr__`).
    #[getter]
    fn _polling(&self) -> bool {
        self.io.is_some()
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Some(l) = &self.event_loop {
            visit.call(l)?;
        }
        if let Some(fd) = &self.fd {
            visit.call(fd.sock())?;
        }
        for o in [
            self.sock.as_ref(),
            self.protocol.as_ref(),
            self.receiver.object(),
            self.server.as_ref(),
            self.empty_waiter.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            visit.call(o)?;
        }
        visit.call(&self.context)
    }

    fn __clear__(&mut self) {
        // Only reached once the loop no longer holds our handle (the
        // registration keeps the transport reachable): nothing is
        // registered, and the fd is closed by dropping it.
        self.event_loop = None;
        self.fd = None;
        self.sock = None;
        self.protocol = None;
        self.receiver = Receiver::Missing;
        self.server = None;
        self.empty_waiter = None;
    }
}

impl SocketTransport {
    /// Takes the registration out of the loop's stream table; returns the
    /// table's reference, to be released by the caller outside any borrow.
    pub(super) fn deregister(slf: &Bound<'_, Self>) -> Option<Py<SocketTransport>> {
        let py = slf.py();
        let (event_loop, fd) = {
            let mut this = slf.borrow_mut();
            this.io.take()?;
            (this.event_loop.as_ref()?.clone_ref(py), this.fd_raw()?)
        };
        let mut l = event_loop.bind(py).borrow_mut();
        l.io.remove_transport(fd)
    }

    fn fd_raw(&self) -> Option<i32> {
        use std::os::fd::AsRawFd;
        self.fd.as_ref().map(|fd| fd.as_fd().as_raw_fd())
    }
}
