//! Closing the socket transport, as asyncio's `_SelectorTransport`:
//! `close` stops reading and calls `connection_lost(None)` once the write
//! buffer is flushed; `_force_close` (`abort`, fatal errors) drops the
//! buffer and calls `connection_lost(exc)` on the next iteration;
//! `_call_connection_lost` calls the protocol, then deregisters the socket,
//! closes it and detaches from the server.

use pyo3::prelude::*;

use super::{Receiver, SocketTransport};

pub(super) fn close(slf: &Bound<'_, SocketTransport>) -> PyResult<()> {
    let py = slf.py();
    let lose = {
        let mut this = slf.borrow_mut();
        if this.closing {
            return Ok(());
        }
        this.closing = true;
        if this.unsent() == 0 {
            this.conn_lost += 1;
            true
        } else {
            false
        }
    };
    if lose {
        let callback = slf.getattr(pyo3::intern!(py, "_call_connection_lost"))?;
        SocketTransport::call_soon(slf, callback, vec![py.None()])?;
    }
    Ok(())
}

pub(super) fn force_close(slf: &Bound<'_, SocketTransport>, exc: PyObject) -> PyResult<()> {
    let py = slf.py();
    let dropped = {
        let mut this = slf.borrow_mut();
        if this.conn_lost > 0 {
            return Ok(());
        }
        this.closing = true;
        this.conn_lost += 1;
        this.wpos = 0;
        std::mem::take(&mut this.wbuf)
    };
    drop(dropped);
    let callback = slf.getattr(pyo3::intern!(py, "_call_connection_lost"))?;
    SocketTransport::call_soon(slf, callback, vec![exc])
}

pub(super) fn call_connection_lost(
    slf: &Bound<'_, SocketTransport>,
    exc: PyObject,
) -> PyResult<()> {
    let py = slf.py();
    let (protocol, connected) = {
        let this = slf.borrow();
        if this.sock.is_none() {
            return Ok(());
        }
        (
            this.protocol.as_ref().map(|p| p.clone_ref(py)),
            this.protocol_connected,
        )
    };
    let result = match protocol {
        Some(p) if connected => p
            .bind(py)
            .call_method1(pyo3::intern!(py, "connection_lost"), (exc,))
            .map(drop),
        _ => Ok(()),
    };
    // asyncio's `finally:`, whatever connection_lost did. The socket's
    // addresses are kept for get_extra_info() first (read lazily).
    let kept = slf.call_method0(pyo3::intern!(py, "_keep_extra")).map(drop);
    let handle = SocketTransport::deregister(slf);
    let released = {
        let mut this = slf.borrow_mut();
        this.io = None;
        (
            this.sock.take(),
            this.fd.take(),
            this.protocol.take(),
            std::mem::replace(&mut this.receiver, Receiver::Missing),
            this.event_loop.take(),
            this.server.take(),
        )
    };
    drop(handle);
    let (sock, fd, protocol, receiver, event_loop, server) = released;
    // Deregistered above: the socket may close now (at once, if
    // `sock.close()` was called on it meanwhile).
    let released_fd = fd.map_or(Ok(()), |fd| fd.release(py));
    let closed = match &sock {
        Some(s) => s
            .bind(py)
            .call_method0(pyo3::intern!(py, "close"))
            .map(drop),
        None => Ok(()),
    };
    let detached = match &server {
        Some(s) => detach(slf, s.bind(py)),
        None => Ok(()),
    };
    drop((sock, protocol, receiver, event_loop, server));
    result.and(kept).and(released_fd).and(closed).and(detached)
}

/// `server._detach(transport)` (3.13+) or `server._detach()`.
fn detach(slf: &Bound<'_, SocketTransport>, server: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = slf.py();
    let takes_transport = slf
        .getattr(pyo3::intern!(py, "_detach_takes_transport"))?
        .is_truthy()?;
    if takes_transport {
        server.call_method1(pyo3::intern!(py, "_detach"), (slf,))?;
    } else {
        server.call_method0(pyo3::intern!(py, "_detach"))?;
    }
    Ok(())
}
