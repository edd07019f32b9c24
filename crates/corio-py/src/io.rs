//! The loop's fd callbacks (`add_reader`/`add_writer`) on corio's reactor,
//! with the level-triggered semantics of asyncio's selectors.
//!
//! Each watched fd is registered once with the [`Reactor`] (edge-triggered,
//! both directions) and has one [`Waker`] of its own that records the fd in
//! a shared list when the reactor sees an edge. Readiness is the source's
//! flag; an fd whose flag is set and that has a callback for that direction
//! is *ready*, and its callback joins the ready queue.
//!
//! **Level-triggered.** An edge says "became ready", asyncio promises "is
//! ready". So every fd whose callback was queued in one iteration (and every
//! fd whose interest just changed) is checked at the start of the next one
//! with one `poll(2)` for all of them (zero timeout): a direction the kernel
//! no longer reports ready has its flag cleared, only if no edge arrived
//! since (the source's tick), and the waker is stored for the next edge; a
//! direction still ready keeps its flag and the iteration does not block,
//! as `select` would return at once. This is `fd_callbacks.rs`'s technique
//! in the facade, batched: one extra syscall per iteration that ran IO
//! callbacks, none when idle.
//!
//! The user's fd itself is registered (no `dup`): asyncio's contract is that
//! the reader is removed before the fd is closed (its transports do), and
//! the registration then ends with the descriptor, as with a selector.
//!
//! **Streams.** A socket transport (`transport/`) registers its own fd as a
//! *stream*: edge-triggered, no `poll(2)` check. The reactor's edge queues
//! the transport itself (both directions; [`Ready::Stream`], no handle per
//! connection; the `sock_*` operations' streams queue a handle); it reads
//! and writes through the [`Source`], which clears readiness on a short
//! read or a partial write, and stores the waker for what it waits for. A
//! transport that is still ready after its callback (a full read, reading
//! resumed) wakes itself with its waker: the fd joins the woken list and
//! the next iteration polls without blocking and queues it again.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use corio_reactor::{Reactor, Source, Tick};
use parking_lot::Mutex;
use pyo3::prelude::*;
use rustix::event::{poll, PollFd, PollFlags, Timespec};

use std::collections::VecDeque;

use crate::handle::{Handle, Ready};
use crate::sys;
use crate::transport::SocketTransport;

/// The fds woken by the reactor since the last collection.
type Woken = Arc<Mutex<Vec<RawFd>>>;

/// A watched fd as `selectors.SelectorKey` shows it: (events, reader, writer).
pub(crate) type FdKey = (u8, Option<Py<Handle>>, Option<Py<Handle>>);

/// The waker of one watched fd.
struct FdWake {
    fd: RawFd,
    woken: Woken,
}

impl Wake for FdWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.lock().push(self.fd);
    }
}

/// One watched fd.
struct Entry {
    source: Arc<Source>,
    reader: Option<Py<Handle>>,
    writer: Option<Py<Handle>>,
    waker: Waker,
    /// The iteration that last queued its callbacks (de-duplication).
    stamp: u64,
}

impl Entry {
    /// Stores the waker for each direction with a callback; returns which
    /// directions are ready now.
    fn poll(&self) -> (bool, bool) {
        let mut cx = Context::from_waker(&self.waker);
        let read = self.reader.is_some()
            && matches!(self.source.poll_readable(&mut cx), Poll::Ready(Ok(())));
        let write = self.writer.is_some()
            && matches!(self.source.poll_writable(&mut cx), Poll::Ready(Ok(())));
        (read, write)
    }
}

/// A stream fd: its source and what runs on its edges.
struct Stream {
    source: Arc<Source>,
    target: Target,
    /// The iteration that last queued the target (de-duplication).
    stamp: u64,
}

/// What an edge of a stream fd queues.
enum Target {
    /// A callback (the `sock_*` operations).
    Handle(Py<Handle>),
    /// py-transport: a socket transport, itself the ready-queue entry
    /// ([`Ready::Stream`]: no handle per connection).
    Transport(Py<SocketTransport>),
}

impl Target {
    fn ready(&self, py: Python<'_>) -> Ready {
        match self {
            Target::Handle(h) => Ready::Fd(h.clone_ref(py)),
            Target::Transport(t) => Ready::Stream(t.clone_ref(py)),
        }
    }

    fn as_any(&self) -> &PyObject {
        match self {
            Target::Handle(h) => h.as_any(),
            Target::Transport(t) => t.as_any(),
        }
    }

    fn into_any(self) -> PyObject {
        match self {
            Target::Handle(h) => h.into_any(),
            Target::Transport(t) => t.into_any(),
        }
    }
}

/// The fd side of one loop.
pub(crate) struct Io {
    reactor: Arc<Reactor>,
    fds: HashMap<RawFd, Entry>,
    streams: HashMap<RawFd, Stream>,
    woken: Woken,
    /// Fds to check with `poll(2)` at the start of the next iteration.
    check: Vec<RawFd>,
    /// Fds found still ready by that check.
    hot: Vec<RawFd>,
    step: u64,
}

impl Io {
    pub(crate) fn new() -> io::Result<Io> {
        Ok(Io {
            reactor: Arc::new(Reactor::new()?),
            fds: HashMap::new(),
            streams: HashMap::new(),
            woken: Arc::default(),
            check: Vec::new(),
            hot: Vec::new(),
            step: 0,
        })
    }

    pub(crate) fn reactor(&self) -> &Arc<Reactor> {
        &self.reactor
    }

    /// Sets the reader (`read`) or writer of `fd`; returns the callback it
    /// replaces, to be cancelled by the caller.
    pub(crate) fn add(
        &mut self,
        fd: RawFd,
        read: bool,
        handle: Py<Handle>,
    ) -> io::Result<Option<Py<Handle>>> {
        let entry = match self.fds.entry(fd) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let source = sys::with_fd(fd, |fd| self.reactor.register(fd))?;
                let waker = Waker::from(Arc::new(FdWake {
                    fd,
                    woken: Arc::clone(&self.woken),
                }));
                v.insert(Entry {
                    source,
                    reader: None,
                    writer: None,
                    waker,
                    stamp: 0,
                })
            }
        };
        let old = if read {
            entry.reader.replace(handle)
        } else {
            entry.writer.replace(handle)
        };
        // A flag set by an old edge may be stale: the next iteration asks
        // the kernel (and stores the waker).
        self.check.push(fd);
        Ok(old)
    }

    /// Registers a transport's stream fd (see the module doc); the handle
    /// runs on each edge. Returns the source and the waker to poll it with.
    pub(crate) fn add_stream(
        &mut self,
        fd: BorrowedFd<'_>,
        handle: Py<Handle>,
    ) -> io::Result<(Arc<Source>, Waker)> {
        self.insert_stream(fd, Target::Handle(handle))
    }

    /// py-transport: registers a socket transport's fd as a stream; the
    /// transport runs on each edge (see [`Target::Transport`]).
    pub(crate) fn add_transport(
        &mut self,
        fd: BorrowedFd<'_>,
        transport: Py<SocketTransport>,
    ) -> io::Result<(Arc<Source>, Waker)> {
        self.insert_stream(fd, Target::Transport(transport))
    }

    fn insert_stream(
        &mut self,
        fd: BorrowedFd<'_>,
        target: Target,
    ) -> io::Result<(Arc<Source>, Waker)> {
        let raw = fd.as_raw_fd();
        if self.fds.contains_key(&raw) || self.streams.contains_key(&raw) {
            return Err(io::Error::from_raw_os_error(
                rustix::io::Errno::EXIST.raw_os_error(),
            ));
        }
        let source = self.reactor.register(fd)?;
        let waker = Waker::from(Arc::new(FdWake {
            fd: raw,
            woken: Arc::clone(&self.woken),
        }));
        self.streams.insert(
            raw,
            Stream {
                source: Arc::clone(&source),
                target,
                stamp: 0,
            },
        );
        Ok((source, waker))
    }

    /// Deregisters a stream fd; returns its handle (released by the caller
    /// outside any borrow). A wake already queued for it finds nothing.
    pub(crate) fn remove_stream(&mut self, fd: RawFd) -> Option<Py<Handle>> {
        if !matches!(self.streams.get(&fd)?.target, Target::Handle(_)) {
            return None;
        }
        match self.take_stream(fd)? {
            Target::Handle(h) => Some(h),
            Target::Transport(_) => None,
        }
    }

    /// py-transport: deregisters a transport's stream fd; returns the
    /// table's reference to the transport (released by the caller outside
    /// any borrow).
    pub(crate) fn remove_transport(&mut self, fd: RawFd) -> Option<Py<SocketTransport>> {
        if !matches!(self.streams.get(&fd)?.target, Target::Transport(_)) {
            return None;
        }
        match self.take_stream(fd)? {
            Target::Transport(t) => Some(t),
            Target::Handle(_) => None,
        }
    }

    fn take_stream(&mut self, fd: RawFd) -> Option<Target> {
        let stream = self.streams.remove(&fd)?;
        // ENOENT/EBADF: nothing left to undo.
        let _ = self.reactor.deregister(&stream.source);
        Some(stream.target)
    }

    /// Removes the reader (`read`) or writer of `fd`; deregisters the fd
    /// when neither is left. Returns the removed callback.
    pub(crate) fn remove(&mut self, fd: RawFd, read: bool) -> Option<Py<Handle>> {
        let entry = self.fds.get_mut(&fd)?;
        let old = if read {
            entry.reader.take()
        } else {
            entry.writer.take()
        };
        if entry.reader.is_none() && entry.writer.is_none() {
            let entry = self.fds.remove(&fd).expect("present");
            // EBADF (closed before removal) or ENOENT: nothing left to undo.
            let _ = self.reactor.deregister(&entry.source);
        }
        old
    }

    /// `(events, reader, writer)` of a watched fd (`selectors.SelectorKey`).
    pub(crate) fn key(&self, py: Python<'_>, fd: RawFd) -> Option<FdKey> {
        let entry = self.fds.get(&fd)?;
        let events = u8::from(entry.reader.is_some()) | (u8::from(entry.writer.is_some()) << 1);
        Some((
            events,
            entry.reader.as_ref().map(|h| h.clone_ref(py)),
            entry.writer.as_ref().map(|h| h.clone_ref(py)),
        ))
    }

    pub(crate) fn fds(&self) -> Vec<RawFd> {
        self.fds.keys().copied().collect()
    }

    /// The level-triggered check at the start of an iteration (see the
    /// module doc). Returns whether some fd is still ready.
    pub(crate) fn settle(&mut self) -> bool {
        self.hot.clear();
        // A transport that woke itself (still ready) must not wait.
        let rewoken = !self.woken.lock().is_empty();
        if self.check.is_empty() {
            return rewoken;
        }
        let mut checked: Vec<(RawFd, Tick, Tick, PollFlags)> = Vec::with_capacity(self.check.len());
        self.check.sort_unstable();
        self.check.dedup();
        for &fd in &self.check {
            let Some(entry) = self.fds.get(&fd) else {
                continue;
            };
            let mut flags = PollFlags::empty();
            if entry.reader.is_some() {
                flags |= PollFlags::IN;
            }
            if entry.writer.is_some() {
                flags |= PollFlags::OUT;
            }
            if flags.is_empty() {
                continue;
            }
            checked.push((
                fd,
                entry.source.readable_tick(),
                entry.source.writable_tick(),
                flags,
            ));
        }
        self.check.clear();
        if checked.is_empty() {
            return rewoken;
        }
        let revents: Vec<PollFlags> = {
            let borrowed: Vec<_> = checked
                .iter()
                .map(|&(fd, _, _, flags)| (self.fds[&fd].source.clone(), flags))
                .collect();
            let result = sys::with_fds(&borrowed, |pollfds: &mut [PollFd<'_>]| {
                let zero = Timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                };
                poll(pollfds, Some(&zero))?;
                Ok(pollfds.iter().map(PollFd::revents).collect())
            });
            match result {
                Ok(r) => r,
                // EINTR or the like: treat everything as still ready; the
                // next iteration asks again.
                Err(_) => {
                    self.check.extend(checked.iter().map(|c| c.0));
                    self.hot.extend(checked.iter().map(|c| c.0));
                    return true;
                }
            }
        };
        for ((fd, read_tick, write_tick, flags), revents) in checked.into_iter().zip(revents) {
            let entry = &self.fds[&fd];
            // POLLNVAL: closed without removal (the caller's bug): not ready,
            // as a selector forgets a closed fd.
            let failed = revents.intersects(PollFlags::ERR | PollFlags::HUP)
                && !revents.contains(PollFlags::NVAL);
            let read = flags.contains(PollFlags::IN) && (failed || revents.contains(PollFlags::IN));
            let write =
                flags.contains(PollFlags::OUT) && (failed || revents.contains(PollFlags::OUT));
            if flags.contains(PollFlags::IN) && !read {
                entry.source.clear_readable_at(read_tick);
            }
            if flags.contains(PollFlags::OUT) && !write {
                entry.source.clear_writable_at(write_tick);
            }
            // Stores the waker for the cleared directions; a direction with
            // a fresh edge, or still ready, reports ready.
            let (r, w) = entry.poll();
            if r || w {
                self.hot.push(fd);
            }
        }
        rewoken || !self.hot.is_empty()
    }

    /// After the reactor's poll: the callbacks of every ready fd, reader
    /// before writer, each fd once; those fds are checked next iteration.
    pub(crate) fn collect(&mut self, py: Python<'_>, ready: &mut VecDeque<Ready>) {
        self.step += 1;
        let woken = std::mem::take(&mut *self.woken.lock());
        let hot = std::mem::take(&mut self.hot);
        for fd in hot.iter().chain(woken.iter()).copied() {
            let Some(entry) = self.fds.get_mut(&fd) else {
                if let Some(stream) = self.streams.get_mut(&fd) {
                    if stream.stamp != self.step {
                        stream.stamp = self.step;
                        ready.push_back(stream.target.ready(py));
                    }
                }
                continue;
            };
            if entry.stamp == self.step {
                continue;
            }
            let (read, write) = entry.poll();
            if !(read || write) {
                continue;
            }
            entry.stamp = self.step;
            if read {
                if let Some(h) = &entry.reader {
                    ready.push_back(Ready::Fd(h.clone_ref(py)));
                }
            }
            if write {
                if let Some(h) = &entry.writer {
                    ready.push_back(Ready::Fd(h.clone_ref(py)));
                }
            }
            self.check.push(fd);
        }
        self.hot = hot;
        self.hot.clear();
    }

    /// Deregisters every fd (`loop.close()`); the callbacks are returned.
    pub(crate) fn clear(&mut self) -> Vec<PyObject> {
        let mut handles = Vec::new();
        for (_, entry) in self.fds.drain() {
            let _ = self.reactor.deregister(&entry.source);
            handles.extend(entry.reader.map(Py::into_any));
            handles.extend(entry.writer.map(Py::into_any));
        }
        for (_, stream) in self.streams.drain() {
            let _ = self.reactor.deregister(&stream.source);
            handles.push(stream.target.into_any());
        }
        self.check.clear();
        self.hot.clear();
        handles
    }

    /// For the garbage collector.
    pub(crate) fn handles(&self) -> impl Iterator<Item = &PyObject> {
        self.fds
            .values()
            .flat_map(|e| e.reader.iter().chain(e.writer.iter()))
            .map(Py::as_any)
            .chain(self.streams.values().map(|s| s.target.as_any()))
    }
}
