//! [`RingStream`]: a connected stream socket's reads and writes through its
//! reactor's io_uring instead of readiness and syscalls.
//!
//! **Reads.** At most one `recv` is in flight per stream, into a buffer of
//! the size the reader asked for (at most [`RECV_MAX`]); its bytes are
//! buffered here and handed out by later reads, so a read future dropped
//! while its `recv` is in flight loses nothing. EOF and errors are reported
//! after the bytes before them.
//!
//! **Writes.** A write copies what fits (up to [`SEND_QUEUE`] bytes queued)
//! and returns at once; one `send` is in flight at a time, so bytes leave in
//! order, and a short send resubmits the rest. A send error is sticky: every
//! later write, flush and shutdown returns it. `poll_flush` waits until every
//! queued byte was sent; shutting the write side down waits for that too.
//!
//! **Closing.** A stream dropped with operations in flight hands its socket
//! to the shared state ([`RingStream::close`]) and cancels its `recv`; the
//! socket closes when the last operation completes, after every queued byte
//! was sent, as `close(2)` with a full send buffer would.
//!
//! Waiters: the poll API (`poll_*`) keeps one waker per direction; the
//! futures ([`RingStream::read`], ...) each have their own entry, removed
//! when they are dropped, so a cancelled waiter keeps nothing alive. Wakers
//! are woken and dropped after the state's lock is released.

use std::future::{poll_fn, Future};
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

use super::ring::Ring;
use super::shared::{shutdown_ok, take_read, StreamShared, StreamState};
use crate::waiters::{WaiterKey, Waiters};
use crate::Reactor;

/// The largest `recv` a read submits.
pub const RECV_MAX: usize = 64 * 1024;

/// Bytes a stream queues for sending before writers wait.
pub const SEND_QUEUE: usize = 128 * 1024;

/// A stream socket's reads and writes through its reactor's io_uring.
///
/// The socket itself stays with its owner (the facade's `TcpStream`), which
/// must hand it to [`close`](RingStream::close) when it is done with it.
///
/// ```
/// use std::future::Future;
/// use std::os::fd::{AsFd, OwnedFd};
/// use std::os::unix::net::UnixStream;
/// use std::pin::pin;
/// use std::sync::Arc;
/// use std::task::{Context, Poll, Waker};
/// use std::time::Duration;
///
/// use corio_reactor::uring::RingStream;
/// use corio_reactor::Reactor;
///
/// /// Polls `fut`, driving the reactor between polls (a minimal executor).
/// fn block_on<F: Future>(reactor: &Reactor, fut: F) -> F::Output {
///     let mut fut = pin!(fut);
///     let mut cx = Context::from_waker(Waker::noop());
///     loop {
///         if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
///             return out;
///         }
///         reactor.poll(Some(Duration::from_millis(10))).unwrap();
///     }
/// }
///
/// let Ok(reactor) = Reactor::with_io_uring() else {
///     return; // no io_uring here (old kernel, seccomp): nothing to show
/// };
/// let reactor = Arc::new(reactor);
/// let (a, b) = UnixStream::pair().unwrap();
/// a.set_nonblocking(true).unwrap();
/// b.set_nonblocking(true).unwrap();
/// let (ra, rb) = (
///     RingStream::new(&reactor, a.as_fd()).unwrap(),
///     RingStream::new(&reactor, b.as_fd()).unwrap(),
/// );
/// block_on(&reactor, ra.write(b"ping")).unwrap(); // queued
/// block_on(&reactor, ra.flush()).unwrap(); // sent
/// let mut buf = [0u8; 4];
/// assert_eq!(block_on(&reactor, rb.read(&mut buf)).unwrap(), 4);
/// assert_eq!(&buf, b"ping");
/// // Done with the sockets: the ring closes each once nothing is in flight.
/// ra.close(OwnedFd::from(a));
/// rb.close(OwnedFd::from(b));
/// ```
pub struct RingStream {
    shared: Arc<StreamShared>,
    reactor: Arc<Reactor>,
}

impl RingStream {
    /// Puts `fd`'s reads and writes on `reactor`'s ring; `None` if the reactor
    /// has none. `fd` must be a connected, non-blocking stream socket that
    /// stays open until it is handed to [`close`](RingStream::close).
    pub fn new(reactor: &Arc<Reactor>, fd: BorrowedFd<'_>) -> Option<RingStream> {
        reactor.ring()?;
        Some(RingStream {
            shared: Arc::new(StreamShared {
                fd: fd.as_raw_fd(),
                state: Mutex::new(StreamState::default()),
                closing: Mutex::new(None),
            }),
            reactor: reactor.clone(),
        })
    }

    fn ring(&self) -> &Ring {
        self.reactor
            .ring()
            .expect("a RingStream's reactor has a ring")
    }

    /// Wakes the reactor's poller if it is blocked: what was just queued is
    /// submitted only by a poll.
    fn kick(&self) {
        if self.ring().needs_kick() {
            let _ = self.reactor.notify();
        }
    }

    /// Whether nothing is buffered and nothing is in flight: the socket is
    /// exactly where the kernel has it (what `into_std` needs).
    pub fn is_idle(&self) -> bool {
        let st = self.shared.state.lock();
        st.buffered() == 0 && st.recv.is_none() && !st.sending
    }

    /// Reads what is buffered, or queues a `recv` and waits (poll API: one
    /// waker per stream and direction).
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_read_keyed(cx, buf, None)
    }

    /// Reads into `buf`, waiting for at least one byte or EOF (`Ok(0)`).
    pub fn read<'a>(&'a self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        let mut guard = KeyGuard::new(self, Dir::Read);
        poll_fn(move |cx| {
            let key = &mut guard.key;
            self.poll_read_keyed(cx, buf, Some(key))
        })
    }

    /// Like [`read`](Self::read), but leaves the bytes buffered for the next
    /// read (`MSG_PEEK`).
    pub fn peek<'a>(&'a self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        let mut guard = KeyGuard::new(self, Dir::Read);
        poll_fn(move |cx| {
            let key = &mut guard.key;
            self.poll_take_keyed(cx, buf, Some(key), false)
        })
    }

    fn poll_read_keyed(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        key: Option<&mut Option<WaiterKey>>,
    ) -> Poll<io::Result<usize>> {
        self.poll_take_keyed(cx, buf, key, true)
    }

    fn poll_take_keyed(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        key: Option<&mut Option<WaiterKey>>,
        consume: bool,
    ) -> Poll<io::Result<usize>> {
        let mut st = self.shared.state.lock();
        if let Some(ready) = take_read(&mut st, buf, consume) {
            return Poll::Ready(ready);
        }
        let displaced = park(&mut st.readers, key, cx.waker());
        let queued = self.start_recv(&mut st, buf.len());
        drop(st);
        drop(displaced);
        if queued {
            self.kick();
        }
        Poll::Pending
    }

    /// Queues a `recv` of up to `want` bytes unless one is in flight.
    fn start_recv(&self, st: &mut StreamState, want: usize) -> bool {
        if st.recv.is_some() {
            return false;
        }
        let mut buf = std::mem::take(&mut st.rbuf);
        st.rpos = 0;
        buf.clear();
        buf.reserve_exact(want.clamp(1, RECV_MAX));
        let ring = self.ring();
        st.recv = Some(ring.recv(self.shared.clone(), self.shared.fd, buf));
        true
    }

    /// Reads what is buffered now; `WouldBlock` if nothing is (a `recv` is
    /// then queued, so a later [`poll_readable`](Self::poll_readable) or read
    /// finds the bytes).
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut st = self.shared.state.lock();
        if let Some(ready) = take_read(&mut st, buf, true) {
            return ready;
        }
        let queued = self.start_recv(&mut st, buf.len());
        drop(st);
        if queued {
            self.kick();
        }
        Err(io::ErrorKind::WouldBlock.into())
    }

    /// Ready when bytes are buffered, at EOF or after an error; queues a
    /// `recv` (of [`RECV_MAX`] bytes at most) otherwise.
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_readable_keyed(cx, None)
    }

    /// [`poll_readable`](Self::poll_readable) as a future with its own waiter.
    pub fn readable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        let mut guard = KeyGuard::new(self, Dir::Read);
        poll_fn(move |cx| {
            let key = &mut guard.key;
            self.poll_readable_keyed(cx, Some(key))
        })
    }

    fn poll_readable_keyed(
        &self,
        cx: &mut Context<'_>,
        key: Option<&mut Option<WaiterKey>>,
    ) -> Poll<io::Result<()>> {
        let mut st = self.shared.state.lock();
        if st.buffered() > 0 || st.eof || st.read_error.is_some() {
            return Poll::Ready(Ok(()));
        }
        let displaced = park(&mut st.readers, key, cx.waker());
        let queued = self.start_recv(&mut st, RECV_MAX);
        drop(st);
        drop(displaced);
        if queued {
            self.kick();
        }
        Poll::Pending
    }

    /// Queues what fits of `bufs` for sending and returns how many bytes that
    /// was, or waits for room (poll API).
    pub fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_keyed(cx, bufs, None)
    }

    /// Queues what fits of `buf`; see [`poll_write_vectored`](Self::poll_write_vectored).
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_keyed(cx, &[io::IoSlice::new(buf)], None)
    }

    /// Queues some of `buf` for sending, waiting for room if none is left.
    pub fn write<'a>(&'a self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        let mut guard = KeyGuard::new(self, Dir::Write);
        poll_fn(move |cx| {
            let key = &mut guard.key;
            self.poll_write_keyed(cx, &[io::IoSlice::new(buf)], Some(key))
        })
    }

    fn poll_write_keyed(
        &self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
        key: Option<&mut Option<WaiterKey>>,
    ) -> Poll<io::Result<usize>> {
        let mut st = self.shared.state.lock();
        match self.queue_send(&mut st, bufs) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Ok((n, queued)) => {
                drop(st);
                if queued {
                    self.kick();
                }
                return Poll::Ready(Ok(n));
            }
            Err(e) => return Poll::Ready(Err(e)),
        }
        let displaced = park(&mut st.writers, key, cx.waker());
        drop(st);
        drop(displaced);
        Poll::Pending
    }

    /// Queues what fits of `buf` now; `WouldBlock` if the queue is full.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        let mut st = self.shared.state.lock();
        let (n, queued) = self.queue_send(&mut st, &[io::IoSlice::new(buf)])?;
        drop(st);
        if queued {
            self.kick();
        }
        Ok(n)
    }

    /// Copies what fits of `bufs` into the send queue; `(bytes, whether a
    /// send was queued on the ring)`, or `WouldBlock` with the queue full.
    fn queue_send(
        &self,
        st: &mut StreamState,
        bufs: &[io::IoSlice<'_>],
    ) -> io::Result<(usize, bool)> {
        if let Some(e) = st.write_error() {
            return Err(e);
        }
        if st.shutdown_wanted || st.shutdown_done {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "write after the write side was shut down",
            ));
        }
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if total == 0 {
            return Ok((0, false));
        }
        let room = SEND_QUEUE.saturating_sub(st.queued());
        if room == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let mut target = if st.sending {
            std::mem::take(&mut st.pending)
        } else {
            std::mem::take(&mut st.spare)
        };
        let mut left = room.min(total);
        let n = left;
        for buf in bufs {
            let take = buf.len().min(left);
            target.extend_from_slice(&buf[..take]);
            left -= take;
            if left == 0 {
                break;
            }
        }
        if st.sending {
            st.pending = target;
            return Ok((n, false));
        }
        st.sending = true;
        st.in_flight = target.len();
        let ring = self.ring();
        ring.send(self.shared.clone(), self.shared.fd, target, 0);
        Ok((n, true))
    }

    /// Ready when there is room to queue bytes (or a send failed).
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_writable_keyed(cx, None)
    }

    /// [`poll_writable`](Self::poll_writable) as a future with its own waiter.
    pub fn writable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        let mut guard = KeyGuard::new(self, Dir::Write);
        poll_fn(move |cx| {
            let key = &mut guard.key;
            self.poll_writable_keyed(cx, Some(key))
        })
    }

    fn poll_writable_keyed(
        &self,
        cx: &mut Context<'_>,
        key: Option<&mut Option<WaiterKey>>,
    ) -> Poll<io::Result<()>> {
        let mut st = self.shared.state.lock();
        if st.write_error.is_some() || st.queued() < SEND_QUEUE {
            return Poll::Ready(Ok(()));
        }
        let displaced = park(&mut st.writers, key, cx.waker());
        drop(st);
        drop(displaced);
        Poll::Pending
    }

    /// Ready once every queued byte was sent; the sticky send error if one
    /// failed (poll API).
    pub fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush_keyed(cx, None)
    }

    /// [`poll_flush`](Self::poll_flush) as a future with its own waiter.
    pub fn flush(&self) -> impl Future<Output = io::Result<()>> + '_ {
        let mut guard = KeyGuard::new(self, Dir::Write);
        poll_fn(move |cx| {
            let key = &mut guard.key;
            self.poll_flush_keyed(cx, Some(key))
        })
    }

    fn poll_flush_keyed(
        &self,
        cx: &mut Context<'_>,
        key: Option<&mut Option<WaiterKey>>,
    ) -> Poll<io::Result<()>> {
        let mut st = self.shared.state.lock();
        if let Some(e) = st.write_error() {
            return Poll::Ready(Err(e));
        }
        if !st.sending {
            return Poll::Ready(Ok(()));
        }
        let displaced = park(&mut st.writers, key, cx.waker());
        drop(st);
        drop(displaced);
        Poll::Pending
    }

    /// Shuts the write side down once every queued byte was sent.
    pub fn poll_shutdown_write(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut st = self.shared.state.lock();
        if st.shutdown_done {
            return Poll::Ready(Ok(()));
        }
        if let Some(e) = st.write_error() {
            return Poll::Ready(Err(e));
        }
        if !st.sending {
            st.shutdown_done = true;
            drop(st);
            return Poll::Ready(shutdown_ok(self.shared.fd, Shutdown::Write));
        }
        st.shutdown_wanted = true;
        let displaced = st.writers.park_polled(cx.waker());
        drop(st);
        drop(displaced);
        Poll::Pending
    }

    /// Shuts a direction down now, except that the write side waits for the
    /// queued bytes (it is shut down when the last of them was sent).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        let mut st = self.shared.state.lock();
        let write = matches!(how, Shutdown::Write | Shutdown::Both);
        let read = matches!(how, Shutdown::Read | Shutdown::Both);
        let defer_write = write && st.sending;
        if defer_write {
            st.shutdown_wanted = true;
        } else if write {
            st.shutdown_done = true;
        }
        drop(st);
        match (read, write && !defer_write) {
            (true, true) => shutdown_ok(self.shared.fd, Shutdown::Both),
            (true, false) => shutdown_ok(self.shared.fd, Shutdown::Read),
            (false, true) => shutdown_ok(self.shared.fd, Shutdown::Write),
            (false, false) => Ok(()),
        }
    }

    /// Takes the socket from its owner, who is done with it: closed now if
    /// nothing is in flight, else when the last operation completes (after
    /// the queued bytes were sent; the `recv` in flight is cancelled).
    pub fn close(&self, socket: OwnedFd) {
        let st = self.shared.state.lock();
        let recv = st.recv;
        let busy = recv.is_some() || st.sending;
        if !busy {
            drop(st);
            drop(socket);
            return;
        }
        *self.shared.closing.lock() = Some(socket);
        if let Some(recv) = recv {
            self.ring().cancel(self.shared.clone(), recv);
        }
        drop(st);
        self.kick();
    }
}

impl Drop for RingStream {
    fn drop(&mut self) {
        // The owner closes the socket (through `close` while busy); a
        // `recv` still in flight here would keep the socket's file open
        // forever, so cancel it.
        let recv = self.shared.state.lock().recv;
        if let Some(recv) = recv {
            self.ring().cancel(self.shared.clone(), recv);
            self.kick();
        }
    }
}

/// Parks `waker` in the poll slot or under `key`; the displaced waker, to drop
/// once the lock is released.
fn park(
    waiters: &mut Waiters,
    key: Option<&mut Option<WaiterKey>>,
    waker: &Waker,
) -> Option<Waker> {
    match key {
        Some(key) => waiters.park_keyed(key, waker),
        None => waiters.park_polled(waker),
    }
}

/// Which waiters a [`KeyGuard`] parks in.
#[derive(Clone, Copy)]
enum Dir {
    Read,
    Write,
}

/// A future's entry among a stream's waiters; removed when the future drops.
struct KeyGuard<'a> {
    stream: &'a RingStream,
    dir: Dir,
    key: Option<WaiterKey>,
}

impl<'a> KeyGuard<'a> {
    fn new(stream: &'a RingStream, dir: Dir) -> KeyGuard<'a> {
        KeyGuard {
            stream,
            dir,
            key: None,
        }
    }
}

impl Drop for KeyGuard<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let mut st = self.stream.shared.state.lock();
        let waker = match self.dir {
            Dir::Read => st.readers.remove(key),
            Dir::Write => st.writers.remove(key),
        };
        drop(st);
        drop(waker);
    }
}
