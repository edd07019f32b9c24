//! `task::Builder`: tasks with options: a name (shown in errors,
//! `all_tasks` and debug output), eager start (asyncio's eager tasks), and
//! the context they run in.

use std::future::Future;
use std::panic::Location;

use corio_executor::Builder as TaskBuilder;

use crate::context::Context;
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
    eager: bool,
    context: Option<Context>,
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

    /// Makes the task *eager* (Python 3.12's `eager_task_factory`, per
    /// task): its first step runs inside `create`, on the calling thread,
    /// as the current task, up to its first `.await` that waits. If it
    /// finishes there, nothing is scheduled at all and the returned task is
    /// already done; otherwise it goes on as any task. A panic in that step
    /// is the task's (awaiting the task reports it), never the creator's.
    ///
    /// [`Runner::builder().eager_tasks(true)`](crate::Builder::eager_tasks)
    /// makes every task of a loop eager. Eager steps nest (an eager task
    /// creating an eager task) at most
    /// [`Spawner::MAX_EAGER_DEPTH`](corio_executor::Spawner::MAX_EAGER_DEPTH)
    /// (32) deep on a thread; deeper, the task is scheduled as a normal one.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// corio::run(async {
    ///     let log = Arc::new(Mutex::new(Vec::new()));
    ///     let task = corio::task::Builder::new().eager().create({
    ///         let log = log.clone();
    ///         async move {
    ///             log.lock().unwrap().push("eager step");
    ///             corio::yield_now().await;
    ///             log.lock().unwrap().push("second step");
    ///         }
    ///     });
    ///     log.lock().unwrap().push("create returned");
    ///     task.await.unwrap();
    ///     assert_eq!(*log.lock().unwrap(), ["eager step", "create returned", "second step"]);
    ///
    ///     // Done without waiting: already finished when `create` returns.
    ///     let done = corio::task::Builder::new().eager().create(async { 7 });
    ///     assert!(done.is_done());
    ///     assert_eq!(done.await.unwrap(), 7);
    /// });
    /// ```
    pub fn eager(mut self) -> Builder {
        self.eager = true;
        self
    }

    /// Runs the task in a copy of `context` instead of a copy of the
    /// current one (asyncio's `create_task(coro, context=ctx)`); see
    /// [`corio::context`](crate::context).
    pub fn context(mut self, context: Context) -> Builder {
        self.context = Some(context);
        self
    }

    pub(crate) fn location(mut self, location: &'static Location<'static>) -> Builder {
        self.location = Some(location);
        self
    }

    #[track_caller]
    fn finish(self) -> (TaskBuilder, bool, Option<Context>) {
        let location = match self.location {
            Some(location) => location,
            None => Location::caller(),
        };
        (self.inner.location(location), self.eager, self.context)
    }

    /// Creates the task on the running loop (see [`create_task`](crate::create_task)).
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    #[track_caller]
    #[inline]
    pub fn create<F>(self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (builder, eager, ctx) = self.finish();
        if eager || ctx.is_some() {
            return create_with_options(builder, eager, ctx, future);
        }
        // The common case: a normal task, unless the loop makes every task
        // eager (then the eager step runs outside the loop's thread-local
        // borrow, below).
        let normal = context::with("corio::create_task()", move |handle| {
            let spawner = &handle.shared.spawner;
            if spawner.eager_tasks() {
                Err((builder, future))
            } else {
                Ok(spawner.spawn_with(builder, future))
            }
        });
        normal.unwrap_or_else(|(builder, future)| create_with_options(builder, true, None, future))
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
        let (builder, eager, ctx) = self.finish();
        let spawn = move || {
            let eager = context::with("corio::create_local_task()", move |handle| {
                let spawner = &handle.shared.spawner;
                if eager || spawner.eager_tasks() {
                    Err((spawner.clone(), builder, future))
                } else {
                    Ok(spawner.spawn_local_with(builder, future))
                }
            });
            eager.unwrap_or_else(|(spawner, builder, future)| {
                spawner.spawn_local_eager_with(builder, future)
            })
        };
        match ctx {
            None => spawn(),
            Some(ctx) => ctx.run(spawn),
        }
    }
}

/// `create` of an eager task, or of a task in a given context: out of line.
#[track_caller]
#[inline(never)]
fn create_with_options<F>(
    builder: TaskBuilder,
    eager: bool,
    ctx: Option<Context>,
    future: F,
) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let spawn = move || {
        let spawner = context::with("corio::create_task()", |handle| {
            handle.shared.spawner.clone()
        });
        if eager || spawner.eager_tasks() {
            spawner.spawn_eager_with(builder, future)
        } else {
            spawner.spawn_with(builder, future)
        }
    };
    match ctx {
        None => spawn(),
        Some(ctx) => ctx.run(spawn),
    }
}
