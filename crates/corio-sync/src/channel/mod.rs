//! [`channel`] and [`unbounded_channel`]: a [`Sender`]/[`Receiver`] pair
//! over a FIFO [`Queue`], the shape Rust users reach for (tokio's `mpsc`)
//! where asyncio hands a `Queue` around.
//!
//! # How it works
//!
//! The halves share one [`Queue`] and add only ownership: a count of live
//! senders and an [`Event`] raised when the receiver goes. Every wait,
//! hand-off and cancel-safety argument is the queue's (see `queue/mod.rs`):
//! `send` is `put`, `recv` is `get`. Closing maps onto asyncio 3.13's
//! `Queue.shutdown`:
//!
//! - the **last sender dropping** shuts the queue down gracefully
//!   (`shutdown(false)`): the items already in it still drain, then `recv`
//!   returns `None`, so a consumer never hangs on a channel nobody can feed;
//! - the **receiver dropping** shuts it down immediately (`shutdown(true)`):
//!   the items left are dropped (outside the queue's lock: their `Drop` may
//!   use the channel), senders waiting for room get their item back, and
//!   every later send fails with [`SendError`] carrying the item;
//! - [`Receiver::close`] is the graceful shutdown from the receiving side:
//!   sends fail from then on, what was sent still drains.
//!
//! Invariants: `senders` counts the live [`Sender`]s; it only reaches zero
//! once (a clone needs a live sender), and the sender that takes it there
//! shuts the queue down. `receiver_closed` is raised after the queue is shut
//! down, so a sender woken from [`Sender::closed`] finds every send failing.

use std::fmt;
use std::sync::Arc;

use crate::loom::{AtomicUsize, Ordering};
use crate::{Event, Queue, QueueShutDown, TryGetError, TryPutError};

mod error;

pub use error::{SendError, TryRecvError, TrySendError};

/// What both halves share.
struct Chan<T> {
    queue: Queue<T>,
    /// Live senders; the one that drops it to zero shuts the queue down.
    senders: AtomicUsize,
    /// Raised once the receiver is dropped or closed (after the shutdown).
    receiver_closed: Event,
}

/// Creates a bounded channel holding at most `capacity` items: the
/// [`Sender`] half can be cloned, the [`Receiver`] half cannot.
///
/// A send on a full channel waits for room; senders that wait are served in
/// the order they started waiting. When every sender is gone, the receiver
/// gets the items left, then `None`.
///
/// # Panics
///
/// If `capacity` is zero (a rendezvous channel is not supported; use
/// [`Promise`](crate::Promise) for one value).
///
/// # Examples
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (tx, mut rx) = corio_sync::channel(2);
/// for worker in 0..3 {
///     let tx = tx.clone();
///     tokio::spawn(async move { tx.send(worker).await.unwrap() });
/// }
/// drop(tx); // the consumer ends once the workers' clones are gone
/// let mut got = Vec::new();
/// while let Some(worker) = rx.recv().await {
///     got.push(worker);
/// }
/// got.sort();
/// assert_eq!(got, [0, 1, 2]);
/// # });
/// ```
#[doc(alias = "mpsc")]
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "corio-sync: channel capacity must be at least 1"
    );
    halves(capacity)
}

/// Creates a channel without a bound: [`send`](Sender::send) never waits.
/// Otherwise as [`channel`].
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = corio_sync::unbounded_channel();
/// for i in 0..1000 {
///     tx.try_send(i).unwrap();
/// }
/// drop(tx);
/// assert_eq!(rx.len(), 1000);
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// assert_eq!(rx.recv().await, Some(0));
/// # });
/// ```
pub fn unbounded_channel<T>() -> (Sender<T>, Receiver<T>) {
    halves(0)
}

fn halves<T>(maxsize: usize) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Chan {
        queue: Queue::new(maxsize),
        senders: AtomicUsize::new(1),
        receiver_closed: Event::new(),
    });
    (Sender { chan: chan.clone() }, Receiver { chan })
}

/// The sending half of a [`channel`]; clone it to send from several tasks.
///
/// When the last clone drops, the receiver drains what was sent and then
/// sees the end (`recv()` returns `None`).
///
/// ```
/// let (tx, mut rx) = corio_sync::channel(4);
/// let tx2 = tx.clone();
/// tx.try_send("from one").unwrap();
/// tx2.try_send("from two").unwrap();
/// drop((tx, tx2));
/// assert_eq!(rx.try_recv(), Ok("from one"));
/// assert_eq!(rx.try_recv(), Ok("from two"));
/// assert!(rx.try_recv().is_err()); // disconnected
/// ```
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    /// Sends `item`, waiting while the channel is full.
    ///
    /// Senders that wait are served in FIFO order: when the receiver takes
    /// an item, it moves the first waiting sender's item into the channel on
    /// its behalf and wakes it.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the item, if the receiver is dropped or closed
    /// before the item got in (also while waiting for room).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe in that nothing is left behind (the queue's `put`):
    /// dropped while waiting, the future leaves the queue of senders without
    /// a trace (the ones behind it move up) and its item is dropped with it;
    /// dropped after the item was moved in on its behalf, the item stays
    /// sent. Use [`try_send`](Self::try_send) to keep an item that does not fit.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (tx, mut rx) = corio_sync::channel(1);
    /// tx.send("a").await.unwrap();
    /// let second = tokio::spawn(async move { tx.send("b").await }); // waits for room
    /// assert_eq!(rx.recv().await, Some("a"));
    /// second.await.unwrap().unwrap();
    /// assert_eq!(rx.recv().await, Some("b"));
    /// assert_eq!(rx.recv().await, None); // every sender is gone
    /// # });
    /// ```
    pub async fn send(&self, item: T) -> Result<(), SendError<T>> {
        self.chan
            .queue
            .put(item)
            .await
            .map_err(|QueueShutDown(item)| SendError(item))
    }

    /// Sends `item` if there is room now and no sender waits for room.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], with the item.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = corio_sync::channel(1);
    /// assert!(tx.try_send(1).is_ok());
    /// assert!(tx.try_send(2).unwrap_err().is_full());
    /// ```
    pub fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        self.chan.queue.put_nowait(item).map_err(|err| match err {
            TryPutError::Full(item) => TrySendError::Full(item),
            TryPutError::ShutDown(item) => TrySendError::Closed(item),
        })
    }

    /// Waits until the receiver is dropped or closed: a producer's cue to
    /// stop working on items nobody will take.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: it only waits.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (tx, rx) = corio_sync::channel::<u8>(1);
    /// tokio::spawn(async move { drop(rx) });
    /// tx.closed().await;
    /// assert!(tx.is_closed());
    /// # });
    /// ```
    pub async fn closed(&self) {
        self.chan.receiver_closed.wait().await;
    }

    /// Whether the receiver is dropped or closed (every send fails).
    pub fn is_closed(&self) -> bool {
        self.chan.receiver_closed.is_set()
    }

    /// The bound given to [`channel`]; `None` for an unbounded channel.
    pub fn max_capacity(&self) -> Option<usize> {
        match self.chan.queue.maxsize() {
            0 => None,
            n => Some(n),
        }
    }

    /// Whether `self` and `other` send into the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        // A clone is made from a live sender, so the count is not zero and
        // cannot reach zero meanwhile.
        self.chan.senders.fetch_add(1, Ordering::Relaxed);
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.chan.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            // The last sender: what was sent drains, then `recv` ends.
            self.chan.queue.shutdown(false);
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("max_capacity", &self.max_capacity())
            .field("len", &self.chan.queue.qsize())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// The receiving half of a [`channel`]; there is exactly one.
///
/// Dropping it closes the channel: the items left are dropped and every
/// send fails from then on, giving its item back.
///
/// ```
/// let (tx, rx) = corio_sync::channel(4);
/// tx.try_send(1).unwrap();
/// drop(rx); // item 1 is dropped with it
/// assert!(tx.try_send(2).unwrap_err().is_closed());
/// ```
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Receiver<T> {
    /// Receives the next item, waiting while the channel is empty.
    ///
    /// Returns `None` once every [`Sender`] is gone (or [`close`](Self::close)
    /// was called) and the items sent before have all been received.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: no item is lost. An item is taken out of the channel
    /// only when this future returns it; one dropped after a sender had
    /// promised it an item passes the promise on, and the item stays first
    /// in line. So `recv` can be a branch of a `select!` in a loop.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (tx, mut rx) = corio_sync::channel(8);
    /// tokio::spawn(async move {
    ///     for i in 0..3 {
    ///         tx.send(i).await.unwrap();
    ///     }
    /// });
    /// let mut sum = 0;
    /// while let Some(i) = rx.recv().await {
    ///     sum += i;
    /// }
    /// assert_eq!(sum, 3);
    /// # });
    /// ```
    pub async fn recv(&mut self) -> Option<T> {
        self.chan.queue.get().await.ok()
    }

    /// Takes the next item if one is there now.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] while senders remain,
    /// [`TryRecvError::Disconnected`] once none does and the channel is drained.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.queue.get_nowait().map_err(|err| match err {
            TryGetError::Empty => TryRecvError::Empty,
            TryGetError::ShutDown => TryRecvError::Disconnected,
        })
    }

    /// Closes the channel from the receiving side without dropping it:
    /// every send fails from now on (senders waiting for room get their
    /// item back), while the items already sent can still be received.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (tx, mut rx) = corio_sync::channel(4);
    /// tx.send(1).await.unwrap();
    /// rx.close();
    /// assert_eq!(tx.send(2).await, Err(corio_sync::SendError(2)));
    /// assert_eq!(rx.recv().await, Some(1));
    /// assert_eq!(rx.recv().await, None);
    /// # });
    /// ```
    pub fn close(&mut self) {
        self.chan.queue.shutdown(false);
        self.chan.receiver_closed.set();
    }

    /// Whether nothing more can be sent: every sender is gone, or
    /// [`close`](Self::close) was called. Items may still be left to receive.
    pub fn is_closed(&self) -> bool {
        self.chan.queue.is_shut_down()
    }

    /// How many items are waiting to be received.
    pub fn len(&self) -> usize {
        self.chan.queue.qsize()
    }

    /// Whether no item is waiting to be received.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many [`Sender`]s are alive.
    pub fn sender_count(&self) -> usize {
        self.chan.senders.load(Ordering::Acquire)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // Immediate: the items left are dropped, waiting senders get theirs back.
        self.chan.queue.shutdown(true);
        self.chan.receiver_closed.set();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}
