//! [`ExitWatch`]: how one live child's exit is awaited. On Linux a pidfd (readable
//! once the child has exited) registered with the loop's reactor; elsewhere, or when
//! pidfds are unavailable or switched off, SIGCHLD (through `corio::signal`'s self-pipe)
//! wakes the waiter to try `waitpid`, with a backing-off timer as a safety net.
//!
//! The watch owns the `std::process::Child`, so nothing else can reap it: its pid
//! cannot be reused while the watch lives, which is what makes `kill` and
//! `pidfd_open` on that pid race-free.

use std::future::{poll_fn, Future};
use std::io;
use std::os::fd::OwnedFd;
use std::process::ExitStatus;
use std::sync::{Arc, OnceLock};
use std::task::Poll;
use std::time::Duration;

use corio_reactor::{Async, Reactor};

use crate::signal::Subscription;

/// The first and the longest pause of the polling fallback.
pub(super) const FIRST_DELAY: Duration = Duration::from_millis(1);
pub(super) const MAX_DELAY: Duration = Duration::from_millis(100);

/// Whether pidfds are switched off (`CORIO_PROCESS_NO_PIDFD=1`), read once.
pub(super) fn pidfd_disabled() -> bool {
    static DISABLED: OnceLock<bool> = OnceLock::new();
    *DISABLED.get_or_init(|| std::env::var_os("CORIO_PROCESS_NO_PIDFD").is_some_and(|v| v == "1"))
}

/// A pidfd for `child`, or `None` where there is none (not Linux, kernel < 5.3, a
/// seccomp filter, or switched off).
pub(super) fn open_pidfd(child: &std::process::Child) -> Option<OwnedFd> {
    if pidfd_disabled() {
        return None;
    }
    open_pidfd_os(child)
}

#[cfg(target_os = "linux")]
fn open_pidfd_os(child: &std::process::Child) -> Option<OwnedFd> {
    use rustix::process::{pidfd_open, Pid, PidfdFlags};
    // No PIDFD_NONBLOCK: it only affects waitid on the fd (never used here), and
    // kernels 5.3 to 5.9 reject it.
    pidfd_open(Pid::from_child(child), PidfdFlags::empty()).ok()
}

#[cfg(not(target_os = "linux"))]
fn open_pidfd_os(_child: &std::process::Child) -> Option<OwnedFd> {
    None
}

/// A child that has not been reaped yet, and how to wait for it.
pub(super) struct ExitWatch {
    pub(super) child: std::process::Child,
    /// The child's pidfd on the loop's reactor; `None`: the fallback.
    pidfd: Option<Async<OwnedFd>>,
    /// The fallback's SIGCHLD listener, subscribed before the first `try_wait` so no exit
    /// is missed (`None` with a pidfd, or if SIGCHLD cannot be listened to: the timer alone).
    sigchld: Option<Subscription>,
}

impl ExitWatch {
    /// Watches `child` on `reactor`, through a pidfd where possible.
    pub(super) fn new(child: std::process::Child, reactor: &Arc<Reactor>) -> ExitWatch {
        let pidfd = open_pidfd(&child).and_then(|fd| Async::new(reactor, fd).ok());
        let sigchld = match pidfd {
            Some(_) => None,
            None => Subscription::user(reactor, libc::SIGCHLD).ok(),
        };
        ExitWatch {
            child,
            pidfd,
            sigchld,
        }
    }

    /// The child's status if it has exited (reaping it), without waiting.
    pub(super) fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// Waits until the child exits and reaps it. Cancel-safe: dropping the future
    /// leaves the child unreaped and the watch as it was.
    pub(super) async fn wait(&mut self) -> io::Result<ExitStatus> {
        match &self.pidfd {
            Some(pidfd) => {
                let child = &mut self.child;
                // Wait for the pidfd's event before the first `waitpid`: a child
                // just spawned has almost never exited yet, and epoll reports a
                // pidfd that was already readable when it was registered, so the
                // first try would only cost a syscall. A pidfd stays readable once
                // the child exited.
                poll_fn(|cx| loop {
                    match pidfd.poll_readable(cx) {
                        Poll::Ready(Ok(())) => {}
                        Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                        Poll::Pending => return Poll::Pending,
                    }
                    let tick = pidfd.source().readable_tick();
                    match child.try_wait() {
                        Ok(Some(status)) => return Poll::Ready(Ok(status)),
                        Ok(None) => {
                            pidfd.source().clear_readable_at(tick);
                        }
                        Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                        Err(error) => return Poll::Ready(Err(error)),
                    }
                })
                .await
            }
            None => {
                let mut delay = FIRST_DELAY;
                loop {
                    if let Some(status) = self.child.try_wait()? {
                        return Ok(status);
                    }
                    // Whichever comes first: a SIGCHLD (some child changed state), or
                    // the timer (SIGCHLD could not be listened to).
                    let mut sleep = std::pin::pin!(crate::sleep(delay));
                    let sigchld = &self.sigchld;
                    poll_fn(|cx| {
                        if let Some(sigchld) = sigchld {
                            if sigchld.poll_recv(cx).is_ready() {
                                return Poll::Ready(());
                            }
                        }
                        sleep.as_mut().poll(cx)
                    })
                    .await;
                    delay = (delay * 2).min(MAX_DELAY);
                }
            }
        }
    }

    /// Splits the watch into the child and its pidfd, deregistered, for the orphan
    /// reaper.
    pub(super) fn into_parts(mut self) -> (std::process::Child, Option<OwnedFd>) {
        self.sigchld = None;
        let pidfd = self.pidfd.and_then(|fd| fd.into_inner().ok());
        (self.child, pidfd)
    }
}
