//! `task::Builder`: tasks with a name (shown in errors, `all_tasks` and debug output).

use std::future::Future;
use std::panic::Location;

use corio_executor::Builder as TaskBuilder;

use crate::runtime::context;
use crate::Task;

/// Creates tasks with options (asyncio's `create_task(coro, name=...)`).
///
/// ```
/// corio::run(async {
///     let task = corio::task::Builder::new().name("fetch-1").create(async { 7 });
///     assert_eq!(task.name(), Some("fetch-1"));
///     assert_eq!(task.await.unwrap(), 7);
/// });
/// ```
#[derive(Debug, Default)]
pub struct Builder {
    inner: TaskBuilder,
    location: Option<&'static Location<'static>>,
}

impl Builder {
    /// A builder for an unnamed task.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the task.
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.inner = self.inner.name(name);
        self
    }

    pub(crate) fn location(mut self, location: &'static Location<'static>) -> Builder {
        self.location = Some(location);
        self
    }

    #[track_caller]
    fn finish(self) -> TaskBuilder {
        let location = match self.location {
            Some(location) => location,
            None => Location::caller(),
        };
        self.inner.location(location)
    }

    /// Creates the task on the running loop (see [`create_task`](crate::create_task)).
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    #[track_caller]
    pub fn create<F>(self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let builder = self.finish();
        context::with("corio::create_task()", move |handle| {
            handle.shared.spawner.spawn_with(builder, future)
        })
    }

    /// Creates a `!Send` task on the running loop (see
    /// [`create_local_task`](crate::create_local_task)).
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    #[track_caller]
    pub fn create_local<F>(self, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let builder = self.finish();
        context::with("corio::create_local_task()", move |handle| {
            handle.shared.spawner.spawn_local_with(builder, future)
        })
    }
}
