//! Context variables (asyncio's `contextvars`): [`ContextVar`], its reset
//! [`Token`], and [`Context`], a snapshot of every variable's value.
//!
//! Every task runs in a **copy** of the context that was current where it
//! was created, as asyncio copies the context in `create_task`: a task sees
//! the values its creator had set, and what it sets is seen by its own later
//! polls and by the tasks it creates afterwards, never by its creator or its
//! siblings. Callbacks (`call_soon`, `call_later`, `call_at`,
//! `call_soon_threadsafe`) run in a copy of the context they were scheduled
//! from. [`task::Builder::context`](crate::task::Builder::context) creates a
//! task in a context of your choosing, and [`Context::run`] runs a closure
//! in one.
//!
//! The main future of [`run`](crate::run) and [`Runner::run`](crate::Runner::run)
//! runs in the runner's context: a copy of the context current when the
//! runner was built (empty, unless the caller was inside a `Context::run`),
//! or the one given to [`Builder::context`](crate::Builder::context). What
//! the main future sets stays in the runner's context for its next `run`,
//! as with asyncio's `Runner`.
//!
//! ```
//! use corio::context::{Context, ContextVar};
//!
//! static USER: ContextVar<&'static str> = ContextVar::with_default("user", "anonymous");
//!
//! corio::run(async {
//!     // Siblings each get their own copy.
//!     let alice = corio::create_task(async {
//!         USER.set("alice");
//!         corio::yield_now().await;
//!         USER.get()
//!     });
//!     let bob = corio::create_task(async {
//!         USER.set("bob");
//!         corio::yield_now().await;
//!         USER.get()
//!     });
//!     assert_eq!(alice.await.unwrap(), Some("alice"));
//!     assert_eq!(bob.await.unwrap(), Some("bob"));
//!     assert_eq!(USER.get(), Some("anonymous"));
//!
//!     // A task in a context of our choosing.
//!     let ctx = Context::new().run(|| {
//!         USER.set("carol");
//!         Context::current()
//!     });
//!     let carol = corio::task::Builder::new().context(ctx).create(async { USER.get() });
//!     assert_eq!(carol.await.unwrap(), Some("carol"));
//! });
//! ```
//!
//! Cost: a context is an `Arc` of a short sorted vector, shared by its
//! copies and cloned by the first `set` that finds it shared. The executor
//! keeps the current one in a thread-local that each task poll swaps in
//! and out; while no variable is set (the context is empty), creating a
//! task copies nothing and a poll only reads the thread-local twice.
//!
//! | asyncio | corio |
//! |---|---|
//! | `var = ContextVar("name")` | `static VAR: ContextVar<T> = ContextVar::new("name");` |
//! | `ContextVar("name", default=d)` | [`ContextVar::with_default`] |
//! | `var.get()` / `var.get(d)` | [`ContextVar::get`] → `Option<T>` / `var.get().unwrap_or(d)` |
//! | `token = var.set(v)`; `var.reset(token)` | [`ContextVar::set`] → [`Token`]; [`ContextVar::reset`] |
//! | `contextvars.copy_context()` | [`Context::current`] |
//! | `ctx.run(f)` | [`Context::run`] (on a copy: `ctx` itself is not changed) |
//! | `ctx[var]` / `ctx.get(var)` | [`ContextVar::get_in`]`(&ctx)` |
//! | `create_task(coro, context=ctx)` | [`task::Builder::context`](crate::task::Builder::context)`(ctx).create(fut)` |
//! | `Runner(context=...)` | [`Builder::context`](crate::Builder::context) |

mod frame;
mod var;

use std::sync::Arc;

pub use var::{ContextVar, Token};

use frame::{run_in, Current, Frame};

/// A snapshot of the context variables' values (asyncio's
/// `contextvars.Context`). Cloning is cheap (the values are shared), and
/// every clone is a context of its own.
#[derive(Clone, Default)]
pub struct Context {
    frame: Option<Arc<Frame>>,
}

impl Context {
    /// An empty context: no variable set.
    pub fn new() -> Context {
        Context::default()
    }

    /// A copy of the current context (asyncio's `copy_context()`): later
    /// `set`s, here or in the copy, do not reach the other.
    pub fn current() -> Context {
        Context {
            frame: Current::take().snapshot(),
        }
    }

    /// Runs `f` in a copy of this context (as `self.copy().run(f)` in
    /// Python): `f` sees its values, its `set`s are visible inside `f` (and
    /// to tasks `f` creates) and are dropped when it returns; the caller's
    /// context is restored after. Read what `f` set with
    /// [`Context::current`] before it returns.
    ///
    /// ```
    /// use corio::context::{Context, ContextVar};
    ///
    /// static LEVEL: ContextVar<u8> = ContextVar::new("level");
    ///
    /// let inner = Context::new().run(|| {
    ///     LEVEL.set(3);
    ///     Context::current()
    /// });
    /// assert_eq!(LEVEL.get(), None); // not set out here
    /// assert_eq!(LEVEL.get_in(&inner), Some(3));
    /// assert_eq!(inner.run(|| LEVEL.get()), Some(3));
    /// ```
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        run_in(self.frame.clone(), f).0
    }

    /// Like [`run`](Self::run), keeping what `f` set in `self` (Python's
    /// `ctx.run(f)` on `ctx` itself).
    pub fn run_mut<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let (result, left) = run_in(self.frame.take(), f);
        self.frame = left;
        result
    }

    /// How many variables are set in this context.
    pub fn len(&self) -> usize {
        self.frame.as_ref().map_or(0, |frame| frame.len())
    }

    /// Whether no variable is set in this context.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn frame(&self) -> Option<&Frame> {
        self.frame.as_deref()
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("vars", &self.len())
            .finish()
    }
}

/// Runs `f` in an empty context of its own and restores the caller's.
pub(crate) fn isolated<R>(f: impl FnOnce() -> R) -> R {
    run_in(None, f).0
}

/// Wraps a callback so it runs in a copy of the context current now (where
/// it is scheduled), as asyncio's `call_soon`/`call_later` do. Returns it
/// unchanged while the context is empty.
pub(crate) fn bind(f: Box<dyn FnOnce() + Send + 'static>) -> Box<dyn FnOnce() + Send + 'static> {
    match Current::take().snapshot() {
        None => f,
        Some(frame) => Box::new(move || drop(run_in(Some(frame), f))),
    }
}
