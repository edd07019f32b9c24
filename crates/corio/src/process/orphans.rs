//! The orphan reaper: one process-wide background thread that reaps the children
//! whose [`Child`](super::Child) was dropped before they exited.
//!
//! Invariants, all under the one `REAPER` mutex:
//!
//! * `wake` is `Some` exactly while a reaper thread runs; an orphan pushed on `inbox`
//!   while it is `Some` is seen by that thread (the wake byte ends its `poll`), and
//!   when it is `None` the pusher starts a thread.
//! * The thread clears `wake` and exits only when it holds no orphan and `inbox` is
//!   empty, so an orphan is never left without a thread to reap it.
//!
//! The thread blocks in `poll(2)` on its orphans' pidfds and its end of the wake
//! socket pair. Orphans without a pidfd (see [`exit`](super::exit)) are polled with a
//! timeout that backs off from 1 ms to 100 ms. None of this needs a running loop, so
//! children dropped while a loop closes, or after, are still reaped.

use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::sync::{Mutex, MutexGuard};

use rustix::event::{poll, PollFd, PollFlags, Timespec};

use super::exit::{open_pidfd, FIRST_DELAY, MAX_DELAY};

/// A child nobody will wait for, and its pidfd if it has one.
struct Orphan {
    child: std::process::Child,
    pidfd: Option<OwnedFd>,
}

struct Reaper {
    /// Orphans handed over and not yet taken by the thread.
    inbox: Vec<Orphan>,
    /// The writing end of the running thread's wake socket; `None`: no thread runs.
    wake: Option<UnixStream>,
}

static REAPER: Mutex<Reaper> = Mutex::new(Reaper {
    inbox: Vec::new(),
    wake: None,
});

fn lock() -> MutexGuard<'static, Reaper> {
    // A panic while holding the lock leaves the lists consistent (pushes and takes
    // only), so poisoning is ignored.
    REAPER.lock().unwrap_or_else(|e| e.into_inner())
}

/// Hands `child`, which has not been reaped, to the reaper thread (starting it if
/// none runs). `pidfd` is the child's pidfd if the caller has one.
pub(super) fn adopt(child: std::process::Child, pidfd: Option<OwnedFd>) {
    let pidfd = pidfd.or_else(|| open_pidfd(&child));
    let mut reaper = lock();
    reaper.inbox.push(Orphan { child, pidfd });
    match &reaper.wake {
        // `WouldBlock`: a wake byte is already pending, which is as good.
        Some(wake) => drop((&*wake).write(&[1])),
        None => match start_thread() {
            Ok(wake) => reaper.wake = Some(wake),
            // The orphan stays in the inbox; the next `adopt` tries again.
            Err(e) => tracing::warn!("corio::process: cannot start the orphan reaper: {e}"),
        },
    }
}

/// Starts the reaper thread; returns the writing end of its wake socket.
fn start_thread() -> io::Result<UnixStream> {
    let (theirs, ours) = UnixStream::pair()?;
    theirs.set_nonblocking(true)?;
    ours.set_nonblocking(true)?;
    std::thread::Builder::new()
        .name("corio-reaper".into())
        .spawn(move || run(theirs))?;
    Ok(ours)
}

/// The reaper thread's body.
fn run(wake: UnixStream) {
    let mut orphans: Vec<Orphan> = Vec::new();
    let mut delay = FIRST_DELAY;
    loop {
        {
            let mut reaper = lock();
            if !reaper.inbox.is_empty() {
                orphans.append(&mut reaper.inbox);
                delay = FIRST_DELAY;
            }
        }
        // `Err` (ECHILD: someone else reaped it) leaves nothing to do either.
        orphans.retain_mut(|orphan| matches!(orphan.child.try_wait(), Ok(None)));
        if orphans.is_empty() {
            let mut reaper = lock();
            if reaper.inbox.is_empty() {
                reaper.wake = None;
                return;
            }
            continue;
        }

        let mut timed = false;
        let mut fds = Vec::with_capacity(orphans.len() + 1);
        fds.push(PollFd::new(&wake, PollFlags::IN));
        for orphan in &orphans {
            match &orphan.pidfd {
                Some(fd) => fds.push(PollFd::new(fd, PollFlags::IN)),
                None => timed = true,
            }
        }
        let timeout = timed.then(|| Timespec {
            tv_sec: 0,
            tv_nsec: delay.subsec_nanos().into(),
        });
        // EINTR and the rest: the loop re-checks every orphan anyway.
        let _ = poll(&mut fds, timeout.as_ref());
        drop(fds);
        if timed {
            delay = (delay * 2).min(MAX_DELAY);
        }
        let mut sink = [0u8; 64];
        while matches!((&wake).read(&mut sink), Ok(n) if n > 0) {}
    }
}
