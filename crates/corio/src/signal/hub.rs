//! The process-wide table of the signals corio listens to, and one listener's registration
//! ([`Subscription`]).
//!
//! Signal handlers are process-wide; loops are per thread. Each listener (a
//! [`Signals`](super::Signals), a [`ctrl_c`](super::ctrl_c) future, a loop's signal handler task,
//! the runner's Ctrl-C watch) gets its own self-pipe: a `UnixStream` pair whose write end
//! signal-hook's async-signal-safe action writes one byte to, and whose read end sits in that
//! listener's loop reactor. Nothing else runs inside the signal handler.
//!
//! Installing a handler takes the signal's default action away, and signal-hook never gives it
//! back. So the first time corio touches a signal whose disposition is the default, it also
//! registers signal-hook's *conditional default*: an action, run before every pipe write, that
//! performs the default action (terminate, for SIGINT and SIGTERM) while a flag says nobody
//! listens. The flag is cleared while any listener is subscribed and set again when the last
//! one goes, so a dropped `Signals` gives SIGTERM its default back, as asyncio's
//! `remove_signal_handler` does.

use std::io::{self, Read};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use corio_reactor::{Async, Reactor};
use libc::c_int;
use signal_hook::low_level::{pipe, signal_name, unregister};
use signal_hook::SigId;

use super::disposition::{disposition, Disposition};

/// Who listens: user code (which also opts the runner out of Ctrl-C), or the runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Listener {
    /// `Signals`, `ctrl_c`, `add_signal_handler`.
    User,
    /// `run`/`Runner::run`'s Ctrl-C watch.
    Runner,
}

/// What corio knows about one signal number.
struct Entry {
    signal: c_int,
    /// The disposition before corio installed anything.
    found: Disposition,
    users: usize,
    runners: usize,
    /// True while nobody listens: signal-hook's conditional default then runs the default action.
    default_action: Arc<AtomicBool>,
    /// Whether the conditional default is registered (only for `found == Default`).
    default_registered: bool,
}

static TABLE: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

fn table() -> MutexGuard<'static, Vec<Entry>> {
    // Nothing panics while holding the lock; recover from poison anyway.
    TABLE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Checks that corio can listen to `signal`.
pub(crate) fn validate(signal: c_int) -> io::Result<()> {
    if signal_hook::consts::FORBIDDEN.contains(&signal) {
        let name = signal_name(signal).unwrap_or("?");
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "signal {signal} ({name}) cannot be handled: SIGKILL and SIGSTOP cannot be \
                 caught, and SIGILL, SIGFPE and SIGSEGV must not be turned into events"
            ),
        ));
    }
    if signal_name(signal).is_none() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{signal} is not a signal number this platform knows"),
        ));
    }
    Ok(())
}

/// How many user listeners (`Signals`, `ctrl_c`, signal handlers) `signal` has right now.
pub(crate) fn user_listeners(signal: c_int) -> usize {
    table()
        .iter()
        .find(|entry| entry.signal == signal)
        .map_or(0, |entry| entry.users)
}

/// One listener's registration: its signal-hook action and the read end of its self-pipe.
/// Dropping it unregisters the action (and gives the default action back if it was the last).
pub(crate) struct Subscription {
    signal: c_int,
    listener: Listener,
    id: SigId,
    read: Async<UnixStream>,
}

impl Subscription {
    /// Subscribes to `signal` on `reactor`. A runner gets `None` when the signal did not have its
    /// default action (the program handles or ignores it itself).
    pub(crate) fn new(
        reactor: &Arc<Reactor>,
        signal: c_int,
        listener: Listener,
    ) -> io::Result<Option<Subscription>> {
        validate(signal)?;
        let (read, write) = UnixStream::pair()?;
        read.set_nonblocking(true)?;
        let read = Async::new(reactor, read)?;
        let mut table = table();
        let index = match table.iter().position(|entry| entry.signal == signal) {
            Some(index) => index,
            None => {
                table.push(Entry {
                    signal,
                    found: disposition(signal),
                    users: 0,
                    runners: 0,
                    default_action: Arc::new(AtomicBool::new(true)),
                    default_registered: false,
                });
                table.len() - 1
            }
        };
        let entry = &mut table[index];
        if listener == Listener::Runner && entry.found != Disposition::Default {
            return Ok(None);
        }
        if entry.found == Disposition::Default && !entry.default_registered {
            // Registered first, so it runs before every pipe write (signal-hook runs actions in
            // registration order).
            signal_hook::flag::register_conditional_default(signal, entry.default_action.clone())?;
            entry.default_registered = true;
        }
        let id = pipe::register(signal, write)?;
        match listener {
            Listener::User => entry.users += 1,
            Listener::Runner => entry.runners += 1,
        }
        entry.default_action.store(false, Ordering::SeqCst);
        Ok(Some(Subscription {
            signal,
            listener,
            id,
            read,
        }))
    }

    /// Subscribes user code (`Signals`, `ctrl_c`, a signal handler, a waiting child) to
    /// `signal` on `reactor`: always subscribed, whatever the signal's disposition.
    pub(crate) fn user(reactor: &Arc<Reactor>, signal: c_int) -> io::Result<Subscription> {
        Ok(Subscription::new(reactor, signal, Listener::User)?
            .expect("user listeners are always subscribed"))
    }

    /// The signal this subscription listens to.
    pub(crate) fn signal(&self) -> c_int {
        self.signal
    }

    /// Ready once the signal arrived at least once since the last `Ready` (arrivals in between
    /// coalesce, as the OS coalesces pending signals).
    ///
    /// The pipe is drained in one go. Once a byte has been read, the arrival is reported
    /// whatever the next read says: an error or EOF after it is left for the next poll to
    /// meet, because a byte taken out of the pipe and then not reported is a signal lost.
    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut stream = self.read.get_ref();
        self.read.source().poll_read_with(cx, || {
            let mut buf = [0u8; 64];
            let mut received = false;
            loop {
                match stream.read(&mut buf) {
                    Ok(0) if !received => {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the signal's self-pipe was closed",
                        ))
                    }
                    Ok(0) => return Ok(()),
                    Ok(_) => received = true,
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                    // `WouldBlock` before anything was read: the reactor waits for the
                    // next byte.
                    Err(error) if !received => return Err(error),
                    Err(_) => return Ok(()),
                }
            }
        })
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        {
            let mut table = table();
            if let Some(entry) = table.iter_mut().find(|entry| entry.signal == self.signal) {
                match self.listener {
                    Listener::User => entry.users -= 1,
                    Listener::Runner => entry.runners -= 1,
                }
                if entry.users + entry.runners == 0 {
                    entry.default_action.store(true, Ordering::SeqCst);
                }
            }
        }
        unregister(self.id);
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("signal", &self.signal)
            .field("listener", &self.listener)
            .finish_non_exhaustive()
    }
}
