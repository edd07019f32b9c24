//! [`GroupTaskBuilder`]: options for one child of a [`TaskGroup`] (its
//! name), asyncio's `TaskGroup.create_task(coro, name=...)`; and
//! `TaskGroup::builder` with the two spawn paths it and `create_task` share.

use std::future::Future;
use std::panic::Location;

use corio_executor::Builder as TaskBuilder;

use super::TaskGroup;
use crate::Task;

impl<E: Send + 'static> TaskGroup<E> {
    /// Options for one child task, such as its name (asyncio's
    /// `TaskGroup.create_task(coro, name=...)`): see [`GroupTaskBuilder`].
    ///
    /// ```
    /// use corio::task::TaskGroup;
    ///
    /// corio::run(async {
    ///     let failed = TaskGroup::<String>::scope(|group| async move {
    ///         group.builder().name("loader").create(async { Err::<(), _>("no disk".to_string()) });
    ///         Ok(())
    ///     })
    ///     .await
    ///     .unwrap_err();
    ///     assert_eq!(failed.errors()[0].task().name(), Some("loader"));
    /// });
    /// ```
    pub fn builder(&self) -> GroupTaskBuilder<'_, E> {
        GroupTaskBuilder::new(self)
    }

    /// `create_task` with the executor's options already chosen.
    ///
    /// Eager (`eager`, or a loop made with
    /// [`eager_tasks(true)`](crate::Builder::eager_tasks), as asyncio's
    /// `TaskGroup.create_task` goes through the loop's task factory): the
    /// child's first step runs here; a child that finishes in it is never
    /// queued, and one that fails in it fails the group as any child does.
    pub(super) fn create_with<F, T>(&self, options: TaskBuilder, eager: bool, future: F) -> Task<T>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
    {
        let spawner = &self.inner.spawner;
        match eager || spawner.eager_tasks() {
            true => self.add(|child| spawner.spawn_eager_with(options, child), future),
            false => self.add(|child| spawner.spawn_with(options, child), future),
        }
    }

    /// `create_local_task` with the executor's options already chosen.
    pub(super) fn create_local_with<F, T>(
        &self,
        options: TaskBuilder,
        eager: bool,
        future: F,
    ) -> Task<T>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
    {
        let spawner = &self.inner.spawner;
        match eager || spawner.eager_tasks() {
            true => self.add(
                |child| spawner.spawn_local_eager_with(options, child),
                future,
            ),
            false => self.add(|child| spawner.spawn_local_with(options, child), future),
        }
    }
}

/// Options for one child task of a [`TaskGroup`]: made by
/// [`TaskGroup::builder`], consumed by [`create`](Self::create) or
/// [`create_local`](Self::create_local). A child's name shows in its
/// [`Task`], in [`all_tasks`](crate::all_tasks) and `corio::debug`'s task
/// dumps, and in the group's [`TaskGroupError`](crate::TaskGroupError)
/// when it fails.
///
/// ```
/// use corio::task::TaskGroup;
///
/// corio::run(async {
///     TaskGroup::<()>::scope(|group| async move {
///         let child = group.builder().name("worker-1").create(async {
///             let me = corio::current_task().unwrap();
///             Ok(me.name().map(str::to_owned))
///         });
///         assert_eq!(child.name(), Some("worker-1"));
///         Ok(())
///     })
///     .await
///     .unwrap();
/// });
/// ```
#[must_use = "a builder does nothing until `create` or `create_local`"]
pub struct GroupTaskBuilder<'a, E> {
    group: &'a TaskGroup<E>,
    name: Option<String>,
    eager: bool,
}

impl<'a, E: Send + 'static> GroupTaskBuilder<'a, E> {
    pub(super) fn new(group: &'a TaskGroup<E>) -> GroupTaskBuilder<'a, E> {
        GroupTaskBuilder {
            group,
            name: None,
            eager: false,
        }
    }

    /// Names the child.
    pub fn name(mut self, name: impl Into<String>) -> GroupTaskBuilder<'a, E> {
        self.name = Some(name.into());
        self
    }

    /// Makes the child eager (see [`task::Builder::eager`](crate::task::Builder::eager)):
    /// its first step runs inside `create`.
    ///
    /// ```
    /// use corio::task::TaskGroup;
    ///
    /// corio::run(async {
    ///     TaskGroup::<()>::scope(|group| async move {
    ///         let child = group.builder().eager().create(async { Ok(5) });
    ///         assert!(child.is_done(), "finished in its eager step");
    ///         assert_eq!(child.await.unwrap(), 5);
    ///         Ok(())
    ///     })
    ///     .await
    ///     .unwrap();
    /// });
    /// ```
    pub fn eager(mut self) -> GroupTaskBuilder<'a, E> {
        self.eager = true;
        self
    }

    fn options(&self, location: &'static Location<'static>) -> TaskBuilder {
        let options = TaskBuilder::new().location(location);
        match &self.name {
            Some(name) => options.name(name.as_str()),
            None => options,
        }
    }

    /// Adds the child, as [`TaskGroup::create_task`] does.
    ///
    /// # Panics
    ///
    /// After the group's `scope` returned.
    #[track_caller]
    pub fn create<F, T>(self, future: F) -> Task<T>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
    {
        let options = self.options(Location::caller());
        self.group.create_with(options, self.eager, future)
    }

    /// Adds a child that need not be `Send`, as
    /// [`TaskGroup::create_local_task`] does.
    ///
    /// # Panics
    ///
    /// After the group's `scope` returned, or off the loop's thread.
    #[track_caller]
    pub fn create_local<F, T>(self, future: F) -> Task<T>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
    {
        let options = self.options(Location::caller());
        self.group.create_local_with(options, self.eager, future)
    }
}
