//! The [`broadcast`](crate::broadcast()) channel: every [`Receiver`] sees
//! every value sent after it subscribed; one that falls more than
//! `capacity` values behind is told how many it missed
//! ([`RecvError::Lagged`]) and skips ahead. The shape of tokio's
//! `broadcast`; senders never wait.
//!
//! Values are shared between the receivers and cloned out as each one
//! reads (the last reader of a value gets it without a clone), so `recv`
//! needs `T: Clone`, and moving the halves between threads needs
//! `T: Send + Sync`.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let (tx, mut rx1) = corio_sync::broadcast(16);
//! let mut rx2 = tx.subscribe();
//! tx.send("hello").unwrap();
//! assert_eq!(rx1.recv().await, Ok("hello"));
//! assert_eq!(rx2.recv().await, Ok("hello"));
//! # });
//! ```

// How it works
//
// One mutex guards a ring of at most `capacity` slots (a `VecDeque`, the
// front slot holding sequence number `head`), the sender and receiver
// counts, and a FIFO `WaitList` of receivers waiting in `recv`. Each
// receiver keeps the sequence number it reads next.
//
// - A send appends a slot holding the value (in an `Arc`) and `rem`, the
//   number of receivers alive then, each of which will read it; if the ring
//   is over capacity it evicts the front slot (`head += 1`), and every
//   waiting receiver is woken.
// - A receiver whose next number is below `head` lagged: it is told by how
//   much and moves to `head`. Otherwise it takes its slot's `Arc` (the last
//   reader, `rem` reaching zero, moves it out), and the slots every
//   receiver has read (`rem == 0`) are popped from the front. A receiver
//   that drops gives up its share of the slots it has not read.
//
// `rem` of a slot never exceeds `rem` of the slot after it (whoever has not
// read a slot has not read the later ones either), so the slots nobody
// will read again always form a prefix of the ring. User code (`T`'s
// `Clone` and `Drop`, wakers) never runs under the mutex: values are cloned
// from their `Arc` and evicted or released values dropped after it is
// released.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::loom::Mutex;
use crate::waiters::{self, WaitList, WaiterKey};

mod error;

pub use error::{RecvError, SendError, TryRecvError};

struct Slot<T> {
    /// `None` once the last receiver that was to read it has taken it.
    value: Option<Arc<T>>,
    /// Receivers that have yet to read it.
    rem: usize,
}

struct State<T> {
    slots: VecDeque<Slot<T>>,
    /// The sequence number of `slots[0]`.
    head: u64,
    senders: usize,
    receivers: usize,
    /// Receivers in `recv`; all woken by each send and by the last sender's drop.
    waiters: WaitList<()>,
}

impl<T> State<T> {
    /// The sequence number the next send gets.
    fn tail(&self) -> u64 {
        self.head + self.slots.len() as u64
    }

    /// Pops the slots every receiver has read; their values (if any) go to
    /// `release`, to be dropped once the mutex is released.
    fn pop_read(&mut self, release: &mut Vec<Arc<T>>) {
        while self.slots.front().is_some_and(|slot| slot.rem == 0) {
            let slot = self.slots.pop_front().expect("checked above");
            self.head += 1;
            release.extend(slot.value);
        }
    }

    /// What the receiver at `next` gets now, if anything.
    fn take(
        &mut self,
        next: &mut u64,
        release: &mut Vec<Arc<T>>,
    ) -> Option<Result<Arc<T>, RecvError>> {
        if *next < self.head {
            let missed = self.head - *next;
            *next = self.head;
            return Some(Err(RecvError::Lagged(missed)));
        }
        if *next < self.tail() {
            let slot = &mut self.slots[(*next - self.head) as usize];
            slot.rem -= 1;
            let value = if slot.rem == 0 {
                slot.value.take()
            } else {
                slot.value.clone()
            };
            *next += 1;
            self.pop_read(release);
            return Some(Ok(
                value.expect("a slot a receiver has yet to read holds its value")
            ));
        }
        if self.senders == 0 {
            return Some(Err(RecvError::Closed));
        }
        None
    }
}

struct Shared<T> {
    state: Mutex<State<T>>,
    capacity: usize,
}

/// The value out of its `Arc`: moved if this was the last holder, cloned otherwise.
fn unshare<T: Clone>(value: Arc<T>) -> T {
    Arc::try_unwrap(value).unwrap_or_else(|shared| T::clone(&shared))
}

/// Creates a broadcast channel keeping the last `capacity` values for
/// receivers that lag: a [`Sender`] (clone it for more) and a first
/// [`Receiver`] (call [`Sender::subscribe`] for more).
///
/// # Panics
///
/// If `capacity` is zero.
///
/// # Examples
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (tx, rx) = corio_sync::broadcast(8);
/// let listeners: Vec<_> = (0..3)
///     .map(|_| {
///         let mut rx = tx.subscribe();
///         tokio::spawn(async move {
///             let mut got = Vec::new();
///             while let Ok(event) = rx.recv().await {
///                 got.push(event);
///             }
///             got // the sender is gone
///         })
///     })
///     .collect();
/// drop(rx);
/// for event in ["start", "stop"] {
///     tx.send(event).unwrap();
/// }
/// drop(tx);
/// for listener in listeners {
///     assert_eq!(listener.await.unwrap(), ["start", "stop"]);
/// }
/// # });
/// ```
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "corio-sync: broadcast capacity must be at least 1"
    );
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            slots: VecDeque::with_capacity(capacity.min(1024)),
            head: 0,
            senders: 1,
            receivers: 1,
            waiters: WaitList::new(),
        }),
        capacity,
    });
    let rx = Receiver {
        shared: shared.clone(),
        next: 0,
    };
    (Sender { shared }, rx)
}

/// The sending half of a [`broadcast`](crate::broadcast()) channel; clone it
/// to send from several tasks. Sending never waits.
///
/// ```
/// let (tx, mut rx) = corio_sync::broadcast(4);
/// let tx2 = tx.clone();
/// tx.send(1).unwrap();
/// tx2.send(2).unwrap();
/// assert_eq!((rx.try_recv(), rx.try_recv()), (Ok(1), Ok(2)));
/// ```
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Sends `value` to every receiver alive now, returning how many there
    /// are. If the channel already holds `capacity` values, the oldest is
    /// dropped, and receivers that had not read it will get
    /// [`RecvError::Lagged`].
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if no receiver is alive.
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let value = Arc::new(value);
        let mut wakers = Vec::new();
        let (receivers, evicted) = {
            let mut state = self.shared.state.lock();
            if state.receivers == 0 {
                drop(state);
                let value = Arc::try_unwrap(value)
                    .unwrap_or_else(|_| unreachable!("the value was never shared"));
                return Err(SendError(value));
            }
            let receivers = state.receivers;
            state.slots.push_back(Slot {
                value: Some(value),
                rem: receivers,
            });
            let evicted = if state.slots.len() > self.shared.capacity {
                state.head += 1;
                state.slots.pop_front()
            } else {
                None
            };
            state.waiters.notify_all(&mut wakers);
            (receivers, evicted)
        };
        wakers.into_iter().for_each(Waker::wake);
        drop(evicted);
        Ok(receivers)
    }

    /// A new receiver that sees the values sent from now on.
    pub fn subscribe(&self) -> Receiver<T> {
        let mut state = self.shared.state.lock();
        state.receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            next: state.tail(),
        }
    }

    /// How many receivers are alive.
    pub fn receiver_count(&self) -> usize {
        self.shared.state.lock().receivers
    }

    /// Whether `self` and `other` send into the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.state.lock().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut wakers = Vec::new();
        {
            let mut state = self.shared.state.lock();
            state.senders -= 1;
            if state.senders == 0 {
                state.waiters.notify_all(&mut wakers);
            }
        }
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Sender")
            .field("receivers", &self.receiver_count())
            .finish()
    }
}

/// A receiving half of a [`broadcast`](crate::broadcast()) channel: it sees
/// every value sent after it was created, in order.
///
/// ```
/// let (tx, mut early) = corio_sync::broadcast(4);
/// tx.send(1).unwrap();
/// let mut late = tx.subscribe();
/// tx.send(2).unwrap();
/// assert_eq!((early.try_recv(), early.try_recv()), (Ok(1), Ok(2)));
/// assert_eq!(late.try_recv(), Ok(2)); // it subscribed after 1
/// ```
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The sequence number this receiver reads next.
    next: u64,
}

impl<T> Receiver<T> {
    /// How many values this receiver has yet to read (up to `capacity`).
    pub fn len(&self) -> usize {
        let state = self.shared.state.lock();
        (state.tail() - self.next.max(state.head)) as usize
    }

    /// Whether this receiver has read every value sent so far.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A new receiver of the same channel that sees the values sent from
    /// now on (not the ones this one has yet to read).
    pub fn resubscribe(&self) -> Receiver<T> {
        let mut state = self.shared.state.lock();
        state.receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            next: state.tail(),
        }
    }

    /// Whether `self` and `other` receive from the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T: Clone> Receiver<T> {
    /// Receives the next value, waiting while there is none.
    ///
    /// # Errors
    ///
    /// [`RecvError::Lagged`] if values were overwritten before this
    /// receiver read them (the next call returns the oldest value still
    /// held); [`RecvError::Closed`] once every sender is gone and every
    /// value was read.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a value is taken only when the future returns it, so
    /// dropping it loses nothing.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (tx, mut rx) = corio_sync::broadcast(4);
    /// tokio::spawn(async move { tx.send(7).unwrap() });
    /// assert_eq!(rx.recv().await, Ok(7));
    /// # });
    /// ```
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv {
            receiver: self,
            key: None,
        }
    }

    /// Takes the next value if one is there now.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if there is none yet, otherwise as
    /// [`recv`](Self::recv).
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut release = Vec::new();
        let taken = self.shared.state.lock().take(&mut self.next, &mut release);
        drop(release);
        match taken {
            Some(Ok(value)) => Ok(unshare(value)),
            Some(Err(err)) => Err(err.into()),
            None => Err(TryRecvError::Empty),
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut release = Vec::new();
        {
            let mut state = self.shared.state.lock();
            state.receivers -= 1;
            // Give up this receiver's share of the values it has not read.
            let start = (self.next.max(state.head) - state.head) as usize;
            for slot in state.slots.iter_mut().skip(start) {
                slot.rem -= 1;
                if slot.rem == 0 {
                    release.extend(slot.value.take());
                }
            }
            state.pop_read(&mut release);
        }
        drop(release);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Receiver")
            .field("len", &self.len())
            .finish()
    }
}

/// The future of [`Receiver::recv`].
#[must_use = "futures do nothing unless polled"]
pub struct Recv<'a, T> {
    receiver: &'a mut Receiver<T>,
    key: Option<WaiterKey>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Receiver { shared, next } = &mut *this.receiver;
        let mut release = Vec::new();
        let mut state = shared.state.lock();
        let Some(taken) = state.take(next, &mut release) else {
            // Nothing yet: queue, or stay queued with the newest waker.
            match this.key {
                None => this.key = Some(state.waiters.push_back((), cx.waker())),
                Some(key) => {
                    if let waiters::Poll::Notified(()) = state.waiters.poll(key, cx.waker()) {
                        // Woken, but what woke it is gone: queue again.
                        this.key = Some(state.waiters.push_back((), cx.waker()));
                    }
                }
            }
            return Poll::Pending;
        };
        if let Some(key) = this.key.take() {
            state.waiters.remove(key);
        }
        drop(state);
        drop(release);
        Poll::Ready(taken.map(unshare))
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.receiver.shared.state.lock().waiters.remove(key);
        }
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Recv")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}
