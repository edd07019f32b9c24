//! `gather` and `try_gather`: asyncio's `gather`, over any number of futures
//! of one type, polled concurrently in place (no tasks are spawned).
//!
//! For a fixed set of futures of different types, see the [`gather!`] and
//! [`try_gather!`] macros.
//!
//! [`gather!`]: crate::gather!
//! [`try_gather!`]: crate::try_gather!

use std::future::{poll_fn, Future};
use std::task::Poll;

use super::ready::Concurrent;

/// Runs every future concurrently and returns their outputs in input order,
/// whatever order they finished in (asyncio's `gather`).
///
/// The futures are polled in place by the task that awaits `gather`, as
/// `futures::future::join_all` does; no task is spawned, so they need not
/// be `Send` or `'static`. Each future has its own waker, so a wake-up polls
/// only the future it belongs to. Dropping the `gather` future drops every
/// future not yet finished. An empty input is ready at once with `[]`.
///
/// Iterations: `gather` returns in the poll in which its last future
/// finishes. asyncio's wraps each coroutine in a task, and the last task's
/// done-callback resolves the outer future one iteration later, whose
/// awaiter resumes one more iteration later. Code that counts iterations
/// after a `gather` (rare) sees it return two iterations earlier than
/// asyncio's; nothing else about the order changes.
///
/// ```
/// use std::time::Duration;
///
/// async fn after(ms: u64, value: &str) -> &str {
///     corio::sleep(Duration::from_millis(ms)).await;
///     value
/// }
///
/// corio::run(async {
///     let words = corio::gather([after(30, "a"), after(10, "b"), after(20, "c")]).await;
///     assert_eq!(words, ["a", "b", "c"]);
/// });
/// ```
#[doc(alias = "join_all")]
pub async fn gather<I, F>(futs: I) -> Vec<F::Output>
where
    I: IntoIterator<Item = F>,
    F: Future,
{
    let mut set = Concurrent::new(futs);
    poll_fn(|cx| {
        let mut may_drain = true;
        loop {
            match set.poll_next(cx, &mut may_drain) {
                Poll::Ready(Some(_)) => continue,
                Poll::Ready(None) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
    })
    .await;
    set.into_outputs().collect()
}

/// Runs every future concurrently and returns all their values in input
/// order, or the first `Err` as soon as it happens (asyncio's `gather`
/// raising the first exception, except that the others do not go on).
///
/// On the first `Err` every other future is dropped before `try_gather`
/// returns, so their cleanup (`Drop`) has run by then. Polled in place like
/// [`gather`]; an empty input is `Ok([])` at once.
///
/// ```
/// use std::time::Duration;
///
/// async fn check(ms: u64, ok: bool) -> Result<u64, String> {
///     corio::sleep(Duration::from_millis(ms)).await;
///     if ok { Ok(ms) } else { Err(format!("{ms} failed")) }
/// }
///
/// corio::run(async {
///     let all = corio::try_gather([check(20, true), check(10, true)]).await;
///     assert_eq!(all, Ok(vec![20, 10]));
///
///     // The failure after 10 ms ends it; the 1-hour check is dropped.
///     let first = corio::try_gather([check(3_600_000, true), check(10, false)]).await;
///     assert_eq!(first, Err("10 failed".to_string()));
/// });
/// ```
#[doc(alias = "try_join_all")]
pub async fn try_gather<I, F, T, E>(futs: I) -> Result<Vec<T>, E>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>>,
{
    let mut set = Concurrent::new(futs);
    poll_fn(|cx| {
        let mut may_drain = true;
        loop {
            match set.poll_next(cx, &mut may_drain) {
                Poll::Ready(Some(index)) => {
                    if let Err(error) = set.take_err(index) {
                        // Drop the other futures before anyone sees the error.
                        set.clear();
                        return Poll::Ready(Err(error));
                    }
                }
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
    })
    .await?;
    Ok(set
        .into_outputs()
        .map(|output| match output {
            Ok(value) => value,
            Err(_) => unreachable!("an Err ends try_gather when it happens"),
        })
        .collect())
}
