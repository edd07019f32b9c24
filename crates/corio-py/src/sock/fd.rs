//! The `sock_*` calls' one `unsafe`: a socket's descriptor borrowed by
//! number for the length of one syscall (`recv`, `send`), as the socket
//! object itself does in C.

use std::os::fd::{BorrowedFd, RawFd};

/// Calls `f` with `fd` borrowed for the call.
///
/// Every caller in this module passes the descriptor of a `socket.socket`
/// it holds a strong reference to, and that is open for the whole call:
/// either one of the socket's io-references is held ([`super::Held`]: a
/// pending operation; `sock.close()` then only marks the object closed), or
/// the number is the socket's `fileno()` read in this same attempt with no
/// Python code run since (a `fileno()` of `-1`, a closed socket, never gets
/// here). `f` only makes one syscall on the descriptor, with the GIL held.
pub(super) fn borrow<R>(fd: RawFd, f: impl FnOnce(BorrowedFd<'_>) -> R) -> R {
    assert!(fd >= 0, "a socket's open descriptor is never negative");
    // SAFETY: `fd` is non-negative and open for the duration of this call
    // (the callers' contract above: the socket object is alive, and either
    // one of its io-references is held, so CPython's `socket.close()` does
    // not close the descriptor, or no Python code ran between its
    // `fileno()` and this call, and none runs during `f`, so nothing could
    // close it). The borrow does not outlive `f`.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    f(borrowed)
}
