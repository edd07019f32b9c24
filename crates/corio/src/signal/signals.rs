//! `Signals`: a stream of the signal numbers this process receives, delivered on the loop.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use libc::c_int;

use super::hub::Subscription;
use crate::runtime::context;

/// The signals of a set, as they arrive (tokio's `signal`, asyncio's `add_signal_handler` as a
/// stream). Each item is a signal number.
///
/// Listening starts in [`new`](Signals::new), so a signal sent after it returns is never lost.
/// Several arrivals of one signal before the stream is polled again are delivered once, as the
/// OS itself coalesces pending signals. While any listener exists for a signal, its default
/// action (terminating, for SIGTERM) is suspended; when the last is dropped, it comes back.
///
/// ```
/// use corio::signal::{Signals, SIGUSR1};
///
/// corio::run(async {
///     let mut signals = Signals::new([SIGUSR1]).unwrap();
///     let pid = std::process::id().to_string();
///     std::process::Command::new("kill").args(["-USR1", &pid]).status().unwrap();
///     assert_eq!(signals.recv().await, Some(SIGUSR1));
/// });
/// ```
#[derive(Debug)]
pub struct Signals {
    subscriptions: Vec<Subscription>,
    /// Where the next poll starts looking, so one busy signal cannot starve the others.
    next: usize,
}

impl Signals {
    /// Starts listening for `signals` on the running loop.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a signal that cannot be handled (SIGKILL, SIGSTOP, SIGILL, SIGFPE,
    /// SIGSEGV) or an unknown number; the OS's error if a self-pipe cannot be created.
    ///
    /// # Panics
    ///
    /// Outside a running loop (with a message saying where to call it from).
    #[track_caller]
    pub fn new(signals: impl IntoIterator<Item = c_int>) -> io::Result<Signals> {
        let reactor = context::reactor("corio::signal::Signals::new");
        let mut subscriptions: Vec<Subscription> = Vec::new();
        for signal in signals {
            if subscriptions.iter().any(|s| s.signal() == signal) {
                continue;
            }
            subscriptions.push(Subscription::user(&reactor, signal)?);
        }
        Ok(Signals {
            subscriptions,
            next: 0,
        })
    }

    /// The next signal to arrive; `None` only for an empty set.
    pub async fn recv(&mut self) -> Option<c_int> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next signal; `Ready(None)` only for an empty set.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<c_int>> {
        let count = self.subscriptions.len();
        if count == 0 {
            return Poll::Ready(None);
        }
        for offset in 0..count {
            let index = (self.next + offset) % count;
            let subscription = &self.subscriptions[index];
            match subscription.poll_recv(cx) {
                Poll::Ready(Ok(())) => {
                    self.next = (index + 1) % count;
                    return Poll::Ready(Some(subscription.signal()));
                }
                // The self-pipe is a local socket pair that only signal-hook writes to; a read
                // error on it means the process is out of resources. Report the signal
                // rather than lose it: a spurious wake-up is the lesser harm.
                Poll::Ready(Err(error)) => {
                    tracing::error!(target: "corio", "reading signal {}'s self-pipe failed: {error}", subscription.signal());
                    self.next = (index + 1) % count;
                    return Poll::Ready(Some(subscription.signal()));
                }
                Poll::Pending => {}
            }
        }
        Poll::Pending
    }

    /// The signals this stream listens to.
    pub fn signals(&self) -> impl Iterator<Item = c_int> + '_ {
        self.subscriptions.iter().map(Subscription::signal)
    }
}

impl Stream for Signals {
    type Item = c_int;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<c_int>> {
        self.get_mut().poll_recv(cx)
    }
}
