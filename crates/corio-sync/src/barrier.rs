//! [`Barrier`]: asyncio's `Barrier`, where a fixed number of tasks meet.
//!
//! One mutex guards the broken flag and the waiter list. The parties of the
//! round being filled are exactly the queued waiters, so a waiter dropped
//! before the round completes simply leaves the list and no longer counts.
//! The party that arrives last completes the round in one critical section:
//! it notifies every queued waiter with its index (`0..parties - 1` in
//! arrival order), takes `parties - 1` itself, and leaves the list empty for
//! the next round. Unlike asyncio, which makes new arrivals wait until the
//! released round has drained, the next round starts filling at once: a
//! notified waiter already holds its index and needs nothing more from the
//! barrier.
//!
//! [`Barrier::abort`] and [`Barrier::reset`] notify every queued waiter with
//! `Err(BrokenBarrier)`; `abort` also sets the flag, which makes every later
//! `wait` fail at once until `reset` lowers it.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::loom::Mutex;
use crate::waiters::{self, WaitList, WaiterKey};

/// The error of [`Barrier::wait`] when the barrier is broken (by
/// [`Barrier::abort`]) or reset while the task waits (by [`Barrier::reset`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct BrokenBarrier;

impl fmt::Display for BrokenBarrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("barrier broken")
    }
}

impl Error for BrokenBarrier {}

/// What a waiter is handed: its index in the round, or the news that the
/// barrier broke. Queued waiters hold a placeholder.
type Grant = Result<usize, BrokenBarrier>;

/// asyncio's `Barrier`: tasks wait until `parties` of them are waiting, then
/// all of them go on together.
///
/// Each party of a round gets a distinct index from `0` to `parties - 1`, in
/// the order they arrived. After a round completes the barrier is ready for
/// the next one. [`abort`](Barrier::abort) breaks it: current and future
/// waiters get [`BrokenBarrier`] until [`reset`](Barrier::reset).
///
/// # Examples
///
/// Three workers that each finish a phase, then wait for the others before
/// the next phase:
///
/// ```
/// use std::sync::Arc;
/// use corio_sync::Barrier;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let barrier = Arc::new(Barrier::new(3));
/// let mut workers = Vec::new();
/// for _ in 0..3 {
///     let barrier = Arc::clone(&barrier);
///     workers.push(tokio::spawn(async move {
///         // Phase one here, then meet the others.
///         let index = barrier.wait().await.unwrap();
///         // Phase two starts only once all three arrived.
///         index
///     }));
/// }
/// let mut indices = Vec::new();
/// for worker in workers {
///     indices.push(worker.await.unwrap());
/// }
/// indices.sort();
/// assert_eq!(indices, [0, 1, 2]); // Each party got its own index.
/// assert_eq!(barrier.n_waiting(), 0); // Ready for the next round.
/// # });
/// ```
pub struct Barrier {
    parties: usize,
    state: Mutex<State>,
}

struct State {
    /// Set by `abort`, cleared by `reset`. While set, nobody queues.
    broken: bool,
    /// The parties of the round being filled: always fewer than `parties`.
    waiters: WaitList<Grant>,
}

impl Barrier {
    /// Creates a barrier for `parties` tasks.
    ///
    /// # Panics
    ///
    /// If `parties` is 0.
    pub fn new(parties: usize) -> Barrier {
        assert!(parties > 0, "a Barrier needs at least one party");
        Barrier {
            parties,
            state: Mutex::new(State {
                broken: false,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Waits until `parties` tasks are waiting, then returns this task's
    /// index in the round (`0` for the first to arrive, `parties - 1` for the
    /// last).
    ///
    /// # Errors
    ///
    /// [`BrokenBarrier`] if the barrier is broken, or is aborted or reset
    /// while this task waits.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel-safe. A future dropped before its round
    /// completes leaves the round (`n_waiting` goes down) without a trace.
    /// One dropped after its round completed loses only its index: the other
    /// parties have gone on.
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            key: None,
            done: false,
        }
    }

    /// Breaks the barrier: every task waiting now, and every task that
    /// waits later, gets [`BrokenBarrier`] until [`reset`](Barrier::reset).
    pub fn abort(&self) {
        let wakers = {
            let mut state = self.state.lock();
            state.broken = true;
            Self::break_round(&mut state)
        };
        wake_all(wakers);
    }

    /// Returns the barrier to its empty, unbroken state. Tasks waiting now
    /// get [`BrokenBarrier`], as in asyncio.
    pub fn reset(&self) {
        let wakers = {
            let mut state = self.state.lock();
            state.broken = false;
            Self::break_round(&mut state)
        };
        wake_all(wakers);
    }

    /// Whether the barrier is broken (by [`abort`](Barrier::abort)).
    pub fn is_broken(&self) -> bool {
        self.state.lock().broken
    }

    /// The number of tasks it takes to pass the barrier.
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// The number of tasks waiting in the round being filled.
    pub fn n_waiting(&self) -> usize {
        self.state.lock().waiters.len()
    }

    /// Fails every queued waiter and returns their wakers.
    fn break_round(state: &mut State) -> Vec<Waker> {
        let mut wakers = Vec::with_capacity(state.waiters.len());
        while let Some(waker) = state.waiters.notify_front_with(|_| Err(BrokenBarrier)) {
            wakers.push(waker);
        }
        wakers
    }
}

fn wake_all(wakers: Vec<Waker>) {
    for waker in wakers {
        waker.wake();
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (broken, waiting) = {
            let state = self.state.lock();
            (state.broken, state.waiters.len())
        };
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("waiting", &waiting)
            .field("broken", &broken)
            .finish()
    }
}

/// The future returned by [`Barrier::wait`].
#[must_use = "futures do nothing unless polled"]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    /// Our place in the round, once we arrived.
    key: Option<WaiterKey>,
    done: bool,
}

impl Future for BarrierWait<'_> {
    type Output = Result<usize, BrokenBarrier>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<usize, BrokenBarrier>> {
        assert!(!self.done, "BarrierWait polled after completion");
        let parties = self.barrier.parties;
        let mut state = self.barrier.state.lock();
        if let Some(key) = self.key {
            return match state.waiters.poll(key, cx.waker()) {
                waiters::Poll::Waiting => Poll::Pending,
                waiters::Poll::Notified(grant) => {
                    drop(state);
                    self.key = None;
                    self.done = true;
                    Poll::Ready(grant)
                }
            };
        }
        if state.broken {
            drop(state);
            self.done = true;
            return Poll::Ready(Err(BrokenBarrier));
        }
        if state.waiters.len() + 1 < parties {
            self.key = Some(state.waiters.push_back(Ok(0), cx.waker()));
            return Poll::Pending;
        }
        // The last party: release the round, in arrival order.
        let mut wakers = Vec::with_capacity(parties - 1);
        let mut index = 0;
        while let Some(waker) = state.waiters.notify_front_with(|_| {
            let grant = Ok(index);
            index += 1;
            grant
        }) {
            wakers.push(waker);
        }
        drop(state);
        wake_all(wakers);
        self.done = true;
        Poll::Ready(Ok(parties - 1))
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // Still queued: it leaves the round. Already notified: its
            // round went on without it; there is nothing to pass on.
            let _ = self.barrier.state.lock().waiters.remove(key);
        }
    }
}

impl fmt::Debug for BarrierWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWait")
            .field("queued", &self.key.is_some())
            .field("done", &self.done)
            .finish()
    }
}
