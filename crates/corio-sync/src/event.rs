//! [`Event`]: asyncio's `Event`, a flag that tasks wait on until it is set.
//!
//! One mutex guards the flag and the waiter list, so "is it set? else
//! enqueue" in [`EventWait`]'s poll and "set the flag, notify everyone" in
//! [`Event::set`] are each one critical section: a waiter either sees the
//! flag or is in the list when `set` notifies it, never neither.
//!
//! A waiter that `set` notified is unlinked from the list and holds a
//! notification (the `()` grant) until its future polls it; `clear` only
//! lowers the flag and never touches notified waiters, which is asyncio's
//! rule that a waiter released by `set` returns even if the event was cleared
//! before it ran. Nothing is passed on when a notified waiter is dropped:
//! `set` released every waiter at once.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::loom::Mutex;
use crate::waiters::{self, WaitList, WaiterKey};

/// asyncio's `Event`: a flag that tasks can wait on until another task sets it.
///
/// [`set`](Event::set) raises the flag and releases every waiting task;
/// [`clear`](Event::clear) lowers it without waking anyone;
/// [`wait`](Event::wait) returns at once while the flag is up. Waiters are
/// released in the order they started waiting.
///
/// # Examples
///
/// An event that releases waiting workers, the classic asyncio use:
///
/// ```
/// use std::sync::Arc;
/// use corio_sync::Event;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let start = Arc::new(Event::new());
/// let mut workers = Vec::new();
/// for id in 0..3 {
///     let start = Arc::clone(&start);
///     workers.push(tokio::spawn(async move {
///         start.wait().await; // Parks until the event is set.
///         id * 10
///     }));
/// }
/// tokio::task::yield_now().await; // The workers are all waiting now.
/// assert!(!start.is_set());
/// start.set(); // Releases every waiting worker at once.
/// let mut results = Vec::new();
/// for worker in workers {
///     results.push(worker.await.unwrap());
/// }
/// assert_eq!(results, [0, 10, 20]);
/// start.wait().await; // Already set: returns at once.
/// # });
/// ```
pub struct Event {
    state: Mutex<State>,
}

struct State {
    /// The flag. Waiters only ever enqueue while it is down.
    set: bool,
    /// Tasks waiting for the flag; `set` notifies all of them.
    waiters: WaitList<()>,
}

impl Event {
    /// Creates an event whose flag is down.
    pub fn new() -> Event {
        Event {
            state: Mutex::new(State {
                set: false,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Raises the flag and wakes every task waiting in [`wait`](Event::wait).
    ///
    /// Tasks that call `wait` while the flag is up return at once. Setting
    /// an event that is already set does nothing.
    pub fn set(&self) {
        let mut wakers = Vec::new();
        {
            let mut state = self.state.lock();
            if state.set {
                return;
            }
            state.set = true;
            state.waiters.notify_all(&mut wakers);
        }
        for waker in wakers {
            waker.wake();
        }
    }

    /// Lowers the flag: later calls to [`wait`](Event::wait) wait for the
    /// next [`set`](Event::set).
    ///
    /// Wakes nobody, and does not hold back tasks that an earlier `set`
    /// already released but that have not run yet: they still return.
    pub fn clear(&self) {
        self.state.lock().set = false;
    }

    /// Whether the flag is up.
    pub fn is_set(&self) -> bool {
        self.state.lock().set
    }

    /// Waits until the flag is up; returns at once if it already is.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel-safe. Dropping the future removes its waiter
    /// from the event without a trace; nothing is lost, since a `set`
    /// releases every waiter anyway.
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            key: None,
            done: false,
        }
    }
}

impl Default for Event {
    fn default() -> Event {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (set, waiting) = {
            let state = self.state.lock();
            (state.set, state.waiters.len())
        };
        f.debug_struct("Event")
            .field("set", &set)
            .field("waiting", &waiting)
            .finish()
    }
}

/// The future returned by [`Event::wait`].
#[must_use = "futures do nothing unless polled"]
pub struct EventWait<'a> {
    event: &'a Event,
    /// Our place in the waiter list, once we enqueued.
    key: Option<WaiterKey>,
    done: bool,
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        assert!(!self.done, "EventWait polled after completion");
        let mut state = self.event.state.lock();
        let ready = match self.key {
            Some(key) => match state.waiters.poll(key, cx.waker()) {
                waiters::Poll::Notified(()) => true,
                waiters::Poll::Waiting => false,
            },
            None if state.set => true,
            None => {
                self.key = Some(state.waiters.push_back((), cx.waker()));
                false
            }
        };
        drop(state);
        if ready {
            self.key = None;
            self.done = true;
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // Whether it was still waiting or already notified, there is
            // nothing to pass on: `set` released everyone.
            let _ = self.event.state.lock().waiters.remove(key);
        }
    }
}

impl fmt::Debug for EventWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWait")
            .field("queued", &self.key.is_some())
            .field("done", &self.done)
            .finish()
    }
}
