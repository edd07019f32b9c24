//! What a [`RingStream`](super::RingStream) shares with its operations in
//! flight: the read buffer, the send queue, the waiters of both directions,
//! and how a completion changes them ([`StreamShared::complete`], called by
//! the reactor's poll with the ring's lock released).
//!
//! The fields are the stream module's to use; every rule about them (one
//! `recv` and one `send` in flight at most, a sticky send error, a deferred
//! write shutdown) is stated in `stream.rs`.

use std::io;
use std::net::Shutdown;
use std::os::fd::{OwnedFd, RawFd};
use std::sync::Arc;
use std::task::Waker;

use parking_lot::Mutex;

use super::ring::{OpKind, Ring};
use crate::waiters::Waiters;

/// What a stream shares with its operations in flight.
pub(crate) struct StreamShared {
    pub(super) fd: RawFd,
    pub(super) state: Mutex<StreamState>,
    /// The socket, once its stream is gone while operations are in flight: it
    /// closes when the last of them completes (this value drops).
    pub(super) closing: Mutex<Option<OwnedFd>>,
}

/// A stream's buffers and waiters.
#[derive(Default)]
pub(super) struct StreamState {
    /// Received bytes not yet read: `rbuf[rpos..]`.
    pub(super) rbuf: Vec<u8>,
    pub(super) rpos: usize,
    /// The `recv` in flight.
    pub(super) recv: Option<u64>,
    pub(super) eof: bool,
    pub(super) read_error: Option<io::Error>,
    pub(super) readers: Waiters,
    /// Whether a `send` is in flight, and how many of its bytes are unsent.
    pub(super) sending: bool,
    pub(super) in_flight: usize,
    /// Bytes written while a send is in flight, sent after it.
    pub(super) pending: Vec<u8>,
    /// An empty buffer kept for the next send.
    pub(super) spare: Vec<u8>,
    /// The errno of a failed send: every later write fails with it.
    pub(super) write_error: Option<i32>,
    pub(super) writers: Waiters,
    /// `shutdown(Write)` was asked for while bytes were queued.
    pub(super) shutdown_wanted: bool,
    pub(super) shutdown_done: bool,
}

impl StreamState {
    pub(super) fn buffered(&self) -> usize {
        self.rbuf.len() - self.rpos
    }

    pub(super) fn queued(&self) -> usize {
        self.in_flight + self.pending.len()
    }

    pub(super) fn write_error(&self) -> Option<io::Error> {
        self.write_error.map(io::Error::from_raw_os_error)
    }
}

/// Hands a buffered read (or EOF, or the read error) out, if there is one;
/// without `consume`, the bytes (and the error) stay for the next read.
pub(super) fn take_read(
    st: &mut StreamState,
    buf: &mut [u8],
    consume: bool,
) -> Option<io::Result<usize>> {
    if st.buffered() > 0 {
        let n = st.buffered().min(buf.len());
        buf[..n].copy_from_slice(&st.rbuf[st.rpos..st.rpos + n]);
        if !consume {
            return Some(Ok(n));
        }
        st.rpos += n;
        if st.rpos == st.rbuf.len() {
            st.rbuf.clear();
            st.rpos = 0;
        }
        return Some(Ok(n));
    }
    if !consume {
        if let Some(e) = &st.read_error {
            return Some(Err(io::Error::new(e.kind(), e.to_string())));
        }
    } else if let Some(e) = st.read_error.take() {
        return Some(Err(e));
    }
    if st.eof || buf.is_empty() {
        return Some(Ok(0));
    }
    None
}

/// `shutdown(2)`, with `NotConnected` (the peer is gone) counted as done.
pub(super) fn shutdown_ok(fd: RawFd, how: Shutdown) -> io::Result<()> {
    match crate::sys::shutdown(fd, how) {
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
        result => result,
    }
}

impl StreamShared {
    /// Applies a completion of one of this stream's operations; wakers to wake
    /// go to `wakers`.
    pub(crate) fn complete(
        self: &Arc<Self>,
        ring: &Ring,
        kind: OpKind,
        result: i32,
        wakers: &mut Vec<Waker>,
    ) {
        let mut st = self.state.lock();
        match kind {
            OpKind::Recv { buf } => {
                st.recv = None;
                match result {
                    n if n > 0 => {
                        st.rbuf = buf;
                        st.rpos = 0;
                    }
                    0 => {
                        st.eof = true;
                        st.rbuf = buf;
                    }
                    errno if -errno == libc::ECANCELED => st.rbuf = buf,
                    errno => {
                        st.read_error = Some(io::Error::from_raw_os_error(-errno));
                        st.rbuf = buf;
                    }
                }
                st.readers.drain_into(wakers);
            }
            OpKind::Send { mut buf, sent } => {
                match result {
                    n if n > 0 => {
                        let sent = sent + n as usize;
                        if sent < buf.len() {
                            st.in_flight = buf.len() - sent;
                            ring.send(self.clone(), self.fd, buf, sent);
                            return;
                        }
                        buf.clear();
                        st.spare = buf;
                        self.send_next(&mut st, ring);
                    }
                    errno => {
                        let errno = if errno == 0 { libc::EPIPE } else { -errno };
                        st.write_error = Some(errno);
                        st.sending = false;
                        st.in_flight = 0;
                        st.pending = Vec::new();
                    }
                }
                st.writers.drain_into(wakers);
            }
            OpKind::Cancel => {}
        }
    }

    /// After a send completed: sends what was queued meanwhile, else (if
    /// asked) shuts the write side down.
    fn send_next(self: &Arc<Self>, st: &mut StreamState, ring: &Ring) {
        if st.pending.is_empty() {
            st.sending = false;
            st.in_flight = 0;
            if st.shutdown_wanted && !st.shutdown_done {
                st.shutdown_done = true;
                let _ = shutdown_ok(self.fd, Shutdown::Write);
            }
            return;
        }
        let next = std::mem::replace(&mut st.pending, std::mem::take(&mut st.spare));
        st.in_flight = next.len();
        ring.send(self.clone(), self.fd, next, 0);
    }
}
