#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod data_lock;
mod loom;
mod waiters;

// Event, Condition, Barrier, Promise.
mod barrier;
mod condition;
mod event;
mod promise;
mod promise_error;
pub use barrier::{Barrier, BarrierWait, BrokenBarrier};
pub use condition::Condition;
pub use event::{Event, EventWait};
pub use promise::{Promise, PromiseWait};
pub use promise_error::{Cancelled, PromiseError};

// Queue, LifoQueue, PriorityQueue.
mod queue;
pub use queue::{
    LifoQueue, PriorityQueue, Queue, QueueShutDown, TaskDoneError, TryGetError, TryPutError,
};

// Lock, Semaphore, BoundedSemaphore.
mod lock;
mod semaphore;
pub use lock::{Lock, LockGuard, OwnedLockGuard};
// RwLock: readers-writer, FIFO, on the same semaphore.
mod rwlock;
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::{BoundedSemaphore, BoundedSemaphoreOverflow, OwnedPermit, Permit, Semaphore};

// Sender/Receiver halves over a Queue.
mod channel;
pub use channel::{
    channel, unbounded_channel, Receiver, SendError, Sender, TryRecvError, TrySendError,
};

// CancellationToken: a shared cancel signal with child tokens.
mod cancel;
pub use cancel::{CancellationToken, DropGuard, WaitForCancellation};

// watch: one value, many readers, wait for changes.
pub mod watch;
pub use watch::channel as watch;

// broadcast: every receiver sees every value; laggards are told and skip ahead.
pub mod broadcast;
pub use broadcast::channel as broadcast;
