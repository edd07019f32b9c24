//! Spawning: the [`Builder`] that allocates a task for a [`Schedule`]r.

use std::future::Future;
use std::panic::Location;

use super::header::{next_task_id, FLAG_BLOCK_ON, FLAG_HIDDEN, FLAG_LOCAL};
use super::{Runnable, Task};
use crate::Schedule;

/// Options for a new task: name, spawn location, visibility.
#[derive(Debug, Default)]
pub struct Builder {
    name: Option<Box<str>>,
    location: Option<&'static Location<'static>>,
    flags: u32,
}

impl Builder {
    /// A builder with no name; the spawn location is the caller of `spawn`.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the task (shown in errors, listings and debug output).
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into().into_boxed_str());
        self
    }

    /// Records `location` as the spawn location instead of the caller of `spawn`.
    pub fn location(mut self, location: &'static Location<'static>) -> Builder {
        self.location = Some(location);
        self
    }

    /// Marks the task internal to its runtime (a loop callback): task listings leave it out.
    pub fn hidden(mut self, hidden: bool) -> Builder {
        if hidden {
            self.flags |= FLAG_HIDDEN;
        } else {
            self.flags &= !FLAG_HIDDEN;
        }
        self
    }

    /// Marks the task as the one running `block_on`'s future.
    pub(crate) fn block_on(mut self) -> Builder {
        self.flags |= FLAG_BLOCK_ON;
        self
    }

    /// Allocates a task for `future`, scheduled on `scheduler`. Returns the
    /// [`Runnable`] to queue (the task has not been polled) and its handle.
    #[inline]
    #[track_caller]
    pub fn spawn<F, S>(self, future: F, scheduler: S) -> (Runnable, Task<F::Output>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
        S: Schedule,
    {
        // SAFETY: the future is 'static and Send, so it may be polled and
        // dropped anywhere, at any time.
        unsafe { self.allocate(future, scheduler, 0) }
    }

    /// Like [`Builder::spawn`] without the `Send` and `'static` bounds; marks
    /// the task local.
    ///
    /// # Safety
    ///
    /// If the future is not `Send`, the `Runnable` must be run, and the task
    /// cancelled or dropped, only on the thread that spawned it. If it is not
    /// `'static`, the future must be dropped (by completing it, or by the
    /// owning executor cancelling it) before any data it borrows goes away.
    #[track_caller]
    pub unsafe fn spawn_unchecked<F, S>(
        self,
        future: F,
        scheduler: S,
    ) -> (Runnable, Task<F::Output>)
    where
        F: Future,
        S: Schedule,
    {
        // SAFETY: the obligations are forwarded to our caller.
        unsafe { self.allocate(future, scheduler, FLAG_LOCAL) }
    }

    /// # Safety
    ///
    /// As for [`Builder::spawn_unchecked`].
    #[inline]
    #[track_caller]
    unsafe fn allocate<F, S>(
        self,
        future: F,
        scheduler: S,
        flags: u32,
    ) -> (Runnable, Task<F::Output>)
    where
        F: Future,
        S: Schedule,
    {
        let location = match self.location {
            Some(location) => location,
            None => Location::caller(),
        };
        let id = next_task_id();
        let flags = self.flags | flags;
        // Feature `console`: the task lives in its tokio-console span (see
        // `console.rs`); without the feature the future is stored as is.
        #[cfg(feature = "console")]
        let future =
            crate::console::Instrumented::new(future, id, self.name.as_deref(), location, flags);
        // SAFETY: the obligations are forwarded to our caller.
        let ptr =
            unsafe { super::cell::allocate(future, scheduler, id, self.name, location, flags) };
        // SAFETY: the initial state (`State::new_spawned`) holds one reference
        // with SCHEDULED, for the Runnable, and the HANDLE bit, for the Task.
        unsafe { (Runnable::from_raw(ptr), Task::from_raw(ptr)) }
    }
}
