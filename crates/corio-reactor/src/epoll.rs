//! The Linux backend: epoll driven directly, so that one park is one `epoll_wait`.
//!
//! `polling` (the portable backend, `backend.rs`) spends five syscalls on every timed
//! wait: it arms a timerfd (`timerfd_settime`, `epoll_ctl`) for the timeout, and after
//! the wait reads its notifier (`read` on the eventfd, EAGAIN almost always) and
//! re-arms it (`epoll_ctl`), because it registers both oneshot. Here:
//!
//! * the timeout is `epoll_wait`'s own, in milliseconds, rounded *up* (never early);
//!   the loop's driver already rounds timer waits up to whole milliseconds;
//! * the notifier is an eventfd registered edge-triggered and never read: every
//!   `write` to an eventfd wakes its wait queue, which queues a fresh edge even while
//!   the counter is non-zero (mio's waker works the same way). Only when the counter
//!   would overflow (2^64 - 2 notifications, each coalesced per wait by the reactor)
//!   does `notify` read it back to zero;
//! * sources are registered with `EPOLLRDHUP` as well, so a peer's shutdown of its
//!   write side (EOF) is reported as its own event. That is what lets a stream reader
//!   clear readiness after a short read (see `Source::poll_read_stream_with`).
//!
//! Only edge-triggered registration is offered; oneshot (the platforms without edge
//! mode) stays with `polling`. Nothing here is `unsafe`: rustix's epoll calls take
//! `AsFd`, and the registration contract (delete before close) is the reactor's.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use rustix::event::epoll::{self, CreateFlags, EventData, EventFlags};
use rustix::event::{eventfd, EventfdFlags, Timespec};

use crate::backend::Ready;

/// The key events of the notifier carry; registered sources never get it (their keys
/// are fd numbers, tagged with a generation in the high bits, see `table.rs`).
pub(crate) const NOTIFY_KEY: u64 = u64::MAX;

/// How many ready fds one wait can report (the kernel's buffer lives on the stack
/// for the call: rustix's event holds a pointer-sized union, which is not `Send`,
/// so only the decoded [`Ready`]s are kept).
const CAPACITY: usize = 512;

/// An epoll instance and its eventfd notifier.
#[derive(Debug)]
pub(crate) struct Epoll {
    epoll: OwnedFd,
    notifier: OwnedFd,
}

impl Epoll {
    /// An epoll fd and an eventfd notifier registered in it (three syscalls).
    pub(crate) fn new() -> io::Result<Epoll> {
        let epoll = epoll::create(CreateFlags::CLOEXEC)?;
        let notifier = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        epoll::add(
            &epoll,
            &notifier,
            EventData::new_u64(NOTIFY_KEY),
            EventFlags::IN | EventFlags::ET,
        )?;
        Ok(Epoll { epoll, notifier })
    }

    /// Registers `fd` edge-triggered for reading (with `EPOLLRDHUP`) and writing.
    pub(crate) fn add(&self, fd: BorrowedFd<'_>, key: u64) -> io::Result<()> {
        let flags =
            EventFlags::IN | EventFlags::OUT | EventFlags::RDHUP | EventFlags::PRI | EventFlags::ET;
        epoll::add(&self.epoll, fd, EventData::new_u64(key), flags)?;
        Ok(())
    }

    /// Removes `fd` from the interest list.
    pub(crate) fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        epoll::delete(&self.epoll, fd)?;
        Ok(())
    }

    /// One `epoll_wait`: `None` blocks, otherwise the timeout is rounded up to a whole
    /// millisecond (a wait longer than `i32::MAX` ms, about 24 days, is capped there:
    /// the caller sees an early return with no events, as after a spurious wake-up).
    ///
    /// `events` is cleared first; notifier events are not put in it. `Interrupted` is
    /// returned as is.
    pub(crate) fn wait(
        &self,
        events: &mut Vec<Ready>,
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        events.clear();
        let timeout = timeout.map(timespec_millis);
        let mut buffer = [MaybeUninit::<epoll::Event>::uninit(); CAPACITY];
        let (got, _) = epoll::wait(&self.epoll, &mut buffer[..], timeout.as_ref())?;
        events.extend(
            got.iter()
                .filter(|event| event.data.u64() != NOTIFY_KEY)
                .map(ready),
        );
        Ok(())
    }

    /// Wakes the current or next `wait`: one `write` to the eventfd.
    pub(crate) fn notify(&self) -> io::Result<()> {
        let one = 1u64.to_ne_bytes();
        match rustix::io::write(&self.notifier, &one) {
            Ok(_) => Ok(()),
            Err(rustix::io::Errno::AGAIN) => {
                // The counter is at its maximum: reset it, then write the edge again.
                let mut drain = [0u8; 8];
                let _ = rustix::io::read(&self.notifier, &mut drain);
                rustix::io::write(&self.notifier, &one)?;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// What an epoll event says, as the reactor reads it.
fn ready(event: &epoll::Event) -> Ready {
    let flags = event.flags;
    let failed = flags.intersects(EventFlags::HUP | EventFlags::ERR);
    Ready {
        // The key came from a `usize` (see `Poller::add`).
        key: event.data.u64() as usize,
        readable: failed || flags.intersects(EventFlags::IN | EventFlags::PRI | EventFlags::RDHUP),
        writable: failed || flags.contains(EventFlags::OUT),
        read_closed: failed || flags.contains(EventFlags::RDHUP),
    }
}

impl AsFd for Epoll {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }
}

/// `timeout` as a `Timespec` that `epoll_wait` (millisecond resolution, rounding up
/// in rustix) accepts: capped at `i32::MAX` milliseconds.
fn timespec_millis(timeout: Duration) -> Timespec {
    const MAX_MILLIS: u64 = i32::MAX as u64;
    let capped = if timeout.as_millis() >= u128::from(MAX_MILLIS) {
        Duration::from_millis(MAX_MILLIS)
    } else {
        timeout
    };
    Timespec {
        tv_sec: i64::try_from(capped.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: i64::from(capped.subsec_nanos()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_timeouts_are_capped_at_i32_max_milliseconds() {
        let ts = timespec_millis(Duration::MAX);
        assert_eq!(ts.tv_sec, i64::from(i32::MAX) / 1000);
        let ts = timespec_millis(Duration::from_micros(1_500));
        assert_eq!((ts.tv_sec, ts.tv_nsec), (0, 1_500_000));
    }

    #[test]
    fn a_notification_wakes_a_wait_every_time_without_being_read() {
        let epoll = Epoll::new().unwrap();
        let mut events = Vec::new();
        for _ in 0..3 {
            epoll.notify().unwrap();
            let start = std::time::Instant::now();
            epoll
                .wait(&mut events, Some(Duration::from_secs(5)))
                .unwrap();
            assert!(events.is_empty(), "the notifier's event is not reported");
            assert!(
                start.elapsed() < Duration::from_secs(4),
                "the edge was lost"
            );
        }
        // With no notification pending, the wait times out.
        epoll
            .wait(&mut events, Some(Duration::from_millis(1)))
            .unwrap();
        assert!(events.is_empty());
    }
}
