//! `loop.sock_recv`, `sock_recv_into`, `sock_sendall`, `sock_accept`,
//! `sock_recvfrom`, `sock_recvfrom_into` and `sock_sendto` in Rust (the
//! Python coroutines in `python/corio/_compat.py` call these functions).
//!
//! **A call** tries its syscall at once (`ops.rs`). Done: the result is
//! returned as is, no future made. Not ready: a [`Op`] joins the socket's
//! queue for its direction, holding the socket's io-reference
//! ([`Held`]: `sock.close()` meanwhile only marks the socket closed, as on
//! uvloop), and its future (`corio._compat._SockFuture`) is returned.
//! Operations of one direction are served in order: a call made while
//! others wait queues behind them without trying.
//!
//! **The registration** (`wait.rs`) is made when a call first waits and is
//! kept across calls: the socket's descriptor is a *stream* of the loop's
//! `Io` (edge-triggered, as the socket transport's), whose handle runs
//! `wait::_sock_io` on each edge. `EAGAIN` clears the reactor's readiness
//! flag race-free (unless an edge came since the attempt began: then it
//! tries again) and parks the waker; on a stream socket a short `recv` does
//! too (the socket is empty), and the next `recv` with no edge since waits
//! without trying. So a request/response costs `recv`, `send` and a share
//! of one `epoll_wait`, with no `epoll_ctl`, no `poll(2)` and no failing
//! `recv`. A registration whose
//! queues stay empty for two sweeps (one per loop iteration, queued when a
//! queue empties), or whose socket was closed, is dropped; one is also
//! dropped (when idle) before `add_reader`/`add_writer` registers the same
//! descriptor and before a transport is made for it, and re-made on a
//! stale registration (the socket object died, or the number now names
//! another socket).
//!
//! **Shared mode.** A descriptor that also has `add_reader`/`add_writer`
//! callbacks cannot be registered twice: the pending operations then wait
//! through the loop's level-triggered fd callbacks instead (one
//! `add_reader`/`add_writer` slot for the direction they need, replacing a
//! callback there, as asyncio's `sock_*` do).
//!
//! **Cancelling** the future (`_SockFuture.cancel`) takes its operation out
//! of the queue before any syscall is made for it: a cancelled `sock_recv`
//! has consumed nothing.

mod call;
mod fd;
mod ops;
mod wait;

use std::collections::{HashMap, VecDeque};
use std::os::fd::RawFd;
use std::sync::Arc;
use std::task::Waker;

use corio_reactor::Source;
use pyo3::prelude::*;
use pyo3::types::PyWeakrefReference;
use pyo3::{PyTraverseError, PyVisit};

use crate::handle::Handle;

pub(crate) use wait::before_add_fd;

/// The loop's `sock_*` registrations, by descriptor.
#[derive(Default)]
pub(crate) struct Socks {
    map: HashMap<RawFd, Entry>,
    /// Descriptors whose queues emptied: looked at by the next sweep.
    sweep: Vec<RawFd>,
    /// The sweep's handle (queued as a non-consumed fd callback).
    sweep_handle: Option<Py<Handle>>,
    sweep_queued: bool,
    /// `{'loop': loop}` for the futures' constructor.
    future_kwargs: Option<Py<pyo3::types::PyDict>>,
}

/// How an entry waits for readiness.
enum Mode {
    /// Its own edge-triggered stream registration in the loop's `Io`.
    Stream { source: Arc<Source>, waker: Waker },
    /// Through `add_reader`/`add_writer` slots (the fd has fd callbacks);
    /// which slots hold our handle.
    Shared { read: bool, write: bool },
}

/// One socket's registration and its waiting operations.
struct Entry {
    /// The socket object (weakly), and its address: a call from another
    /// object with the same descriptor number finds the entry stale.
    sock: Py<PyWeakrefReference>,
    sock_ptr: usize,
    /// A `SOCK_STREAM` socket: a short read means it is empty.
    stream: bool,
    mode: Mode,
    /// Runs `wait::sock_io(loop, fd)`: the stream's handle, or the handle in
    /// our `add_reader`/`add_writer` slots.
    handle: Py<Handle>,
    readers: VecDeque<Op>,
    writers: VecDeque<Op>,
    /// Sweeps that found both queues empty in a row.
    idle: u8,
    /// In the sweep's list.
    swept: bool,
}

/// A waiting operation.
pub(crate) struct Op {
    fut: PyObject,
    kind: ops::Kind,
    held: Held,
}

impl Entry {
    fn is_for(&self, sock: &Bound<'_, PyAny>) -> bool {
        self.sock_ptr == sock.as_ptr() as usize
            && pyo3::types::PyWeakrefMethods::upgrade(self.sock.bind(sock.py()))
                .is_some_and(|s| s.is(sock))
    }

    fn queue(&mut self, read: bool) -> &mut VecDeque<Op> {
        if read {
            &mut self.readers
        } else {
            &mut self.writers
        }
    }

    fn is_idle(&self) -> bool {
        self.readers.is_empty() && self.writers.is_empty()
    }

    fn reg(&self) -> Option<(Arc<Source>, Waker)> {
        match &self.mode {
            Mode::Stream { source, waker } => Some((Arc::clone(source), waker.clone())),
            Mode::Shared { .. } => None,
        }
    }
}

impl Socks {
    /// Everything held, for `loop.close()`'s final clear or the garbage
    /// collector's: dropped by the caller outside any borrow. (The
    /// registrations go with the loop's `Io`; the io-references are not
    /// given back: `_sock_close_all` does that first on `close()`.)
    pub(crate) fn take_all(&mut self) -> Taken {
        self.sweep.clear();
        self.sweep_queued = false;
        Taken {
            _entries: self.map.drain().map(|(_, e)| e).collect(),
            _sweep: self.sweep_handle.take(),
            _kwargs: self.future_kwargs.take(),
        }
    }

    pub(crate) fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Some(h) = &self.sweep_handle {
            visit.call(h)?;
        }
        if let Some(k) = &self.future_kwargs {
            visit.call(k)?;
        }
        for entry in self.map.values() {
            visit.call(&entry.sock)?;
            visit.call(&entry.handle)?;
            for op in entry.readers.iter().chain(entry.writers.iter()) {
                visit.call(&op.fut)?;
                visit.call(op.held.sock())?;
                for o in op.kind.objects() {
                    visit.call(o)?;
                }
            }
        }
        Ok(())
    }
}

/// One io-reference of a `socket.socket` (`socket._io_refs`, the count
/// `makefile()` streams take): while it is held, `sock.close()` only marks
/// the object closed and the descriptor stays open (uvloop's rule for the
/// sockets its `sock_*` calls wait on). `sys::HeldFd` without its method
/// call: `release` is `_decref_socketios` inlined.
pub(crate) struct Held {
    sock: PyObject,
    fd: RawFd,
}

impl Held {
    /// Takes an io-reference of `sock`, whose descriptor is `fd`.
    pub(crate) fn hold(sock: &Bound<'_, PyAny>, fd: RawFd) -> PyResult<Held> {
        let py = sock.py();
        let name = pyo3::intern!(py, "_io_refs");
        let refs: isize = sock.getattr(name)?.extract()?;
        sock.setattr(name, refs + 1)?;
        Ok(Held {
            sock: sock.clone().unbind(),
            fd,
        })
    }

    /// The descriptor, open while this is held (see `fd::borrow`).
    pub(crate) fn fd(&self) -> RawFd {
        self.fd
    }

    pub(crate) fn sock(&self) -> &PyObject {
        &self.sock
    }

    /// Gives the reference back; `closed` is the socket's `_closed`: then
    /// `sock.close()` really closes it if this was the last reference.
    pub(crate) fn release(self, py: Python<'_>, closed: bool) -> PyResult<()> {
        let sock = self.sock.bind(py);
        let name = pyo3::intern!(py, "_io_refs");
        let refs: isize = sock.getattr(name)?.extract()?;
        if refs > 0 {
            sock.setattr(name, refs - 1)?;
            if closed {
                sock.call_method0(pyo3::intern!(py, "close"))?;
            }
        }
        Ok(())
    }
}

/// Whether `sock.close()` was called (`socket._closed`).
pub(crate) fn is_closed(sock: &Bound<'_, PyAny>) -> bool {
    sock.getattr(pyo3::intern!(sock.py(), "_closed"))
        .and_then(|c| c.is_truthy())
        .unwrap_or(false)
}

/// What [`Socks::take_all`] took, to be dropped outside any borrow.
pub(crate) struct Taken {
    _entries: Vec<Entry>,
    _sweep: Option<Py<Handle>>,
    _kwargs: Option<Py<pyo3::types::PyDict>>,
}

/// Adds the `sock_*` functions to `corio._corio`.
pub(crate) fn add_functions(m: &Bound<'_, PyModule>) -> PyResult<()> {
    call::add_functions(m)
}
