//! The OS poller behind a [`Reactor`](crate::Reactor): [`Backend::Epoll`] (Linux's
//! epoll driven directly, `epoll.rs`) or [`Backend::Polling`] (the portable
//! [`polling`] crate: epoll, kqueue, event ports), and the readiness an event
//! reports ([`Ready`]), whichever backend produced it.

use std::fmt;
use std::io;
use std::os::fd::BorrowedFd;
use std::sync::Arc;
use std::time::Duration;

use crate::sys::Registration;
use crate::TriggerMode;

#[cfg(any(target_os = "linux", target_os = "android"))]
use crate::epoll::Epoll;

/// Which OS poller a [`Reactor`](crate::Reactor) drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// Linux (and Android) only: epoll called directly. One park is one
    /// `epoll_wait` (its own millisecond timeout, no timerfd, a notifier that is
    /// never read back), and sources are registered with `EPOLLRDHUP`, so a
    /// stream's EOF is reported on its own and a short read can clear read
    /// readiness. Edge-triggered only. The default where available.
    Epoll,
    /// The portable [`polling`] crate, on every platform, in either
    /// [`TriggerMode`]. It costs more syscalls per timed wait (a timerfd armed,
    /// the notifier read and re-armed) and reports no read-side hang-up.
    Polling,
}

impl Backend {
    /// The backend [`Reactor::new`](crate::Reactor::new) picks here.
    pub const fn preferred() -> Backend {
        if cfg!(any(target_os = "linux", target_os = "android")) {
            Backend::Epoll
        } else {
            Backend::Polling
        }
    }
}

/// The poller itself.
pub(crate) enum Poller {
    Polling(Arc<polling::Poller>),
    #[cfg(any(target_os = "linux", target_os = "android"))]
    Epoll(Epoll),
}

/// The events buffer a poller fills.
pub(crate) enum Events {
    Polling(polling::Events),
    #[cfg(any(target_os = "linux", target_os = "android"))]
    Epoll(Vec<Ready>),
}

/// What one event says about one registration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ready {
    /// The registration's key.
    pub(crate) key: usize,
    /// A read would not block (data, EOF, hang-up or error).
    pub(crate) readable: bool,
    /// A write would not block (room, hang-up or error).
    pub(crate) writable: bool,
    /// The read side will report nothing new: the peer shut its write side
    /// down (`EPOLLRDHUP`), or the socket hung up or failed.
    pub(crate) read_closed: bool,
}

impl Poller {
    /// A poller of `backend` for `mode`, or `Unsupported`.
    pub(crate) fn new(backend: Backend, mode: TriggerMode) -> io::Result<Poller> {
        match backend {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Backend::Epoll if mode == TriggerMode::Edge => Ok(Poller::Epoll(Epoll::new()?)),
            Backend::Epoll => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                if mode == TriggerMode::Edge {
                    "the epoll backend is only available on Linux and Android"
                } else {
                    "the epoll backend is edge-triggered only"
                },
            )),
            Backend::Polling => {
                let poller = polling::Poller::new()?;
                if mode == TriggerMode::Edge && !poller.supports_edge() {
                    return Err(io::Error::new(
                        io::ErrorKind::Unsupported,
                        "edge-triggered polling is not supported on this platform",
                    ));
                }
                Ok(Poller::Polling(Arc::new(poller)))
            }
        }
    }

    /// Which backend this is.
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Poller::Polling(_) => Backend::Polling,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Poller::Epoll(_) => Backend::Epoll,
        }
    }

    /// An empty events buffer for this poller.
    pub(crate) fn events(&self) -> Events {
        match self {
            Poller::Polling(_) => Events::Polling(polling::Events::new()),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Poller::Epoll(_) => Events::Epoll(Vec::new()),
        }
    }

    /// The `polling` poller a oneshot source re-arms through (`None` for epoll,
    /// which registers edge-triggered only).
    pub(crate) fn rearm_handle(&self, mode: TriggerMode) -> Option<Arc<polling::Poller>> {
        match (self, mode) {
            (Poller::Polling(poller), TriggerMode::Oneshot) => Some(Arc::clone(poller)),
            _ => None,
        }
    }

    /// Whether events say when the read side closed (`Ready::read_closed` on
    /// EOF, not only on hang-up), which a short read's clearing relies on.
    pub(crate) fn reports_read_closed(&self) -> bool {
        !matches!(self, Poller::Polling(_))
    }

    /// Registers `fd` under `key`; see `Registration::add` for the contract.
    pub(crate) fn add(
        &self,
        fd: BorrowedFd<'_>,
        key: usize,
        mode: TriggerMode,
    ) -> io::Result<Registration> {
        match self {
            Poller::Polling(poller) => {
                let (interest, mode) = match mode {
                    TriggerMode::Edge => (polling::Event::all(key), polling::PollMode::Edge),
                    TriggerMode::Oneshot => (polling::Event::none(key), polling::PollMode::Oneshot),
                };
                Registration::add(poller, fd, interest, mode)
            }
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Poller::Epoll(epoll) => {
                epoll.add(fd, key as u64)?;
                Ok(Registration::added(fd))
            }
        }
    }

    /// Removes `registration` from the poller.
    pub(crate) fn delete(&self, registration: &Registration) -> io::Result<()> {
        match self {
            Poller::Polling(poller) => registration.delete(poller),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Poller::Epoll(epoll) => registration.with_fd(|fd| epoll.delete(fd)),
        }
    }

    /// Waits up to `timeout` and leaves the events in `events` (which must come
    /// from [`events`](Poller::events)). `Interrupted` is returned as is.
    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        match (self, events) {
            (Poller::Polling(poller), Events::Polling(events)) => {
                events.clear();
                poller.wait(events, timeout).map(drop)
            }
            #[cfg(any(target_os = "linux", target_os = "android"))]
            (Poller::Epoll(epoll), Events::Epoll(events)) => epoll.wait(events, timeout),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            _ => unreachable!("an events buffer always comes from its own poller"),
        }
    }

    /// Wakes the current or next `wait`.
    pub(crate) fn notify(&self) -> io::Result<()> {
        match self {
            Poller::Polling(poller) => poller.notify(),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Poller::Epoll(epoll) => epoll.notify(),
        }
    }

    /// Zero-timeout shortcut: whether the poller certainly has nothing to report.
    ///
    /// Only worth it for `polling`, whose zero-timeout wait is five syscalls: on
    /// Linux its epoll fd is itself pollable, ready exactly when `epoll_wait`
    /// would return something, and `poll(2)` on it consumes nothing. The epoll
    /// backend's zero-timeout wait is already one syscall that also returns the
    /// events, so it never takes the shortcut.
    pub(crate) fn nothing_pending(&self) -> bool {
        match self {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Poller::Polling(poller) => {
                use rustix::event::{poll, PollFd, PollFlags, Timespec};
                let mut fds = [PollFd::new(&**poller, PollFlags::IN)];
                let zero = Timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                };
                // Any error (EINTR included) just means "do the full wait".
                matches!(poll(&mut fds, Some(&zero)), Ok(0))
            }
            _ => false,
        }
    }
}

impl Events {
    /// Whether the last wait reported nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many events the last wait reported.
    pub(crate) fn len(&self) -> usize {
        match self {
            Events::Polling(events) => events.len(),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Events::Epoll(events) => events.len(),
        }
    }

    /// Calls `f` with each event of the last wait.
    pub(crate) fn for_each(&self, mut f: impl FnMut(Ready)) {
        match self {
            Events::Polling(events) => events.iter().for_each(|event| {
                // `is_interrupt` is EPOLLHUP / POLLHUP; kqueue folds EOF into `readable`.
                let failed = event.is_interrupt() || event.is_err() == Some(true);
                f(Ready {
                    key: event.key,
                    readable: event.readable || failed,
                    writable: event.writable || failed,
                    read_closed: failed,
                })
            }),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Events::Epoll(events) => events.iter().copied().for_each(f),
        }
    }
}

impl fmt::Debug for Poller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Poller").field(&self.backend()).finish()
    }
}
