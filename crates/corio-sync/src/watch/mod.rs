//! The [`watch`](crate::watch()) channel: one [`Sender`] publishes a value,
//! any number of [`Receiver`]s read the latest one and wait for it to
//! change. The shape of tokio's `watch`; asyncio's nearest is an `Event`
//! plus a shared variable.
//!
//! ```
//! let (tx, rx) = corio_sync::watch::channel("idle");
//! tx.send("busy").unwrap();
//! assert_eq!(*rx.borrow(), "busy");
//! ```

// How it works
//
// The value sits in a synchronous readers-writer lock (`data_lock.rs`),
// held only for the moment a value is read (a `Ref` while it lives) or
// replaced. Beside it, under one mutex: a version number bumped by every
// send, whether the sender is alive, the receiver count, and two FIFO
// `WaitList`s: receivers waiting in `changed()`, and senders waiting in
// `closed()`.
//
// Each receiver remembers the version it last marked seen. `changed()` is
// ready when the version differs (and marks it seen), fails once the
// sender is gone and nothing unseen is left, and otherwise queues. A send
// bumps the version while it still holds the value's write lock, so a
// reader that holds the read lock and then reads the version (the lock
// order everywhere: value, then state) sees the version of the value it
// holds. Wakers are woken after both locks are released.

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::data_lock::{DataLock, ReadGuard};
use crate::loom::{Mutex, MutexGuard};
use crate::waiters::{self, WaitList, WaiterKey};

mod error;

pub use error::{RecvError, SendError};

struct Shared<T> {
    value: DataLock<T>,
    state: Mutex<State>,
}

struct State {
    /// Bumped (wrapping) by every send; receivers compare it with theirs.
    version: usize,
    sender_alive: bool,
    receivers: usize,
    /// Receivers in `changed()`; all woken by a send or the sender's drop.
    changed: WaitList<()>,
    /// Senders in `closed()`; all woken when the last receiver drops.
    closed: WaitList<()>,
}

/// Creates a watch channel holding `initial`: a [`Sender`] that replaces the
/// value and a [`Receiver`] (clone it, or [`subscribe`](Sender::subscribe),
/// for more) that reads the latest one and waits for changes.
///
/// Receivers see the newest value, not every value: two sends before a
/// receiver looks are one change to it.
///
/// # Examples
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (tx, mut rx) = corio_sync::watch("starting");
/// let watcher = tokio::spawn(async move {
///     let mut seen = Vec::new();
///     while rx.changed().await.is_ok() {
///         seen.push(*rx.borrow_and_update());
///     }
///     seen // the sender is gone
/// });
/// tokio::task::yield_now().await;
/// tx.send("ready").unwrap();
/// tokio::task::yield_now().await;
/// tx.send("stopping").unwrap();
/// drop(tx);
/// assert_eq!(watcher.await.unwrap(), ["ready", "stopping"]);
/// # });
/// ```
pub fn channel<T>(initial: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: DataLock::new(initial),
        state: Mutex::new(State {
            version: 0,
            sender_alive: true,
            receivers: 1,
            changed: WaitList::new(),
            closed: WaitList::new(),
        }),
    });
    let rx = Receiver {
        shared: shared.clone(),
        seen: 0,
    };
    (Sender { shared }, rx)
}

/// A read lock on a watch channel's value, from `borrow()`.
///
/// While it lives, the sender cannot store a new value (a send waits for
/// it, synchronously): keep it short, and never across an `.await`.
///
/// ```
/// let (_tx, rx) = corio_sync::watch(vec![1, 2]);
/// let len = rx.borrow().len(); // the lock is released at the `;`
/// assert_eq!(len, 2);
/// ```
pub struct Ref<'a, T> {
    guard: ReadGuard<'a, T>,
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// The sending half of a [`watch`](crate::watch()) channel.
///
/// Dropping it ends the channel: receivers see the last value, then
/// `changed()` fails with [`RecvError`].
///
/// ```
/// let (tx, rx) = corio_sync::watch(0);
/// tx.send(1).unwrap();
/// drop(tx);
/// assert_eq!(*rx.borrow(), 1); // the last value stays readable
/// ```
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Stores `value` and wakes every receiver waiting in `changed()`.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if no receiver is left (the value is
    /// not stored then; [`send_replace`](Self::send_replace) stores it anyway).
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.shared.state.lock().receivers == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Stores `value` whether or not receivers are left, wakes the waiting
    /// receivers, and returns the value it replaced.
    ///
    /// ```
    /// let (tx, _rx) = corio_sync::watch(1);
    /// assert_eq!(tx.send_replace(2), 1);
    /// assert_eq!(*tx.borrow(), 2);
    /// ```
    pub fn send_replace(&self, value: T) -> T {
        let mut old = Some(value);
        self.send_if_modified(|current| {
            old = Some(std::mem::replace(current, old.take().expect("set above")));
            true
        });
        old.expect("swapped in place")
    }

    /// Changes the value in place, then wakes the waiting receivers.
    ///
    /// `modify` runs under the value's write lock: it must not call
    /// `borrow()` on this channel (that would deadlock).
    ///
    /// ```
    /// let (tx, rx) = corio_sync::watch(vec![1]);
    /// tx.send_modify(|v| v.push(2));
    /// assert_eq!(*rx.borrow(), [1, 2]);
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// Lets `modify` change the value in place; if it returns `true`, the
    /// change is published (receivers are woken), otherwise nobody notices.
    /// Returns what `modify` returned. Same rule as
    /// [`send_modify`](Self::send_modify): no `borrow()` inside.
    ///
    /// ```
    /// let (tx, rx) = corio_sync::watch(0);
    /// assert!(!tx.send_if_modified(|n| { let old = *n; *n = 0; old != 0 }));
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        let mut wakers = Vec::new();
        {
            let mut value = self.shared.value.write();
            if !modify(&mut value) {
                return false;
            }
            let mut state = self.shared.state.lock();
            state.version = state.version.wrapping_add(1);
            state.changed.notify_all(&mut wakers);
        }
        wakers.into_iter().for_each(Waker::wake);
        true
    }

    /// Reads the current value.
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.value.read(),
        }
    }

    /// A new receiver that has seen the current value.
    ///
    /// ```
    /// let (tx, rx) = corio_sync::watch(0);
    /// drop(rx);
    /// let rx = tx.subscribe();
    /// assert!(!rx.has_changed().unwrap());
    /// assert_eq!(tx.receiver_count(), 1);
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        let mut state = self.shared.state.lock();
        state.receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            seen: state.version,
        }
    }

    /// How many receivers are alive.
    pub fn receiver_count(&self) -> usize {
        self.shared.state.lock().receivers
    }

    /// Whether no receiver is alive ([`send`](Self::send) would fail).
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until no receiver is alive; ready at once if none is.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: it only waits.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (tx, rx) = corio_sync::watch(0);
    /// tokio::spawn(async move { drop(rx) });
    /// tx.closed().await;
    /// assert!(tx.is_closed());
    /// # });
    /// ```
    pub fn closed(&self) -> Closed<'_, T> {
        Closed {
            shared: &self.shared,
            key: None,
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut wakers = Vec::new();
        {
            let mut state = self.shared.state.lock();
            state.sender_alive = false;
            state.changed.notify_all(&mut wakers);
        }
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Sender")
            .field("value", &*self.borrow())
            .field("receivers", &self.receiver_count())
            .finish()
    }
}

/// A receiving half of a [`watch`](crate::watch()) channel; clone it for
/// more (a clone has seen what the original has seen).
///
/// ```
/// let (tx, mut rx) = corio_sync::watch(0);
/// tx.send(1).unwrap();
/// let other = rx.clone();
/// assert_eq!(*rx.borrow_and_update(), 1);
/// assert!(!rx.has_changed().unwrap());
/// assert!(other.has_changed().unwrap()); // each receiver keeps its own mark
/// ```
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The version this receiver last marked seen.
    seen: usize,
}

impl<T> Receiver<T> {
    /// Reads the current value, without marking it seen.
    ///
    /// ```
    /// let (tx, rx) = corio_sync::watch(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow(), 2);
    /// assert!(rx.has_changed().unwrap()); // still unseen
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.value.read(),
        }
    }

    /// Reads the current value and marks it seen.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.value.read();
        // Version after value: a send bumps it under the write lock we exclude.
        self.seen = self.shared.state.lock().version;
        Ref { guard }
    }

    /// Whether a value this receiver has not marked seen is there.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if nothing unseen is there and the sender is gone.
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let state = self.shared.state.lock();
        if state.version != self.seen {
            Ok(true)
        } else if state.sender_alive {
            Ok(false)
        } else {
            Err(RecvError)
        }
    }

    /// Waits for a value this receiver has not seen, and marks it seen
    /// (read it with [`borrow`](Self::borrow)). Ready at once if one is
    /// already there.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once the sender is gone and every value it sent was seen.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropped, it leaves no trace and marks nothing seen, so
    /// the next call sees the same change.
    pub fn changed(&mut self) -> Changed<'_, T> {
        Changed {
            shared: &self.shared,
            seen: &mut self.seen,
            key: None,
        }
    }

    /// Waits until the value satisfies `predicate` (checked on the current
    /// value first, then on each change), marks it seen and returns it.
    /// `predicate` runs under the value's read lock: it must not send on
    /// this channel (that would deadlock).
    ///
    /// # Errors
    ///
    /// [`RecvError`] if the sender goes before a value satisfies it.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, as [`changed`](Self::changed).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (tx, mut rx) = corio_sync::watch(0);
    /// tokio::spawn(async move {
    ///     for n in 1..=5 {
    ///         tx.send(n).unwrap();
    ///         tokio::task::yield_now().await;
    ///     }
    /// });
    /// assert_eq!(*rx.wait_for(|n| *n >= 3).await.unwrap(), 3);
    /// # });
    /// ```
    pub async fn wait_for(
        &mut self,
        mut predicate: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        let shared = &*self.shared;
        loop {
            {
                let guard = shared.value.read();
                let version = shared.state.lock().version;
                if predicate(&guard) {
                    self.seen = version;
                    return Ok(Ref { guard });
                }
            }
            Changed {
                shared,
                seen: &mut self.seen,
                key: None,
            }
            .await?;
        }
    }

    /// Whether `self` and `other` watch the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.state.lock().receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            seen: self.seen,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut wakers = Vec::new();
        {
            let mut state = self.shared.state.lock();
            state.receivers -= 1;
            if state.receivers == 0 {
                state.closed.notify_all(&mut wakers);
            }
        }
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Receiver")
            .field("value", &*self.borrow())
            .field("has_changed", &self.has_changed())
            .finish()
    }
}

/// Queues `key`'s waiter (first poll) or checks whether it was notified;
/// `true` when it is done waiting. Done waiters are re-queued by the caller
/// if their condition still does not hold.
fn wait_step(list: &mut WaitList<()>, key: &mut Option<WaiterKey>, cx: &Context<'_>) {
    match *key {
        None => *key = Some(list.push_back((), cx.waker())),
        Some(k) => match list.poll(k, cx.waker()) {
            waiters::Poll::Waiting => {}
            // Woken: the caller re-checked its condition and it still does
            // not hold (cannot happen today; kept robust), so queue again.
            waiters::Poll::Notified(()) => *key = Some(list.push_back((), cx.waker())),
        },
    }
}

/// Takes `key` out of `list` if it is still there (a finished or dropped waiter).
fn leave(list: &mut WaitList<()>, key: &mut Option<WaiterKey>) {
    if let Some(k) = key.take() {
        list.remove(k);
    }
}

/// The future of [`Receiver::changed`].
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (tx, mut rx) = corio_sync::watch(0);
/// tx.send(1).unwrap();
/// let changed: corio_sync::watch::Changed<'_, i32> = rx.changed();
/// assert_eq!(changed.await, Ok(()));
/// # });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Changed<'a, T> {
    shared: &'a Shared<T>,
    seen: &'a mut usize,
    key: Option<WaiterKey>,
}

impl<T> Future for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut state: MutexGuard<'_, State> = this.shared.state.lock();
        let result = if state.version != *this.seen {
            *this.seen = state.version;
            Ok(())
        } else if !state.sender_alive {
            Err(RecvError)
        } else {
            wait_step(&mut state.changed, &mut this.key, cx);
            return Poll::Pending;
        };
        leave(&mut state.changed, &mut this.key);
        Poll::Ready(result)
    }
}

impl<T> Drop for Changed<'_, T> {
    fn drop(&mut self) {
        if self.key.is_some() {
            leave(&mut self.shared.state.lock().changed, &mut self.key);
        }
    }
}

/// The future of [`Sender::closed`].
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (tx, rx) = corio_sync::watch(());
/// drop(rx);
/// let closed: corio_sync::watch::Closed<'_, ()> = tx.closed();
/// closed.await; // ready: no receiver is left
/// # });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Closed<'a, T> {
    shared: &'a Shared<T>,
    key: Option<WaiterKey>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut state = this.shared.state.lock();
        if state.receivers == 0 {
            leave(&mut state.closed, &mut this.key);
            return Poll::Ready(());
        }
        wait_step(&mut state.closed, &mut this.key, cx);
        Poll::Pending
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if self.key.is_some() {
            leave(&mut self.shared.state.lock().closed, &mut self.key);
        }
    }
}
