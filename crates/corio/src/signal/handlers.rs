//! `LoopHandle::add_signal_handler` / `remove_signal_handler`: asyncio's loop-level signal
//! callbacks. Each handler is a hidden task on the loop that waits on a [`Signals`] and calls the
//! callback there, never inside the signal handler itself.

use std::io;
use std::panic::Location;
use std::sync::Arc;
use std::task::Poll;

use corio_executor::Builder as TaskBuilder;
use libc::c_int;
use parking_lot::Mutex;

use super::hub::Subscription;
use crate::runtime::exception_handler::run_callback;
use crate::runtime::handle::LoopHandle;
use crate::Task;

impl LoopHandle {
    /// Calls `f` on the loop each time the process receives `signal` (asyncio's
    /// `loop.add_signal_handler`). Replaces this loop's earlier handler for `signal`. Callable from
    /// any thread. A panic in `f` is logged and the handler stays installed. While a handler
    /// exists the signal's default action is suspended; Ctrl-C handling by `run` steps aside for
    /// a SIGINT handler.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// use corio::signal::SIGUSR2;
    ///
    /// corio::run(async {
    ///     let handle = corio::get_running_loop();
    ///     let got = Arc::new(AtomicBool::new(false));
    ///     let flag = got.clone();
    ///     handle.add_signal_handler(SIGUSR2, move || flag.store(true, Ordering::SeqCst)).unwrap();
    ///     let pid = std::process::id().to_string();
    ///     std::process::Command::new("kill").args(["-USR2", &pid]).status().unwrap();
    ///     while !got.load(Ordering::SeqCst) {
    ///         corio::sleep(std::time::Duration::from_millis(1)).await;
    ///     }
    ///     assert!(handle.remove_signal_handler(SIGUSR2));
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a signal that cannot be handled (SIGKILL, SIGSTOP, SIGILL, SIGFPE,
    /// SIGSEGV) or an unknown number; an error if the loop is closed.
    #[track_caller]
    pub fn add_signal_handler(
        &self,
        signal: c_int,
        f: impl Fn() + Send + 'static,
    ) -> io::Result<()> {
        if self.is_closed() {
            return Err(io::Error::other(
                "add_signal_handler: the event loop is closed",
            ));
        }
        let location = Location::caller();
        let subscription = Subscription::user(&self.shared.reactor, signal)?;
        // Shared with the map, so `remove_signal_handler` unregisters at once (from any thread),
        // not when the cancelled task is next dropped by its loop.
        let slot = Arc::new(Mutex::new(Some(subscription)));
        let listening = slot.clone();
        let reporting = self.shared.callback_reporting();
        let body = async move {
            loop {
                let received = std::future::poll_fn(|cx| match &*listening.lock() {
                    Some(subscription) => subscription.poll_recv(cx).map(|_| true),
                    None => Poll::Ready(false),
                })
                .await;
                if !received {
                    return;
                }
                // Errors only come from a broken self-pipe: calling `f` once too often is
                // better than never calling it again.
                run_callback(&f, location, &reporting);
            }
        };
        let builder = TaskBuilder::new()
            .hidden(true)
            .location(location)
            .name(format!("signal handler {signal}"));
        let handler = SignalHandler {
            signal,
            task: self.shared.spawner.spawn_with(builder, body),
            subscription: slot,
        };
        let mut handlers = self.shared.signal_handlers.lock();
        if let Some(old) = handlers.iter_mut().find(|h| h.signal == signal) {
            // The new handler listens already: no arrival falls between the two.
            std::mem::replace(old, handler).remove();
        } else {
            handlers.push(handler);
        }
        Ok(())
    }

    /// Removes this loop's handler for `signal`; returns whether there was one (asyncio's
    /// `loop.remove_signal_handler`). With no other listener left, the signal's default action
    /// comes back.
    pub fn remove_signal_handler(&self, signal: c_int) -> bool {
        let mut handlers = self.shared.signal_handlers.lock();
        match handlers.iter().position(|h| h.signal == signal) {
            Some(index) => {
                handlers.swap_remove(index).remove();
                true
            }
            None => false,
        }
    }
}

/// One installed handler: its task and its registration.
pub(crate) struct SignalHandler {
    signal: c_int,
    task: Task<()>,
    subscription: Arc<Mutex<Option<Subscription>>>,
}

impl SignalHandler {
    /// Unregisters at once and cancels the task.
    pub(crate) fn remove(self) {
        drop(self.subscription.lock().take());
        self.task.cancel();
    }
}
