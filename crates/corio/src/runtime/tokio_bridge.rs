//! (Feature `tokio`.) A minimal tokio runtime beside the loop, so that
//! tokio-based libraries (reqwest, sqlx, tonic, hyper-util's client,
//! `axum::serve`) run on corio unchanged.
//!
//! Those libraries look for "the current tokio runtime" in a thread-local
//! and panic ("there is no reactor running, must be called from the context
//! of a Tokio 1.x runtime") when there is none. async-compat answers that by
//! wrapping every future and entering a runtime around each poll. corio owns
//! its threads, so it enters the tokio context once per thread instead: the
//! thread that runs the loop (for the whole `run_*` call) and each worker
//! thread (for its whole life). Every task, callback and the main future is
//! then polled inside the context, and a poll costs nothing extra.
//!
//! The runtime is tokio's `current_thread` flavour with its IO and timer
//! drivers, driven by one background thread (`corio-tokio`) that sits in
//! `block_on` until the loop closes; tokio sockets and timers created by
//! those libraries wake corio tasks from there, and `tokio::spawn` runs
//! tasks there. It starts with the loop's first `run_*` call (a loop that
//! never runs never starts it) and is shut down by `close`.

use std::future::poll_fn;
use std::sync::{Arc, OnceLock};
use std::task::{Poll, Waker};
use std::thread::JoinHandle;

use parking_lot::Mutex;

/// The loop's tokio runtime, started on first use.
#[derive(Default)]
pub(crate) struct TokioBridge {
    handle: OnceLock<tokio::runtime::Handle>,
    driver: Mutex<Option<Driver>>,
}

/// The background thread that drives the runtime, and how to stop it.
struct Driver {
    stop: Arc<Stop>,
    thread: JoinHandle<()>,
}

/// Tells the driver thread to leave `block_on`.
#[derive(Default)]
struct Stop {
    state: Mutex<(bool, Option<Waker>)>,
}

impl TokioBridge {
    /// Enters the tokio context on this thread until the guard drops,
    /// starting the runtime if this is its first use.
    ///
    /// # Panics
    ///
    /// If the tokio runtime cannot be built (the OS refused a thread or an
    /// epoll instance), with a message that says so.
    pub(crate) fn enter(&self) -> tokio::runtime::EnterGuard<'_> {
        self.handle.get_or_init(|| self.start()).enter()
    }

    fn start(&self) -> tokio::runtime::Handle {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|error| {
                panic!("corio (feature `tokio`): could not start the tokio runtime: {error}")
            });
        let handle = runtime.handle().clone();
        let stop = Arc::new(Stop::default());
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name("corio-tokio".into())
            .spawn(move || {
                runtime.block_on(poll_fn(|cx| {
                    let mut state = stopped.state.lock();
                    if state.0 {
                        return Poll::Ready(());
                    }
                    state.1 = Some(cx.waker().clone());
                    Poll::Pending
                }));
                // Dropping the runtime here cancels what was spawned on it
                // and closes its drivers.
                drop(runtime);
            })
            .unwrap_or_else(|error| {
                panic!("corio (feature `tokio`): could not start the tokio driver thread: {error}")
            });
        *self.driver.lock() = Some(Driver { stop, thread });
        handle
    }

    /// Stops the runtime and waits for its thread (the loop closes).
    /// Idempotent; a loop that never started it returns at once.
    pub(crate) fn shut_down(&self) {
        let Some(driver) = self.driver.lock().take() else {
            return;
        };
        let waker = {
            let mut state = driver.stop.state.lock();
            state.0 = true;
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        if driver.thread.thread().id() != std::thread::current().id() {
            let _ = driver.thread.join();
        }
    }
}
