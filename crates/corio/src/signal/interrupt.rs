//! Ctrl-C in [`run`](crate::run) and [`Runner::run`](crate::Runner::run): the first SIGINT
//! cancels the main future, as `asyncio.Runner` does; a second one during the clean-up that
//! follows terminates the process as usual.
//!
//! The watch is installed only on the main thread (as asyncio does), and only while SIGINT has
//! its default action: a program started with SIGINT ignored, or one that installed its own
//! handler, keeps its own behaviour. A program that listens to SIGINT through corio
//! ([`ctrl_c`](super::ctrl_c), [`Signals`](super::Signals), `add_signal_handler`) opts out too:
//! while it listens, the watch lets SIGINT through to it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use corio_reactor::Reactor;

use super::hub::{user_listeners, Listener, Subscription};

/// The main future of `run`/`Runner::run` was interrupted by Ctrl-C.
#[derive(Debug)]
pub(crate) struct Interrupted;

/// The panic message of an interrupted `run` (after the function's name).
pub(crate) const INTERRUPTED: &str =
    "was interrupted by Ctrl-C (SIGINT): the main future was cancelled";

/// The runner's SIGINT listener, if one could be installed here.
pub(crate) struct CtrlCWatch {
    subscription: Option<Subscription>,
}

impl CtrlCWatch {
    /// Installs the watch when running on the main thread and SIGINT has its default action.
    pub(crate) fn install(reactor: &Arc<Reactor>) -> CtrlCWatch {
        let subscription = if std::thread::current().name() == Some("main") {
            // An error (out of file descriptors) only means Ctrl-C keeps its default action.
            Subscription::new(reactor, libc::SIGINT, Listener::Runner)
                .ok()
                .flatten()
        } else {
            None
        };
        CtrlCWatch { subscription }
    }

    /// Runs `main` until it completes or the first Ctrl-C that no user listener takes.
    pub(crate) fn guard<F: Future>(self, main: F) -> Interruptible<F> {
        Interruptible {
            main: Some(main),
            watch: self,
        }
    }

    /// Ready when a SIGINT arrived that the program does not handle itself.
    fn poll_interrupt(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(subscription) = &self.subscription else {
            return Poll::Pending;
        };
        // An error reading the self-pipe (out of resources) leaves Ctrl-C unwatched, not the
        // loop spinning.
        while let Poll::Ready(Ok(())) = subscription.poll_recv(cx) {
            if user_listeners(libc::SIGINT) == 0 {
                // Stop listening: with no listener left, the next SIGINT gets the default
                // action, so a second Ctrl-C during the clean-up terminates the process.
                self.subscription = None;
                return Poll::Ready(());
            }
        }
        Poll::Pending
    }
}

pin_project_lite::pin_project! {
    /// `main`, cancelled (dropped) by the first Ctrl-C.
    pub(crate) struct Interruptible<F> {
        #[pin]
        main: Option<F>,
        watch: CtrlCWatch,
    }
}

impl<F: Future> Future for Interruptible<F> {
    type Output = Result<F::Output, Interrupted>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if this.watch.poll_interrupt(cx).is_ready() {
            // Cancel: drop the main future here, so its Drop runs before `run` cleans up.
            this.main.set(None);
            return Poll::Ready(Err(Interrupted));
        }
        match this.main.as_pin_mut() {
            Some(main) => main.poll(cx).map(Ok),
            None => Poll::Ready(Err(Interrupted)),
        }
    }
}
