//! The `sock_*` functions `python/corio/_compat.py` calls: asyncio's
//! checks, the first attempt, and on "wait" the registration and the
//! queued operation with its future (see the module doc of `sock`).
//!
//! **Borrows.** The loop is borrowed only around pure-Rust work: the
//! attempt (its syscall, or its socket method), the future's creation and
//! the io-reference's hold run outside any borrow.

use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::task::{Context, Waker};

use corio_reactor::Source;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyBytes, PyDict, PyMemoryView, PyTuple, PyWeakrefReference};

use super::ops::{self, Kind, Step};
use super::wait::{release_removed, unregister, SOCK_IO, SWEEP};
use super::{Entry, Held, Mode, Op};
use crate::callbacks;
use crate::event_loop::Loop;
use crate::handle::Handle;
use crate::sys;

/// `socket.socket`, `ssl.SSLSocket` (if `ssl` imports), `_SockFuture`.
struct Types {
    socket: PyObject,
    ssl_socket: Option<PyObject>,
    future: PyObject,
}

static TYPES: GILOnceCell<Types> = GILOnceCell::new();

fn types(py: Python<'_>) -> PyResult<&Types> {
    TYPES.get_or_try_init(py, || {
        Ok::<_, PyErr>(Types {
            socket: py.import("socket")?.getattr("socket")?.unbind(),
            ssl_socket: py
                .import("ssl")
                .and_then(|m| m.getattr("SSLSocket"))
                .ok()
                .map(Bound::unbind),
            future: py.import("corio._compat")?.getattr("_SockFuture")?.unbind(),
        })
    })
}

/// asyncio's checks (`_check_ssl_socket`, the debug-mode blocking check);
/// then the socket's descriptor, or `None` where asyncio's Python does the
/// call (not a `socket.socket`, or closed: its own errors).
fn prelude(l: &Bound<'_, Loop>, sock: &Bound<'_, PyAny>) -> PyResult<Option<RawFd>> {
    let py = l.py();
    let t = types(py)?;
    if let Some(ssl) = &t.ssl_socket {
        if sock.is_instance(ssl.bind(py))? {
            return Err(PyTypeError::new_err("Socket cannot be of type SSLSocket"));
        }
    }
    if l.borrow().debug && sock.call_method0(pyo3::intern!(py, "gettimeout"))?.ne(0)? {
        return Err(PyValueError::new_err("the socket must be non-blocking"));
    }
    if !sock.is_instance(t.socket.bind(py))? {
        return Ok(None);
    }
    let fd: RawFd = sock.call_method0(pyo3::intern!(py, "fileno"))?.extract()?;
    Ok((fd >= 0).then_some(fd))
}

/// What the table holds for a descriptor, seen from a call on `sock`.
enum Found {
    Mine {
        queued: bool,
        reg: Option<(Arc<Source>, Waker)>,
        stream: bool,
    },
    Stale,
    Absent,
}

fn submit(
    l: &Bound<'_, Loop>,
    sock: &Bound<'_, PyAny>,
    fd: RawFd,
    mut kind: Kind,
) -> PyResult<PyObject> {
    let py = l.py();
    let read = kind.reads();
    let found = {
        let mut this = l.borrow_mut();
        match this.socks.map.get_mut(&fd) {
            Some(e) if e.is_for(sock) => Found::Mine {
                queued: !e.queue(read).is_empty(),
                reg: e.reg(),
                stream: e.stream,
            },
            Some(_) => Found::Stale,
            None => Found::Absent,
        }
    };
    match found {
        Found::Mine {
            queued: false,
            reg,
            stream,
        } => {
            let reg = reg.as_ref().map(|(s, w)| (&**s, w));
            if let Step::Done(r) = ops::attempt(sock, fd, &mut kind, reg, stream) {
                return r;
            }
        }
        Found::Mine { queued: true, .. } => {}
        Found::Stale | Found::Absent => {
            if let Found::Stale = found {
                let removed = unregister(&mut l.borrow_mut(), py, fd);
                release_removed(py, removed)?;
            }
            if let Step::Done(r) = ops::attempt(sock, fd, &mut kind, None, false) {
                return r;
            }
            if !register(l, sock, fd)? {
                return Ok(py.NotImplemented());
            }
        }
    }
    enqueue(l, sock, fd, kind)
}

/// Makes the descriptor's entry: a stream registration, or shared mode if
/// the fd has `add_reader`/`add_writer` callbacks. `false`: something else
/// owns the registration (a transport): asyncio's Python takes the call.
fn register(l: &Bound<'_, Loop>, sock: &Bound<'_, PyAny>, fd: RawFd) -> PyResult<bool> {
    let py = l.py();
    let stream = sock
        .getattr(pyo3::intern!(py, "type"))?
        .extract::<i32>()
        .is_ok_and(|t| t == rustix::net::SocketType::STREAM.as_raw() as i32);
    let weak = PyWeakrefReference::new(sock)?.unbind();
    let callback = SOCK_IO
        .get(py)
        .expect("set when the module was made")
        .clone_ref(py);
    let args = PyTuple::new(py, [l.as_any().clone(), fd.into_pyobject(py)?.into_any()])?;
    let context = callbacks::copy_current_context(py)?;
    let handle = Py::new(
        py,
        Handle::new(
            callback,
            args.unbind(),
            context,
            l.clone().into_any().unbind(),
            None,
        ),
    )?;
    let key = l.borrow().io.key(py, fd);
    let shared = key.is_some();
    drop(key);
    let mode = if shared {
        Mode::Shared {
            read: false,
            write: false,
        }
    } else {
        let added = {
            let mut this = l.borrow_mut();
            sys::with_fd(fd, |b| this.io.add_stream(b, handle.clone_ref(py)))
        };
        match added {
            Ok((source, waker)) => Mode::Stream { source, waker },
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(false),
            Err(e) => return Err(ops::os_error(e)),
        }
    };
    let old = l.borrow_mut().socks.map.insert(
        fd,
        Entry {
            sock: weak,
            sock_ptr: sock.as_ptr() as usize,
            stream,
            mode,
            handle,
            readers: Default::default(),
            writers: Default::default(),
            idle: 0,
            swept: false,
        },
    );
    drop(old);
    Ok(true)
}

/// `{'loop': loop}`, made once per loop (the future's constructor only
/// reads it).
fn future_kwargs<'py>(l: &Bound<'py, Loop>) -> PyResult<Bound<'py, PyDict>> {
    let py = l.py();
    if let Some(k) = &l.borrow().socks.future_kwargs {
        return Ok(k.bind(py).clone());
    }
    let kwargs = PyDict::new(py);
    kwargs.set_item(pyo3::intern!(py, "loop"), l)?;
    l.borrow_mut().socks.future_kwargs = Some(kwargs.clone().unbind());
    Ok(kwargs)
}

/// Queues `kind` (its first attempt said "wait"): returns its future.
fn enqueue(
    l: &Bound<'_, Loop>,
    sock: &Bound<'_, PyAny>,
    fd: RawFd,
    kind: Kind,
) -> PyResult<PyObject> {
    let py = l.py();
    let kwargs = future_kwargs(l)?;
    let fut = types(py)?.future.bind(py).call((), Some(&kwargs))?;
    fut.setattr(pyo3::intern!(py, "_sock_fd"), fd)?;
    let held = Held::hold(sock, fd)?;
    let read = kind.reads();
    let op = Op {
        fut: fut.clone().unbind(),
        kind,
        held,
    };
    let (added, park) = {
        let mut guard = l.borrow_mut();
        let this = &mut *guard;
        match this.socks.map.get_mut(&fd) {
            // Gone meanwhile (a `__del__` closed the loop's registrations):
            // asyncio's Python takes the call.
            None => {
                drop(guard);
                op.held.release(py, false)?;
                return Ok(py.NotImplemented());
            }
            Some(entry) => {
                entry.idle = 0;
                entry.queue(read).push_back(op);
                let first = entry.queue(read).len() == 1;
                let handle = entry.handle.clone_ref(py);
                match &mut entry.mode {
                    Mode::Stream { source, waker } => {
                        (None, first.then(|| (Arc::clone(source), waker.clone())))
                    }
                    Mode::Shared { read: r, write: w } => {
                        let slot = if read { r } else { w };
                        if *slot {
                            (None, None)
                        } else {
                            *slot = true;
                            (Some(this.io.add(fd, read, handle)), None)
                        }
                    }
                }
            }
        }
    };
    match added {
        Some(Ok(Some(old))) => Handle::cancel_base(old.bind(py))?,
        Some(Err(e)) => return Err(ops::os_error(e)),
        _ => {}
    }
    if let Some((source, waker)) = park {
        // The waker waits in the source for the next edge (a readiness seen
        // already: the callback runs next iteration).
        let mut cx = Context::from_waker(&waker);
        let ready = if read {
            source.poll_readable(&mut cx)
        } else {
            source.poll_writable(&mut cx)
        };
        if ready.is_ready() {
            waker.wake_by_ref();
        }
    }
    Ok(fut.unbind())
}

fn int_arg(v: &Bound<'_, PyAny>) -> Option<usize> {
    v.extract::<isize>()
        .ok()
        .filter(|&n| n > 0)
        .map(|n| n as usize)
}

#[pyfunction]
fn _sock_recv(
    l: &Bound<'_, Loop>,
    sock: &Bound<'_, PyAny>,
    n: &Bound<'_, PyAny>,
) -> PyResult<PyObject> {
    match (prelude(l, sock)?, int_arg(n)) {
        (Some(fd), Some(n)) => submit(l, sock, fd, Kind::Recv(n)),
        _ => Ok(l.py().NotImplemented()),
    }
}

#[pyfunction]
fn _sock_recv_into(
    l: &Bound<'_, Loop>,
    sock: &Bound<'_, PyAny>,
    buf: &Bound<'_, PyAny>,
) -> PyResult<PyObject> {
    match prelude(l, sock)? {
        Some(fd) => submit(l, sock, fd, Kind::RecvInto(buf.clone().unbind())),
        None => Ok(l.py().NotImplemented()),
    }
}

#[pyfunction]
fn _sock_sendall(
    l: &Bound<'_, Loop>,
    sock: &Bound<'_, PyAny>,
    data: &Bound<'_, PyAny>,
) -> PyResult<PyObject> {
    let py = l.py();
    let Some(fd) = prelude(l, sock)? else {
        return Ok(py.NotImplemented());
    };
    let data = if data.is_exact_instance_of::<PyBytes>() {
        data.clone()
    } else {
        // A byte view of any other buffer; anything else (a `str`...) gets
        // asyncio's own error from `sock.send`.
        match PyMemoryView::from(data).and_then(|v| v.call_method1("cast", ("B",))) {
            Ok(view) => view,
            Err(_) => return Ok(py.NotImplemented()),
        }
    };
    submit(
        l,
        sock,
        fd,
        Kind::SendAll {
            data: data.unbind(),
            pos: 0,
        },
    )
}

#[pyfunction]
fn _sock_accept(l: &Bound<'_, Loop>, sock: &Bound<'_, PyAny>) -> PyResult<PyObject> {
    match prelude(l, sock)? {
        Some(fd) => submit(l, sock, fd, Kind::Accept),
        None => Ok(l.py().NotImplemented()),
    }
}

#[pyfunction]
fn _sock_recvfrom(
    l: &Bound<'_, Loop>,
    sock: &Bound<'_, PyAny>,
    bufsize: &Bound<'_, PyAny>,
) -> PyResult<PyObject> {
    match (prelude(l, sock)?, int_arg(bufsize)) {
        (Some(fd), Some(n)) => submit(l, sock, fd, Kind::RecvFrom(n)),
        _ => Ok(l.py().NotImplemented()),
    }
}

#[pyfunction]
fn _sock_recvfrom_into(
    l: &Bound<'_, Loop>,
    sock: &Bound<'_, PyAny>,
    buf: &Bound<'_, PyAny>,
    nbytes: &Bound<'_, PyAny>,
) -> PyResult<PyObject> {
    match (prelude(l, sock)?, int_arg(nbytes)) {
        (Some(fd), Some(n)) => submit(l, sock, fd, Kind::RecvFromInto(buf.clone().unbind(), n)),
        _ => Ok(l.py().NotImplemented()),
    }
}

#[pyfunction]
fn _sock_sendto(
    l: &Bound<'_, Loop>,
    sock: &Bound<'_, PyAny>,
    data: &Bound<'_, PyAny>,
    address: &Bound<'_, PyAny>,
) -> PyResult<PyObject> {
    match prelude(l, sock)? {
        Some(fd) => submit(
            l,
            sock,
            fd,
            Kind::SendTo(data.clone().unbind(), address.clone().unbind()),
        ),
        None => Ok(l.py().NotImplemented()),
    }
}

pub(super) fn add_functions(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_function(wrap_pyfunction!(_sock_recv, m)?)?;
    m.add_function(wrap_pyfunction!(_sock_recv_into, m)?)?;
    m.add_function(wrap_pyfunction!(_sock_sendall, m)?)?;
    m.add_function(wrap_pyfunction!(_sock_accept, m)?)?;
    m.add_function(wrap_pyfunction!(_sock_recvfrom, m)?)?;
    m.add_function(wrap_pyfunction!(_sock_recvfrom_into, m)?)?;
    m.add_function(wrap_pyfunction!(_sock_sendto, m)?)?;
    m.add_function(wrap_pyfunction!(super::wait::_sock_cancelled, m)?)?;
    m.add_function(wrap_pyfunction!(super::wait::_sock_forget, m)?)?;
    m.add_function(wrap_pyfunction!(super::wait::_sock_close_all, m)?)?;
    let io = wrap_pyfunction!(super::wait::_sock_io, m)?;
    let sweep = wrap_pyfunction!(super::wait::_sock_sweep, m)?;
    m.add_function(io.clone())?;
    m.add_function(sweep.clone())?;
    let _ = SOCK_IO.set(py, io.into_any().unbind());
    let _ = SWEEP.set(py, sweep.into_any().unbind());
    Ok(())
}
