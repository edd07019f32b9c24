#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod loom;
mod waiters;

// Event, Condition, Barrier, Promise.
mod barrier;
mod condition;
mod event;
mod promise;
pub use barrier::{Barrier, BarrierWait, BrokenBarrier};
pub use condition::Condition;
pub use event::{Event, EventWait};
pub use promise::{Cancelled, Promise, PromiseWait};

// Queue, LifoQueue, PriorityQueue.
mod queue;
pub use queue::{
    LifoQueue, PriorityQueue, Queue, QueueShutDown, TaskDoneError, TryGetError, TryPutError,
};

// Lock, Semaphore, BoundedSemaphore.
mod lock;
mod semaphore;
pub use lock::{Lock, LockGuard, OwnedLockGuard};
pub use semaphore::{BoundedSemaphore, BoundedSemaphoreOverflow, OwnedPermit, Permit, Semaphore};
