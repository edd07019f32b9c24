//! [`Promise`]: asyncio's `Future`, an outcome (a value, an error, or
//! cancellation) set once and awaited by many, with done-callbacks.
//!
//! One mutex guards the outcome, the waiter list and the callback queue. The
//! outcome moves once, from pending to done, and never back; waiters only
//! enqueue while it is pending, and the transition notifies all of them in
//! the same critical section, so no waiter can miss it. A waiter reads the
//! outcome itself when it polls (the notification carries nothing), which is
//! why every waiter, before or after completion, gets its own clone.
//!
//! Done-callbacks run with the lock released (a callback may set another
//! promise, add a callback to this one, or drop the last handle to it).
//! The thread that completes the promise *drains* the callback queue: under
//! the lock it pops one callback, then runs it unlocked, until the queue is
//! empty, and only then clears `draining`. While `draining` is set, a
//! callback added to the done promise joins the queue instead of running at
//! once, so callbacks run one at a time, in the order they were added, even
//! when a callback adds another.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::loom::Mutex;
use crate::promise_error::PromiseError;
use crate::waiters::{WaitList, WaiterKey};

/// asyncio's `Future`: an outcome that is set once and awaited by any
/// number of tasks, each of which gets a clone.
///
/// [`set_result`](Promise::set_result) completes it with a value,
/// [`set_exception`](Promise::set_exception) with an error, and
/// [`cancel`](Promise::cancel) / [`cancel_with`](Promise::cancel_with)
/// cancel it; only the first of these wins. [`wait`](Promise::wait) waits
/// for the outcome, or returns it at once if the promise is already done:
/// `Ok(value)`, or `Err(`[`PromiseError`]`)`.
/// [`add_done_callback`](Promise::add_done_callback) runs code when it
/// completes. Share it by reference or in an [`Arc`].
///
/// | asyncio | corio |
/// |---|---|
/// | `loop.create_future()` | `Promise::new()` |
/// | `fut.set_result(v)` | [`set_result`](Promise::set_result)`(v)` (`Err(v)` instead of `InvalidStateError`) |
/// | `fut.set_exception(exc)` | [`set_exception`](Promise::set_exception)`(err)` |
/// | `fut.cancel()` / `fut.cancel(msg)` | [`cancel`](Promise::cancel)`()` / [`cancel_with`](Promise::cancel_with)`(msg)` |
/// | `await fut` | [`wait`](Promise::wait)`().await` |
/// | `fut.result()` / `fut.exception()` | [`try_result`](Promise::try_result)`()` |
/// | `fut.done()` / `fut.cancelled()` | [`is_done`](Promise::is_done)`()` / [`is_cancelled`](Promise::is_cancelled)`()` |
/// | `fut.add_done_callback(cb)` | [`add_done_callback`](Promise::add_done_callback)`(cb)` (runs on the completing thread, see there) |
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
#[doc(alias("oneshot", "Future"))]
pub struct Promise<T> {
    state: Mutex<State<T>>,
}

/// A done-callback, boxed.
type Callback<T> = Box<dyn FnOnce(&Result<T, PromiseError>) + Send>;

struct State<T> {
    /// `None` while pending; set once, never changed after.
    outcome: Option<Result<T, PromiseError>>,
    /// Tasks waiting for the outcome; only non-empty while pending.
    waiters: WaitList<()>,
    /// Done-callbacks not yet run, in the order they were added. Non-empty
    /// only while pending or while `draining`.
    callbacks: VecDeque<Callback<T>>,
    /// The completing thread is running the callbacks: new ones must join
    /// `callbacks` rather than run at once (FIFO).
    draining: bool,
    /// How to drain `callbacks`: set by the first `add_done_callback`
    /// (which has the `T: Clone` bound the drain needs to hand out the
    /// outcome), so that completing a promise needs no bound on `T`.
    drain: Option<fn(&Promise<T>)>,
}

impl<T> Promise<T> {
    /// Creates a pending promise.
    pub fn new() -> Promise<T> {
        Promise {
            state: Mutex::new(State {
                outcome: None,
                waiters: WaitList::new(),
                callbacks: VecDeque::new(),
                draining: false,
                drain: None,
            }),
        }
    }

    /// Sets the result, wakes every waiting task, then runs the
    /// done-callbacks (see [`add_done_callback`](Self::add_done_callback)).
    ///
    /// # Errors
    ///
    /// Hands `value` back if the promise is already done or cancelled.
    ///
    /// # Panics
    ///
    /// If a done-callback panics: the first panic is resumed here once
    /// every callback has run (the result stays set).
    pub fn set_result(&self, value: T) -> Result<(), T> {
        match self.complete(Ok(value)) {
            Ok(()) => Ok(()),
            Err(Ok(value)) => Err(value),
            Err(Err(_)) => unreachable!("complete hands back what it was given"),
        }
    }

    /// Completes the promise with an error (asyncio's
    /// `set_exception(exc)`): every waiter, present and future, gets
    /// `Err(`[`PromiseError::Failed`]`)` sharing that error. Wakes the
    /// waiters, then runs the done-callbacks.
    ///
    /// `err` is anything that converts into a [`PromiseError`] (an
    /// [`io::Error`](std::io::Error), a boxed error, a message, or
    /// [`PromiseError::failed`]`(any_error)`). Giving it a
    /// [`PromiseError::Cancelled`] cancels the promise (unlike asyncio, where
    /// `set_exception(CancelledError())` leaves `cancelled()` false).
    ///
    /// ```
    /// use std::io;
    /// use corio_sync::Promise;
    ///
    /// let promise: Promise<Vec<u8>> = Promise::new();
    /// let err = io::Error::new(io::ErrorKind::ConnectionReset, "peer went away");
    /// promise.set_exception(err).unwrap();
    /// assert!(promise.is_done() && !promise.is_cancelled());
    /// // Only the first outcome counts.
    /// assert!(promise.set_result(vec![1]).is_err());
    /// assert!(promise.set_exception("late").is_err());
    /// let seen = promise.try_result().unwrap().unwrap_err();
    /// assert_eq!(seen.to_string(), "peer went away");
    /// ```
    ///
    /// # Errors
    ///
    /// Hands the error back if the promise is already done or cancelled.
    ///
    /// # Panics
    ///
    /// If a done-callback panics, as [`set_result`](Self::set_result).
    pub fn set_exception(&self, err: impl Into<PromiseError>) -> Result<(), PromiseError> {
        match self.complete(Err(err.into())) {
            Ok(()) => Ok(()),
            Err(Err(err)) => Err(err),
            Err(Ok(_)) => unreachable!("complete hands back what it was given"),
        }
    }

    /// Cancels the promise: every waiter, present and future, gets
    /// `Err(`[`PromiseError::Cancelled`]`)`. Then runs the done-callbacks.
    ///
    /// Returns `true` if the promise was pending, `false` (and changes
    /// nothing) if it was already done or cancelled, like asyncio's
    /// `Future.cancel`.
    ///
    /// # Panics
    ///
    /// If a done-callback panics, as [`set_result`](Self::set_result).
    pub fn cancel(&self) -> bool {
        self.complete(Err(PromiseError::Cancelled { message: None }))
            .is_ok()
    }

    /// [`cancel`](Self::cancel) with a message (asyncio's `cancel(msg)`),
    /// which waiters find in [`PromiseError::cancel_message`].
    ///
    /// ```
    /// use corio_sync::Promise;
    ///
    /// let promise: Promise<u8> = Promise::new();
    /// assert!(promise.cancel_with("no longer needed"));
    /// assert!(!promise.cancel_with("again"), "the first outcome wins");
    /// let err = promise.try_result().unwrap().unwrap_err();
    /// assert_eq!(err.cancel_message(), Some("no longer needed"));
    /// ```
    ///
    /// # Panics
    ///
    /// If a done-callback panics, as [`set_result`](Self::set_result).
    pub fn cancel_with(&self, message: impl Into<Arc<str>>) -> bool {
        let message = Some(message.into());
        self.complete(Err(PromiseError::Cancelled { message }))
            .is_ok()
    }

    /// Whether the promise has an outcome (a result, an error, or
    /// cancellation).
    pub fn is_done(&self) -> bool {
        self.state.lock().outcome.is_some()
    }

    /// Whether the promise was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(
            self.state.lock().outcome,
            Some(Err(PromiseError::Cancelled { .. }))
        )
    }

    /// Sets the outcome if still pending, wakes the waiters and drains the
    /// callbacks; hands `outcome` back if the promise was already done.
    fn complete(&self, outcome: Result<T, PromiseError>) -> Result<(), Result<T, PromiseError>> {
        let mut wakers = Vec::new();
        let drain = {
            let mut state = self.state.lock();
            if state.outcome.is_some() {
                return Err(outcome);
            }
            state.outcome = Some(outcome);
            state.waiters.notify_all(&mut wakers);
            let drain = state.drain.filter(|_| !state.callbacks.is_empty());
            state.draining = drain.is_some();
            drain
        };
        // Wakers are user code: wake them unlocked. One that panics must not
        // leave the promise `draining` with its callbacks never run, so the
        // callbacks run first and the panic resumes after them.
        let woken = panic::catch_unwind(AssertUnwindSafe(|| {
            for waker in wakers {
                waker.wake();
            }
        }));
        if let Some(drain) = drain {
            drain(self);
        }
        if let Err(payload) = woken {
            panic::resume_unwind(payload);
        }
        Ok(())
    }
}

impl<T: Clone> Promise<T> {
    /// The outcome without waiting: `None` while pending, else a clone of
    /// the result, or the [`PromiseError`].
    pub fn try_result(&self) -> Option<Result<T, PromiseError>> {
        self.state.lock().outcome.clone()
    }

    /// Waits for the outcome and returns a clone of the result, or the
    /// [`PromiseError`] if the promise failed or was cancelled. Returns at
    /// once if the promise is already done.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel-safe. Dropping the future removes its waiter
    /// without a trace; the outcome stays in the promise for every other
    /// waiter.
    pub fn wait(&self) -> PromiseWait<'_, T> {
        PromiseWait {
            promise: self,
            key: None,
        }
    }

    /// Runs `callback` with the promise's outcome once it is done (asyncio's
    /// `add_done_callback`); at once if it is done already.
    ///
    /// Callbacks run in the order they were added, one at a time, never
    /// under the promise's lock: a callback may complete other promises, add
    /// callbacks (to this promise too), or drop the last handle to it. A
    /// pending promise dropped without completing drops its callbacks
    /// unrun.
    ///
    /// **Where they run, and how that differs from asyncio.** corio-sync
    /// has no event loop, so a callback cannot be scheduled: it runs on the
    /// thread that completes the promise, inside `set_result` /
    /// `set_exception` / `cancel`, after the waiting tasks were woken (they
    /// resume only later, when their executor polls them). asyncio instead
    /// `call_soon`s each callback, so its callbacks run on later loop
    /// iterations, after the code that completed the future has yielded.
    /// Concretely:
    /// - the completing code does not continue until the callbacks are done,
    ///   and a callback that completes a second promise runs that promise's
    ///   callbacks nested, before this promise's later callbacks (asyncio
    ///   queues them behind);
    /// - every callback runs before any waiting task resumes; in asyncio an
    ///   awaiting task is itself a done-callback, so tasks and callbacks
    ///   resume interleaved, in the order they started waiting;
    /// - a callback added to a promise that is done (and not draining) runs
    ///   at once, inside `add_done_callback` — asyncio runs it on the next
    ///   iteration; one added while the promise is draining its callbacks
    ///   (from a callback, or from another thread) joins the queue and runs
    ///   after the ones before it, on the draining thread, as asyncio's
    ///   order would have it;
    /// - a callback that panics does not stop the others: after every
    ///   callback has run, the first panic is resumed in the completing
    ///   call (asyncio hands the exception to the loop's exception handler).
    ///
    /// To get asyncio's scheduling on a running corio loop, let the callback
    /// hand its work to the loop: `promise.add_done_callback(move |outcome|
    /// { let outcome = outcome.clone(); handle.call_soon(move ||
    /// on_done(outcome)); })`.
    ///
    /// The callback gets the outcome itself (`&Result<T, PromiseError>`),
    /// where asyncio's gets the future; it can clone what it needs.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use corio_sync::Promise;
    ///
    /// let log = Arc::new(Mutex::new(Vec::new()));
    /// let promise: Promise<u32> = Promise::new();
    /// for name in ["first", "second"] {
    ///     let log = Arc::clone(&log);
    ///     promise.add_done_callback(move |outcome| {
    ///         log.lock().unwrap().push(format!("{name}: {outcome:?}"));
    ///     });
    /// }
    /// assert!(log.lock().unwrap().is_empty());
    /// promise.set_result(7).unwrap(); // Runs both, in order, right here.
    /// // Added after completion: runs at once.
    /// let late = Arc::clone(&log);
    /// promise.add_done_callback(move |_| late.lock().unwrap().push("late".into()));
    /// assert_eq!(*log.lock().unwrap(), ["first: Ok(7)", "second: Ok(7)", "late"]);
    /// ```
    pub fn add_done_callback(
        &self,
        callback: impl FnOnce(&Result<T, PromiseError>) + Send + 'static,
    ) {
        let mut state = self.state.lock();
        let outcome = match &state.outcome {
            None => {
                state.drain = Some(Promise::<T>::drain_callbacks);
                state.callbacks.push_back(Box::new(callback));
                return;
            }
            Some(_) if state.draining => {
                state.callbacks.push_back(Box::new(callback));
                return;
            }
            Some(outcome) => outcome.clone(),
        };
        drop(state);
        callback(&outcome);
    }

    /// Runs the queued callbacks, one at a time and unlocked, until the
    /// queue is empty; then clears `draining`. Resumes the first panic
    /// after all ran.
    fn drain_callbacks(&self) {
        // One clone of the outcome serves every callback.
        let Some(outcome) = self.state.lock().outcome.clone() else {
            unreachable!("callbacks are drained only once the promise is done");
        };
        let mut first_panic = None;
        loop {
            let callback = {
                let mut state = self.state.lock();
                match state.callbacks.pop_front() {
                    Some(callback) => callback,
                    None => {
                        state.draining = false;
                        break;
                    }
                }
            };
            if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| callback(&outcome))) {
                first_panic.get_or_insert(payload);
            }
        }
        drop(outcome);
        if let Some(payload) = first_panic {
            panic::resume_unwind(payload);
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
            None => d.field("state", &"pending"),
            Some(Ok(value)) => d.field("result", value),
            Some(Err(err)) if err.is_cancelled() => d.field("state", &"cancelled"),
            Some(Err(err)) => d.field("error", err),
        };
        d.field("waiting", &state.waiters.len())
            .field("callbacks", &state.callbacks.len())
            .finish()
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
    type Output = Result<T, PromiseError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, PromiseError>> {
        let mut state = self.promise.state.lock();
        match &state.outcome {
            Some(outcome) => {
                let outcome = outcome.clone();
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
