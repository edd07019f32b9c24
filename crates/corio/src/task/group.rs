//! `TaskGroup`: asyncio 3.11's structured concurrency, with Rust's
//! cancellation (a future is dropped, never interrupted with an exception).
//!
//! The group's state sits behind one mutex: a handle (an `AbortHandle`) to
//! every child whose future is still alive, the number of such children, the
//! failures so far, and the scope's waker. Each child runs inside a
//! `ChildFuture`, whose `guard` field is declared after the user's future so
//! that it runs (and tells the group "one fewer child") only once that
//! future has been dropped: when `scope` sees zero children, every child's
//! `Drop` has run.
//!
//! The first failure (a child's `Err` or panic, or the body's) marks the
//! group as cancelling: children added from then on are cancelled at once,
//! the scope drops the body at its current await, and every existing child
//! is cancelled, the failing one included (a failed child's own `Task` reports `Cancelled`; its error
//! lives in the `TaskGroupError`). Queuing the cancellation, rather than doing
//! it on the spot, is asyncio's order: children already ready in the same
//! loop iteration still run, so several failing together are all collected.
//!
//! A scope dropped with failures collected (its enclosing group dropped its
//! body or cancelled its task at the await) hands them to the enclosing
//! group as one `Failure::Nested`, or reports them: `group/nesting.rs`.

mod builder;
mod nesting;
mod teardown;

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};

use corio_executor::{AbortHandle, Builder as TaskBuilder, Spawner, TaskId, TaskInfo};
use parking_lot::Mutex;
use pin_project_lite::pin_project;

use super::group_children::{ChildKey, Children};
use super::group_error::{Failure, NestedGroupError, PanicPayload, TaskGroupError};
use crate::debug::{GroupRegistration, GroupRegistry, GroupView};
use crate::runtime::context;
use crate::Task;
pub use builder::GroupTaskBuilder;
use nesting::{Adopt, Enclosing, Listing};
use teardown::await_marked_done;

/// A scope whose tasks all finish before it returns, and fail together
/// (asyncio's `TaskGroup`). Made by [`TaskGroup::scope`]; the `TaskGroup`
/// value is a cloneable handle the body and children use to add tasks.
///
/// ```
/// use corio::task::TaskGroup;
/// use std::time::Duration;
///
/// corio::run(async {
///     let result = TaskGroup::<String>::scope(|group| async move {
///         let a = group.create_task(async {
///             corio::sleep(Duration::from_millis(10)).await;
///             Ok(1)
///         });
///         let b = group.create_task(async { Ok(2) });
///         Ok((a, b))
///     })
///     .await;
///     let (mut a, mut b) = result.unwrap();
///     // Every child is done once scope returns.
///     assert_eq!(a.try_result().unwrap().unwrap() + b.try_result().unwrap().unwrap(), 3);
///
///     // The first failure cancels the rest and ends up in the error.
///     let failed = TaskGroup::<String>::scope(|group| async move {
///         group.create_task(async { corio::sleep(Duration::from_secs(3600)).await; Ok(()) });
///         group.create_task(async { Err::<(), _>("boom".to_string()) });
///         Ok(())
///     })
///     .await
///     .unwrap_err();
///     assert_eq!(failed.errors().len(), 1);
///     assert_eq!(failed.errors()[0].error().map(String::as_str), Some("boom"));
/// });
/// ```
#[doc(alias = "JoinSet")]
pub struct TaskGroup<E> {
    inner: Arc<Group<E>>,
}

impl<E> Clone for TaskGroup<E> {
    fn clone(&self) -> Self {
        TaskGroup {
            inner: self.inner.clone(),
        }
    }
}

struct Group<E> {
    spawner: Spawner,
    /// The task that runs the scope: the children's parent in
    /// `corio::debug`'s task tree (`debug/groups.rs` says why the owner).
    owner: Option<TaskId>,
    /// Where failures go that this group's scope cannot return.
    enclosing: Option<Enclosing>,
    state: Mutex<State<E>>,
    /// Set once the group is cancelled by `cancel()` or by the scope's
    /// drop: a child's next poll then never comes, also when a worker picks
    /// it up before its cancellation arrives (under workers). (A failing
    /// child cancels its siblings one iteration later, as asyncio does: the
    /// children that are ready in that iteration still run.)
    cancelling: AtomicBool,
    /// The loop has worker threads (asked once: the hot paths branch on it).
    multi: bool,
}

struct State<E> {
    /// Children whose future is alive.
    children: Children,
    /// Under workers: children whose future is gone but whose task may not
    /// be marked done yet (the worker that dropped the future marks it a
    /// moment later). `scope` waits for them before it returns, so that
    /// every child's `try_result()` is there once it has.
    finishing: Vec<AbortHandle>,
    /// Children created and not yet dropped (may exceed `children.len()`
    /// briefly, between spawning and registering a handle).
    active: usize,
    failures: Vec<Failure<E>>,
    /// A failure happened or `cancel()` was called: cancel new children, drop the body.
    cancelling: bool,
    /// `cancel()` was called.
    cancelled: bool,
    /// `scope` returned: adding a task is a bug.
    finished: bool,
    scope_waker: Option<Waker>,
}

impl<E: Send + 'static> TaskGroup<E> {
    /// Runs `body` with a new group, then waits until the body and every
    /// child (including children added by children) are done.
    ///
    /// `Ok` with the body's value when nothing failed. Otherwise the first
    /// failure cancelled everything else and the result is `Err` with every
    /// failure, in order. Dropping the returned future (an outer timeout, a
    /// cancelled parent) drops every child before the drop returns.
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub async fn scope<F, Fut, R>(body: F) -> Result<R, TaskGroupError<E>>
    where
        F: FnOnce(TaskGroup<E>) -> Fut,
        Fut: Future<Output = Result<R, E>>,
    {
        let handle = context::with("TaskGroup::scope()", |handle| handle.clone());
        let group = TaskGroup {
            inner: Arc::new(Group {
                spawner: handle.shared.spawner.clone(),
                cancelling: AtomicBool::new(false),
                multi: handle.shared.spawner.workers() > 1,
                owner: corio_executor::current_task_id(),
                enclosing: Enclosing::current(),
                state: Mutex::new(State {
                    children: Children::default(),
                    finishing: Vec::new(),
                    active: 0,
                    failures: Vec::new(),
                    cancelling: false,
                    cancelled: false,
                    finished: false,
                    scope_waker: None,
                }),
            }),
        };
        let view: Weak<dyn GroupView> = Arc::downgrade(&group.inner) as Weak<dyn GroupView>;
        let registration = GroupRegistry::register(&handle, view);
        let listing = Listing::new(&group.inner);
        let body = body(group.clone());
        Scope {
            group,
            body: Some(body),
            output: None,
            _registration: registration,
            _listing: listing,
        }
        .await
    }

    /// Adds a child task. It runs concurrently; its `Err` (or panic) fails
    /// the group. Its [`Task`] gives its value; a child that failed, or was
    /// cancelled by the group, reports `Cancelled` (the error is in the
    /// group's `TaskGroupError`).
    ///
    /// While the group is cancelling, the future is dropped unpolled and the
    /// returned task is already cancelled.
    ///
    /// # Panics
    ///
    /// After `scope` returned: "TaskGroup is finished".
    #[track_caller]
    pub fn create_task<F, T>(&self, future: F) -> Task<T>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
    {
        self.create_with(
            TaskBuilder::new().location(Location::caller()),
            false,
            future,
        )
    }

    /// Adds a child task that need not be `Send` (it runs on the loop's thread).
    ///
    /// # Panics
    ///
    /// After `scope` returned, or off the loop's thread.
    #[track_caller]
    pub fn create_local_task<F, T>(&self, future: F) -> Task<T>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
    {
        self.create_local_with(
            TaskBuilder::new().location(Location::caller()),
            false,
            future,
        )
    }

    fn add<F, T>(&self, spawn: impl FnOnce(ChildFuture<F, E>) -> Task<T>, future: F) -> Task<T>
    where
        F: Future<Output = Result<T, E>>,
    {
        let key = {
            let mut state = self.inner.state.lock();
            assert!(
                !state.finished,
                "TaskGroup is finished: tasks can only be added until its scope() returns"
            );
            state.active += 1;
            state.children.reserve()
        };
        // Spawn outside the lock: spawning onto a closed loop drops the
        // child at once, and its guard locks the state.
        let task = spawn(ChildFuture {
            future,
            guard: ChildGuard {
                group: self.inner.clone(),
                key,
            },
        });
        let mut state = self.inner.state.lock();
        if !task.is_done() {
            if state.cancelling {
                task.cancel();
            }
            state.children.fill(key, task.abort_handle());
        }
        task
    }

    /// Stops the group early (asyncio 3.15's `TaskGroup.cancel`): cancels
    /// every child and the body; `scope` then returns `Err` whose
    /// [`is_cancelled`](TaskGroupError::is_cancelled) is true. Idempotent; a
    /// no-op after `scope` returned.
    pub fn cancel(&self) {
        let mut state = self.inner.state.lock();
        if state.finished {
            return;
        }
        state.cancelled = true;
        let started = state.start_cancelling();
        self.inner.cancelling.store(true, Ordering::Release);
        drop(state);
        self.inner.finish_cancelling(started, false);
    }
}

impl<E> State<E> {
    /// Marks the group cancelling. Returns whether this call started it, and
    /// the scope's waker to wake once the lock is released.
    fn start_cancelling(&mut self) -> (bool, Option<Waker>) {
        if self.cancelling {
            return (false, None);
        }
        self.cancelling = true;
        (true, self.scope_waker.take())
    }
}

impl<E: Send + 'static> Group<E> {
    /// Records a failure and starts cancelling (once). A child's failure
    /// queues the cancellation of the others behind what is already ready; the
    /// body's cancels them on the spot (asyncio: a child's failure arrives
    /// through a done-callback, the body's through `__aexit__`).
    ///
    /// After `scope` returned, nobody would see it: it goes where a dropped
    /// scope's failures go (`nesting`).
    fn fail(self: &Arc<Self>, failure: Failure<E>, from_child: bool) {
        let mut state = self.state.lock();
        if state.finished {
            drop(state);
            let error = TaskGroupError::new(vec![failure], false);
            nesting::hand_on(self.enclosing.as_ref(), self.owner, error);
            return;
        }
        state.failures.push(failure);
        let started = state.start_cancelling();
        if !from_child {
            // The body failed: no child gets another poll (a failing
            // child's siblings get one more iteration, see `cancelling`).
            self.cancelling.store(true, Ordering::Release);
        }
        drop(state);
        self.finish_cancelling(started, from_child);
    }

    /// After `start_cancelling`: cancel every child, now or queued behind
    /// what is already ready (see the module docs), and wake the scope.
    fn finish_cancelling(self: &Arc<Self>, (started, waker): (bool, Option<Waker>), queued: bool) {
        if started && !queued {
            let children: Vec<AbortHandle> =
                self.state.lock().children.handles().cloned().collect();
            for child in children {
                child.cancel();
            }
        } else if started {
            let group = self.clone();
            let cancel_children = async move {
                let children: Vec<AbortHandle> =
                    group.state.lock().children.handles().cloned().collect();
                for child in children {
                    child.cancel();
                }
            };
            drop(
                self.spawner
                    .spawn_with(TaskBuilder::new().hidden(true), cancel_children),
            );
        }
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<E: Send + 'static> Adopt for Group<E> {
    /// A scope nested in this group was dropped with failures: one failure
    /// of the body's (asyncio appends the body's exception in `__aexit__`).
    fn adopt(self: Arc<Self>, task: TaskInfo, group: NestedGroupError) {
        self.fail(Failure::Nested { task, group }, false);
    }
}

impl<E: Send + 'static> GroupView for Group<E> {
    fn owner(&self) -> Option<TaskId> {
        self.owner
    }

    fn child_ids(&self, out: &mut Vec<TaskId>) {
        out.extend(self.state.lock().children.handles().map(AbortHandle::id));
    }
}

impl<E> std::fmt::Debug for TaskGroup<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.inner.state.lock();
        f.debug_struct("TaskGroup")
            .field("children", &state.active)
            .field("failures", &state.failures.len())
            .field("cancelling", &state.cancelling)
            .field("finished", &state.finished)
            .finish()
    }
}

pin_project! {
    /// A child's future: the user's future, then the guard that tells the
    /// group when the user's future is gone (fields drop in order).
    struct ChildFuture<F, E> {
        #[pin]
        future: F,
        guard: ChildGuard<E>,
    }
}

struct ChildGuard<E> {
    group: Arc<Group<E>>,
    key: ChildKey,
}

impl<F, T, E> Future for ChildFuture<F, E>
where
    F: Future<Output = Result<T, E>>,
    E: Send + 'static,
{
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = self.project();
        let group = &this.guard.group;
        if group.multi && group.cancelling.load(Ordering::Acquire) {
            // Its cancellation is queued (the group cancels every child):
            // the executor drops this future without another poll of it.
            return Poll::Pending;
        }
        let group = nesting::address(&this.guard.group);
        let polled = nesting::polling(group, || {
            catch_unwind(AssertUnwindSafe(|| this.future.poll(cx)))
        });
        let failure = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(Ok(value))) => return Poll::Ready(value),
            Ok(Poll::Ready(Err(error))) => Failure::Error {
                task: this_task(),
                error,
            },
            Err(payload) => Failure::Panic {
                task: this_task(),
                payload: PanicPayload::new(payload),
            },
        };
        // Cancels every child, this one included: the queued cancellation
        // makes the executor drop this future, and its Task reports Cancelled.
        this.guard.group.fail(failure, true);
        Poll::Pending
    }
}

impl<E> Drop for ChildGuard<E> {
    fn drop(&mut self) {
        let mut state = self.group.state.lock();
        let handle = state.children.remove(self.key);
        let done = match handle {
            Some(handle) if self.group.multi => Some(state.note_finishing(handle)),
            _ => None,
        };
        state.active -= 1;
        let waker = if state.active == 0 {
            state.scope_waker.take()
        } else {
            None
        };
        drop(state);
        drop(done);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The task being polled: a group's body and children always run in one.
fn this_task() -> TaskInfo {
    corio_executor::current_task().expect("TaskGroup futures run inside corio tasks")
}

pin_project! {
    /// The future `scope` awaits: drives the body, then waits for the children.
    struct Scope<E, Fut, R>
    where
        // (pin-project-lite takes one bound per line)
        E: Send,
        E: 'static,
    {
        group: TaskGroup<E>,
        #[pin]
        body: Option<Fut>,
        output: Option<R>,
        // Lists the group in its loop's registry while the scope lives.
        _registration: GroupRegistration,
        // Lists the group as a possible enclosing group (`nesting`).
        _listing: Listing,
    }

    impl<E, Fut, R> PinnedDrop for Scope<E, Fut, R>
    where
        // (pin-project-lite takes one bound per line)
        E: Send,
        E: 'static,
    {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            // Dropped before it finished (an outer timeout, a cancelled
            // parent): drop the body, then every child, before returning.
            this.body.set(None);
            let group = &this.group.inner;
            {
                let mut state = group.state.lock();
                if state.finished {
                    return;
                }
                state.cancelling = true;
                group.cancelling.store(true, Ordering::Release);
            }
            group.drop_children();
            let error = {
                let mut state = group.state.lock();
                state.finished = true;
                if state.failures.is_empty() {
                    None
                } else {
                    let failures = std::mem::take(&mut state.failures);
                    Some(TaskGroupError::new(failures, state.cancelled))
                }
            };
            // Failures nobody can return: to the enclosing group (`nesting`).
            if let Some(error) = error {
                nesting::hand_on(group.enclosing.as_ref(), group.owner, error);
            }
        }
    }
}

impl<E, Fut, R> Future for Scope<E, Fut, R>
where
    Fut: Future<Output = Result<R, E>>,
    E: Send + 'static,
{
    type Output = Result<R, TaskGroupError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let group = &this.group.inner;
        let address = nesting::address(group);
        loop {
            if let Some(body) = this.body.as_mut().as_pin_mut() {
                if group.state.lock().cancelling {
                    // Dropped at its current await: code after it never runs.
                    this.body.set(None);
                } else {
                    let polled = nesting::polling(address, || {
                        catch_unwind(AssertUnwindSafe(|| body.poll(cx)))
                    });
                    match polled {
                        Ok(Poll::Pending) => {}
                        Ok(Poll::Ready(Ok(value))) => {
                            *this.output = Some(value);
                            this.body.set(None);
                        }
                        Ok(Poll::Ready(Err(error))) => {
                            this.body.set(None);
                            group.fail(
                                Failure::Error {
                                    task: this_task(),
                                    error,
                                },
                                false,
                            );
                        }
                        Err(payload) => {
                            this.body.set(None);
                            group.fail(
                                Failure::Panic {
                                    task: this_task(),
                                    payload: PanicPayload::new(payload),
                                },
                                false,
                            );
                        }
                    }
                }
            }
            let mut state = group.state.lock();
            if this.body.is_some() && state.cancelling {
                // The body cancelled the group during its own poll.
                continue;
            }
            if this.body.is_some() || state.active > 0 {
                state.scope_waker = Some(cx.waker().clone());
                return Poll::Pending;
            }
            state.finished = true;
            let failures = std::mem::take(&mut state.failures);
            let cancelled = state.cancelled;
            let finishing = std::mem::take(&mut state.finishing);
            drop(state);
            await_marked_done(finishing);
            return if failures.is_empty() && !cancelled {
                Poll::Ready(Ok(this
                    .output
                    .take()
                    .expect("the body finished with a value")))
            } else {
                Poll::Ready(Err(TaskGroupError::new(failures, cancelled)))
            };
        }
    }
}
