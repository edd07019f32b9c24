//! What a server's handle, its accept loop and its connections share: the
//! state behind both servers of the facade, the protocol one
//! (`protocol::Server`, from `create_server`) and the streams one
//! (`streams::Server`, from `start_server`). It owns asyncio's server
//! lifecycle: `close` stops the accept loop, `serve_forever` waits for the
//! listener to be closed, `wait_closed` also waits for every accepted
//! connection to end.

use std::sync::Arc;
use std::time::Duration;

use corio_sync::Event;
use parking_lot::Mutex;

use crate::task::Task;

/// How long an accept loop rests after an accept error (out of file
/// descriptors, ...), so it does not spin; asyncio waits a second.
pub(crate) const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// A server's shared state: whether it was closed, whether its accept loop
/// has stopped, and how many connections it accepted are still alive.
pub(crate) struct Serving {
    /// Set by `close`.
    closed: Event,
    /// Set once the accept loop's future is gone (finished or cancelled) and
    /// its listener closed.
    accept_stopped: Event,
    /// Live connections; `idle` is set exactly when it is 0.
    connections: Mutex<usize>,
    idle: Event,
    accept_task: Mutex<Option<Task<()>>>,
}

impl Serving {
    /// A server that serves, with no connection yet.
    pub(crate) fn new() -> Arc<Serving> {
        let serving = Serving {
            closed: Event::new(),
            accept_stopped: Event::new(),
            connections: Mutex::new(0),
            idle: Event::new(),
            accept_task: Mutex::new(None),
        };
        serving.idle.set();
        Arc::new(serving)
    }

    /// Hands over the accept loop's task, for `close` to cancel.
    pub(crate) fn set_accept_task(&self, task: Task<()>) {
        *self.accept_task.lock() = Some(task);
    }

    /// Stops accepting: cancels the accept loop, whose [`Listening`] guard
    /// then closes the listener. Idempotent.
    pub(crate) fn close(&self) {
        self.closed.set();
        // The task is taken out before it is cancelled: a cancel can run the
        // task's drop, which must not find this lock held.
        let task = self.accept_task.lock().take();
        if let Some(task) = task {
            task.cancel();
        }
    }

    /// Whether the server accepts connections: `true` until `close`.
    pub(crate) fn is_serving(&self) -> bool {
        !self.closed.is_set()
    }

    /// Waits until `close` was called and the listener is closed.
    pub(crate) async fn serve_forever(&self) {
        self.closed.wait().await;
        self.accept_stopped.wait().await;
    }

    /// Waits until the server is closed and every connection it accepted has
    /// ended (asyncio 3.12+'s `wait_closed`). Does not close it.
    pub(crate) async fn wait_closed(&self) {
        self.serve_forever().await;
        while self.connections() != 0 {
            self.idle.wait().await;
        }
    }

    /// Connections accepted and not yet ended.
    pub(crate) fn connections(&self) -> usize {
        *self.connections.lock()
    }
}

/// Counts one live connection of a server, from its accept to its drop.
pub(crate) struct ConnectionCount(Arc<Serving>);

impl ConnectionCount {
    /// Counts a new connection of `serving`.
    pub(crate) fn new(serving: &Arc<Serving>) -> ConnectionCount {
        *serving.connections.lock() += 1;
        serving.idle.clear();
        ConnectionCount(serving.clone())
    }
}

impl Drop for ConnectionCount {
    fn drop(&mut self) {
        let mut count = self.0.connections.lock();
        *count -= 1;
        if *count == 0 {
            self.0.idle.set();
        }
    }
}

/// Owns the listener inside the accept loop's future: however that future
/// goes (finished, cancelled before its first poll, dropped with the loop),
/// the listener is closed first and *then* `accept_stopped` set, so a task
/// waiting in `serve_forever` on another worker never sees the server
/// stopped with its socket still open.
pub(crate) struct Listening<L> {
    listener: Option<L>,
    serving: Arc<Serving>,
}

impl<L> Listening<L> {
    /// Guards `listener` for `serving`'s accept loop.
    pub(crate) fn new(listener: L, serving: &Arc<Serving>) -> Listening<L> {
        Listening {
            listener: Some(listener),
            serving: serving.clone(),
        }
    }

    /// The listener (present until the guard drops).
    pub(crate) fn listener(&self) -> &L {
        self.listener
            .as_ref()
            .expect("the listener lives until the accept loop is dropped")
    }

    /// The server this listener accepts for.
    pub(crate) fn serving(&self) -> &Arc<Serving> {
        &self.serving
    }
}

impl<L> Drop for Listening<L> {
    fn drop(&mut self) {
        drop(self.listener.take());
        self.serving.accept_stopped.set();
    }
}
