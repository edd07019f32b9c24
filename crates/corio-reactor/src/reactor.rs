//! [`Reactor`]: the readiness reactor. It owns one OS poller (a [`Backend`]), the
//! table of registered sources, and the events buffer; [`Reactor::poll`] turns OS readiness
//! events into woken wakers and [`Reactor::notify`] interrupts a blocked poll.

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use parking_lot::Mutex;

use crate::backend::{Backend, Events, Poller};
use crate::table::SourceTable;
use crate::Source;

/// How a reactor asks the OS to report readiness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TriggerMode {
    /// Edge-triggered (`EPOLLET`, `EV_CLEAR`): each fd is registered once for both
    /// directions and never touched again; the OS reports changes of readiness.
    Edge,
    /// Oneshot with re-arm: the fd is armed only for the directions somebody waits on,
    /// and re-armed after every event. Used where the platform has no edge mode.
    Oneshot,
}

/// The readiness reactor: one OS poller (see [`Backend`]), a table of registered
/// sources, an events buffer.
///
/// `Send + Sync`; the event loop owns it in an `Arc` and its driver calls
/// [`poll`](Reactor::poll), while any thread may [`register`](Reactor::register),
/// [`deregister`](Reactor::deregister) or [`notify`](Reactor::notify).
pub struct Reactor {
    poller: Poller,
    mode: TriggerMode,
    /// Registered sources; lock order is table, then a source's own state.
    table: Mutex<SourceTable>,
    /// `table.len()`, readable without the lock (the zero-timeout fast path).
    count: AtomicUsize,
    /// Held by the one thread inside [`Reactor::poll`].
    polling: Mutex<PollBuffers>,
    /// Set by the first `notify` after a wait; cleared when a wait returns. Only
    /// read-modify-write operations touch it (see `notify`).
    notified: AtomicBool,
    /// The io_uring streams go through, if this reactor was made with one, and
    /// its fd's registration with the poller.
    #[cfg(all(target_os = "linux", feature = "io-uring"))]
    ring: Option<(crate::uring::Ring, Arc<Source>)>,
}

/// Buffers reused by every [`Reactor::poll`].
struct PollBuffers {
    events: Events,
    wakers: Vec<Waker>,
    /// Completions reaped from the ring, before they are applied.
    #[cfg(all(target_os = "linux", feature = "io-uring"))]
    completions: Vec<(crate::uring::Op, i32)>,
}

impl Reactor {
    /// Creates a reactor on the [preferred backend](Backend::preferred) (epoll on
    /// Linux), edge-triggered where the platform supports it and oneshot with re-arm
    /// otherwise.
    pub fn new() -> io::Result<Reactor> {
        match Reactor::with_backend(Backend::preferred(), TriggerMode::Edge) {
            Err(e) if e.kind() == io::ErrorKind::Unsupported => {
                Reactor::with_backend(Backend::Polling, TriggerMode::Oneshot)
            }
            made => made,
        }
    }

    /// Creates a reactor that uses `mode`: [`TriggerMode::Edge`] on the preferred
    /// backend, [`TriggerMode::Oneshot`] on [`Backend::Polling`].
    ///
    /// Fails with [`io::ErrorKind::Unsupported`] if the platform's poller cannot do
    /// edge-triggered polling and `mode` is [`TriggerMode::Edge`]. Forcing
    /// [`TriggerMode::Oneshot`] on an edge-capable platform is allowed; it exercises
    /// the portable path.
    pub fn with_mode(mode: TriggerMode) -> io::Result<Reactor> {
        let backend = match mode {
            TriggerMode::Edge => Backend::preferred(),
            TriggerMode::Oneshot => Backend::Polling,
        };
        Reactor::with_backend(backend, mode)
    }

    /// Creates a reactor on `backend` in `mode`.
    ///
    /// Fails with [`io::ErrorKind::Unsupported`] where the backend does not exist
    /// ([`Backend::Epoll`] off Linux) or cannot use `mode` ([`Backend::Epoll`] is
    /// edge-triggered only; [`Backend::Polling`] is edge-triggered only where the
    /// platform allows). `Reactor::with_backend(Backend::Polling, TriggerMode::Edge)`
    /// runs the portable backend's edge path on Linux, for tests.
    pub fn with_backend(backend: Backend, mode: TriggerMode) -> io::Result<Reactor> {
        let poller = Poller::new(backend, mode)?;
        Ok(Reactor {
            mode,
            table: Mutex::new(SourceTable::default()),
            count: AtomicUsize::new(0),
            polling: Mutex::new(PollBuffers {
                events: poller.events(),
                wakers: Vec::new(),
                #[cfg(all(target_os = "linux", feature = "io-uring"))]
                completions: Vec::new(),
            }),
            notified: AtomicBool::new(false),
            poller,
            #[cfg(all(target_os = "linux", feature = "io-uring"))]
            ring: None,
        })
    }

    /// Creates an edge-triggered epoll reactor with an io_uring beside it, which
    /// [`RingStream`](crate::uring::RingStream)s read and write through (see the
    /// [`uring`](crate::uring) module).
    ///
    /// Fails where the kernel has no io_uring or forbids it (`ENOSYS`, `EPERM`
    /// under seccomp or `kernel.io_uring_disabled`); callers fall back to
    /// [`Reactor::new`].
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// match corio_reactor::Reactor::with_io_uring() {
    ///     Ok(reactor) => assert!(reactor.has_io_uring()),
    ///     Err(e) => eprintln!("no io_uring here: {e}"),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(all(target_os = "linux", feature = "io-uring"))]
    #[cfg_attr(docsrs, doc(cfg(all(target_os = "linux", feature = "io-uring"))))]
    pub fn with_io_uring() -> io::Result<Reactor> {
        let mut reactor = Reactor::with_backend(Backend::preferred(), TriggerMode::Edge)?;
        let ring = crate::uring::Ring::new()?;
        let source = ring.with_fd(|fd| reactor.register(fd))?;
        reactor.ring = Some((ring, source));
        Ok(reactor)
    }

    /// Whether this reactor has an io_uring (made by `with_io_uring`).
    pub fn has_io_uring(&self) -> bool {
        #[cfg(all(target_os = "linux", feature = "io-uring"))]
        return self.ring.is_some();
        #[cfg(not(all(target_os = "linux", feature = "io-uring")))]
        false
    }

    /// The io_uring, if this reactor has one.
    #[cfg(all(target_os = "linux", feature = "io-uring"))]
    pub(crate) fn ring(&self) -> Option<&crate::uring::Ring> {
        self.ring.as_ref().map(|(ring, _)| ring)
    }

    /// The trigger mode this reactor registers sources with.
    pub fn mode(&self) -> TriggerMode {
        self.mode
    }

    /// The OS poller this reactor drives.
    pub fn backend(&self) -> Backend {
        self.poller.backend()
    }

    /// Registers a non-blocking fd, once, for both read and write interest.
    ///
    /// The fd must stay open until [`deregister`](Reactor::deregister) has been
    /// called with the returned source ([`Async`](crate::Async) does this for you).
    /// This matters even with `dup`: the poller's registration belongs to the open
    /// file description, so closing this fd while a duplicate keeps the description
    /// open leaves the registration behind, reporting events nobody can remove.
    /// (Those events are recognised as stale by their key and dropped, never delivered
    /// to another source.)
    ///
    /// Registering an fd that is already registered fails with
    /// [`io::ErrorKind::AlreadyExists`]. If the fd *number* is still in the table
    /// because a previous descriptor was closed without being deregistered, that stale
    /// source is deregistered (its waiters woken) and replaced.
    pub fn register(&self, fd: BorrowedFd<'_>) -> io::Result<Arc<Source>> {
        let raw = fd.as_raw_fd();
        let slot = usize::try_from(raw).expect("a BorrowedFd is never negative");
        let mut evicted = Vec::new();

        // Add to the poller and insert into the table under one lock, so an event for
        // this key can never be dispatched before the table knows the source.
        let mut table = self.table.lock();
        let key = table.next_key(slot);
        let add = || self.poller.add(fd, key, self.mode);
        let added = match table.in_slot(slot) {
            // The add succeeds only if the number now names another description than
            // the one registered: the old one was closed without deregistration.
            Some(stale) => stale.evict_during(add, &mut evicted),
            None => add(),
        };
        let registration = match added {
            Ok(registration) => registration,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("fd {raw} is already registered with this reactor"),
                ));
            }
            Err(e) => return Err(e),
        };
        let source = Arc::new(Source::new(
            registration,
            key,
            self.poller.rearm_handle(self.mode),
            self.poller.reports_read_closed(),
        ));
        let stale = table.insert(Arc::clone(&source));
        self.count.store(table.len(), Ordering::Release);
        drop(table);

        if stale.is_some() {
            tracing::debug!(
                fd = raw,
                "evicted a source whose fd was closed while registered"
            );
        }
        // Woken (and dropped) after every lock is released.
        evicted.into_iter().for_each(Waker::wake);
        drop(stale);
        tracing::trace!(fd = raw, mode = ?self.mode, "registered");
        Ok(source)
    }

    /// Removes the source's fd from the poller and wakes every task waiting on it;
    /// from then on its `poll_*` methods return an error.
    ///
    /// Must be called before the fd is closed. Deregistering a source twice is a no-op.
    pub fn deregister(&self, source: &Source) -> io::Result<()> {
        let mut wakers = Vec::new();
        let result = {
            let mut table = self.table.lock();
            let removed = table.remove(source);
            self.count.store(table.len(), Ordering::Release);
            // Marked dead under the table lock: nobody can re-arm the registration
            // between its removal from the table and its deletion from the poller.
            source.mark_deregistered(&mut wakers);
            if removed {
                // The table held this very source, so the number still names the
                // registered descriptor (the registration contract), and no other
                // source can be registered under it while we hold the lock.
                let deleted = self.poller.delete(source.registration());
                tracing::trace!(fd = source.raw(), "deregistered");
                deleted
            } else {
                Ok(())
            }
        };
        wakers.into_iter().for_each(Waker::wake);
        result
    }

    /// Waits for I/O events up to `timeout`, wakes the wakers of every ready source,
    /// and returns the number of events delivered to registered sources.
    ///
    /// * `None` blocks until an event arrives or [`notify`](Reactor::notify) is called;
    ///   `Some(Duration::ZERO)` never blocks.
    /// * With no source registered, `Some(Duration::ZERO)` returns `Ok(0)` without a
    ///   syscall (a pending notification stays pending). With sources registered it
    ///   is one syscall when nothing is pending: `epoll_wait(0)` on the epoll
    ///   backend; on `polling` over epoll a non-consuming `poll(2)` on the epoll fd
    ///   first.
    /// * Other timeouts: the epoll backend rounds them up to whole milliseconds
    ///   (`epoll_wait`'s resolution), so a wait never ends early; `polling` arms a
    ///   timerfd with the exact timeout.
    /// * Only one thread polls at a time: a call made while another thread is inside
    ///   `poll` returns `Ok(0)` at once.
    /// * A wait interrupted by a signal is retried by the poller, or returns `Ok(0)`;
    ///   `Interrupted` is never surfaced.
    ///
    /// Wakers are woken after every internal lock is released, except the one that
    /// makes concurrent `poll` calls return `Ok(0)`.
    pub fn poll(&self, timeout: Option<Duration>) -> io::Result<usize> {
        #[cfg(all(target_os = "linux", feature = "io-uring"))]
        if let Some((ring, _)) = &self.ring {
            return self.poll_with_ring(ring, timeout);
        }
        if timeout == Some(Duration::ZERO)
            && (self.count.load(Ordering::Acquire) == 0 || self.poller.nothing_pending())
        {
            return Ok(0);
        }
        let Some(mut buffers) = self.polling.try_lock() else {
            return Ok(0);
        };
        let PollBuffers { events, wakers, .. } = &mut *buffers;

        let waited = self.poller.wait(events, timeout);
        // Any notification up to here has done its job: this wait is over. A `notify`
        // racing with this line either is seen as already pending (and this swap
        // synchronizes with it) or issues a fresh wake-up for the next wait.
        self.notified.swap(false, Ordering::AcqRel);
        match waited {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(0),
            Err(e) => return Err(e),
        }

        let delivered = self.deliver(events, wakers);
        tracing::trace!(
            events = events.len(),
            delivered,
            wakers = wakers.len(),
            "polled"
        );
        wakers.drain(..).for_each(Waker::wake);
        Ok(delivered)
    }

    /// [`poll`](Reactor::poll) for a reactor with an io_uring: submit what streams
    /// queued and apply what completed, then wait for readiness (not at all if
    /// something completed), then apply what completed meanwhile.
    #[cfg(all(target_os = "linux", feature = "io-uring"))]
    fn poll_with_ring(
        &self,
        ring: &crate::uring::Ring,
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        let Some(mut buffers) = self.polling.try_lock() else {
            return Ok(0);
        };
        let PollBuffers {
            events,
            wakers,
            completions,
        } = &mut *buffers;
        let mut delivered = drive_ring(ring, completions, wakers)?;
        let mut wait = if delivered > 0 {
            Some(Duration::ZERO)
        } else {
            timeout
        };
        if wait != Some(Duration::ZERO) {
            // From here on a stream that queues an operation wakes us (see
            // `Ring::needs_kick`); what was queued before goes now.
            ring.set_parked(true);
            let submitted = ring.submit();
            if submitted.is_err() || ring.has_completions() {
                wait = Some(Duration::ZERO);
            }
        }
        let waited = self.poller.wait(events, wait);
        ring.set_parked(false);
        self.notified.swap(false, Ordering::AcqRel);
        match waited {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        delivered += self.deliver(events, wakers);
        delivered += drive_ring(ring, completions, wakers)?;
        wakers.drain(..).for_each(Waker::wake);
        Ok(delivered)
    }

    /// Hands each event of the last wait to its source, collecting the wakers
    /// to wake; returns how many reached a registered source.
    fn deliver(&self, events: &Events, wakers: &mut Vec<Waker>) -> usize {
        let mut delivered = 0;
        if !events.is_empty() {
            let table = self.table.lock();
            events.for_each(|ready| {
                // `get` checks the key's generation: an event of a stale registration
                // (closed while a `dup` kept it alive) reaches no source.
                if let Some(source) = table.get(ready.key) {
                    source.deliver(ready, wakers);
                    delivered += 1;
                }
            });
        }
        delivered
    }

    /// Wakes a [`poll`](Reactor::poll) that is blocked, or makes the next one return at
    /// once. Thread-safe and cheap when repeated: only the first call after a wait makes
    /// a syscall; later ones see the pending flag and return.
    pub fn notify(&self) -> io::Result<()> {
        // A read-modify-write (never a plain load) so that the swap in `poll` that
        // clears the flag synchronizes with every notifier that found it set: work a
        // notifier published before calling us is visible after that wait returns.
        if self.notified.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        self.poller.notify().inspect_err(|_| {
            // Let a later call retry the wake-up.
            self.notified.swap(false, Ordering::AcqRel);
        })
    }

    /// Number of currently registered sources.
    pub fn source_count(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }
}

/// Submits what is queued on `ring`, reaps what completed and applies it to
/// its streams; returns how many completions there were.
#[cfg(all(target_os = "linux", feature = "io-uring"))]
fn drive_ring(
    ring: &crate::uring::Ring,
    completions: &mut Vec<(crate::uring::Op, i32)>,
    wakers: &mut Vec<Waker>,
) -> io::Result<usize> {
    ring.submit()?;
    ring.reap(completions);
    let reaped = completions.len();
    for (op, result) in completions.drain(..) {
        let crate::uring::Op { stream, kind } = op;
        stream.complete(ring, kind, result, wakers);
    }
    Ok(reaped)
}

#[cfg(all(target_os = "linux", feature = "io-uring"))]
impl Drop for Reactor {
    fn drop(&mut self) {
        if let Some((_, source)) = &self.ring {
            let source = Arc::clone(source);
            let _ = self.deregister(&source);
        }
    }
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reactor")
            .field("backend", &self.backend())
            .field("mode", &self.mode)
            .field("sources", &self.source_count())
            .field("notified", &self.notified.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}
