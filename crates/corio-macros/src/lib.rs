//! `#[corio::main]` and `#[corio::test]`: an `async fn` run on a fresh
//! corio event loop, the way `asyncio.run(main())` runs a coroutine.
//!
//! Use them through the `corio` crate, which re-exports them (its default
//! `macros` feature):
//!
//! ```
//! #[corio::main]
//! async fn main() {
//!     let task = corio::create_task(async { 40 + 2 });
//!     assert_eq!(task.await.unwrap(), 42);
//! }
//! ```
//!
//! The attribute turns the `async fn` into a plain `fn` of the same name
//! that builds a [`corio::Runner`](https://docs.rs/corio/latest/corio/struct.Runner.html)
//! with `Runner::builder()`, runs the body on it, closes it and returns the
//! body's output. The body runs on the calling thread, so it need not be
//! `Send`. Options, each one `Builder` call:
//!
//! | option | `Builder` call | tokio's |
//! |---|---|---|
//! | `workers = 4` | `.workers(4)` | `flavor = "multi_thread", worker_threads = 4` |
//! | `workers = "auto"` | `.workers_auto()` (one per core) | `flavor = "multi_thread"` |
//! | `debug`, `debug = true` | `.debug(true)` | (none) |
//! | `manual_clock` | `.manual_clock()` (virtual time) | `start_paused = true` |
//! | `crate = "path"` | reach corio as `path` (a renamed dependency) | `crate = "path"` |
//!
//! Without `workers`, the `CORIO_WORKERS` environment variable chooses (1,
//! asyncio's single-threaded loop, by default), as for `Runner::builder()`.
//! Errors in the attribute or the function are compile errors that point at
//! the offending token.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod expand;
mod item;
mod options;

use proc_macro::TokenStream;

/// Runs an `async fn main` on a new corio event loop.
///
/// ```
/// #[corio::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let n: u32 = "7".parse()?;
///     corio::sleep(std::time::Duration::from_millis(1)).await;
///     assert_eq!(n, 7);
///     Ok(())
/// }
/// ```
///
/// With options (see the [crate docs](crate) for all of them):
///
/// ```
/// #[corio::main(workers = 2, debug)]
/// async fn main() {
///     assert!(corio::get_running_loop().is_debug());
///     let name = corio::create_task(async {
///         std::thread::current().name().map(str::to_owned)
///     });
///     assert!(name.await.unwrap().unwrap().starts_with("corio-worker"));
/// }
/// ```
///
/// The function must be `async` and take no arguments:
///
/// ```compile_fail
/// #[corio::main]
/// fn main() {}
/// ```
///
/// Ctrl-C while it runs cancels the body as [`corio::run`] does: the body's
/// `Drop`s run, the tasks left are cancelled, and the program exits with a
/// panic saying it was interrupted.
///
/// [`corio::run`]: https://docs.rs/corio/latest/corio/fn.run.html
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::main(args.into(), item.into()).into()
}

/// Runs an `async fn` test on a fresh corio event loop of its own.
///
/// It generates `#[test] fn name()`, so other attributes (`#[should_panic]`,
/// `#[ignore]`) go with it, and a test may return `Result<(), E>`.
/// `manual_clock` gives the test virtual time (tokio's `start_paused`): a
/// test that sleeps an hour finishes at once.
///
/// ```
/// use std::time::Duration;
///
/// #[corio::test(manual_clock)]
/// async fn an_hour_passes_at_once() {
///     let before = corio::time::now();
///     corio::sleep(Duration::from_secs(3600)).await;
///     assert_eq!(corio::time::now() - before, Duration::from_secs(3600));
/// }
///
/// #[corio::test]
/// #[should_panic(expected = "boom")]
/// async fn panics() {
///     corio::create_task(async {}).await.unwrap();
///     panic!("boom");
/// }
///
/// #[corio::test(workers = 2)]
/// async fn returns_a_result() -> Result<(), std::num::ParseIntError> {
///     let n: u8 = "7".parse()?;
///     assert_eq!(corio::create_task(async move { n * 6 }).await.unwrap(), 42);
///     Ok(())
/// }
/// # fn main() {} // A doctest builds no tests: these run in corio's tests/corio/macros.rs.
/// ```
///
/// Unknown options are compile errors:
///
/// ```compile_fail
/// #[corio::test(start_paused = true)]
/// async fn paused() {}
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::test(args.into(), item.into()).into()
}

/// The README's examples, compiled and run as doctests (a module: a
/// proc-macro crate exports nothing but its macros).
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
mod readme_doctests {}
