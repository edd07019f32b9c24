//! The write side of the socket transport: `write`/`writelines` send at
//! once when nothing is buffered, the rest is buffered and flushed on
//! writable edges; `write_eof`; flow control (`pause_writing` above the
//! high-water mark, `resume_writing` at or below the low one).

use std::os::fd::AsFd;
use std::task::{Context, Poll};

use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView};

use super::{close, os_error, SocketTransport, CONNLOST_WARN};

/// What one send attempt gave.
enum Sent {
    /// This many bytes went out.
    Bytes(usize),
    Failed(std::io::Error),
}

impl SocketTransport {
    /// One non-blocking `send` (pure Rust, under the borrow). After a
    /// partial send or `EAGAIN` the write readiness is cleared and the
    /// waker stored; if an edge came meanwhile the transport wakes itself.
    fn send(&self, data: &[u8]) -> Sent {
        let (Some((source, waker)), Some(fd)) = (&self.io, &self.fd) else {
            return Sent::Bytes(0);
        };
        let mut cx = Context::from_waker(waker);
        let result = source.poll_write_stream_with(&mut cx, data.len(), || {
            rustix::net::send(fd.as_fd(), data, rustix::net::SendFlags::NOSIGNAL)
                .map_err(Into::into)
        });
        match result {
            Poll::Pending => Sent::Bytes(0),
            Poll::Ready(Ok(n)) => {
                if n < data.len() && source.poll_writable(&mut cx).is_ready() {
                    waker.wake_by_ref();
                }
                Sent::Bytes(n)
            }
            Poll::Ready(Err(e)) => Sent::Failed(e),
        }
    }
}

/// The bytes of a `write()` argument: `bytes` as is, `bytearray` and
/// `memoryview` copied (asyncio accepts exactly these three).
fn with_data<R>(data: &Bound<'_, PyAny>, f: impl FnOnce(&[u8]) -> PyResult<R>) -> PyResult<R> {
    if let Ok(b) = data.downcast::<PyBytes>() {
        return f(b.as_bytes());
    }
    if data.is_instance_of::<PyByteArray>() || data.is_instance_of::<PyMemoryView>() {
        let copy = data
            .py()
            .get_type::<PyBytes>()
            .call1((data,))?
            .downcast_into::<PyBytes>()?;
        return f(copy.as_bytes());
    }
    Err(PyTypeError::new_err(format!(
        "data argument must be a bytes-like object, not {:?}",
        data.get_type().name()?.to_string()
    )))
}

/// What `write_bytes` leaves the caller to do once the borrow is gone.
enum After {
    Nothing,
    WarnConnLost,
    Fatal(std::io::Error),
    MaybePause,
}

/// The body of `write`: send what the socket takes, buffer the rest.
fn write_bytes(slf: &Bound<'_, SocketTransport>, data: &[u8], method: &str) -> PyResult<()> {
    let after = {
        let mut this = slf.borrow_mut();
        if this.eof {
            return Err(PyRuntimeError::new_err(format!(
                "Cannot call {method}() after write_eof()"
            )));
        }
        if this.empty_waiter.is_some() {
            return Err(PyRuntimeError::new_err(
                "unable to write; sendfile is in progress",
            ));
        }
        if data.is_empty() {
            return Ok(());
        }
        if this.conn_lost > 0 {
            let warn = this.conn_lost >= CONNLOST_WARN;
            this.conn_lost += 1;
            if warn {
                After::WarnConnLost
            } else {
                After::Nothing
            }
        } else {
            let mut rest = data;
            let mut failed = None;
            if this.unsent() == 0 {
                match this.send(data) {
                    Sent::Bytes(n) => rest = &data[n..],
                    Sent::Failed(e) => failed = Some(e),
                }
            }
            match failed {
                Some(e) => After::Fatal(e),
                None if rest.is_empty() => After::Nothing,
                None => {
                    if this.unsent() == 0 {
                        this.wbuf.clear();
                        this.wpos = 0;
                    }
                    this.wbuf.extend_from_slice(rest);
                    After::MaybePause
                }
            }
        }
    };
    match after {
        After::Nothing => Ok(()),
        After::WarnConnLost => {
            slf.py()
                .import("asyncio.log")?
                .getattr("logger")?
                .call_method1("warning", ("socket.send() raised exception.",))?;
            Ok(())
        }
        After::Fatal(e) => {
            SocketTransport::fatal(slf, os_error(e), "Fatal write error on socket transport")
        }
        After::MaybePause => maybe_pause(slf),
    }
}

pub(super) fn write(slf: &Bound<'_, SocketTransport>, data: &Bound<'_, PyAny>) -> PyResult<()> {
    with_data(data, |bytes| write_bytes(slf, bytes, "write"))
}

pub(super) fn writelines(
    slf: &Bound<'_, SocketTransport>,
    list_of_data: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let mut joined = Vec::new();
    for item in list_of_data.try_iter()? {
        with_data(&item?, |bytes| {
            joined.extend_from_slice(bytes);
            Ok(())
        })?;
    }
    write_bytes(slf, &joined, "writelines")
}

/// `_maybe_pause_protocol`: `pause_writing()` once the buffer is above the
/// high-water mark.
fn maybe_pause(slf: &Bound<'_, SocketTransport>) -> PyResult<()> {
    {
        let mut this = slf.borrow_mut();
        if this.unsent() <= this.high || this.protocol_paused {
            return Ok(());
        }
        this.protocol_paused = true;
    }
    SocketTransport::call_protocol_copied(slf, "pause_writing", "protocol.pause_writing() failed")
}

/// `_maybe_resume_protocol`: `resume_writing()` once the buffer is at or
/// below the low-water mark. Runs in the transport's context already (from
/// `_io_event`).
fn maybe_resume(slf: &Bound<'_, SocketTransport>) -> PyResult<()> {
    let py = slf.py();
    let (protocol, event_loop) = {
        let mut this = slf.borrow_mut();
        if !this.protocol_paused || this.unsent() > this.low {
            return Ok(());
        }
        this.protocol_paused = false;
        match (&this.protocol, &this.event_loop) {
            (Some(p), Some(l)) => (p.clone_ref(py), l.clone_ref(py)),
            _ => return Ok(()),
        }
    };
    match protocol
        .bind(py)
        .call_method0(pyo3::intern!(py, "resume_writing"))
    {
        Ok(_) => Ok(()),
        Err(err) => SocketTransport::report_protocol_error(
            slf,
            &event_loop,
            &protocol,
            "protocol.resume_writing() failed",
            err,
        ),
    }
}

/// The write half of `_io_event`: flush the buffer as far as the socket
/// takes it.
pub(super) fn on_writable(slf: &Bound<'_, SocketTransport>) -> PyResult<()> {
    let py = slf.py();
    let (sent, emptied) = {
        let mut this = slf.borrow_mut();
        if this.unsent() == 0 || this.conn_lost > 0 || this.io.is_none() {
            return Ok(());
        }
        let sent = this.send(&this.wbuf[this.wpos..]);
        match sent {
            Sent::Bytes(n) => {
                this.wpos += n;
                let emptied = this.unsent() == 0;
                if emptied {
                    this.wbuf.clear();
                    this.wpos = 0;
                    // Keep a moderate buffer for the next burst.
                    if this.wbuf.capacity() > 1 << 20 {
                        this.wbuf.shrink_to(64 * 1024);
                    }
                }
                (Ok(n), emptied)
            }
            Sent::Failed(e) => {
                this.wbuf.clear();
                this.wpos = 0;
                (Err(e), false)
            }
        }
    };
    match sent {
        Err(e) => {
            let err = os_error(e);
            let waiter = slf.borrow_mut().empty_waiter.take();
            if let Some(w) = waiter {
                let w = w.bind(py);
                if !w.call_method0("done")?.is_truthy()? {
                    w.call_method1("set_exception", (err.clone_ref(py).into_value(py),))?;
                }
                slf.borrow_mut().empty_waiter = Some(w.clone().unbind());
            }
            SocketTransport::fatal(slf, err, "Fatal write error on socket transport")
        }
        Ok(0) => Ok(()),
        Ok(_) => {
            maybe_resume(slf)?;
            if emptied {
                after_flush(slf)?;
            }
            Ok(())
        }
    }
}

/// The buffer just emptied: the sendfile waiter, then a pending close or
/// `write_eof`.
fn after_flush(slf: &Bound<'_, SocketTransport>) -> PyResult<()> {
    let py = slf.py();
    let waiter = slf.borrow().empty_waiter.as_ref().map(|w| w.clone_ref(py));
    if let Some(w) = waiter {
        resolve_empty_waiter(slf, w.bind(py))?;
    }
    let (closing, eof) = {
        let this = slf.borrow();
        (this.closing, this.eof)
    };
    if closing {
        slf.borrow_mut().conn_lost += 1;
        close::call_connection_lost(slf, py.None())
    } else if eof {
        shutdown_write(slf)
    } else {
        Ok(())
    }
}

fn shutdown_write(slf: &Bound<'_, SocketTransport>) -> PyResult<()> {
    let this = slf.borrow();
    if let Some(fd) = &this.fd {
        rustix::net::shutdown(fd.as_fd(), rustix::net::Shutdown::Write)
            .map_err(|e| os_error(e.into()))?;
    }
    Ok(())
}

pub(super) fn write_eof(slf: &Bound<'_, SocketTransport>) -> PyResult<()> {
    let flush_first = {
        let mut this = slf.borrow_mut();
        if this.closing || this.eof {
            return Ok(());
        }
        this.eof = true;
        this.unsent() > 0
    };
    if flush_first {
        Ok(())
    } else {
        shutdown_write(slf)
    }
}

pub(super) fn set_limits(
    slf: &Bound<'_, SocketTransport>,
    high: Option<i64>,
    low: Option<i64>,
) -> PyResult<()> {
    let high = match (high, low) {
        (Some(h), _) => h,
        (None, None) => 64 * 1024,
        (None, Some(l)) => 4 * l,
    };
    let low = low.unwrap_or(high / 4);
    if !(high >= low && low >= 0) {
        return Err(PyValueError::new_err(format!(
            "high ({high}) must be >= low ({low}) must be >= 0"
        )));
    }
    {
        let mut this = slf.borrow_mut();
        this.high = usize::try_from(high).unwrap_or(0);
        this.low = usize::try_from(low).unwrap_or(0);
    }
    maybe_pause(slf)
}

pub(super) fn make_empty_waiter(slf: &Bound<'_, SocketTransport>) -> PyResult<PyObject> {
    let py = slf.py();
    let (event_loop, empty) = {
        let this = slf.borrow();
        if this.empty_waiter.is_some() {
            return Err(PyRuntimeError::new_err("Empty waiter is already set"));
        }
        let Some(l) = &this.event_loop else {
            return Err(PyRuntimeError::new_err("transport is closed"));
        };
        (l.clone_ref(py), this.unsent() == 0)
    };
    let future = event_loop
        .bind(py)
        .call_method0(pyo3::intern!(py, "create_future"))?;
    let old = slf
        .borrow_mut()
        .empty_waiter
        .replace(future.clone().unbind());
    drop(old);
    if empty {
        resolve_empty_waiter(slf, &future)?;
    }
    Ok(future.unbind())
}

/// The buffer is empty: sendfile may go on. The socket leaves the reactor
/// first, so that `sock_sendfile` can add its own writer on it
/// (`_reset_empty_waiter` registers it again).
fn resolve_empty_waiter(
    slf: &Bound<'_, SocketTransport>,
    waiter: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let handle = SocketTransport::deregister(slf);
    drop(handle);
    if !waiter.call_method0("done")?.is_truthy()? {
        waiter.call_method1("set_result", (waiter.py().None(),))?;
    }
    Ok(())
}
