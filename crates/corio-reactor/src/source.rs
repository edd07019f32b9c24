//! [`Source`]: one registered file descriptor, the readiness the reactor has seen for it
//! in each direction, and the wakers of the tasks waiting for that readiness.
//!
//! Readiness model (per direction, read and write):
//!
//! * a `ready` flag, set by every event the reactor delivers for that direction and
//!   reset only by an explicit clear ([`Source::clear_readable`] and friends);
//! * a [`Tick`], bumped by every delivered event, so a task can clear readiness
//!   *only if nothing new arrived* since it last tried the I/O
//!   ([`Source::clear_readable_at`]), which closes the classic edge-triggered race
//!   "event lands between the `EWOULDBLOCK` and the clear";
//! * its waiters ([`Waiters`]): the single slot of poll-API callers and the keyed
//!   entries of waiter futures, which remove themselves when dropped; all of them are
//!   woken on readiness, hang-up, error or deregistration;
//! * for reading, a sticky `closed` flag: the backend reported that the peer shut its
//!   write side down (`EPOLLRDHUP`), or a hang-up or error. Where the backend reports
//!   that on EOF (the epoll backend), a *short* stream read clears read readiness as a
//!   `WouldBlock` would, unless `closed` is set: the receive queue is empty, and
//!   whatever arrives next (bytes or EOF) is a new event.
//!
//! Wakers are woken, and displaced or removed ones dropped, only after the source's
//! lock is released: either can run user code that re-enters the reactor.

use std::fmt;
use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;
use polling::{Event, PollMode, Poller};

use crate::backend::Ready;
use crate::futures::{Readable, Writable};
use crate::sys::Registration;
use crate::waiters::{WaiterKey, Waiters};

/// A readiness generation of one direction of a [`Source`].
///
/// Take it with [`Source::readable_tick`] / [`Source::writable_tick`] *before* trying a
/// non-blocking operation; if the operation reports `WouldBlock`, hand it to
/// [`Source::clear_readable_at`] / [`Source::clear_writable_at`], which clear readiness
/// only if no event arrived in between.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tick(u64);

/// One of the two readiness directions of a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

/// A file descriptor registered with a [`Reactor`](crate::Reactor): its readiness
/// state and the wakers of tasks waiting for it.
///
/// Obtained from [`Reactor::register`](crate::Reactor::register); shared as an
/// `Arc<Source>` between the reactor's table and the I/O object that owns the fd.
///
/// Readiness is a hint, never a promise: an operation attempted after a `Ready` may
/// still return `WouldBlock` (another task consumed the data, or the peer's state
/// changed again), so callers clear and wait again —
/// [`poll_read_with`](Source::poll_read_with) does exactly that. (Events of an earlier
/// registration of the same fd number never arrive here: keys carry a generation.)
pub struct Source {
    registration: Registration,
    /// The poller key: fd number and registration generation (see `table.rs`).
    key: usize,
    state: Mutex<State>,
    /// `Some` only when the reactor runs in
    /// [`TriggerMode::Oneshot`](crate::TriggerMode::Oneshot): the poller used to re-arm
    /// interest after each event. In edge mode interest is registered once and never
    /// touched again.
    rearm: Option<Arc<Poller>>,
    /// Whether the backend reports the read side's closing (EOF) as an event, so a
    /// short read may clear read readiness.
    short_read_clears: bool,
}

struct State {
    read: Readiness,
    write: Readiness,
    deregistered: bool,
    /// Oneshot mode only: interest currently armed in the poller as (read, write).
    armed: (bool, bool),
}

#[derive(Default)]
struct Readiness {
    ready: bool,
    /// An operation hit `WouldBlock` and no event arrived since: the next
    /// operation would only fail, so `poll_io` waits for an event without
    /// trying it.
    drained: bool,
    /// Read direction only: the peer closed its write side, or the socket hung up
    /// or failed. Sticky: no later event can undo it.
    closed: bool,
    tick: u64,
    waiters: Waiters,
}

impl Readiness {
    /// Records an event: readiness is now set and every waiter is handed to `out`.
    fn fire(&mut self, out: &mut Vec<Waker>) {
        self.ready = true;
        self.drained = false;
        self.tick = self.tick.wrapping_add(1);
        self.waiters.drain_into(out);
    }

    /// Whether a waiter is parked here that the poller must report to.
    fn wants_event(&self) -> bool {
        !self.ready && !self.waiters.is_empty()
    }
}

impl State {
    fn dir(&mut self, dir: Direction) -> &mut Readiness {
        match dir {
            Direction::Read => &mut self.read,
            Direction::Write => &mut self.write,
        }
    }
}

/// The error every readiness query returns once the source has been deregistered.
pub(crate) fn deregistered_error() -> io::Error {
    io::Error::other("corio-reactor: the source was deregistered from its reactor")
}

impl Source {
    pub(crate) fn new(
        registration: Registration,
        key: usize,
        rearm: Option<Arc<Poller>>,
        short_read_clears: bool,
    ) -> Source {
        Source {
            registration,
            key,
            state: Mutex::new(State {
                read: Readiness::default(),
                write: Readiness::default(),
                deregistered: false,
                armed: (false, false),
            }),
            rearm,
            short_read_clears,
        }
    }

    /// The raw file descriptor this source was registered with.
    pub fn raw(&self) -> RawFd {
        self.registration.raw()
    }

    /// The key the poller reports this registration's events under.
    pub(crate) fn key(&self) -> usize {
        self.key
    }

    /// The poller registration (for the reactor's `delete`).
    pub(crate) fn registration(&self) -> &Registration {
        &self.registration
    }

    /// Whether this source has been deregistered (explicitly, or because its fd number
    /// was registered again after being closed without deregistration).
    pub fn is_deregistered(&self) -> bool {
        self.state.lock().deregistered
    }

    /// Polls for read readiness.
    ///
    /// Returns `Ready(Ok(()))` if read readiness (or hang-up / error) was seen since
    /// the last clear; otherwise stores the waker and returns `Pending`. Returns an
    /// error once the source has been deregistered.
    ///
    /// The poll-API methods of a direction (`poll_readable`, `poll_read_with`, and the
    /// `AsyncRead` impls of [`Async`](crate::Async)) share **one** stored waker: only
    /// the task that polled last is woken, as with tokio's `poll_read_ready`. Tasks
    /// that wait on one source concurrently use the futures
    /// ([`readable`](Source::readable), [`Async::read_with`](crate::Async::read_with)),
    /// which each keep their own waker and release it when dropped.
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_ready(Direction::Read, cx, None)
    }

    /// Polls for write readiness; see [`poll_readable`](Source::poll_readable).
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_ready(Direction::Write, cx, None)
    }

    /// A future that resolves once the source is readable (see
    /// [`poll_readable`](Source::poll_readable)). Any number of these may wait at
    /// once; dropping one releases its waker.
    pub fn readable(&self) -> Readable<'_> {
        Readable::new(self)
    }

    /// A future that resolves once the source is writable (see
    /// [`poll_writable`](Source::poll_writable)).
    pub fn writable(&self) -> Writable<'_> {
        Writable::new(self)
    }

    /// Forgets the read readiness seen so far, so the next
    /// [`poll_readable`](Source::poll_readable) waits for a fresh event.
    ///
    /// Call it after a read returned `WouldBlock`. With edge-triggered polling an event
    /// that lands between that read and this call is lost; prefer
    /// [`clear_readable_at`](Source::clear_readable_at) when the tick can be taken
    /// before the read.
    pub fn clear_readable(&self) {
        self.state.lock().read.ready = false;
    }

    /// Forgets the write readiness seen so far; see
    /// [`clear_readable`](Source::clear_readable).
    pub fn clear_writable(&self) {
        self.state.lock().write.ready = false;
    }

    /// The current read readiness generation; take it before trying a read.
    pub fn readable_tick(&self) -> Tick {
        Tick(self.state.lock().read.tick)
    }

    /// The current write readiness generation; take it before trying a write.
    pub fn writable_tick(&self) -> Tick {
        Tick(self.state.lock().write.tick)
    }

    /// Clears read readiness only if no read event arrived since `tick` was taken.
    ///
    /// Returns whether readiness was cleared. When it returns `false`, a new event
    /// arrived and the operation should simply be retried.
    pub fn clear_readable_at(&self, tick: Tick) -> bool {
        self.clear_at(Direction::Read, tick)
    }

    /// Clears write readiness only if no write event arrived since `tick` was taken;
    /// see [`clear_readable_at`](Source::clear_readable_at).
    pub fn clear_writable_at(&self, tick: Tick) -> bool {
        self.clear_at(Direction::Write, tick)
    }

    /// Drives a non-blocking read: runs `op`, and on `WouldBlock` clears read readiness
    /// (race-free, via the tick) and waits for the next read event. `Interrupted` is
    /// retried at once; any other result is returned.
    ///
    /// This is the building block of `AsyncRead` implementations on top of a source.
    /// Like [`poll_readable`](Source::poll_readable), it keeps only the latest
    /// caller's waker; concurrent readers use [`Async::read_with`](crate::Async::read_with).
    pub fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io(Direction::Read, cx, None, op, |_| false)
    }

    /// Drives a non-blocking write; see [`poll_read_with`](Source::poll_read_with).
    pub fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io(Direction::Write, cx, None, op, |_| false)
    }

    /// The retry loop. A direction whose last operation hit `WouldBlock`, with
    /// no event since, is known drained: wait for the next event instead of a
    /// syscall that can only fail again. A successful result for which
    /// `drained_by` says so (a short stream read) marks the direction drained the
    /// same way, where that is safe (see [`poll_read_stream_with`]: with `polling`,
    /// which does not report EPOLLRDHUP, an EOF that arrived with the last bytes
    /// would never be reported again and the reader would wait forever).
    ///
    /// `key` is `None` for poll-API callers (the direction's single slot) and a waiter
    /// future's key slot otherwise.
    ///
    /// [`poll_read_stream_with`]: Source::poll_read_stream_with
    pub(crate) fn poll_io<R>(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        mut key: Option<&mut Option<WaiterKey>>,
        mut op: impl FnMut() -> io::Result<R>,
        drained_by: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        loop {
            let (tick, released) = {
                let mut state = self.state.lock();
                let readiness = state.dir(dir);
                let drained = readiness.drained && !readiness.ready;
                // A waiter about to try its operation is not parked: give its entry
                // up now (the tick catches any event meanwhile), so a call that then
                // succeeds has nothing left to remove when it is dropped.
                let released = match (drained, key.as_deref_mut()) {
                    (false, Some(key)) => key.take().and_then(|k| readiness.waiters.remove(k)),
                    _ => None,
                };
                ((!drained).then_some(Tick(readiness.tick)), released)
            };
            drop(released);
            if let Some(tick) = tick {
                match op() {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        self.clear_at(dir, tick);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Ok(done)
                        if (dir == Direction::Write || self.short_read_clears)
                            && drained_by(&done) =>
                    {
                        self.clear_unless_closed(dir, tick);
                        return Poll::Ready(Ok(done));
                    }
                    result => return Poll::Ready(result),
                }
            }
            match self.poll_ready(dir, cx, key.as_deref_mut()) {
                Poll::Ready(Ok(())) => continue,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// A short read's clear: as `clear_at`, unless the read side is closed (its
    /// EOF event came already; nothing will report it again).
    fn clear_unless_closed(&self, dir: Direction, tick: Tick) {
        let mut state = self.state.lock();
        let readiness = state.dir(dir);
        if !readiness.closed && readiness.tick == tick.0 {
            readiness.ready = false;
            readiness.drained = true;
        }
    }

    fn clear_at(&self, dir: Direction, tick: Tick) -> bool {
        let mut state = self.state.lock();
        let readiness = state.dir(dir);
        if readiness.tick == tick.0 {
            readiness.ready = false;
            readiness.drained = true;
            true
        } else {
            false
        }
    }

    /// Readiness check, else park: in the single poll-API slot (`key` is `None`) or
    /// under a waiter future's key. A waiter that gets `Ready` gives its entry up.
    pub(crate) fn poll_ready(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        key: Option<&mut Option<WaiterKey>>,
    ) -> Poll<io::Result<()>> {
        // A waker displaced or released here is dropped after the lock: its drop may
        // free a task whose future re-enters the reactor.
        let released: Option<Waker>;
        let polled = {
            let mut state = self.state.lock();
            let done = if state.deregistered {
                Some(Err(deregistered_error()))
            } else if state.dir(dir).ready {
                Some(Ok(()))
            } else {
                None
            };
            let waiters = &mut state.dir(dir).waiters;
            match (done, key) {
                (Some(result), key) => {
                    released = key.and_then(Option::take).and_then(|k| waiters.remove(k));
                    Poll::Ready(result)
                }
                (None, key) => {
                    released = match key {
                        None => waiters.park_polled(cx.waker()),
                        Some(key) => waiters.park_keyed(key, cx.waker()),
                    };
                    match self.rearm(&mut state) {
                        Ok(()) => Poll::Pending,
                        Err(e) => Poll::Ready(Err(e)),
                    }
                }
            }
        };
        drop(released);
        polled
    }

    /// Removes a waiter future's entry; returns its waker for the caller to drop once
    /// the lock is released.
    pub(crate) fn remove_waiter(&self, dir: Direction, key: WaiterKey) -> Option<Waker> {
        self.state.lock().dir(dir).waiters.remove(key)
    }

    /// Oneshot mode: makes sure the poller will report every direction somebody waits
    /// for. A no-op in edge mode, or when that interest is already armed.
    fn rearm(&self, state: &mut State) -> io::Result<()> {
        let Some(poller) = &self.rearm else {
            return Ok(());
        };
        let want = (
            state.armed.0 || state.read.wants_event(),
            state.armed.1 || state.write.wants_event(),
        );
        if want == state.armed {
            return Ok(());
        }
        // The caller checked under this same lock that the source is not deregistered
        // (deregistration and eviction flip the flag under it), which is what
        // `Registration::modify` relies on.
        let interest = Event::new(self.key, want.0, want.1);
        self.registration
            .modify(poller, interest, PollMode::Oneshot)?;
        state.armed = want;
        Ok(())
    }

    /// Called by the reactor with an event for this source; hands the wakers to wake
    /// to `out` (they are woken after every lock is released).
    pub(crate) fn deliver(&self, event: Ready, out: &mut Vec<Waker>) {
        let mut state = self.state.lock();
        if state.deregistered {
            return;
        }
        if event.read_closed {
            state.read.closed = true;
        }
        if event.readable {
            state.read.fire(out);
        }
        if event.writable {
            state.write.fire(out);
        }
        if self.rearm.is_some() {
            // A oneshot registration is disarmed by the event it just produced; keep
            // reporting to whoever still waits in the other direction.
            state.armed = (false, false);
            if self.rearm(&mut state).is_err() {
                // Let the remaining waiters re-poll: they will re-arm themselves and
                // see the error.
                state.read.waiters.drain_into(out);
                state.write.waiters.drain_into(out);
            }
        }
    }

    /// Marks the source dead and hands every stored waker to `out`.
    pub(crate) fn mark_deregistered(&self, out: &mut Vec<Waker>) {
        Source::mark(&mut self.state.lock(), out);
    }

    /// Evicts this source, whose fd number was found reused: runs `add` (the new
    /// registration of the number) while holding this source's lock, and if it
    /// succeeds marks this source deregistered and hands its wakers to `out`.
    ///
    /// Holding the lock across `add` means a re-arm of this stale source (which runs
    /// under the same lock) cannot slip in between and re-target the new
    /// registration of the number with this source's key.
    pub(crate) fn evict_during<R>(
        &self,
        add: impl FnOnce() -> io::Result<R>,
        out: &mut Vec<Waker>,
    ) -> io::Result<R> {
        let mut state = self.state.lock();
        let added = add()?;
        Source::mark(&mut state, out);
        Ok(added)
    }

    fn mark(state: &mut State, out: &mut Vec<Waker>) {
        state.deregistered = true;
        state.read.waiters.drain_into(out);
        state.write.waiters.drain_into(out);
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Source")
            .field("fd", &self.raw())
            .field("readable", &state.read.ready)
            .field("writable", &state.write.ready)
            .field("read_waiters", &state.read.waiters.len())
            .field("write_waiters", &state.write.waiters.len())
            .field("deregistered", &state.deregistered)
            .finish()
    }
}
