//! One attempt of a `loop.sock_*` operation: the syscall on the
//! non-blocking socket, driven through the socket's reactor [`Source`] when
//! it is registered (so readiness known to be drained skips the syscall, and
//! a `WouldBlock` clears readiness race-free and parks the waker), or made
//! directly when it is not.
//!
//! `recv`, `recv_into` and `sendall` of `bytes` are Rust syscalls (`rustix`):
//! no `BlockingIOError` is ever raised and caught. The rarer operations
//! (`accept`, `recvfrom`, `recvfrom_into`, `sendto`, `sendall` of other
//! buffers, `recv_into` a non-contiguous buffer) call the socket's own
//! method, a `BlockingIOError` meaning "wait".

use std::cell::Cell;
use std::io;
use std::os::fd::RawFd;
use std::task::{Context, Poll, Waker};

use corio_reactor::Source;
use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyBlockingIOError, PyInterruptedError, PyOSError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use super::fd;
use crate::sys;

/// Bytes of the thread's receive buffer (uvloop's and the transport's read
/// size): a `sock_recv(n)` with `n` up to this reads into it, then copies
/// the bytes received into the result.
const BUF_SIZE: usize = 256 * 1024;

thread_local! {
    /// Lent for one `recv` and given back before the result is handed to
    /// Python (see the transport's `READ_BUF`).
    static BUF: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// What a queued operation does, with its progress.
pub(crate) enum Kind {
    /// `sock_recv(n)`: `bytes`.
    Recv(usize),
    /// `sock_recv_into(buf)`: the count.
    RecvInto(PyObject),
    /// `sock_sendall(data)`: `bytes` (a Rust `send`) or any other buffer (a
    /// `memoryview`, `sock.send(view[pos:])`), `pos` bytes already sent.
    SendAll { data: PyObject, pos: usize },
    /// `sock_accept()`: `(conn, address)`, `conn` non-blocking.
    Accept,
    /// `sock_recvfrom(bufsize)`.
    RecvFrom(usize),
    /// `sock_recvfrom_into(buf, nbytes)`.
    RecvFromInto(PyObject, usize),
    /// `sock_sendto(data, address)`.
    SendTo(PyObject, PyObject),
}

impl Kind {
    /// Whether it waits for read readiness (else write).
    pub(crate) fn reads(&self) -> bool {
        !matches!(self, Kind::SendAll { .. } | Kind::SendTo(..))
    }

    /// Whether an attempt runs no Python code (a Rust syscall on `bytes`
    /// or a fresh `bytes`): nothing can cancel the future meanwhile.
    pub(crate) fn pure(&self, py: Python<'_>) -> bool {
        match self {
            Kind::Recv(_) => true,
            Kind::SendAll { data, .. } => data.bind(py).is_exact_instance_of::<PyBytes>(),
            _ => false,
        }
    }

    /// The Python objects it holds (for the garbage collector).
    pub(crate) fn objects(&self) -> impl Iterator<Item = &PyObject> {
        let (a, b) = match self {
            Kind::RecvInto(o) | Kind::RecvFromInto(o, _) | Kind::SendAll { data: o, .. } => {
                (Some(o), None)
            }
            Kind::SendTo(d, a) => (Some(d), Some(a)),
            Kind::Recv(_) | Kind::Accept | Kind::RecvFrom(_) => (None, None),
        };
        a.into_iter().chain(b)
    }
}

/// The socket's registration, when it has one in stream mode.
pub(crate) type Reg<'a> = Option<(&'a Source, &'a Waker)>;

/// An attempt's outcome.
pub(crate) enum Step {
    /// The operation finished: its result or its exception.
    Done(PyResult<PyObject>),
    /// Not ready: wait (the waker is parked when registered).
    Wait,
}

/// `io::Error` as the `OSError` Python's socket methods raise
/// (`[Errno 104] Connection reset by peer`, the errno picking the subclass).
pub(crate) fn os_error(e: io::Error) -> PyErr {
    match e.raw_os_error() {
        Some(code) => {
            let text = e.to_string();
            let message = match text.rfind(" (os error ") {
                Some(at) => text[..at].to_owned(),
                None => text,
            };
            PyOSError::new_err((code, message))
        }
        None => PyOSError::new_err(e.to_string()),
    }
}

/// Runs `op` for one direction: at once, as asyncio does; on `WouldBlock`
/// the registration's
/// readiness is cleared, unless an edge came since the attempt began (then
/// it is tried again), and the waker parked for the next edge. Unregistered
/// (`reg` is `None`): `WouldBlock` is `Pending`, the caller registers.
fn drive<R>(
    reg: Reg<'_>,
    read: bool,
    mut op: impl FnMut() -> io::Result<R>,
) -> Poll<io::Result<R>> {
    let Some((source, waker)) = reg else {
        loop {
            return match op() {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Poll::Pending,
                other => Poll::Ready(other),
            };
        }
    };
    let mut cx = Context::from_waker(waker);
    loop {
        let tick = if read {
            source.readable_tick()
        } else {
            source.writable_tick()
        };
        match op() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let polled = if read {
                    source.clear_readable_at(tick);
                    source.poll_readable(&mut cx)
                } else {
                    source.clear_writable_at(tick);
                    source.poll_writable(&mut cx)
                };
                match polled {
                    Poll::Ready(Ok(())) => continue,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
            }
            other => return Poll::Ready(other),
        }
    }
}

/// A stream socket's read: as [`drive`], but a registered socket whose last
/// read emptied it (`EAGAIN`, or a short read) with no edge since waits for
/// the edge without trying (`Source::poll_read_stream_with`).
fn drive_stream_read(
    reg: Reg<'_>,
    stream: bool,
    len: usize,
    op: impl FnMut() -> io::Result<usize>,
) -> Poll<io::Result<usize>> {
    match reg {
        Some((source, waker)) if stream => {
            let mut cx = Context::from_waker(waker);
            source.poll_read_stream_with(&mut cx, len, op)
        }
        _ => drive(reg, true, op),
    }
}

fn to_step(polled: Poll<io::Result<PyObject>>, stash: &mut Option<PyErr>) -> Step {
    match polled {
        Poll::Pending => Step::Wait,
        Poll::Ready(Ok(v)) => Step::Done(Ok(v)),
        Poll::Ready(Err(e)) => Step::Done(Err(stash.take().unwrap_or_else(|| os_error(e)))),
    }
}

/// A call of one of the socket's methods as a non-blocking op:
/// `BlockingIOError` is `WouldBlock`, `InterruptedError` is retried, any
/// other exception is kept in `stash`.
fn call(
    sock: &Bound<'_, PyAny>,
    name: &str,
    args: Bound<'_, PyTuple>,
    stash: &mut Option<PyErr>,
) -> io::Result<PyObject> {
    let py = sock.py();
    match sock.call_method1(name, args) {
        Ok(v) => Ok(v.unbind()),
        Err(e) if e.is_instance_of::<PyBlockingIOError>(py) => {
            Err(io::ErrorKind::WouldBlock.into())
        }
        Err(e) if e.is_instance_of::<PyInterruptedError>(py) => {
            Err(io::ErrorKind::Interrupted.into())
        }
        Err(e) => {
            *stash = Some(e);
            Err(io::Error::other("raised"))
        }
    }
}

fn recv_raw(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    fd::borrow(fd, |fd| {
        rustix::net::recv(fd, buf, rustix::net::RecvFlags::empty())
    })
    .map(|(n, _)| n)
    .map_err(Into::into)
}

fn send_raw(fd: RawFd, data: &[u8]) -> io::Result<usize> {
    fd::borrow(fd, |fd| {
        rustix::net::send(fd, data, rustix::net::SendFlags::NOSIGNAL)
    })
    .map_err(Into::into)
}

/// One attempt of `kind` on `sock` (descriptor `fd`). `SendAll` keeps its
/// progress in `kind`.
pub(crate) fn attempt(
    sock: &Bound<'_, PyAny>,
    fd: RawFd,
    kind: &mut Kind,
    reg: Reg<'_>,
    stream: bool,
) -> Step {
    let py = sock.py();
    let mut stash = None;
    match kind {
        Kind::Recv(n) => {
            let n = *n;
            let mut buf = if n <= BUF_SIZE {
                let mut b = BUF.take();
                if b.len() < BUF_SIZE {
                    b.resize(BUF_SIZE, 0);
                }
                b
            } else {
                vec![0; n]
            };
            let polled = drive_stream_read(reg, stream, n, || recv_raw(fd, &mut buf[..n]));
            let step = match polled {
                Poll::Pending => Step::Wait,
                Poll::Ready(Ok(k)) => {
                    Step::Done(Ok(PyBytes::new(py, &buf[..k]).into_any().unbind()))
                }
                Poll::Ready(Err(e)) => Step::Done(Err(os_error(e))),
            };
            if n <= BUF_SIZE {
                BUF.set(buf);
            }
            step
        }
        Kind::RecvInto(target) => {
            let target = target.bind(py);
            if let Ok(buffer) = PyBuffer::<u8>::get(target) {
                // Getting the buffer may run Python code (`__buffer__`):
                // the descriptor's number is read again after it.
                let fd = match sock
                    .call_method0(pyo3::intern!(py, "fileno"))
                    .and_then(|f| f.extract::<RawFd>())
                {
                    Ok(fd) if fd >= 0 => fd,
                    Ok(_) => {
                        return Step::Done(Err(os_error(io::Error::from_raw_os_error(
                            rustix::io::Errno::BADF.raw_os_error(),
                        ))))
                    }
                    Err(e) => return Step::Done(Err(e)),
                };
                let len = buffer.len_bytes();
                let polled = sys::with_writable_buffer(&buffer, |slice| {
                    drive_stream_read(reg, stream, len, || recv_raw(fd, slice))
                });
                if let Some(polled) = polled {
                    return match polled {
                        Poll::Pending => Step::Wait,
                        Poll::Ready(Ok(k)) => Step::Done(Ok(int(py, k))),
                        Poll::Ready(Err(e)) => Step::Done(Err(os_error(e))),
                    };
                }
            }
            let polled = drive(reg, true, || {
                call(sock, "recv_into", PyTuple::new(py, [target])?, &mut stash)
            });
            to_step(polled, &mut stash)
        }
        Kind::SendAll { data, pos } => send_all(sock, fd, data, pos, reg),
        Kind::Accept => {
            let polled = drive(reg, true, || {
                call(sock, "accept", PyTuple::empty(py), &mut stash)
            });
            match to_step(polled, &mut stash) {
                Step::Done(Ok(pair)) => Step::Done(accepted(pair.bind(py))),
                other => other,
            }
        }
        Kind::RecvFrom(n) => {
            let args = PyTuple::new(py, [*n]).expect("tuple");
            let polled = drive(reg, true, || {
                call(sock, "recvfrom", args.clone(), &mut stash)
            });
            to_step(polled, &mut stash)
        }
        Kind::RecvFromInto(buf, n) => {
            let args = (buf.clone_ref(py), *n).into_pyobject(py).expect("tuple");
            let polled = drive(reg, true, || {
                call(sock, "recvfrom_into", args.clone(), &mut stash)
            });
            to_step(polled, &mut stash)
        }
        Kind::SendTo(data, address) => {
            let args = (data.clone_ref(py), address.clone_ref(py))
                .into_pyobject(py)
                .expect("tuple");
            let polled = drive(reg, false, || {
                call(sock, "sendto", args.clone(), &mut stash)
            });
            to_step(polled, &mut stash)
        }
    }
}

/// `k` as a Python `int`.
fn int(py: Python<'_>, k: usize) -> PyObject {
    match k.into_pyobject(py) {
        Ok(v) => v.into_any().unbind(),
        Err(never) => match never {},
    }
}

/// `conn.setblocking(False)` on an accepted `(conn, address)`.
fn accepted(pair: &Bound<'_, PyAny>) -> PyResult<PyObject> {
    let conn = pair.get_item(0)?;
    conn.call_method1(pyo3::intern!(pair.py(), "setblocking"), (false,))?;
    Ok(pair.clone().unbind())
}

/// `sendall`'s attempt: sends until everything went or the socket is full.
fn send_all(
    sock: &Bound<'_, PyAny>,
    fd: RawFd,
    data: &PyObject,
    pos: &mut usize,
    reg: Reg<'_>,
) -> Step {
    let py = sock.py();
    let data = data.bind(py);
    if let Ok(bytes) = data.downcast::<PyBytes>() {
        let all = bytes.as_bytes();
        while *pos < all.len() {
            let rest = &all[*pos..];
            let polled = drive(reg, false, || send_raw(fd, rest));
            match polled {
                Poll::Pending => return Step::Wait,
                Poll::Ready(Ok(k)) => *pos += k,
                Poll::Ready(Err(e)) => return Step::Done(Err(os_error(e))),
            }
        }
        return Step::Done(Ok(py.None()));
    }
    // Another buffer: a memoryview (made by the caller), sent by the
    // socket's own `send`.
    let mut stash = None;
    loop {
        let len = match data.len() {
            Ok(len) => len,
            Err(e) => return Step::Done(Err(e)),
        };
        if *pos >= len {
            return Step::Done(Ok(py.None()));
        }
        let rest = match data.get_item(pyo3::types::PySlice::new(
            py,
            *pos as isize,
            len as isize,
            1,
        )) {
            Ok(rest) => rest,
            Err(e) => return Step::Done(Err(e)),
        };
        let polled = drive(reg, false, || {
            call(sock, "send", PyTuple::new(py, [&rest])?, &mut stash)
        });
        match to_step(polled, &mut stash) {
            Step::Done(Ok(n)) => match n.extract::<usize>(py) {
                Ok(n) => *pos += n,
                Err(e) => return Step::Done(Err(e)),
            },
            other => return other,
        }
    }
}
