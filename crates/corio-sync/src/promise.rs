//! [`Promise`]: asyncio's `Future`, a result set once and awaited by many.
//!
//! One mutex guards the outcome and the waiter list. The outcome moves once,
//! from pending to done or cancelled, and never back; waiters only enqueue
//! while it is pending, and the transition notifies all of them in the same
//! critical section, so no waiter can miss it. A waiter reads the outcome
//! itself when it polls (the notification carries nothing), which is why
//! every waiter, before or after the result was set, gets its own clone.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::loom::Mutex;
use crate::waiters::{WaitList, WaiterKey};

/// The error of a [`Promise`] that was cancelled before it got a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Cancelled;

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("promise cancelled")
    }
}

impl Error for Cancelled {}

/// asyncio's `Future`: a result that is set once and awaited by any number
/// of tasks, each of which gets a clone.
///
/// [`set_result`](Promise::set_result) completes it (only the first call
/// wins); [`cancel`](Promise::cancel) completes it with [`Cancelled`]
/// instead. [`wait`](Promise::wait) waits for the outcome, or returns it at
/// once if the promise is already done. Share it by reference or in an
/// [`Arc`](std::sync::Arc).
///
/// # Examples
///
/// A promise awaited by several tasks:
///
/// ```
/// use std::sync::Arc;
/// use corio_sync::Promise;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let config: Arc<Promise<String>> = Arc::new(Promise::new());
/// let mut readers = Vec::new();
/// for id in 0..3 {
///     let config = Arc::clone(&config);
///     readers.push(tokio::spawn(async move {
///         let value = config.wait().await.unwrap(); // Each reader gets a clone.
///         format!("reader {id} saw {value}")
///     }));
/// }
/// tokio::task::yield_now().await;
/// assert!(!config.is_done());
/// config.set_result("debug=1".to_string()).unwrap();
/// // Only the first result counts: a second one is handed back.
/// assert_eq!(config.set_result("debug=0".to_string()), Err("debug=0".to_string()));
/// for reader in readers {
///     assert!(reader.await.unwrap().ends_with("saw debug=1"));
/// }
/// // Late waiters get the result at once.
/// assert_eq!(config.wait().await.as_deref(), Ok("debug=1"));
/// # });
/// ```
pub struct Promise<T> {
    state: Mutex<State<T>>,
}

/// Where a promise stands. Moves from `Pending` once, never back.
enum Outcome<T> {
    Pending,
    Done(T),
    Cancelled,
}

struct State<T> {
    outcome: Outcome<T>,
    /// Tasks waiting for the outcome; only non-empty while `Pending`.
    waiters: WaitList<()>,
}

impl<T> State<T> {
    /// Completes the promise and notifies every waiter; their wakers go to `wakers`.
    fn complete(&mut self, outcome: Outcome<T>, wakers: &mut Vec<std::task::Waker>) {
        self.outcome = outcome;
        self.waiters.notify_all(wakers);
    }
}

impl<T: Clone> Outcome<T> {
    fn get(&self) -> Option<Result<T, Cancelled>> {
        match self {
            Outcome::Pending => None,
            Outcome::Done(value) => Some(Ok(value.clone())),
            Outcome::Cancelled => Some(Err(Cancelled)),
        }
    }
}

impl<T> Promise<T> {
    /// Creates a pending promise.
    pub fn new() -> Promise<T> {
        Promise {
            state: Mutex::new(State {
                outcome: Outcome::Pending,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Sets the result and wakes every waiting task.
    ///
    /// # Errors
    ///
    /// Hands `value` back if the promise is already done or cancelled.
    pub fn set_result(&self, value: T) -> Result<(), T> {
        let mut wakers = Vec::new();
        {
            let mut state = self.state.lock();
            if !matches!(state.outcome, Outcome::Pending) {
                return Err(value);
            }
            state.complete(Outcome::Done(value), &mut wakers);
        }
        for waker in wakers {
            waker.wake();
        }
        Ok(())
    }

    /// Cancels the promise: every waiter, present and future, gets
    /// `Err(`[`Cancelled`]`)`.
    ///
    /// Returns `true` if the promise was pending, `false` (and changes
    /// nothing) if it was already done or cancelled, like asyncio's
    /// `Future.cancel`.
    pub fn cancel(&self) -> bool {
        let mut wakers = Vec::new();
        {
            let mut state = self.state.lock();
            if !matches!(state.outcome, Outcome::Pending) {
                return false;
            }
            state.complete(Outcome::Cancelled, &mut wakers);
        }
        for waker in wakers {
            waker.wake();
        }
        true
    }

    /// Whether the promise has a result or was cancelled.
    pub fn is_done(&self) -> bool {
        !matches!(self.state.lock().outcome, Outcome::Pending)
    }

    /// Whether the promise was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.state.lock().outcome, Outcome::Cancelled)
    }
}

impl<T: Clone> Promise<T> {
    /// The outcome without waiting: `None` while pending, else a clone of
    /// the result or `Err(`[`Cancelled`]`)`.
    pub fn try_result(&self) -> Option<Result<T, Cancelled>> {
        self.state.lock().outcome.get()
    }

    /// Waits for the outcome and returns a clone of the result, or
    /// `Err(`[`Cancelled`]`)` if the promise was cancelled. Returns at once
    /// if the promise is already done.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel-safe. Dropping the future removes its waiter
    /// without a trace; the result stays in the promise for every other
    /// waiter.
    pub fn wait(&self) -> PromiseWait<'_, T> {
        PromiseWait {
            promise: self,
            key: None,
        }
    }
}

impl<T> Default for Promise<T> {
    fn default() -> Promise<T> {
        Promise::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for Promise<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        let mut d = f.debug_struct("Promise");
        match &state.outcome {
            Outcome::Pending => d.field("state", &"pending"),
            Outcome::Done(value) => d.field("result", value),
            Outcome::Cancelled => d.field("state", &"cancelled"),
        };
        d.field("waiting", &state.waiters.len()).finish()
    }
}

/// The future returned by [`Promise::wait`].
#[must_use = "futures do nothing unless polled"]
pub struct PromiseWait<'a, T> {
    promise: &'a Promise<T>,
    /// Our place in the waiter list, once we enqueued.
    key: Option<WaiterKey>,
}

impl<T: Clone> Future for PromiseWait<'_, T> {
    type Output = Result<T, Cancelled>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, Cancelled>> {
        let mut state = self.promise.state.lock();
        match state.outcome.get() {
            Some(outcome) => {
                if let Some(key) = self.key.take() {
                    // Notified by the completion: free our slot.
                    let _ = state.waiters.remove(key);
                }
                Poll::Ready(outcome)
            }
            None => {
                match self.key {
                    // Still pending, so still queued: refresh the waker.
                    Some(key) => {
                        let _ = state.waiters.poll(key, cx.waker());
                    }
                    None => self.key = Some(state.waiters.push_back((), cx.waker())),
                }
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for PromiseWait<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // Nothing to pass on: the outcome stays for everyone.
            let _ = self.promise.state.lock().waiters.remove(key);
        }
    }
}

impl<T> fmt::Debug for PromiseWait<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PromiseWait")
            .field("queued", &self.key.is_some())
            .finish()
    }
}
