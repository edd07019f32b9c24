//! Time on the running loop's clock: `sleep`, `timeout` (asyncio's
//! `wait_for`/`timeout`, including `timeout(None)` and rescheduling),
//! `interval`, and corio's [`Instant`].
//!
//! The futures come from `corio-timer`; these functions bind them to the
//! running loop's timers.
//!
//! | asyncio | corio |
//! |---|---|
//! | `async with asyncio.timeout(d):` / `await asyncio.wait_for(aw, d)` | [`timeout`]`(d, fut).await` |
//! | `async with asyncio.timeout_at(when):` | [`timeout_at`]`(when, fut).await` |
//! | `async with asyncio.timeout(None):` | [`timeout_never`]`(fut).await` |
//! | `async with asyncio.timeout(..) as cm:` + `cm.reschedule(t)` / `cm.when()` / `cm.expired()` inside or after the block | a [`Deadline`] and [`timeout_with`]`(&deadline, fut)`; `deadline.reschedule(Some(t))`, `.when()`, `.expired()` |
//! | `cm.reschedule(t)` from the code holding the timeout | [`Timeout::reschedule_at`]`(Some(t))` on a pinned `Timeout` |

use std::future::Future;
use std::time::Duration;

pub use corio_timer::{Deadline, Elapsed, Instant, Interval, MissedTickBehavior, Sleep, Timeout};

use crate::runtime::context;

/// The running loop's clock (asyncio's `loop.time()`).
///
/// # Panics
///
/// Outside a running loop.
#[track_caller]
pub fn now() -> Instant {
    context::with("corio::time::now()", |handle| handle.time())
}

/// Moves a manual clock (see [`Builder::manual_clock`](crate::Builder::manual_clock))
/// forward by `duration`, then waits until every timer due by the new time
/// has fired (in deadline order) and the tasks it woke have had a turn.
///
/// ```
/// use std::time::Duration;
///
/// let mut runner = corio::Runner::builder().manual_clock().build().unwrap();
/// runner.run(async {
///     let timer = corio::create_task(corio::sleep(Duration::from_secs(60)));
///     corio::time::advance(Duration::from_secs(59)).await;
///     assert!(!timer.is_done());
///     corio::time::advance(Duration::from_secs(1)).await;
///     assert!(timer.is_done());
/// });
/// ```
///
/// # Panics
///
/// Outside a running loop, or if the loop's clock is the real one.
pub async fn advance(duration: Duration) {
    let target = context::with("corio::time::advance()", |handle| {
        let clock = handle.shared.timers.clock();
        assert!(
            clock.is_manual(),
            "corio::time::advance() needs virtual time: build the loop with \
             corio::Runner::builder().manual_clock()"
        );
        clock.advance(duration);
        clock.now()
    });
    // A timer at exactly the new time fires after every timer due by then
    // (deadline order, FIFO among equals), so this returns after them.
    sleep_until(target).await;
    crate::yield_now().await;
}

/// Waits `duration` (asyncio's `sleep`). Never completes early; a duration
/// too large to represent waits forever. For `sleep(0)` semantics use
/// [`yield_now`](crate::yield_now).
///
/// ```
/// use std::time::Duration;
/// corio::run(async {
///     let start = corio::time::now();
///     corio::sleep(Duration::from_millis(20)).await;
///     assert!(corio::time::now() - start >= Duration::from_millis(20));
/// });
/// ```
///
/// # Panics
///
/// Outside a running loop.
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    context::with("corio::sleep()", |handle| {
        let timers = &handle.shared.timers;
        Sleep::new(timers, timers.now().saturating_add(duration))
    })
}

/// Waits until `deadline` on the loop's clock.
///
/// # Panics
///
/// Outside a running loop.
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    context::with("corio::sleep_until()", |handle| {
        Sleep::new(&handle.shared.timers, deadline)
    })
}

/// Runs `future` with a time limit (asyncio's `wait_for` / `timeout`):
/// `Ok(output)`, or `Err(Elapsed)` once `duration` passed, in which case the
/// future is dropped with the `Timeout`. A future that is already complete
/// returns its value even if the deadline passed.
///
/// The time limit starts at the first poll, not at this call: futures are
/// lazy, and asyncio's `async with asyncio.timeout(d)` also starts its clock
/// on entry. Precisely, the first poll that finds `future` pending reads the
/// loop's clock and sets the deadline `duration` after it, so a future that
/// completes on its first poll costs no clock read and no timer. Use
/// [`timeout_at`] for a deadline fixed in advance.
///
/// ```
/// use std::time::Duration;
/// corio::run(async {
///     let fast = corio::timeout(Duration::from_secs(1), async { 5 }).await;
///     assert_eq!(fast, Ok(5));
///     let slow = corio::timeout(Duration::from_millis(10), std::future::pending::<()>()).await;
///     assert!(slow.is_err());
/// });
/// ```
///
/// # Panics
///
/// When first polled with `future` pending outside a running loop (and
/// [`Timeout::deadline`] or [`Timeout::reschedule`] before that, likewise).
#[doc(alias = "wait_for")]
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout::lazy(duration, running_timers, future)
}

/// The running loop's timers, for a [`timeout`] starting its limit.
fn running_timers() -> corio_timer::TimerHandle {
    context::with("corio::timeout()", |handle| handle.shared.timers.clone())
}

/// Runs `future` until `deadline` (see [`timeout`]).
///
/// # Panics
///
/// Outside a running loop.
#[track_caller]
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    context::with("corio::timeout_at()", |handle| {
        Timeout::new(&handle.shared.timers, deadline, future)
    })
}

/// Runs `future` with no deadline (asyncio's `async with
/// asyncio.timeout(None)`): it is `future` itself until the code holding
/// the pinned [`Timeout`] gives it one with
/// [`reschedule_at`](Timeout::reschedule_at). Looks up the loop's timers
/// only then, so it works anywhere until it is given a deadline.
///
/// To move the deadline from *inside* the future, as asyncio code calls
/// `cm.reschedule()` inside the block, use [`timeout_with`] and a
/// [`Deadline`].
///
/// ```
/// use std::pin::pin;
/// use std::time::Duration;
///
/// let mut runner = corio::Runner::builder().manual_clock().build().unwrap();
/// runner.run(async {
///     let start = corio::time::now();
///     let mut work = pin!(corio::time::timeout_never(corio::sleep(Duration::from_secs(60))));
///     assert_eq!(work.when(), None);
///     // Poll it a while with no deadline, then impose one.
///     let _ = corio::timeout(Duration::from_secs(5), work.as_mut()).await;
///     work.as_mut().reschedule_at(Some(start + Duration::from_secs(10)));
///     assert!(work.as_mut().await.is_err());
///     assert_eq!(corio::time::now() - start, Duration::from_secs(10));
/// });
/// ```
///
/// # Panics
///
/// When given a deadline outside a running loop.
pub fn timeout_never<F: Future>(future: F) -> Timeout<F> {
    Timeout::lazy_never(running_timers, future)
}

/// Runs `future` against a shared [`Deadline`] (asyncio's `async with
/// asyncio.timeout(..) as cm`): clone the deadline into `future` and it
/// can read, move or remove the deadline while it runs
/// ([`Deadline::reschedule`], `cm.reschedule(..)` in asyncio); afterwards
/// [`Deadline::expired`] says whether the deadline cut it off.
///
/// ```
/// use std::time::Duration;
/// use corio::time::Deadline;
///
/// let mut runner = corio::Runner::builder().manual_clock().build().unwrap();
/// runner.run(async {
///     // async with asyncio.timeout(None) as cm:
///     let cm = Deadline::new(None);
///     let result = corio::time::timeout_with(&cm, async {
///         // Only now do we know how long this may take.
///         cm.reschedule(Some(corio::time::now() + Duration::from_secs(10)));
///         corio::sleep(Duration::from_secs(60)).await;
///     })
///     .await;
///     assert!(result.is_err());
///     assert!(cm.expired()); // if cm.expired(): ...
/// });
/// ```
///
/// # Panics
///
/// Outside a running loop.
#[track_caller]
pub fn timeout_with<F: Future>(deadline: &Deadline, future: F) -> Timeout<F> {
    context::with("corio::time::timeout_with()", |handle| {
        Timeout::with_deadline(&handle.shared.timers, deadline, future)
    })
}

/// Ticks every `period`, the first tick at once; ticks are scheduled at
/// `start + k * period`, so they do not drift.
///
/// ```
/// use std::time::Duration;
/// corio::run(async {
///     let mut ticks = corio::interval(Duration::from_millis(5));
///     let first = ticks.tick().await;
///     let second = ticks.tick().await;
///     assert_eq!(second - first, Duration::from_millis(5));
/// });
/// ```
///
/// # Panics
///
/// Outside a running loop, or if `period` is zero.
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    context::with("corio::interval()", |handle| {
        let timers = &handle.shared.timers;
        Interval::new(timers, timers.now(), period)
    })
}
