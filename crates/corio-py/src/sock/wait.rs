//! The waiting side of the `sock_*` calls: the readiness callback that
//! serves the queues, the sweep of idle registrations, `add_reader` and
//! transports taking a descriptor over, cancellation, and `loop.close()`.
//!
//! **Borrows.** As everywhere in the crate, the loop is borrowed only
//! around pure-Rust work. An operation is taken out of its queue under the
//! borrow, attempted without it (its syscall, or its socket method), and put
//! back at the front if it must wait; futures are completed, and
//! io-references given back, outside any borrow.

use std::os::fd::RawFd;

use pyo3::exceptions::{PyKeyboardInterrupt, PySystemExit};
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::PyTuple;

use super::ops::{self, Step};
use super::{is_closed, Entry, Mode, Op};
use crate::callbacks;
use crate::event_loop::Loop;
use crate::handle::{Handle, Ready};

/// The module's `_sock_io` and `_sock_sweep` function objects (the
/// callbacks of the registrations' and the sweep's handles).
pub(super) static SOCK_IO: GILOnceCell<PyObject> = GILOnceCell::new();
pub(super) static SWEEP: GILOnceCell<PyObject> = GILOnceCell::new();

/// Takes the descriptor's entry out, with its registration (a stream, or
/// our `add_reader`/`add_writer` slots); returns what the caller drops and
/// gives back outside the borrow.
pub(super) fn unregister(
    this: &mut Loop,
    py: Python<'_>,
    fd: RawFd,
) -> Option<(Entry, Vec<Py<Handle>>)> {
    let entry = this.socks.map.remove(&fd)?;
    let mut handles = Vec::new();
    match entry.mode {
        Mode::Stream { .. } => handles.extend(this.io.remove_stream(fd)),
        Mode::Shared { read, write } => {
            for (dir, ours) in [(true, read), (false, write)] {
                if ours && slot_is_ours(this, py, fd, dir, &entry.handle) {
                    handles.extend(this.io.remove(fd, dir));
                }
            }
        }
    }
    Some((entry, handles))
}

/// Whether the fd's reader (`read`) or writer slot holds our handle.
fn slot_is_ours(this: &Loop, py: Python<'_>, fd: RawFd, read: bool, ours: &Py<Handle>) -> bool {
    this.io.key(py, fd).is_some_and(|(_, r, w)| {
        let slot = if read { r } else { w };
        slot.is_some_and(|h| h.is(ours))
    })
}

/// Gives back the io-references of a removed entry's operations (their
/// futures stay pending, as asyncio's when its loop closes).
pub(super) fn release_removed(
    py: Python<'_>,
    removed: Option<(Entry, Vec<Py<Handle>>)>,
) -> PyResult<()> {
    let Some((entry, handles)) = removed else {
        return Ok(());
    };
    drop(handles);
    let mut first = Ok(());
    let Entry {
        readers, writers, ..
    } = entry;
    for op in readers.into_iter().chain(writers) {
        let closed = is_closed(op.held.sock().bind(py));
        let r = op.held.release(py, closed);
        if first.is_ok() {
            first = r;
        }
    }
    first
}

/// The registration's callback: serves each queue in order while its
/// operations complete.
#[pyfunction]
pub(super) fn _sock_io(l: &Bound<'_, Loop>, fd: RawFd) -> PyResult<()> {
    serve(l, fd, true)?;
    serve(l, fd, false)?;
    note_idle(l, fd)
}

fn serve(l: &Bound<'_, Loop>, fd: RawFd, read: bool) -> PyResult<()> {
    let py = l.py();
    loop {
        let (mut op, reg, stream) = {
            let mut this = l.borrow_mut();
            let Some(entry) = this.socks.map.get_mut(&fd) else {
                return Ok(());
            };
            let Some(op) = entry.queue(read).pop_front() else {
                return Ok(());
            };
            (op, entry.reg(), entry.stream)
        };
        let sock = op.held.sock().bind(py).clone();
        let raw = op.held.fd();
        let pure = op.kind.pure(py);
        let step = ops::attempt(
            &sock,
            raw,
            &mut op.kind,
            reg.as_ref().map(|(s, w)| (&**s, w)),
            stream,
        );
        match step {
            Step::Wait => {
                // Python code ran (a socket method): the future may have
                // been cancelled meanwhile, which could not find it.
                if !pure
                    && op
                        .fut
                        .bind(py)
                        .call_method0(pyo3::intern!(py, "done"))?
                        .is_truthy()?
                {
                    release_op(l, fd, op)?;
                    continue;
                }
                let mut this = l.borrow_mut();
                match this.socks.map.get_mut(&fd) {
                    Some(entry) => entry.queue(read).push_front(op),
                    None => {
                        drop(this);
                        let closed = is_closed(&sock);
                        op.held.release(py, closed)?;
                    }
                }
                return Ok(());
            }
            Step::Done(result) => complete(l, fd, op, result)?,
        }
    }
}

/// Resolves the operation's future, then lets go of its socket.
fn complete(l: &Bound<'_, Loop>, fd: RawFd, op: Op, result: PyResult<PyObject>) -> PyResult<()> {
    let py = l.py();
    let fut = op.fut.bind(py).clone();
    let exit = match result {
        Ok(value) => {
            fut.call_method1(pyo3::intern!(py, "set_result"), (value,))?;
            None
        }
        Err(err)
            if err.is_instance_of::<PyKeyboardInterrupt>(py)
                || err.is_instance_of::<PySystemExit>(py) =>
        {
            Some(err)
        }
        Err(err) => {
            fut.call_method1(pyo3::intern!(py, "set_exception"), (err.into_value(py),))?;
            None
        }
    };
    release_op(l, fd, op)?;
    exit.map_or(Ok(()), Err)
}

/// Gives back an operation's io-reference. A socket closed meanwhile is
/// really closed by that: its registration goes first when this was its
/// last operation.
fn release_op(l: &Bound<'_, Loop>, fd: RawFd, op: Op) -> PyResult<()> {
    let py = l.py();
    let closed = is_closed(op.held.sock().bind(py));
    if closed {
        let removed = {
            let mut this = l.borrow_mut();
            match this.socks.map.get(&fd) {
                Some(e) if e.is_idle() => unregister(&mut this, py, fd),
                _ => None,
            }
        };
        release_removed(py, removed)?;
    }
    let Op { fut, kind, held } = op;
    let released = held.release(py, closed);
    drop((fut, kind));
    if !closed {
        note_idle(l, fd)?;
    }
    released
}

/// After a queue emptied: our unused `add_reader`/`add_writer` slots go at
/// once (a level-triggered slot would fire every iteration); an idle entry
/// is left to the sweep.
fn note_idle(l: &Bound<'_, Loop>, fd: RawFd) -> PyResult<()> {
    let py = l.py();
    let sweep = SWEEP.get(py).expect("set when the module was made");
    let mut removed = Vec::new();
    let queue_sweep = {
        let mut guard = l.borrow_mut();
        let this = &mut *guard;
        let Some(entry) = this.socks.map.get_mut(&fd) else {
            return Ok(());
        };
        let mut free = [false, false];
        let handle = entry.handle.clone_ref(py);
        if let Mode::Shared { read, write } = &mut entry.mode {
            for (i, slot, empty) in [
                (0, read, entry.readers.is_empty()),
                (1, write, entry.writers.is_empty()),
            ] {
                if *slot && empty {
                    *slot = false;
                    free[i] = true;
                }
            }
        }
        for (dir, free) in [(true, free[0]), (false, free[1])] {
            if free && slot_is_ours(this, py, fd, dir, &handle) {
                removed.extend(this.io.remove(fd, dir));
            }
        }
        removed.push(handle);
        let entry = this.socks.map.get_mut(&fd).expect("present");
        if !entry.is_idle() || entry.swept {
            false
        } else {
            entry.swept = true;
            this.socks.sweep.push(fd);
            !std::mem::replace(&mut this.socks.sweep_queued, true)
        }
    };
    drop(removed);
    if queue_sweep {
        queue_sweep_handle(l, sweep)?;
    }
    Ok(())
}

/// Queues the sweep for the next iteration (a non-consumed handle).
fn queue_sweep_handle(l: &Bound<'_, Loop>, sweep: &PyObject) -> PyResult<()> {
    let py = l.py();
    let existing = l
        .borrow()
        .socks
        .sweep_handle
        .as_ref()
        .map(|h| h.clone_ref(py));
    let handle = match existing {
        Some(h) => h,
        None => {
            let h = Py::new(
                py,
                Handle::new(
                    sweep.clone_ref(py),
                    PyTuple::new(py, [l])?
                        .into_any()
                        .downcast_into::<PyTuple>()?
                        .unbind(),
                    callbacks::copy_current_context(py)?,
                    l.clone().into_any().unbind(),
                    None,
                ),
            )?;
            l.borrow_mut().socks.sweep_handle = Some(h.clone_ref(py));
            h
        }
    };
    l.borrow_mut().ready.push_back(Ready::Fd(handle));
    Ok(())
}

/// The sweep: drops registrations idle for two sweeps in a row, or whose
/// socket is closed or gone.
#[pyfunction]
pub(super) fn _sock_sweep(l: &Bound<'_, Loop>) -> PyResult<()> {
    let py = l.py();
    let fds = {
        let mut this = l.borrow_mut();
        this.socks.sweep_queued = false;
        std::mem::take(&mut this.socks.sweep)
    };
    let mut again = Vec::new();
    for fd in fds {
        let sock = {
            let this = l.borrow();
            match this.socks.map.get(&fd) {
                Some(e) if e.is_idle() => pyo3::types::PyWeakrefMethods::upgrade(e.sock.bind(py)),
                Some(_) => {
                    drop(this);
                    if let Some(e) = l.borrow_mut().socks.map.get_mut(&fd) {
                        e.swept = false;
                    }
                    continue;
                }
                None => continue,
            }
        };
        let dead = sock.map_or(Ok(true), |s| {
            s.getattr(pyo3::intern!(py, "_closed"))?.is_truthy()
        })?;
        let removed = {
            let mut this = l.borrow_mut();
            match this.socks.map.get_mut(&fd) {
                Some(e) if e.is_idle() => {
                    e.idle += 1;
                    if dead || e.idle >= 2 {
                        unregister(&mut this, py, fd)
                    } else {
                        again.push(fd);
                        None
                    }
                }
                Some(e) => {
                    e.swept = false;
                    None
                }
                None => None,
            }
        };
        release_removed(py, removed)?;
    }
    if !again.is_empty() {
        let queue = {
            let mut this = l.borrow_mut();
            this.socks.sweep.extend(again);
            !std::mem::replace(&mut this.socks.sweep_queued, true)
        };
        if queue {
            queue_sweep_handle(l, SWEEP.get(py).expect("set"))?;
        }
    }
    Ok(())
}

/// Before `add_reader`/`add_writer` registers `fd`: an idle entry goes; one
/// with waiting operations moves to shared mode (their slots are added
/// first, so a callback of the same direction replaces ours, as asyncio's
/// `add_reader` replaces a `sock_recv`'s).
pub(crate) fn before_add_fd(l: &Bound<'_, Loop>, fd: RawFd) -> PyResult<()> {
    let py = l.py();
    let (removed, dropped) = {
        let mut guard = l.borrow_mut();
        let this = &mut *guard;
        let Some(entry) = this.socks.map.get(&fd) else {
            return Ok(());
        };
        if !matches!(entry.mode, Mode::Stream { .. }) {
            return Ok(());
        }
        if entry.is_idle() {
            (unregister(this, py, fd), Vec::new())
        } else {
            let mut dropped: Vec<Py<Handle>> = this.io.remove_stream(fd).into_iter().collect();
            let entry = this.socks.map.get_mut(&fd).expect("checked");
            let (r, w) = (!entry.readers.is_empty(), !entry.writers.is_empty());
            entry.mode = Mode::Shared { read: r, write: w };
            let handle = entry.handle.clone_ref(py);
            for (dir, wanted) in [(true, r), (false, w)] {
                if wanted {
                    let old = this
                        .io
                        .add(fd, dir, handle.clone_ref(py))
                        .map_err(ops::os_error)?;
                    dropped.extend(old);
                }
            }
            (None, dropped)
        }
    };
    drop(dropped);
    release_removed(py, removed)
}

/// A transport is being made for `fd` (`loop._transports[fd] = ...`): an
/// idle entry lets go of the registration first.
#[pyfunction]
pub(super) fn _sock_forget(l: &Bound<'_, Loop>, fd: RawFd) -> PyResult<()> {
    let py = l.py();
    let removed = {
        let mut this = l.borrow_mut();
        match this.socks.map.get(&fd) {
            Some(e) if e.is_idle() => unregister(&mut this, py, fd),
            _ => None,
        }
    };
    release_removed(py, removed)
}

/// `_SockFuture.cancel()` succeeded: the operation leaves its queue before
/// any syscall was made for it, and lets go of its socket.
#[pyfunction]
pub(super) fn _sock_cancelled(l: &Bound<'_, Loop>, fut: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = l.py();
    let fd: RawFd = fut.getattr(pyo3::intern!(py, "_sock_fd"))?.extract()?;
    let op = {
        let mut this = l.borrow_mut();
        let Some(entry) = this.socks.map.get_mut(&fd) else {
            return Ok(());
        };
        let mut found = None;
        for read in [true, false] {
            let queue = entry.queue(read);
            if let Some(i) = queue.iter().position(|op| op.fut.is(fut)) {
                found = queue.remove(i);
                break;
            }
        }
        found
    };
    match op {
        Some(op) => release_op(l, fd, op),
        None => Ok(()),
    }
}

/// `loop.close()`: every registration goes, and every io-reference still
/// held is given back (closing the sockets closed meanwhile).
#[pyfunction]
pub(super) fn _sock_close_all(l: &Bound<'_, Loop>) -> PyResult<()> {
    let py = l.py();
    let (removed, sweep) = {
        let mut guard = l.borrow_mut();
        let this = &mut *guard;
        let fds: Vec<RawFd> = this.socks.map.keys().copied().collect();
        let removed: Vec<_> = fds
            .into_iter()
            .filter_map(|fd| unregister(this, py, fd))
            .collect();
        this.socks.sweep.clear();
        this.socks.sweep_queued = false;
        (removed, this.socks.sweep_handle.take())
    };
    drop(sweep);
    let mut first = Ok(());
    for r in removed {
        let r = release_removed(py, Some(r));
        if first.is_ok() {
            first = r;
        }
    }
    first
}
