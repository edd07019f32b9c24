//! The TCP receive-queue hint (Linux `TCP_INQ`, 4.18+): a read that also says
//! whether it emptied the socket's receive queue, so a stream reader can clear read
//! readiness after a read that *filled* its buffer (see
//! [`Source::poll_read_stream_hinted`](crate::Source::poll_read_stream_hinted)).
//!
//! Without the hint, a reader that asks for exactly what the peer sent (a 64-byte
//! `read_exact` of a 64-byte message) cannot tell "that was all" from "more is
//! queued", so its next read is a syscall that fails with `EAGAIN` before it waits:
//! one wasted `recvfrom` per message. The hint is the kernel's own count of bytes
//! still queued, returned in a control message of the same `recvmsg`: no extra
//! syscall and no bytes buffered in user space (a read-ahead buffer would learn the
//! same by reading more than asked, and then hold bytes that `into_std`, a `dup` or
//! the raw fd could not see).
//!
//! Linux and Android only; where the kernel refuses `TCP_INQ`, [`enable`] fails and
//! [`recv`] reports no hint, and readers fall back to the short-read rule.

use std::io;
use std::os::fd::BorrowedFd;

/// Turns the hint on (`on`) or off for a TCP socket: afterwards [`recv`] on it
/// reports how many bytes each read left queued. Fails on a socket that is not TCP
/// or a kernel without `TCP_INQ` (then [`recv`] reports `None`).
pub fn enable(fd: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    crate::sys::enable_tcp_inq(fd, on)
}

/// Reads into `buf` (one `recvmsg`, with the socket's own blocking mode): the byte
/// count and, where the hint is on, the bytes still queued after this read. A FIN
/// received with nothing left before it counts as one queued byte (the `Ok(0)` the
/// next read will return), so `Some(0)` means "nothing more to read until the peer
/// sends again".
pub fn recv(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<(usize, Option<usize>)> {
    crate::sys::recv_with_inq(fd, buf)
}
