//! [`SharedTask`]: a task awaited from many places (asyncio awaits one
//! `Task` as often as it likes, and every `await` gives the same result).
//!
//! One `Task<T>` gives its result once. `Task::shared` wraps it for
//! `T: Clone` in a cloneable handle: whichever clone is polled drives the
//! inner `Task` (registering one waker, shared by all clones, that wakes
//! every waiting clone), and the result, once in, is cloned to every clone
//! that awaits it (`TaskError` is `Clone` too).
//!
//! State: one mutex over the inner task (taken out while a clone polls it,
//! so no lock is held across the poll), the result, and the waiter list
//! lives in its own mutex (the waker the inner task holds locks only that).
//! A clone registers its waker while holding the state lock, and the result
//! is stored under the same lock before the waiters are woken, so no wakeup
//! is lost. A dropped clone takes its waker out of the list.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use parking_lot::Mutex;

use crate::{AbortHandle, Task, TaskError, TaskId, TaskInfo};

impl<T: Clone> Task<T> {
    /// Turns the handle into a [`SharedTask`]: cloneable, and every clone
    /// awaited gives the same `Result<T, TaskError>` (asyncio's "await a
    /// task any number of times").
    ///
    /// ```
    /// use corio_executor::{LocalExecutor, ThreadPark};
    ///
    /// let ex = LocalExecutor::new();
    /// let shared = ex.spawn(async { String::from("once") }).shared();
    /// let other = shared.clone();
    /// let both = ex.block_on(async move { (shared.await, other.await) }, &mut ThreadPark);
    /// assert_eq!(both.0.unwrap(), "once");
    /// assert_eq!(both.1.unwrap(), "once");
    /// ```
    pub fn shared(self) -> SharedTask<T> {
        let abort = self.abort_handle();
        SharedTask {
            inner: Arc::new(Inner {
                abort,
                state: Mutex::new(State {
                    task: Some(self),
                    result: None,
                }),
                waiters: Arc::new(Waiters::default()),
                next_key: AtomicU64::new(1),
            }),
            key: 0,
        }
    }
}

/// A cloneable handle to a task's result: see [`Task::shared`]. Dropping
/// every clone detaches the task (it keeps running), as dropping a `Task` does.
pub struct SharedTask<T> {
    inner: Arc<Inner<T>>,
    /// This clone's key in the waiter list.
    key: u64,
}

struct Inner<T> {
    abort: AbortHandle,
    state: Mutex<State<T>>,
    waiters: Arc<Waiters>,
    next_key: AtomicU64,
}

struct State<T> {
    /// The inner task; `None` while a clone polls it, and once the result is in.
    task: Option<Task<T>>,
    result: Option<Result<T, TaskError>>,
}

/// The wakers of the clones waiting for the result; itself the waker the
/// inner task holds, which wakes them all.
#[derive(Default)]
struct Waiters {
    list: Mutex<Vec<(u64, Waker)>>,
}

impl Waiters {
    fn register(&self, key: u64, waker: &Waker) {
        let mut list = self.list.lock();
        let replaced = match list.iter_mut().find(|(k, _)| *k == key) {
            Some((_, old)) if old.will_wake(waker) => None,
            Some((_, old)) => Some(std::mem::replace(old, waker.clone())),
            None => {
                list.push((key, waker.clone()));
                None
            }
        };
        drop(list);
        // Outside the lock: a waker's Drop may run user code.
        drop(replaced);
    }

    fn remove(&self, key: u64) -> Option<Waker> {
        let mut list = self.list.lock();
        let index = list.iter().position(|(k, _)| *k == key)?;
        Some(list.swap_remove(index).1)
    }

    fn wake_all(&self) {
        // Taken out first: a waker's wake may run user code that polls or
        // drops a clone, which locks the list again.
        let wakers = std::mem::take(&mut *self.list.lock());
        for (_, waker) in wakers {
            waker.wake();
        }
    }
}

impl Wake for Waiters {
    fn wake(self: Arc<Self>) {
        self.wake_all();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wake_all();
    }
}

impl<T: Clone> SharedTask<T> {
    /// Registers a done-callback on the inner task, as
    /// [`Task::add_done_callback`] does.
    pub fn add_done_callback(&self, callback: impl FnOnce(&TaskInfo) + Send + 'static) {
        self.inner.abort.add_done_callback(callback);
    }

    /// Whether the task has ended: finished, panicked or cancelled.
    pub fn is_done(&self) -> bool {
        self.inner.abort.is_done()
    }

    /// The task's result if it is done, without waiting: the same value
    /// (cloned) every time and for every clone; `None` while it runs.
    ///
    /// ```
    /// use corio_executor::LocalExecutor;
    ///
    /// let ex = LocalExecutor::new();
    /// let shared = ex.spawn(async { 5 }).shared();
    /// assert!(shared.try_result().is_none());
    /// ex.run_once();
    /// assert_eq!(shared.try_result().unwrap().unwrap(), 5);
    /// assert_eq!(shared.clone().try_result().unwrap().unwrap(), 5);
    /// ```
    pub fn try_result(&self) -> Option<Result<T, TaskError>> {
        let mut state = self.inner.state.lock();
        if let Some(result) = &state.result {
            return Some(result.clone());
        }
        // While another clone polls the task it holds it; that clone stores
        // the result as soon as it has it.
        let result = state.task.as_mut()?.try_result()?;
        state.result = Some(result.clone());
        let task = state.task.take();
        drop(state);
        drop(task);
        self.inner.waiters.wake_all();
        Some(result)
    }

    /// Requests cancellation, as [`Task::cancel`] does.
    pub fn cancel(&self) -> bool {
        self.inner.abort.cancel()
    }

    /// A handle that can cancel the task and watch it end.
    pub fn abort_handle(&self) -> AbortHandle {
        self.inner.abort.clone()
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.inner.abort.id()
    }

    /// The task's name, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.inner.abort.name()
    }
}

impl<T: Clone> Future for SharedTask<T> {
    type Output = Result<T, TaskError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let inner = &*this.inner;
        let mut state = inner.state.lock();
        if let Some(result) = &state.result {
            let result = result.clone();
            drop(state);
            inner.waiters.remove(this.key);
            return Poll::Ready(result);
        }
        // Registered under the state lock: whoever stores the result does so
        // under it too, then wakes the list.
        inner.waiters.register(this.key, cx.waker());
        let Some(mut task) = state.task.take() else {
            // Another clone is polling the task right now; the task's waker
            // (or that clone, if it gets the result) wakes us.
            return Poll::Pending;
        };
        drop(state);
        let all = Waker::from(inner.waiters.clone());
        let polled = Pin::new(&mut task).poll(&mut Context::from_waker(&all));
        let mut state = inner.state.lock();
        match polled {
            Poll::Pending => {
                state.task = Some(task);
                Poll::Pending
            }
            Poll::Ready(result) => {
                state.result = Some(result.clone());
                drop(state);
                inner.waiters.remove(this.key);
                drop(task);
                inner.waiters.wake_all();
                Poll::Ready(result)
            }
        }
    }
}

impl<T> Clone for SharedTask<T> {
    fn clone(&self) -> SharedTask<T> {
        SharedTask {
            inner: self.inner.clone(),
            key: self.inner.next_key.fetch_add(1, Ordering::Relaxed),
        }
    }
}

impl<T> Drop for SharedTask<T> {
    fn drop(&mut self) {
        let waker = self.inner.waiters.remove(self.key);
        // Dropped outside the list's lock: a waker's Drop may run user code.
        drop(waker);
    }
}

impl<T> std::fmt::Debug for SharedTask<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedTask")
            .field("id", &self.inner.abort.id())
            .field("name", &self.inner.abort.name())
            .field("done", &self.inner.abort.is_done())
            .finish()
    }
}
