//! The task this thread is polling (or dropping) right now, and the
//! ambient context it runs in.
//!
//! The thread-local holds a header pointer only while the raw layer itself
//! holds a reference to that task: it is set by `enter` strictly inside the
//! poll or drop of the future (see `cell.rs`) and restored before the
//! caller's reference can go. Code that runs after a poll (the per-task
//! `tracing` span's exit, the slow-poll hook) sees the task that was current
//! before, never a task that may already be freed.
//!
//! The context (asyncio's `contextvars.Context`, as data the executor does
//! not look into) is a second thread-local. A task spawned in a context is
//! wrapped in a [`Contextual`] that captured it (a copy: the data is
//! shared, the identity is not) and installs it for each poll and for the
//! drop, then takes back what the task left there and restores the outer
//! one. A task spawned while the context is empty (the common case) is
//! spawned bare, costing no byte: the rare context it sets itself waits in
//! a side table between polls (`side.rs`). Nested polls (an eager task's
//! first step inside its creator's poll) nest correctly.

use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::header::Header;
use crate::{TaskId, TaskInfo};

mod side;
pub(super) use side::around;
pub(super) use side::forget as forget_side_context;

thread_local! {
    static CURRENT: Cell<Option<NonNull<Header>>> = const { Cell::new(None) };
}

/// Marks `task` current until the guard drops (restoring the previous one,
/// so nested executors on one thread nest correctly).
///
/// The caller must hold a reference to `task` for the guard's whole life
/// (the guard is `!Send` and is dropped by the scope that made it).
#[inline]
pub(super) fn enter(task: NonNull<Header>) -> CurrentGuard {
    CurrentGuard {
        previous: CURRENT.with(|c| c.replace(Some(task))),
    }
}

/// Restores the previously current task when dropped.
pub(super) struct CurrentGuard {
    previous: Option<NonNull<Header>>,
}

impl Drop for CurrentGuard {
    #[inline]
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
    }
}

/// Applies `f` to the current task's header, if any.
fn with_current<R>(f: impl FnOnce(&Header) -> R) -> Option<R> {
    CURRENT.with(|c| {
        // SAFETY: the pointer is set only by `enter`, whose caller holds a
        // reference to the task for as long as the guard lives, and the guard
        // restores the previous value before that reference is released (see
        // the module docs). So a pointer read here is alive.
        c.get().map(|ptr| f(unsafe { ptr.as_ref() }))
    })
}

/// The task this thread is polling right now, if any.
pub fn current_task() -> Option<TaskInfo> {
    with_current(TaskInfo::of)
}

/// The id of the task this thread is polling right now, if any.
pub fn current_task_id() -> Option<TaskId> {
    with_current(Header::id)
}

// ---- the ambient task context ----

/// The context data a task runs in: opaque to the executor (the corio
/// facade keeps its `ContextVar` values there), shared between copies.
pub(crate) type ContextData = Option<Arc<dyn Any + Send + Sync>>;

/// What the thread-local holds: the data, and the identity of the context
/// (0: not assigned yet; the facade assigns one when it needs it, for
/// `reset` tokens). A copy shares the data and starts without an identity.
/// Empty means no data.
struct Slot {
    data: ContextData,
    id: u64,
}

impl Slot {
    const EMPTY: Slot = Slot { data: None, id: 0 };

    /// No data (an identity without data is dropped: see `swap`).
    #[inline(always)]
    fn is_empty(&self) -> bool {
        self.data.is_none()
    }
}

thread_local! {
    static CONTEXT: Cell<Slot> = const { Cell::new(Slot::EMPTY) };
    /// Whether `CONTEXT` holds anything: the one word the fast paths read
    /// (no destructor, so reading it is a plain load, also while the
    /// thread exits). Kept in step by `swap`, the only writer of `CONTEXT`.
    static NONEMPTY: Cell<bool> = const { Cell::new(false) };
}

/// Installs `slot` as the thread's context and returns the one it
/// replaces; `None` (and `slot` dropped) once the thread-local is gone.
#[inline]
fn swap(mut slot: Slot) -> Option<Slot> {
    if slot.data.is_none() {
        // Tokens are made only by a `set`, which leaves data: a context
        // without data has nothing a token could reset.
        slot.id = 0;
    }
    let nonempty = !slot.is_empty();
    let old = CONTEXT.try_with(|c| c.replace(slot)).ok()?;
    NONEMPTY.with(|flag| flag.set(nonempty));
    Some(old)
}

/// Whether the thread's context is empty with no identity: one load.
#[inline(always)]
pub(crate) fn context_is_empty() -> bool {
    !NONEMPTY.with(Cell::get)
}

/// Spawns a task future in the calling thread's context:
/// `spawn_in_context!(future, |f| builder.spawn(f, scheduler))` evaluates
/// the spawn expression with `f` the bare future when the context is empty
/// (no wrapper, no byte added: see `side.rs`), else with `f` a
/// [`Contextual`] that captured it.
macro_rules! spawn_in_context {
    ($future:expr, |$f:ident| $spawn:expr) => {
        if $crate::raw::current::context_is_empty() {
            let $f = $future;
            $spawn
        } else {
            let $f = $crate::raw::current::Contextual::capture($future);
            $spawn
        }
    };
}
pub(crate) use spawn_in_context;

/// Installs `data` with identity `id` as the calling thread's context and
/// returns the one it replaces.
pub(crate) fn replace_context(data: ContextData, id: u64) -> (ContextData, u64) {
    let old = swap(Slot { data, id }).unwrap_or(Slot::EMPTY);
    (old.data, old.id)
}

/// A future that runs in the context that was current when it was made
/// (a task spawned in a context is wrapped in one): its polls and its drop
/// see that context, and what they set in it stays with the future, never
/// leaks to whoever polls next on the thread.
pub(crate) struct Contextual<F> {
    /// The task's context; boxed, one word (`None` only if capturing found
    /// the thread-local gone, or after a poll cleared it).
    context: Option<Box<Slot>>,
    future: ManuallyDrop<F>,
}

impl<F> Contextual<F> {
    /// Wraps `future` in a copy of the calling thread's context: the same
    /// data, no identity (a copy is a context of its own).
    #[inline]
    pub(crate) fn capture(future: F) -> Contextual<F> {
        let context = if context_is_empty() {
            None
        } else {
            CONTEXT
                .try_with(|c| {
                    // SAFETY: a shared look at the cell's content, on its own
                    // thread; cloning an `Arc` runs no code that could
                    // replace it.
                    unsafe { (*c.as_ptr()).data.clone() }
                })
                .ok()
                .flatten()
                .map(|data| {
                    Box::new(Slot {
                        data: Some(data),
                        id: 0,
                    })
                })
        };
        Contextual {
            context,
            future: ManuallyDrop::new(future),
        }
    }

    /// Whether this wrapper and the thread both have no context: then a
    /// poll or drop needs no swap, only a look after it (see [`Keep`]).
    #[inline(always)]
    fn fast(&self) -> bool {
        self.context.is_none() && context_is_empty()
    }
}

/// Stores what a poll or drop left installed as the wrapper's context.
fn store(own: &mut Option<Box<Slot>>, left: Slot) {
    match own {
        Some(boxed) => **boxed = left,
        None if !left.is_empty() => *own = Some(Box::new(left)),
        None => {}
    }
}

/// The fast path's guard (the wrapper and the thread had no context): after
/// the poll or drop (also when unwinding), what it set on the thread, if
/// anything, becomes the wrapper's, and the thread is empty again.
struct Keep<'a>(&'a mut Option<Box<Slot>>);

impl Drop for Keep<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        if !context_is_empty() {
            keep_what_was_set(self.0);
        }
    }
}

#[cold]
#[inline(never)]
fn keep_what_was_set(own: &mut Option<Box<Slot>>) {
    if let Some(set) = swap(Slot::EMPTY) {
        store(own, set);
    }
}

/// The slow path's guard: the wrapper's context is installed; when the
/// poll or drop ends (also by unwinding) what is installed goes back into
/// the wrapper and `outer` back onto the thread.
struct Swapped<'a> {
    own: &'a mut Option<Box<Slot>>,
    outer: Option<Slot>,
}

impl<'a> Swapped<'a> {
    #[inline(never)]
    fn enter(own: &'a mut Option<Box<Slot>>) -> Swapped<'a> {
        let mine = match own.as_deref_mut() {
            Some(slot) => std::mem::replace(slot, Slot::EMPTY),
            None => Slot::EMPTY,
        };
        let outer = swap(mine);
        Swapped { own, outer }
    }
}

impl Drop for Swapped<'_> {
    #[inline(never)]
    fn drop(&mut self) {
        if let Some(outer) = self.outer.take() {
            if let Some(left) = swap(outer) {
                store(self.own, left);
            }
        }
    }
}

impl<F: Future> Future for Contextual<F> {
    type Output = F::Output;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned (never moved out, dropped
        // in place by `Drop`); `context` is not pinned and only swapped.
        let this = unsafe { self.get_unchecked_mut() };
        let fast = this.fast();
        // SAFETY: as above: `future` never moves while the wrapper is pinned.
        let future = unsafe { Pin::new_unchecked(&mut *this.future) };
        if fast {
            let _keep = Keep(&mut this.context);
            future.poll(cx)
        } else {
            let _swapped = Swapped::enter(&mut this.context);
            future.poll(cx)
        }
    }
}

impl<F> Drop for Contextual<F> {
    #[inline]
    fn drop(&mut self) {
        if !std::mem::needs_drop::<F>() {
            return; // no code runs: no context needed
        }
        // The future's `Drop` runs in the task's context too (without one
        // once the thread-local is gone: the thread is exiting).
        if self.fast() {
            let _keep = Keep(&mut self.context);
            // SAFETY: dropped once, here, in place (it is pinned if the
            // wrapper was), and never touched again.
            unsafe { ManuallyDrop::drop(&mut self.future) };
        } else {
            let _swapped = Swapped::enter(&mut self.context);
            // SAFETY: as above.
            unsafe { ManuallyDrop::drop(&mut self.future) };
        }
    }
}

// ---- eager steps ----

/// How deep eager first steps may nest on one thread (an eager task whose
/// first step creates an eager task, and so on). Beyond it a new task is
/// scheduled instead, as a normal task: each level is a poll nested in the
/// one above, on the same stack.
pub(crate) const MAX_EAGER_DEPTH: u32 = 32;

thread_local! {
    static EAGER_DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// One eager first step running on this thread (see [`MAX_EAGER_DEPTH`]).
pub(crate) struct EagerStep(());

impl EagerStep {
    /// Enters an eager step, unless [`MAX_EAGER_DEPTH`] of them already run
    /// on this thread.
    #[inline]
    pub(crate) fn enter() -> Option<EagerStep> {
        EAGER_DEPTH.with(|depth| {
            let now = depth.get();
            (now < MAX_EAGER_DEPTH).then(|| {
                depth.set(now + 1);
                EagerStep(())
            })
        })
    }
}

impl Drop for EagerStep {
    #[inline]
    fn drop(&mut self) {
        let _ = EAGER_DEPTH.try_with(|depth| depth.set(depth.get() - 1));
    }
}

/// Empties the thread's context until dropped, then puts it back: a loop
/// (`block_on`) runs its tasks from an empty context, whatever context its
/// caller was in (the main future captured it before).
pub(crate) struct ClearedContext(Option<Slot>);

impl ClearedContext {
    pub(crate) fn new() -> ClearedContext {
        ClearedContext(swap(Slot::EMPTY))
    }
}

impl Drop for ClearedContext {
    fn drop(&mut self) {
        if let Some(outer) = self.0.take() {
            drop(swap(outer));
        }
    }
}
