//! `LoopHandle::add_reader`, `add_writer`, `remove_reader`, `remove_writer`:
//! asyncio's fd callbacks, called on the loop while an fd is readable
//! (writable), until removed.
//!
//! **Registration.** The reactor never takes the user's fd: each watched fd
//! gets a *duplicate* (`dup`, owned here), and that duplicate is what is
//! registered and deregistered, so the reactor's contract (deregister before
//! close) holds structurally, whatever the user does with their own fd. One
//! hidden task per fd waits for readiness and runs the callbacks; it holds the
//! [`FdEntry`], and dropping it (the entry removed, or the loop closed, which
//! drops every task) deregisters the duplicate and closes it.
//!
//! **Level-triggered, as asyncio's selectors.** The reactor is edge-triggered;
//! after running a callback the task asks the kernel (`poll(2)`, zero
//! timeout, on the duplicate) whether the fd is still ready. If it is, the
//! callback runs again in the next loop iteration; if not, readiness is
//! cleared (only if no event arrived meanwhile: the reactor's tick) and the
//! task waits for the next event.
//!
//! **Closing the fd without `remove_reader` first** is the caller's bug, as in
//! asyncio: the duplicate keeps the open file description alive, so the
//! callback goes on firing for the old file until it is removed. It cannot
//! reach another source: the registration is the duplicate's, not the number
//! the user closed. `add_reader` with a number that now names another file
//! (compared by device and inode) drops the stale entry and starts afresh.
//!
//! The registry is process-wide, keyed by (reactor address, fd number); an
//! entry holds its reactor alive, so an address cannot be reused while a key
//! naming it exists.

use std::collections::BTreeMap;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::fs::MetadataExt;
use std::panic::Location;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use corio_executor::Builder as TaskBuilder;
use corio_reactor::{Reactor, Source};
use parking_lot::Mutex;

use super::exception_handler::{run_callback, CallbackReporting};
use super::handle::LoopHandle;

/// Every watched fd of every loop: (reactor address, user's fd number).
static REGISTRY: Mutex<BTreeMap<(usize, RawFd), Arc<FdEntry>>> = Mutex::new(BTreeMap::new());

/// Which callback of an fd.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dir {
    Read,
    Write,
}

/// A callback as stored: shared with the task while it runs (outside every
/// lock of ours), so replacing or removing it from inside itself is safe.
/// The `Mutex` only makes the `Fn + Send` closure shareable (`Sync`); it is
/// never contended (only the fd's task calls it).
#[derive(Clone)]
struct Slot {
    f: Arc<Mutex<Box<dyn Fn() + Send>>>,
    location: &'static Location<'static>,
}

/// One watched fd: the duplicate registered with the reactor, its callbacks.
struct FdEntry {
    reactor: Arc<Reactor>,
    source: Arc<Source>,
    /// The duplicate; `None` once deregistered and closed.
    dup: Mutex<Option<OwnedFd>>,
    /// (device, inode) of the file, to tell a reused fd number apart.
    identity: (u64, u64),
    state: Mutex<Slots>,
}

#[derive(Default)]
struct Slots {
    reader: Option<Slot>,
    writer: Option<Slot>,
    /// The fd's task, woken when the interest changes.
    waker: Option<Waker>,
}

impl Slots {
    fn slot(&mut self, dir: Dir) -> &mut Option<Slot> {
        match dir {
            Dir::Read => &mut self.reader,
            Dir::Write => &mut self.writer,
        }
    }
}

impl FdEntry {
    /// Deregisters the duplicate, then closes it. Idempotent.
    fn shut(&self) {
        let dup = self.dup.lock().take();
        if dup.is_some() {
            let _ = self.reactor.deregister(&self.source);
        }
        drop(dup);
    }

    /// Waits until a direction that has a callback is ready; `None` when
    /// both callbacks are gone or the registration is dead.
    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Option<(bool, bool)>> {
        let (want_read, want_write) = {
            let mut state = self.state.lock();
            if !state
                .waker
                .as_ref()
                .is_some_and(|w| w.will_wake(cx.waker()))
            {
                state.waker = Some(cx.waker().clone());
            }
            (state.reader.is_some(), state.writer.is_some())
        };
        if !want_read && !want_write {
            return Poll::Ready(None);
        }
        let mut ready = (false, false);
        if want_read {
            match self.source.poll_readable(cx) {
                Poll::Ready(Ok(())) => ready.0 = true,
                Poll::Ready(Err(_)) => return Poll::Ready(None),
                Poll::Pending => {}
            }
        }
        if want_write {
            match self.source.poll_writable(cx) {
                Poll::Ready(Ok(())) => ready.1 = true,
                Poll::Ready(Err(_)) => return Poll::Ready(None),
                Poll::Pending => {}
            }
        }
        if ready.0 || ready.1 {
            Poll::Ready(Some(ready))
        } else {
            Poll::Pending
        }
    }

    /// After the callbacks ran: asks the kernel whether the fd is still
    /// ready in each direction that fired, and clears the reactor's readiness
    /// where it is not. Returns whether some direction is still ready.
    fn settle(&self, read: bool, write: bool) -> bool {
        use rustix::event::{poll, PollFd, PollFlags, Timespec};
        let ticks = (self.source.readable_tick(), self.source.writable_tick());
        let dup = self.dup.lock();
        let Some(fd) = dup.as_ref() else {
            return false;
        };
        let mut flags = PollFlags::empty();
        if read {
            flags |= PollFlags::IN;
        }
        if write {
            flags |= PollFlags::OUT;
        }
        let mut fds = [PollFd::new(fd, flags)];
        let zero = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // An error (EINTR) counts as "still ready": the next iteration asks again.
        let revents = match poll(&mut fds, Some(&zero)) {
            Ok(_) => fds[0].revents(),
            Err(_) => return true,
        };
        drop(dup);
        let failed = revents.intersects(PollFlags::ERR | PollFlags::HUP | PollFlags::NVAL);
        let still_read = read && (failed || revents.contains(PollFlags::IN));
        let still_write = write && (failed || revents.contains(PollFlags::OUT));
        if read && !still_read {
            self.source.clear_readable_at(ticks.0);
        }
        if write && !still_write {
            self.source.clear_writable_at(ticks.1);
        }
        still_read || still_write
    }

    fn callback(&self, dir: Dir) -> Option<Slot> {
        self.state.lock().slot(dir).clone()
    }
}

/// Held by the fd's task: when the task goes (the callbacks were removed, the
/// loop closed), the entry leaves the registry, if it is still the one
/// there, and its duplicate is deregistered and closed.
struct EntryGuard {
    key: (usize, RawFd),
    entry: Arc<FdEntry>,
}

impl Drop for EntryGuard {
    fn drop(&mut self) {
        let removed = {
            let mut registry = REGISTRY.lock();
            match registry.get(&self.key) {
                Some(e) if Arc::ptr_eq(e, &self.entry) => registry.remove(&self.key),
                _ => None,
            }
        };
        self.entry.shut();
        // The callbacks are dropped after every lock is released: their
        // `Drop` may call back in.
        let slots = std::mem::take(&mut *self.entry.state.lock());
        drop(slots);
        drop(removed);
    }
}

/// The fd's task: one loop iteration per round of callbacks.
async fn drive(guard: EntryGuard, reporting: CallbackReporting) {
    let entry = guard.entry.clone();
    while let Some((read, write)) = poll_fn(|cx| entry.poll_ready(cx)).await {
        // asyncio's order within one fd: the reader, then the writer.
        for (fired, dir) in [(read, Dir::Read), (write, Dir::Write)] {
            if let Some(slot) = fired.then(|| entry.callback(dir)).flatten() {
                run_callback(|| (slot.f.lock())(), slot.location, &reporting);
            }
        }
        if entry.settle(read, write) {
            // Still ready: call again in the next iteration, as a
            // level-triggered selector does.
            crate::yield_now().await;
        }
    }
    drop(guard);
}

fn identity(fd: BorrowedFd<'_>) -> io::Result<(OwnedFd, (u64, u64))> {
    let dup = fd.try_clone_to_owned()?;
    let file = std::fs::File::from(dup);
    let meta = file.metadata()?;
    Ok((OwnedFd::from(file), (meta.dev(), meta.ino())))
}

impl LoopHandle {
    /// Calls `f` on the loop whenever `fd` is readable, once per loop
    /// iteration while it stays readable, until
    /// [`remove_reader`](Self::remove_reader) (asyncio's
    /// `loop.add_reader(fd, callback)`). Adding a reader again replaces the
    /// callback. A callback that panics is reported to the loop's exception
    /// handler, like a `call_soon` callback, and stays registered.
    ///
    /// The loop registers a duplicate of `fd`, never `fd` itself, and does
    /// not change its blocking mode: read it non-blocking or read only what
    /// is there. Call `remove_reader` *before* closing `fd`: until then the
    /// duplicate keeps the file open and the callback keeps firing. Closing
    /// the loop removes every callback. Works from any thread; under
    /// workers the callback runs on whichever worker runs the fd's task.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::fd::AsRawFd;
    /// use std::os::unix::net::UnixStream;
    /// use std::sync::{Arc, Mutex};
    ///
    /// corio::run(async {
    ///     let (a, mut b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let a = Arc::new(a);
    ///     let got = Arc::new(Mutex::new(Vec::new()));
    ///     let handle = corio::get_running_loop();
    ///     let (reader, sink) = (a.clone(), got.clone());
    ///     handle.add_reader(&*a, move || {
    ///         let mut buf = [0; 16];
    ///         if let Ok(n) = (&*reader).read(&mut buf) {
    ///             sink.lock().unwrap().extend_from_slice(&buf[..n]);
    ///         }
    ///     }).unwrap();
    ///     b.write_all(b"ping").unwrap();
    ///     while got.lock().unwrap().is_empty() {
    ///         corio::sleep(std::time::Duration::from_millis(1)).await;
    ///     }
    ///     assert!(handle.remove_reader(a.as_raw_fd()));
    ///     assert_eq!(*got.lock().unwrap(), b"ping");
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// The loop is closed; `fd` cannot be duplicated or polled (a regular
    /// file under epoll).
    #[track_caller]
    pub fn add_reader(&self, fd: impl AsFd, f: impl Fn() + Send + 'static) -> io::Result<()> {
        self.add_fd_callback(fd.as_fd(), Dir::Read, Box::new(f), Location::caller())
    }

    /// Calls `f` on the loop whenever `fd` is writable, once per iteration
    /// while it stays writable, until [`remove_writer`](Self::remove_writer)
    /// (asyncio's `loop.add_writer`). As [`add_reader`](Self::add_reader)
    /// otherwise.
    #[track_caller]
    pub fn add_writer(&self, fd: impl AsFd, f: impl Fn() + Send + 'static) -> io::Result<()> {
        self.add_fd_callback(fd.as_fd(), Dir::Write, Box::new(f), Location::caller())
    }

    /// Stops watching `fd` for reading; returns whether a reader was
    /// registered (asyncio's `loop.remove_reader`). Safe to call from inside
    /// the callback itself. With no writer left either, the fd's duplicate
    /// is deregistered and closed at once.
    pub fn remove_reader(&self, fd: RawFd) -> bool {
        self.remove_fd_callback(fd, Dir::Read)
    }

    /// Stops watching `fd` for writing; returns whether a writer was
    /// registered (asyncio's `loop.remove_writer`).
    pub fn remove_writer(&self, fd: RawFd) -> bool {
        self.remove_fd_callback(fd, Dir::Write)
    }

    fn fd_key(&self, fd: RawFd) -> (usize, RawFd) {
        (Arc::as_ptr(&self.shared.reactor) as usize, fd)
    }

    fn add_fd_callback(
        &self,
        fd: BorrowedFd<'_>,
        dir: Dir,
        f: Box<dyn Fn() + Send>,
        location: &'static Location<'static>,
    ) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        if self.is_closed() {
            return Err(io::Error::other(
                "add_reader/add_writer: the event loop is closed",
            ));
        }
        let key = self.fd_key(fd.as_raw_fd());
        let slot = Slot {
            f: Arc::new(Mutex::new(f)),
            location,
        };
        let (dup, id) = identity(fd)?;
        let existing = REGISTRY.lock().get(&key).cloned();
        if let Some(entry) = existing {
            if entry.identity == id && entry.dup.lock().is_some() {
                let (old, waker) = {
                    let mut state = entry.state.lock();
                    let old = state.slot(dir).replace(slot);
                    (old, state.waker.clone())
                };
                // A new direction: the task must start waiting on it.
                if old.is_none() {
                    if let Some(waker) = waker {
                        waker.wake();
                    }
                }
                drop(old);
                return Ok(());
            }
            // The number names another file now (closed without removal):
            // the stale entry goes, with its callbacks.
            self.drop_entry(key, &entry);
        }
        let source = self.shared.reactor.register(dup.as_fd())?;
        let mut slots = Slots::default();
        *slots.slot(dir) = Some(slot);
        let entry = Arc::new(FdEntry {
            reactor: self.shared.reactor.clone(),
            source,
            dup: Mutex::new(Some(dup)),
            identity: id,
            state: Mutex::new(slots),
        });
        let replaced = REGISTRY.lock().insert(key, entry.clone());
        if let Some(stale) = replaced {
            // Raced with another add for the same number: the last one wins.
            self.drop_entry(key, &stale);
        }
        let guard = EntryGuard { key, entry };
        let builder = TaskBuilder::new().hidden(true).location(location);
        drop(
            self.shared
                .spawner
                .spawn_with(builder, drive(guard, self.shared.callback_reporting())),
        );
        Ok(())
    }

    /// Takes `entry` out of the registry (if it is still there), closes its
    /// duplicate and wakes its task, which then ends.
    fn drop_entry(&self, key: (usize, RawFd), entry: &Arc<FdEntry>) {
        let removed = {
            let mut registry = REGISTRY.lock();
            match registry.get(&key) {
                Some(e) if Arc::ptr_eq(e, entry) => registry.remove(&key),
                _ => None,
            }
        };
        entry.shut();
        let slots = std::mem::take(&mut *entry.state.lock());
        if let Some(waker) = &slots.waker {
            waker.wake_by_ref();
        }
        drop(slots);
        drop(removed);
    }

    fn remove_fd_callback(&self, fd: RawFd, dir: Dir) -> bool {
        let key = self.fd_key(fd);
        let Some(entry) = REGISTRY.lock().get(&key).cloned() else {
            return false;
        };
        let (old, empty, waker) = {
            let mut state = entry.state.lock();
            let old = state.slot(dir).take();
            let empty = state.reader.is_none() && state.writer.is_none();
            (old, empty, state.waker.clone())
        };
        let had = old.is_some();
        drop(old);
        if empty {
            self.drop_entry(key, &entry);
        } else if let Some(waker) = waker {
            waker.wake();
        }
        had
    }
}
