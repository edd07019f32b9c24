//! The crate's `unsafe`: Python names file descriptors by number
//! (`loop.add_reader(fd, ...)`), and the reactor registers a `BorrowedFd`;
//! a socket transport uses its socket's descriptor by number while it holds
//! the socket open ([`HeldFd`]); a `BufferedProtocol`'s buffer is written by
//! `recv` through its pointer.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, RawFd};

use pyo3::prelude::*;

/// Calls `f` with `fd` borrowed for the duration of the call, after checking
/// that the number names an open descriptor (`fcntl(F_GETFD)`).
pub(crate) fn with_fd<R>(
    fd: RawFd,
    f: impl FnOnce(BorrowedFd<'_>) -> io::Result<R>,
) -> io::Result<R> {
    if fd < 0 {
        return Err(io::Error::from_raw_os_error(
            rustix::io::Errno::BADF.raw_os_error(),
        ));
    }
    // SAFETY: `fd` is non-negative and the borrow lives only for this call,
    // during which the GIL is held by our caller, so no Python code (the only
    // owner of the number) can close it meanwhile; the `fcntl` below fails
    // with EBADF, before anything else touches it, if it was not open.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    rustix::io::fcntl_getfd(borrowed)?;
    f(borrowed)
}

/// Calls `f` with a `pollfd` for each registered source's fd and its flags.
pub(crate) fn with_fds<R>(
    sources: &[(
        std::sync::Arc<corio_reactor::Source>,
        rustix::event::PollFlags,
    )],
    f: impl FnOnce(&mut [rustix::event::PollFd<'_>]) -> io::Result<R>,
) -> io::Result<R> {
    let borrowed: Vec<BorrowedFd<'_>> = sources
        .iter()
        .map(|(source, _)| {
            // SAFETY: the number is registered with the loop's reactor, which
            // by asyncio's contract (remove the callbacks before closing)
            // means it is open; the GIL, held by our caller, keeps Python
            // code from closing it during this call. A number closed without
            // removal (the caller's bug) gives POLLNVAL for that entry, and
            // is never used for anything else.
            unsafe { BorrowedFd::borrow_raw(source.raw()) }
        })
        .collect();
    let mut pollfds: Vec<rustix::event::PollFd<'_>> = borrowed
        .iter()
        .zip(sources)
        .map(|(fd, (_, flags))| rustix::event::PollFd::new(fd, *flags))
        .collect();
    f(&mut pollfds)
}

/// Calls `f` with the bytes of a writable, C-contiguous Python buffer
/// (`BufferedProtocol.get_buffer()`'s result), to `recv` into it.
pub(crate) fn with_writable_buffer<R>(
    buffer: &pyo3::buffer::PyBuffer<u8>,
    f: impl FnOnce(&mut [u8]) -> R,
) -> Option<R> {
    if buffer.readonly() || !buffer.is_c_contiguous() || buffer.item_size() != 1 {
        return None;
    }
    let len = buffer.len_bytes();
    if len == 0 {
        return Some(f(&mut []));
    }
    // SAFETY: `buffer` is a live buffer export (`PyObject_GetBuffer` with
    // PyBUF_FULL_RO semantics as PyO3 requests it), so its memory stays
    // allocated and in place until the `PyBuffer` is dropped, after this
    // call. It is writable (checked above), C-contiguous with 1-byte items,
    // so `len_bytes` bytes from `buf_ptr` are exactly its contents. No
    // Python code runs during `f` (the caller only makes a `recv` syscall,
    // holding the GIL), so nothing else can read or write the memory
    // meanwhile.
    let slice = unsafe { std::slice::from_raw_parts_mut(buffer.buf_ptr().cast::<u8>(), len) };
    Some(f(slice))
}

/// A `socket.socket`'s descriptor, used by number for as long as this value
/// lives: from [`hold`](HeldFd::hold) the object is ours (a strong
/// reference) and so is one of its io-references (`socket._io_refs`, what
/// `makefile()` streams take), so `sock.close()` meanwhile only marks the
/// object closed, and the descriptor is closed when
/// [`release`](HeldFd::release) gives the reference back (uvloop holds the
/// sockets of its transports the same way). A socket transport uses one
/// descriptor per connection this way, where a `dup` of its own took two.
pub(crate) struct HeldFd {
    fd: RawFd,
    sock: Py<PyAny>,
}

impl HeldFd {
    /// Takes an io-reference of `sock`, a `socket.socket` whose descriptor
    /// is `fd` (its `fileno()`).
    pub(crate) fn hold(sock: &Bound<'_, PyAny>, fd: RawFd) -> PyResult<HeldFd> {
        let py = sock.py();
        if fd < 0 {
            return Err(crate::event_loop::os_error(io::Error::from_raw_os_error(
                rustix::io::Errno::BADF.raw_os_error(),
            )));
        }
        let name = pyo3::intern!(py, "_io_refs");
        let refs: isize = sock.getattr(name)?.extract()?;
        sock.setattr(name, refs + 1)?;
        Ok(HeldFd {
            fd,
            sock: sock.clone().unbind(),
        })
    }

    /// Gives the io-reference back (`sock._decref_socketios()`, which closes
    /// the descriptor now if `sock.close()` was called meanwhile). Call it
    /// after the descriptor was deregistered from the reactor.
    pub(crate) fn release(self, py: Python<'_>) -> PyResult<()> {
        self.sock
            .bind(py)
            .call_method0(pyo3::intern!(py, "_decref_socketios"))
            .map(drop)
    }
}

impl HeldFd {
    /// The socket object held (for the garbage collector's traversal).
    pub(crate) fn sock(&self) -> &Py<PyAny> {
        &self.sock
    }
}

impl AsFd for HeldFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: `fd` was the open descriptor of `sock` when `hold` took
        // one of its io-references, and both are held until `release`
        // consumes `self`: CPython's `socket.close()` closes the descriptor
        // only once `_io_refs` is back at zero, and the object's
        // deallocation (which closes it unconditionally) cannot happen while
        // `self.sock` is a strong reference. So the number stays open for as
        // long as `self`, and the borrow lives no longer than `&self`. Only
        // code closing the number behind the socket object's back
        // (`os.close(sock.fileno())`, or `sock.detach()` then a close) can
        // break that, the same contract asyncio's selector loop relies on
        // for every registered fd.
        unsafe { BorrowedFd::borrow_raw(self.fd) }
    }
}
