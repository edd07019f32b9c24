//! The data a context holds ([`Frame`]: a small copy-on-write map from
//! variable ids to values) and the one door to the thread's current one,
//! which the executor keeps (`Spawner::replace_context`): every task runs
//! in the copy it captured when it was created.

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use corio_executor::Spawner;

/// A value as the map holds it.
pub(crate) type Value = Arc<dyn Any + Send + Sync>;

/// The variables set in one context, sorted by variable id. Shared between
/// copies of the context (an `Arc`), cloned by the first `set` that finds it
/// shared: a copy costs one reference count, a write a clone of a short vector.
#[derive(Clone, Default)]
pub(crate) struct Frame {
    vars: Vec<(u64, Value)>,
}

impl Frame {
    pub(crate) fn get(&self, var: u64) -> Option<&Value> {
        self.vars
            .binary_search_by_key(&var, |(id, _)| *id)
            .ok()
            .map(|at| &self.vars[at].1)
    }

    /// Sets `var` (or removes it, for `None`); returns the value it had.
    pub(crate) fn put(&mut self, var: u64, value: Option<Value>) -> Option<Value> {
        match (self.vars.binary_search_by_key(&var, |(id, _)| *id), value) {
            (Ok(at), Some(value)) => Some(std::mem::replace(&mut self.vars[at].1, value)),
            (Ok(at), None) => Some(self.vars.remove(at).1),
            (Err(at), Some(value)) => {
                self.vars.insert(at, (var, value));
                None
            }
            (Err(_), None) => None,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.vars.len()
    }
}

/// A fresh id, for variables and for context identities (never 0).
pub(crate) fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The thread's current context, taken out of the executor's slot while
/// the guard lives and put back when it drops (also when unwinding). Code
/// that runs meanwhile (a value's `Clone`) sees an empty context, and what
/// it sets there is dropped.
pub(crate) struct Current {
    frame: Option<Arc<Frame>>,
    /// The context's identity, 0 while none is assigned.
    id: u64,
}

impl Current {
    pub(crate) fn take() -> Current {
        let (data, id) = Spawner::replace_context(None, 0);
        // Only this module installs context data, always a `Frame`.
        let frame = data.and_then(|data| data.downcast::<Frame>().ok());
        Current { frame, id }
    }

    pub(crate) fn frame(&self) -> Option<&Frame> {
        self.frame.as_deref()
    }

    /// The frame, to write (cloned first if a copy shares it).
    pub(crate) fn frame_mut(&mut self) -> &mut Frame {
        Arc::make_mut(self.frame.get_or_insert_with(Default::default))
    }

    /// The context's identity, assigned now if it has none.
    pub(crate) fn identity(&mut self) -> u64 {
        if self.id == 0 {
            self.id = next_id();
        }
        self.id
    }

    /// A copy of the data, to install elsewhere.
    pub(crate) fn snapshot(&self) -> Option<Arc<Frame>> {
        self.frame.clone()
    }
}

impl Drop for Current {
    fn drop(&mut self) {
        let data = self
            .frame
            .take()
            .map(|frame| frame as Arc<dyn Any + Send + Sync>);
        drop(Spawner::replace_context(data, self.id));
    }
}

/// Runs `f` with `frame` installed as a context of its own (a new identity
/// on first use), then restores the caller's (also when unwinding).
/// Returns `f`'s result and the frame it left.
pub(crate) fn run_in<R>(
    frame: Option<Arc<Frame>>,
    f: impl FnOnce() -> R,
) -> (R, Option<Arc<Frame>>) {
    struct Outer(Option<(Option<Value>, u64)>);
    impl Drop for Outer {
        fn drop(&mut self) {
            if let Some((data, id)) = self.0.take() {
                drop(Spawner::replace_context(data, id));
            }
        }
    }
    let data = frame.map(|frame| frame as Value);
    let mut outer = Outer(Some(Spawner::replace_context(data, 0)));
    let result = f();
    let (data, id) = outer.0.take().expect("restored once");
    let (left, _) = Spawner::replace_context(data, id);
    (result, left.and_then(|data| data.downcast::<Frame>().ok()))
}
