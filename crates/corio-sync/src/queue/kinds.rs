//! The three public queue types, one macro-generated API over the shared
//! core ([`super::Core`]) with their storage: [`Queue`] (FIFO),
//! [`LifoQueue`] (newest first) and [`PriorityQueue`] (smallest first).

use std::fmt;

use super::storage::{Fifo, Lifo, Priority};
use super::{Core, QueueShutDown, TaskDoneError, TryGetError, TryPutError};

macro_rules! queue_kind {
    (
        $(#[$meta:meta])*
        $name:ident, $storage:ident, [$($bound:tt)*], $order:literal, $first:literal
    ) => {
        $(#[$meta])*
        pub struct $name<T: $($bound)*> {
            core: Core<$storage<T>>,
        }

        impl<T: $($bound)*> $name<T> {
            /// A queue that holds at most `maxsize` items; `0` means unbounded.
            #[doc = concat!("\n\n```\nuse corio_sync::", stringify!($name), ";\n")]
            #[doc = concat!("let bounded = ", stringify!($name), "::<u32>::new(8);")]
            #[doc = concat!("let unbounded = ", stringify!($name), "::<u32>::new(0);")]
            /// assert_eq!((bounded.maxsize(), unbounded.maxsize()), (8, 0));
            /// ```
            pub fn new(maxsize: usize) -> Self {
                $name { core: Core::new(maxsize) }
            }

            /// The maximum number of items, as given to `new` (`0`: unbounded).
            pub fn maxsize(&self) -> usize {
                self.core.maxsize()
            }

            /// The number of items in the queue.
            ///
            /// Items already promised to getters that were woken and have
            /// not run yet are counted (as asyncio counts them until the
            /// getter runs), though `get_nowait` cannot take them.
            pub fn qsize(&self) -> usize {
                self.core.qsize()
            }

            /// Whether the queue holds no item (`qsize() == 0`).
            pub fn is_empty(&self) -> bool {
                self.qsize() == 0
            }

            /// Whether the queue holds `maxsize` items; never for an
            /// unbounded queue.
            pub fn is_full(&self) -> bool {
                self.core.is_full()
            }

            /// Whether [`shutdown`](Self::shutdown) was called.
            pub fn is_shut_down(&self) -> bool {
                self.core.is_shut_down()
            }

            /// Puts an item into the queue, waiting while it is full.
            ///
            /// Putters that wait are served in the order they started
            /// waiting: when a get makes room, it moves the first waiting
            /// putter's item into the queue on its behalf, then wakes it.
            ///
            /// # Errors
            ///
            /// [`QueueShutDown`] with the item, if the queue is shut down
            /// before the item could be put (also while waiting).
            ///
            /// # Cancel safety
            ///
            /// Cancel-safe in that nothing is left behind: dropped before the
            /// item was put, the future leaves no trace in the queue and its
            /// item is dropped with it (the future owns it; use
            /// [`put_nowait`](Self::put_nowait) to keep an item that does not
            /// fit). Dropped after the put was done on its behalf (woken,
            /// not yet polled), the item stays in the queue: the put
            /// happened. Never both, never neither.
            pub async fn put(&self, item: T) -> Result<(), QueueShutDown<T>> {
                self.core.put(item).await
            }

            /// Puts an item if the queue has room for it now.
            ///
            /// # Errors
            ///
            /// [`TryPutError::Full`] with the item when the queue holds
            /// `maxsize` items (putters waiting for room are not
            /// overtaken: they only wait while the queue is full);
            /// [`TryPutError::ShutDown`] with the item after
            /// [`shutdown`](Self::shutdown).
            #[doc = concat!("\n\n```\nuse corio_sync::{", stringify!($name), ", TryPutError};\n")]
            #[doc = concat!("let queue = ", stringify!($name), "::new(1);")]
            /// queue.put_nowait(1).unwrap();
            /// assert_eq!(queue.put_nowait(2), Err(TryPutError::Full(2)));
            /// ```
            pub fn put_nowait(&self, item: T) -> Result<(), TryPutError<T>> {
                self.core.put_nowait(item)
            }

            #[doc = concat!("Removes and returns the ", $order, ", waiting while there is none.")]
            ///
            /// Getters that wait are served in the order they started
            /// waiting: a put that finds getters waiting reserves its item
            /// for the first of them, and neither `get_nowait` nor a new
            /// `get` can take a reserved item. A woken getter takes the
            #[doc = concat!($order, " when it runs.")]
            ///
            /// # Errors
            ///
            /// [`QueueShutDown`] once the queue is shut down and has nothing
            /// left for this getter: after `shutdown(false)` the items left
            /// are still handed out, after `shutdown(true)` there are none.
            ///
            /// # Cancel safety
            ///
            /// Cancel-safe: no item is ever lost. Dropped while waiting, the
            /// future leaves no trace. Dropped after it was woken with an
            /// item reserved for it, the reservation passes to the next
            /// waiting getter, or the item becomes free for any get: the item
            /// never left the queue, so it keeps its place (the front of a
            /// `Queue`; its place by age or by order in a `LifoQueue` or
            /// `PriorityQueue`).
            pub async fn get(&self) -> Result<T, QueueShutDown> {
                self.core.get().await
            }

            #[doc = concat!("Removes and returns the ", $order, " if one is there for the taking now.")]
            ///
            /// # Errors
            ///
            /// [`TryGetError::Empty`] when there is none (items reserved for
            /// woken getters do not count); [`TryGetError::ShutDown`] when
            /// there is none and the queue is shut down.
            #[doc = concat!("\n\n```\nuse corio_sync::{", stringify!($name), ", TryGetError};\n")]
            #[doc = concat!("let queue = ", stringify!($name), "::new(0);")]
            /// queue.put_nowait(2).unwrap();
            /// queue.put_nowait(1).unwrap();
            /// queue.put_nowait(3).unwrap();
            #[doc = concat!("assert_eq!(queue.get_nowait(), Ok(", $first, "));")]
            /// # queue.get_nowait().unwrap();
            /// # queue.get_nowait().unwrap();
            /// assert_eq!(queue.get_nowait(), Err(TryGetError::Empty));
            /// ```
            pub fn get_nowait(&self) -> Result<T, TryGetError> {
                self.core.get_nowait()
            }

            /// Marks one item that was got as done (asyncio's `task_done`):
            /// when every item put has been marked done, [`join`](Self::join)
            /// returns.
            ///
            /// # Errors
            ///
            /// [`TaskDoneError`] when called more times than items were put;
            /// the count stays at zero.
            pub fn task_done(&self) -> Result<(), TaskDoneError> {
                self.core.task_done()
            }

            /// Waits until every item put has been marked done with
            /// [`task_done`](Self::task_done); returns at once when none is
            /// unfinished. An immediate shutdown counts the items it throws
            /// away as done.
            ///
            /// # Cancel safety
            ///
            /// Cancel-safe: a dropped `join` leaves no trace (all joiners are
            /// woken together, so there is nothing to pass on).
            pub async fn join(&self) {
                self.core.join().await
            }

            /// Shuts the queue down (asyncio 3.13's `Queue.shutdown`).
            ///
            /// From then on every put fails, and putters that wait are woken
            /// with their item back in the error. Gets go on taking the items
            /// left, then fail; getters that wait (so nothing is left for
            /// them) fail at once.
            ///
            /// With `immediate`, the queue is also emptied: the items are
            /// dropped (after the lock is released) and count as done, as if
            /// `task_done` were called for each, which releases `join` when
            /// no other item is unfinished; getters woken but not yet run
            /// fail too. Calling it again is harmless (`true` after `false`
            /// empties the queue).
            #[doc = concat!("\n\n```\nuse corio_sync::{", stringify!($name), ", TryGetError};\n")]
            #[doc = concat!("let queue = ", stringify!($name), "::new(0);")]
            /// queue.put_nowait(1).unwrap();
            /// queue.put_nowait(1).unwrap();
            /// queue.shutdown(false);
            /// assert!(queue.put_nowait(2).unwrap_err().is_shut_down());
            /// assert_eq!(queue.get_nowait(), Ok(1));
            /// queue.shutdown(true);
            /// assert_eq!(queue.get_nowait(), Err(TryGetError::ShutDown));
            /// ```
            pub fn shutdown(&self, immediate: bool) {
                self.core.shutdown(immediate)
            }
        }

        impl<T: $($bound)*> Default for $name<T> {
            /// An unbounded queue.
            fn default() -> Self {
                Self::new(0)
            }
        }

        impl<T: $($bound)*> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("maxsize", &self.maxsize())
                    .field("qsize", &self.qsize())
                    .finish_non_exhaustive()
            }
        }
    };
}

queue_kind! {
    /// A first-in, first-out queue for tasks: asyncio's `Queue`.
    ///
    /// Bounded (`maxsize` items; [`put`](Self::put) waits for room) or
    /// unbounded (`maxsize` 0). Fair: getters and putters that wait are
    /// served in the order they started waiting. Cancel-safe: a dropped
    /// `get` never loses an item. `Send + Sync` when `T: Send`; share it by
    /// reference or in an `Arc`. It uses only `Waker`s, so any executor
    /// runs it.
    ///
    /// # Examples
    ///
    /// asyncio's classic: workers take jobs from a queue, mark each one
    /// done, and the producer waits with [`join`](Self::join) until all
    /// are, then stops the workers with [`shutdown`](Self::shutdown).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use corio_sync::Queue;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    ///
    /// let queue = Arc::new(Queue::new(16));
    /// let results = Arc::new(Queue::new(0));
    /// let workers: Vec<_> = (0..3)
    ///     .map(|_| {
    ///         let (queue, results) = (queue.clone(), results.clone());
    ///         tokio::spawn(async move {
    ///             // get() fails once the queue is shut down and drained.
    ///             while let Ok(job) = queue.get().await {
    ///                 results.put_nowait(job * job).unwrap();
    ///                 queue.task_done().unwrap();
    ///             }
    ///         })
    ///     })
    ///     .collect();
    ///
    /// for job in 1..=10u64 {
    ///     queue.put(job).await.unwrap();
    /// }
    /// queue.join().await; // every job was taken and marked done
    /// queue.shutdown(false);
    /// for worker in workers {
    ///     worker.await.unwrap();
    /// }
    ///
    /// let mut total = 0;
    /// while let Ok(square) = results.get_nowait() {
    ///     total += square;
    /// }
    /// assert_eq!(total, 385);
    /// # });
    /// ```
    Queue, Fifo, [Sized], "oldest item", "2"
}

queue_kind! {
    /// A last-in, first-out queue (a stack) for tasks: asyncio's `LifoQueue`.
    ///
    /// The same API and guarantees as [`Queue`]; [`get`](Self::get) takes
    /// the newest item.
    ///
    /// ```
    /// use corio_sync::LifoQueue;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let stack = LifoQueue::new(0);
    /// for page in ["home", "docs", "queue"] {
    ///     stack.put(page).await.unwrap();
    /// }
    /// assert_eq!(stack.get().await, Ok("queue"));
    /// assert_eq!(stack.get().await, Ok("docs"));
    /// # });
    /// ```
    LifoQueue, Lifo, [Sized], "newest item", "3"
}

queue_kind! {
    /// A queue that hands out its smallest item first: asyncio's
    /// `PriorityQueue` (a min-heap). Put `(priority, payload)` tuples, or
    /// wrap items in [`std::cmp::Reverse`] for largest first. Equal items
    /// leave in no particular order.
    ///
    /// The same API and guarantees as [`Queue`]; [`get`](Self::get) takes
    /// the smallest item there when the getter runs.
    ///
    /// ```
    /// use corio_sync::PriorityQueue;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let jobs = PriorityQueue::new(0);
    /// jobs.put((2, "write docs")).await.unwrap();
    /// jobs.put((0, "fix the outage")).await.unwrap();
    /// jobs.put((1, "review")).await.unwrap();
    /// assert_eq!(jobs.get().await, Ok((0, "fix the outage")));
    /// assert_eq!(jobs.get().await, Ok((1, "review")));
    /// # });
    /// ```
    PriorityQueue, Priority, [Ord], "smallest item", "1"
}
