//! [`ContextVar`] and its reset [`Token`] (asyncio's `contextvars.ContextVar`
//! and `contextvars.Token`).

use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::frame::{next_id, Current, Value};
use super::Context;

/// A context variable: a value per context, so per task (asyncio's
/// `contextvars.ContextVar`). Declare it in a `static` (its identity is
/// the static; a `const` would make a new variable at every use).
///
/// `get` returns the value set in the current context, else the default
/// (`None` without one); `set` sets it in the current context only and
/// returns a [`Token`] for [`reset`](ContextVar::reset). A task sees the
/// values its creator's context held when the task was created, and its
/// own `set`s are seen by its later polls and by the tasks it creates
/// afterwards, never by its creator or its siblings.
///
/// ```
/// use corio::context::ContextVar;
///
/// static REQUEST_ID: ContextVar<u32> = ContextVar::new("request_id");
///
/// corio::run(async {
///     let token = REQUEST_ID.set(1);
///     let child = corio::create_task(async {
///         let seen = REQUEST_ID.get(); // copied when the task was created
///         REQUEST_ID.set(2); // the child's own copy
///         seen
///     });
///     assert_eq!(child.await.unwrap(), Some(1));
///     assert_eq!(REQUEST_ID.get(), Some(1)); // the child's set stayed there
///     REQUEST_ID.reset(token);
///     assert_eq!(REQUEST_ID.get(), None);
/// });
/// ```
pub struct ContextVar<T> {
    name: &'static str,
    /// Assigned on first use (0: not yet).
    id: AtomicU64,
    default: Option<T>,
}

impl<T> ContextVar<T> {
    /// A variable with no default: `get` is `None` until it is set.
    pub const fn new(name: &'static str) -> Self {
        ContextVar {
            name,
            id: AtomicU64::new(0),
            default: None,
        }
    }

    /// A variable whose `get` returns `default` where it is not set
    /// (asyncio's `ContextVar(name, default=...)`).
    pub const fn with_default(name: &'static str, default: T) -> Self {
        ContextVar {
            name,
            id: AtomicU64::new(0),
            default: Some(default),
        }
    }

    /// The variable's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    pub(crate) fn id(&self) -> u64 {
        match self.id.load(Ordering::Acquire) {
            0 => {
                let fresh = next_id();
                match self
                    .id
                    .compare_exchange(0, fresh, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => fresh,
                    Err(won) => won,
                }
            }
            id => id,
        }
    }
}

impl<T: Clone + Send + Sync + 'static> ContextVar<T> {
    /// The value in the current context, else the default, else `None`.
    pub fn get(&self) -> Option<T> {
        let current = Current::take();
        match current.frame().and_then(|frame| frame.get(self.id())) {
            Some(value) => value.downcast_ref::<T>().cloned(),
            None => self.default.clone(),
        }
    }

    /// Sets the value in the current context; the returned [`Token`]
    /// restores the value it replaced (see [`reset`](Self::reset)).
    pub fn set(&self, value: T) -> Token<T> {
        let id = self.id();
        let mut current = Current::take();
        let previous = current.frame_mut().put(id, Some(Arc::new(value)));
        Token {
            var: id,
            name: self.name,
            context: current.identity(),
            previous,
            _value: PhantomData,
        }
    }

    /// Restores the value the variable had before the `set` that made
    /// `token` (unset if it had none). A token is used once (`reset` takes it).
    ///
    /// # Panics
    ///
    /// If `token` was made by another variable, or in another context (an
    /// other task, another [`Context::run`]): asyncio's `ValueError`.
    #[track_caller]
    pub fn reset(&self, token: Token<T>) {
        if token.var != self.id() {
            panic!(
                "ContextVar::reset: the token was created by the variable {:?}, not by {:?}",
                token.name, self.name
            );
        }
        let mut current = Current::take();
        if current.identity() != token.context {
            drop(current);
            panic!(
                "ContextVar::reset: the token of {:?} was created in a different Context \
                 (another task, or another Context::run)",
                self.name
            );
        }
        current.frame_mut().put(token.var, token.previous);
    }

    /// The value in `context` (else the default, else `None`).
    pub fn get_in(&self, context: &Context) -> Option<T> {
        match context.frame().and_then(|frame| frame.get(self.id())) {
            Some(value) => value.downcast_ref::<T>().cloned(),
            None => self.default.clone(),
        }
    }
}

impl<T> std::fmt::Debug for ContextVar<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContextVar")
            .field("name", &self.name)
            .finish()
    }
}

/// What [`ContextVar::set`] returns: [`ContextVar::reset`] with it restores
/// the value the `set` replaced, in the context where it was made.
pub struct Token<T> {
    var: u64,
    name: &'static str,
    context: u64,
    previous: Option<Value>,
    _value: PhantomData<fn() -> T>,
}

impl<T: Clone + 'static> Token<T> {
    /// The value the variable had before the `set` (asyncio's
    /// `Token.old_value`; `None` for `Token.MISSING`).
    pub fn old_value(&self) -> Option<T> {
        self.previous
            .as_ref()
            .and_then(|value| value.downcast_ref::<T>().cloned())
    }
}

impl<T> std::fmt::Debug for Token<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token").field("var", &self.name).finish()
    }
}
