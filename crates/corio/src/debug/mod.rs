//! Task introspection: asyncio's `ps` / `pstree` for the running loop.
//!
//! [`dump_tasks`] renders the loop's tasks as a tree; [`task_tree`] gives the
//! same tree as data. Every task shows its id, name, state, spawn location,
//! age (on the loop's clock, so virtual time under
//! [`Builder::manual_clock`](crate::Builder::manual_clock)) and poll count.
//! The children of a [`TaskGroup`](crate::TaskGroup) sit under the task that
//! runs its scope, nested groups nest, and every other task is at the top
//! level (the main task of [`run`](crate::run) included, shown as `(main)`).
//! Both work in any mode, not only in debug mode, and cost nothing until
//! called.
//!
//! ```
//! use corio::task::TaskGroup;
//!
//! corio::run(async {
//!     let ready = std::sync::Arc::new(corio::sync::Event::new());
//!     let result = TaskGroup::<()>::scope(|group| async move {
//!         let waiter = ready.clone();
//!         group.create_task(async move {
//!             waiter.wait().await;
//!             Ok(())
//!         });
//!         corio::yield_now().await; // the child runs once, then waits
//!
//!         let dump = corio::debug::dump_tasks();
//!         println!("{dump}");
//!         // corio task tree (2 tasks, loop running for 0ms)
//!         // └── task 1 (main) running  src/main.rs:4:1  age 0ms  polls 2
//!         //     └── task 2 waiting  src/main.rs:8:15  age 0ms  polls 1
//!         assert!(dump.contains("(main) running"));
//!         assert!(dump.contains("    └── task"));
//!         assert!(dump.contains("waiting"));
//!
//!         let tree = corio::debug::task_tree();
//!         assert_eq!(tree.len(), 1);
//!         assert!(tree[0].is_main());
//!         let child = &tree[0].children()[0];
//!         assert_eq!(child.state(), corio::task::TaskState::Waiting);
//!         assert_eq!(child.polls(), 1);
//!         ready.set();
//!         Ok(())
//!     })
//!     .await;
//!     result.unwrap();
//! });
//! ```
//!
//! # Which task wrote a log line
//!
//! The task polling when a line is written is [`current_task`](crate::current_task)
//! (set for exactly the poll), so a formatter can name it: the line below
//! was written by task 4 inside a `request` span that task 1 made (a future
//! spawned with `.in_current_span()`), and says both. corio enters no span
//! of its own around polls by default: a span entered around a poll becomes
//! the parent of every span made during it and travels with them into
//! other tasks, so it would name task 1 there. (Opt-in per-task spans and
//! their cost: `corio_executor`'s docs, "Tracing".)
//!
//! ```text
//! [task 4 "worker"]  INFO request{path="/orders"}: my_app: fetched 12 rows
//! ```
//!
//! ```
//! use std::fmt;
//! use tracing_subscriber::fmt::format::{Format, Writer};
//! use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
//! use tracing_subscriber::registry::LookupSpan;
//!
//! /// Prefixes every line written inside a task with `[task ID "name"]`.
//! struct TaskPrefix(Format);
//!
//! impl<S, N> FormatEvent<S, N> for TaskPrefix
//! where
//!     S: tracing::Subscriber + for<'a> LookupSpan<'a>,
//!     N: for<'a> FormatFields<'a> + 'static,
//! {
//!     fn format_event(
//!         &self,
//!         ctx: &FmtContext<'_, S, N>,
//!         mut writer: Writer<'_>,
//!         event: &tracing::Event<'_>,
//!     ) -> fmt::Result {
//!         if let Some(task) = corio::current_task() {
//!             write!(writer, "[task {}", task.id().as_u64())?;
//!             if let Some(name) = task.name() {
//!                 write!(writer, " {name:?}")?;
//!             }
//!             write!(writer, "] ")?;
//!         }
//!         self.0.format_event(ctx, writer, event)
//!     }
//! }
//!
//! let subscriber = tracing_subscriber::fmt()
//!     .event_format(TaskPrefix(Format::default()))
//!     .finish();
//! tracing::subscriber::with_default(subscriber, || {
//!     corio::run(async {
//!         corio::task::Builder::new()
//!             .name("worker")
//!             .create(async { tracing::info!("fetched 12 rows") })
//!             .await
//!             .unwrap();
//!     })
//! });
//! ```

mod groups;
mod tree;

use std::io;

pub(crate) use groups::{GroupRegistration, GroupRegistry, GroupView};
pub use tree::TaskNode;

use crate::runtime::context;

/// The running loop's tasks as a tree (see the [module docs](self)):
/// top-level tasks in creation order, each with its `TaskGroup` children.
/// Internal tasks (callbacks) are left out.
///
/// # Panics
///
/// Outside a running loop.
#[track_caller]
pub fn task_tree() -> Vec<TaskNode> {
    tree_of_running_loop("corio::debug::task_tree()")
}

#[track_caller]
fn tree_of_running_loop(what: &str) -> Vec<TaskNode> {
    context::with(what, |handle| {
        let tasks = handle
            .shared
            .spawner
            .tasks()
            .expect("the running loop's executor is on this thread");
        let parents = handle.shared.task_groups.parents();
        tree::build(tasks, &parents)
    })
}

/// The running loop's tasks, rendered as an indented tree (asyncio's
/// `pstree`): one line per task with its id, name, state, spawn location, age
/// and poll count, `TaskGroup` children under their parent.
///
/// ```text
/// corio task tree (3 tasks, loop running for 1.2s)
/// ├── task 1 (main) running  src/main.rs:10:5  age 1.2s  polls 3
/// │   └── task 2 "fetch-a" scheduled  src/main.rs:14:9  age 400ms  polls 1
/// └── task 3 "ticker" waiting  src/main.rs:20:5  age 1.1s  polls 12
/// ```
///
/// # Panics
///
/// Outside a running loop.
#[track_caller]
pub fn dump_tasks() -> String {
    tree::render(&tree_of_running_loop("corio::debug::dump_tasks()"))
}

/// Prints [`dump_tasks`] to stderr each time the process receives `signal`
/// (typically [`SIGUSR1`](crate::signal::SIGUSR1)), so a hung production
/// process can be inspected with `kill -USR1 <pid>`.
///
/// The dump is written by a signal handler on the running loop
/// ([`LoopHandle::add_signal_handler`](crate::LoopHandle::add_signal_handler),
/// which it replaces for that signal), so it shows every task waiting on
/// something, which is how most async programs hang. A loop stuck inside one
/// task's synchronous call cannot print; debug mode's slow-poll warning
/// (`CORIO_DEBUG=1`) names that task instead.
///
/// ```no_run
/// corio::run(async {
///     corio::debug::install_dump_on_signal(corio::signal::SIGUSR1).unwrap();
///     // ... the program; `kill -USR1 <pid>` prints its task tree to stderr.
/// });
/// ```
///
/// # Errors
///
/// As [`LoopHandle::add_signal_handler`](crate::LoopHandle::add_signal_handler):
/// `InvalidInput` for a signal that cannot be handled.
///
/// # Panics
///
/// Outside a running loop.
#[track_caller]
pub fn install_dump_on_signal(signal: i32) -> io::Result<()> {
    let handle = context::with("corio::debug::install_dump_on_signal()", |h| h.clone());
    handle.add_signal_handler(signal, || {
        let dump = dump_tasks();
        eprintln!("{dump}");
    })
}
