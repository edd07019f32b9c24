//! [`Transport`]: asyncio's stream transport, the handle a [`Protocol`]
//! writes through, and [`Inner`], the connection state it shares with the
//! connection's task (`driver.rs`).
//!
//! Everything lives under one `parking_lot` mutex: the socket, the write
//! buffer, the flags `close`/`abort`/`write_eof`/`pause_reading` set, and
//! the water-mark state. No protocol method ever runs under it: the task
//! takes what it must report out of the state ([`Event`]), releases the lock,
//! then calls the protocol. So a protocol may call any `Transport` method
//! from inside any of its callbacks.
//!
//! [`Protocol`]: super::Protocol

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use corio_reactor::Async;
use parking_lot::{Mutex, MutexGuard};

use super::stream_io::StreamIo;

/// asyncio's default high-water mark: 64 KiB.
pub(crate) const DEFAULT_HIGH: usize = 64 * 1024;
/// asyncio's default low-water mark: a quarter of the high one.
pub(crate) const DEFAULT_LOW: usize = DEFAULT_HIGH / 4;

/// What the connection's task must tell the protocol next.
pub(crate) enum Event {
    /// `n` bytes were read into the task's buffer.
    Data(usize),
    /// The peer closed its write direction.
    Eof,
    PauseWriting,
    ResumeWriting,
    /// The connection is over: `connection_lost(err)`, then the socket closes.
    Lost(Option<io::Error>),
}

/// The connection state shared by the transport handles and the task.
pub(crate) struct Inner<S: StreamIo> {
    state: Mutex<State<S>>,
}

struct State<S: StreamIo> {
    /// The socket; taken (and closed) once the protocol heard `connection_lost`.
    io: Option<Async<S>>,
    /// Bytes not yet sent: `buf[sent..]`.
    buf: Vec<u8>,
    sent: usize,
    high: usize,
    low: usize,
    /// `close()` was called: flush, then lose the connection.
    closing: bool,
    /// `abort()` was called: drop the buffer, lose the connection.
    aborted: bool,
    /// A write failed (or a protocol callback panicked): lose the connection
    /// with this error.
    fatal: Option<io::Error>,
    /// `write_eof()` was called; `eof_written`: the shutdown happened.
    eof_requested: bool,
    eof_written: bool,
    reading_paused: bool,
    /// The peer's EOF was read: reading is over.
    eof_seen: bool,
    /// Above the high-water mark, not yet back to the low one.
    paused: bool,
    /// What the protocol was last told (`pause_writing` = true).
    told_paused: bool,
    /// The task reported `Lost`: the transport is dead.
    lost: bool,
    /// The task runs a protocol callback: it re-reads the state afterwards,
    /// so changes need no wake-up.
    in_callback: bool,
    waker: Option<Waker>,
}

impl<S: StreamIo> State<S> {
    fn pending(&self) -> usize {
        self.buf.len() - self.sent
    }

    fn is_closing(&self) -> bool {
        self.closing || self.aborted || self.fatal.is_some() || self.lost
    }

    /// The buffer grew: past the high-water mark, the protocol is paused.
    fn check_high(&mut self) {
        if !self.paused && self.pending() > self.high {
            self.paused = true;
        }
    }

    /// The buffer shrank: at or below the low-water mark, it resumes.
    fn check_low(&mut self) {
        if self.paused && self.pending() <= self.low {
            self.paused = false;
        }
    }

    /// Marks the connection lost and hands the task its last event.
    fn lose(&mut self, err: Option<io::Error>) -> Poll<Event> {
        self.lost = true;
        self.buf = Vec::new();
        self.sent = 0;
        Poll::Ready(Event::Lost(err))
    }
}

impl<S: StreamIo> Inner<S> {
    pub(crate) fn new(io: Async<S>) -> Inner<S> {
        Inner {
            state: Mutex::new(State {
                io: Some(io),
                buf: Vec::new(),
                sent: 0,
                high: DEFAULT_HIGH,
                low: DEFAULT_LOW,
                closing: false,
                aborted: false,
                fatal: None,
                eof_requested: false,
                eof_written: false,
                reading_paused: false,
                eof_seen: false,
                paused: false,
                told_paused: false,
                lost: false,
                in_callback: false,
                waker: None,
            }),
        }
    }

    /// Wakes the task if it must look at the state (not while it runs a
    /// protocol callback: it looks afterwards anyway). The waker is woken
    /// after the lock is released.
    fn wake(&self, state: MutexGuard<'_, State<S>>) {
        let waker = if state.in_callback {
            None
        } else {
            state.waker.clone()
        };
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The task is about to call the protocol (`true`) or is back (`false`).
    pub(crate) fn set_in_callback(&self, on: bool) {
        self.state.lock().in_callback = on;
    }

    /// A protocol callback panicked: the connection is lost with `err`.
    pub(crate) fn fail(&self, err: io::Error) {
        let mut state = self.state.lock();
        if !state.lost && state.fatal.is_none() {
            state.fatal = Some(err);
        }
    }

    /// Closes the socket (after `connection_lost`).
    pub(crate) fn release(&self) {
        let io = self.state.lock().io.take();
        drop(io);
    }

    /// The task's step: flush what it can, then report the next event for
    /// the protocol, reading into `buf` if it is time to read.
    pub(crate) fn poll_event(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<Event> {
        let mut guard = self.state.lock();
        let state = &mut *guard;
        if !state
            .waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            state.waker = Some(cx.waker().clone());
        }
        if let Some(err) = state.fatal.take() {
            return state.lose(Some(err));
        }
        if state.aborted {
            return state.lose(None);
        }
        let Some(io) = state.io.as_ref() else {
            return state.lose(None);
        };
        // Flush.
        while state.sent < state.buf.len() {
            let pending = &state.buf[state.sent..];
            match io
                .source()
                .poll_write_stream_with(cx, pending.len(), || io.get_ref().write(pending))
            {
                Poll::Ready(Ok(0)) => return state.lose(Some(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => state.sent += n,
                Poll::Ready(Err(e)) => return state.lose(Some(e)),
                Poll::Pending => break,
            }
        }
        if state.sent == state.buf.len() {
            state.buf.clear();
            state.sent = 0;
        } else if state.sent >= DEFAULT_HIGH {
            state.buf.drain(..state.sent);
            state.sent = 0;
        }
        state.check_low();
        if state.told_paused != state.paused {
            state.told_paused = state.paused;
            return Poll::Ready(if state.paused {
                Event::PauseWriting
            } else {
                Event::ResumeWriting
            });
        }
        let Some(io) = state.io.as_ref() else {
            return state.lose(None);
        };
        if state.pending() == 0 {
            if state.eof_requested && !state.eof_written {
                state.eof_written = true;
                if S::EOF_CLOSES {
                    state.closing = true;
                } else if let Err(e) = io.get_ref().shutdown_write() {
                    if e.kind() != io::ErrorKind::NotConnected {
                        return state.lose(Some(e));
                    }
                }
            }
            if state.closing {
                return state.lose(None);
            }
        }
        if S::READS {
            if !state.closing && !state.reading_paused && !state.eof_seen {
                match io.source().poll_read_with(cx, || io.get_ref().read(buf)) {
                    Poll::Ready(Ok(0)) => {
                        state.eof_seen = true;
                        return Poll::Ready(Event::Eof);
                    }
                    Poll::Ready(Ok(n)) => return Poll::Ready(Event::Data(n)),
                    Poll::Ready(Err(e)) => return state.lose(Some(e)),
                    Poll::Pending => {}
                }
            }
        } else if io.source().poll_readable(cx).is_ready() {
            // A write pipe reads as ready only on an error or hang-up: the
            // reader went away (asyncio's `_UnixWritePipeTransport._read_ready`).
            let err = (state.pending() > 0).then(|| io::ErrorKind::BrokenPipe.into());
            return state.lose(err);
        }
        Poll::Pending
    }
}

/// The object-safe face of [`Inner`], for [`Transport`].
pub(crate) trait TransportOps: Send + Sync {
    fn write(&self, data: &[u8]);
    fn write_eof(&self);
    fn can_write_eof(&self) -> bool;
    fn close(&self);
    fn abort(&self);
    fn is_closing(&self) -> bool;
    fn pause_reading(&self);
    fn resume_reading(&self);
    fn is_reading(&self) -> bool;
    fn set_write_buffer_limits(&self, high: usize, low: usize);
    fn write_buffer_limits(&self) -> (usize, usize);
    fn write_buffer_size(&self) -> usize;
    fn peer_addr(&self) -> Option<SocketAddr>;
    fn local_addr(&self) -> Option<SocketAddr>;
}

impl<S: StreamIo> TransportOps for Inner<S> {
    fn write(&self, mut data: &[u8]) {
        assert!(S::WRITES, "Transport::write on a read-pipe transport");
        let mut state = self.state.lock();
        assert!(
            !state.eof_requested,
            "Transport::write after write_eof (asyncio raises RuntimeError)"
        );
        if data.is_empty() || state.is_closing() {
            return;
        }
        let was_empty = state.pending() == 0;
        if was_empty {
            // asyncio's selector transport: an empty buffer means the socket
            // may take the bytes at once.
            let Some(io) = state.io.as_ref() else { return };
            let tick = io.source().writable_tick();
            match io.get_ref().write(data) {
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    io.source().clear_writable_at(tick);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    state.fatal = Some(e);
                    return self.wake(state);
                }
            }
            if data.is_empty() {
                return;
            }
        }
        state.buf.extend_from_slice(data);
        let told = state.told_paused;
        state.check_high();
        if was_empty || told != state.paused {
            self.wake(state);
        }
    }

    fn write_eof(&self) {
        let mut state = self.state.lock();
        if state.eof_requested || state.is_closing() {
            return;
        }
        state.eof_requested = true;
        self.wake(state);
    }

    fn can_write_eof(&self) -> bool {
        S::WRITES
    }

    fn close(&self) {
        let mut state = self.state.lock();
        if state.is_closing() {
            return;
        }
        state.closing = true;
        self.wake(state);
    }

    fn abort(&self) {
        let mut state = self.state.lock();
        if state.lost || state.aborted {
            return;
        }
        state.aborted = true;
        self.wake(state);
    }

    fn is_closing(&self) -> bool {
        self.state.lock().is_closing()
    }

    fn pause_reading(&self) {
        self.state.lock().reading_paused = true;
    }

    fn resume_reading(&self) {
        let mut state = self.state.lock();
        if state.reading_paused {
            state.reading_paused = false;
            self.wake(state);
        }
    }

    fn is_reading(&self) -> bool {
        let state = self.state.lock();
        S::READS && !state.reading_paused && !state.eof_seen && !state.is_closing()
    }

    fn set_write_buffer_limits(&self, high: usize, low: usize) {
        assert!(
            low <= high,
            "set_write_buffer_limits: low ({low}) must not exceed high ({high})"
        );
        let mut state = self.state.lock();
        state.high = high;
        state.low = low;
        let told = state.told_paused;
        state.check_high();
        state.check_low();
        if told != state.paused {
            self.wake(state);
        }
    }

    fn write_buffer_limits(&self) -> (usize, usize) {
        let state = self.state.lock();
        (state.high, state.low)
    }

    fn write_buffer_size(&self) -> usize {
        self.state.lock().pending()
    }

    fn peer_addr(&self) -> Option<SocketAddr> {
        self.state.lock().io.as_ref()?.get_ref().peer_addr()
    }

    fn local_addr(&self) -> Option<SocketAddr> {
        self.state.lock().io.as_ref()?.get_ref().local_addr()
    }
}

/// A connection's transport (asyncio's `Transport`): what a
/// [`Protocol`](super::Protocol) writes through. Cheap to clone (an `Arc`);
/// every method takes `&self`, works from any thread, never blocks, and may
/// be called from inside any protocol callback.
///
/// | asyncio | corio |
/// |---|---|
/// | `transport.write(data)` | [`write`](Self::write)`(data)` |
/// | `transport.writelines(list)` | [`writelines`](Self::writelines)`(iter)` |
/// | `transport.write_eof()` / `can_write_eof()` | [`write_eof`](Self::write_eof)`()` / [`can_write_eof`](Self::can_write_eof)`()` |
/// | `transport.close()` / `abort()` / `is_closing()` | [`close`](Self::close)`()` / [`abort`](Self::abort)`()` / [`is_closing`](Self::is_closing)`()` |
/// | `transport.pause_reading()` / `resume_reading()` / `is_reading()` | the same names |
/// | `transport.set_write_buffer_limits(high, low)` | [`set_write_buffer_limits`](Self::set_write_buffer_limits)`(high, low)` |
/// | `transport.get_write_buffer_size()` | [`get_write_buffer_size`](Self::get_write_buffer_size)`()` |
/// | `transport.get_extra_info("peername")` | [`peer_addr`](Self::peer_addr)`()` |
///
/// **Flow control.** When the write buffer grows past the high-water mark
/// the protocol's `pause_writing` is called, and `resume_writing` once the
/// buffer is back to the low-water mark. asyncio calls `pause_writing` from
/// inside `write`; corio calls it right after the protocol callback that
/// wrote returns (the protocol is borrowed during its own callback), or at
/// the connection task's next step when the write came from elsewhere.
#[derive(Clone)]
pub struct Transport {
    inner: Arc<dyn TransportOps>,
}

impl Transport {
    pub(crate) fn new(inner: Arc<dyn TransportOps>) -> Transport {
        Transport { inner }
    }

    /// Queues `data` for sending, never blocking: with nothing buffered it
    /// tries the socket at once and buffers only what the socket did not
    /// take. Does nothing once the transport is closing.
    ///
    /// # Panics
    ///
    /// After [`write_eof`](Self::write_eof) (asyncio raises `RuntimeError`),
    /// and on a read-pipe transport.
    pub fn write(&self, data: &[u8]) {
        self.inner.write(data);
    }

    /// Writes each buffer in turn (asyncio's `writelines`).
    pub fn writelines<I>(&self, lines: I)
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        for line in lines {
            self.inner.write(line.as_ref());
        }
    }

    /// Closes the write direction once the buffer is flushed (the peer
    /// reads EOF); reading goes on. On a write pipe it closes the transport.
    pub fn write_eof(&self) {
        self.inner.write_eof();
    }

    /// Whether [`write_eof`](Self::write_eof) is supported: `true` except on
    /// a read pipe.
    pub fn can_write_eof(&self) -> bool {
        self.inner.can_write_eof()
    }

    /// Stops reading, flushes the buffer, closes the socket; the protocol
    /// then hears `connection_lost(None)`. Idempotent.
    pub fn close(&self) {
        self.inner.close();
    }

    /// Drops the buffer and closes at once; the protocol hears
    /// `connection_lost(None)` at the connection task's next step.
    pub fn abort(&self) {
        self.inner.abort();
    }

    /// Whether the transport is closing or closed.
    pub fn is_closing(&self) -> bool {
        self.inner.is_closing()
    }

    /// Stops calling `data_received` until
    /// [`resume_reading`](Self::resume_reading); the kernel buffers, then
    /// the peer's writes stall.
    pub fn pause_reading(&self) {
        self.inner.pause_reading();
    }

    /// Resumes reading after [`pause_reading`](Self::pause_reading).
    pub fn resume_reading(&self) {
        self.inner.resume_reading();
    }

    /// Whether the transport is reading (not paused, no EOF, not closing).
    pub fn is_reading(&self) -> bool {
        self.inner.is_reading()
    }

    /// Sets the write buffer's water marks (defaults 64 KiB and 16 KiB, as
    /// asyncio's).
    ///
    /// # Panics
    ///
    /// If `low > high` (asyncio raises `ValueError`).
    pub fn set_write_buffer_limits(&self, high: usize, low: usize) {
        self.inner.set_write_buffer_limits(high, low);
    }

    /// The `(high, low)` water marks (asyncio's `get_write_buffer_limits`).
    pub fn get_write_buffer_limits(&self) -> (usize, usize) {
        self.inner.write_buffer_limits()
    }

    /// Bytes written but not yet taken by the socket.
    pub fn get_write_buffer_size(&self) -> usize {
        self.inner.write_buffer_size()
    }

    /// The peer's address (TCP; `None` otherwise or once closed).
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.inner.peer_addr()
    }

    /// The local address (TCP; `None` otherwise or once closed).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.inner.local_addr()
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("peer", &self.peer_addr())
            .field("closing", &self.is_closing())
            .field("buffered", &self.get_write_buffer_size())
            .finish()
    }
}
