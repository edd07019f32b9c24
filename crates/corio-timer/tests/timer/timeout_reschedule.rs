//! `Timeout` without a deadline, rescheduled and disabled (asyncio's
//! `timeout(None)`, `reschedule`, `when`, `expired`), and following a
//! shared `Deadline` moved from inside its future or from outside.

use std::future::{pending, poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use corio_timer::{Clock, Deadline, Elapsed, Instant, Timeout, TimerHandle, Timers};

use crate::common::Log;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn poll_with<F: Future>(fut: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(waker))
}

/// Advances the manual clock by `d` and fires what became due.
fn advance(timers: &Timers, d: Duration) -> usize {
    timers.clock().advance(d);
    timers.fire(timers.handle().now())
}

fn unreachable_timers() -> TimerHandle {
    panic!("a timeout without a deadline looked up its timers")
}

#[test]
fn a_timeout_without_a_deadline_never_elapses_and_uses_no_timer() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let log = Log::new();
    let mut t = pin!(Timeout::never(&handle, pending::<()>()));
    assert_eq!(t.when(), None);
    assert_eq!(t.deadline(), Instant::MAX);
    assert!(poll_with(t.as_mut(), &log.waker(1)).is_pending());
    assert!(timers.is_empty());
    advance(&timers, Duration::from_secs(3600));
    assert!(poll_with(t.as_mut(), &log.waker(1)).is_pending());
    assert!(!t.expired());
    assert!(log.take().is_empty());
    assert!(format!("{t:?}").contains("NoDeadline"));
}

#[test]
fn a_lazy_never_timeout_looks_up_its_timers_only_when_given_a_deadline() {
    let mut t = pin!(Timeout::lazy_never(unreachable_timers, pending::<()>()));
    assert!(poll_with(t.as_mut(), Waker::noop()).is_pending());
    assert_eq!(t.when(), None);
    t.as_mut().reschedule_at(None);
    assert!(poll_with(t.as_mut(), Waker::noop()).is_pending());
}

#[test]
fn rescheduling_none_to_some_arms_it_and_back_to_none_disarms_it() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let t0 = handle.now();
    let mut t = pin!(Timeout::never(&handle, pending::<()>()));
    assert!(poll_with(t.as_mut(), Waker::noop()).is_pending());
    t.as_mut().reschedule_at(Some(t0 + ms(10)));
    assert_eq!(t.when(), Some(t0 + ms(10)));
    assert!(poll_with(t.as_mut(), Waker::noop()).is_pending());
    assert_eq!(timers.len(), 1);

    // Disabled again: the queue entry goes at once.
    t.as_mut().reschedule_at(None);
    assert!(timers.is_empty());
    assert_eq!(t.when(), None);
    assert_eq!(advance(&timers, ms(20)), 0);
    assert!(poll_with(t.as_mut(), Waker::noop()).is_pending());

    // A deadline already in the past elapses at the next poll.
    t.as_mut().reschedule_at(Some(t0 + ms(5)));
    assert_eq!(
        poll_with(t.as_mut(), Waker::noop()),
        Poll::Ready(Err(Elapsed::new()))
    );
    assert!(t.expired());
    // Rescheduling re-arms it and clears `expired`.
    t.as_mut().reschedule_at(Some(handle.now() + ms(1)));
    assert!(!t.expired());
}

#[test]
fn a_lazy_timeout_can_be_disabled_before_it_starts() {
    let mut t = pin!(Timeout::lazy(ms(10), unreachable_timers, pending::<()>()));
    t.as_mut().reschedule_at(None);
    assert_eq!(t.when(), None);
    assert!(poll_with(t.as_mut(), Waker::noop()).is_pending());
}

#[test]
fn expired_is_set_only_when_the_deadline_cut_the_future_off() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    // The inner future wins a tie: not expired.
    let mut sleep_first = pin!(Timeout::new(
        &handle,
        handle.now() + ms(5),
        handle.sleep(ms(5))
    ));
    assert!(poll_with(sleep_first.as_mut(), Waker::noop()).is_pending());
    advance(&timers, ms(5));
    assert_eq!(
        poll_with(sleep_first.as_mut(), Waker::noop()),
        Poll::Ready(Ok(()))
    );
    assert!(!sleep_first.expired());

    let mut slow = pin!(Timeout::new(&handle, handle.now() + ms(5), pending::<()>()));
    assert!(poll_with(slow.as_mut(), Waker::noop()).is_pending());
    assert!(!slow.expired());
    advance(&timers, ms(5));
    assert!(poll_with(slow.as_mut(), Waker::noop()).is_ready());
    assert!(slow.expired());
}

#[test]
fn the_future_inside_moves_a_shared_deadline_without_waking_itself() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let t0 = handle.now();
    let deadline = Deadline::new(None);
    let log = Log::new();
    // The body sets the deadline on its first poll, as asyncio code calls
    // cm.reschedule() inside `async with timeout(None) as cm`.
    let body = {
        let (deadline, handle) = (deadline.clone(), handle.clone());
        let mut first = true;
        poll_fn(move |_| {
            if first {
                first = false;
                deadline.reschedule(Some(handle.now() + ms(10)));
            }
            Poll::<()>::Pending
        })
    };
    let mut t = pin!(Timeout::with_deadline(&handle, &deadline, body));
    assert!(poll_with(t.as_mut(), &log.waker(1)).is_pending());
    assert_eq!(t.when(), Some(t0 + ms(10)));
    assert_eq!(timers.len(), 1, "armed right after the body returned");
    assert!(log.take().is_empty(), "no self-wake");
    assert!(format!("{deadline:?}").contains("expired: false"));

    assert_eq!(advance(&timers, ms(10)), 1);
    assert_eq!(log.take(), [1]);
    assert!(poll_with(t.as_mut(), &log.waker(1)).is_ready());
    assert!(t.expired());
    assert!(deadline.expired());
}

#[test]
fn a_shared_deadline_moved_from_outside_wakes_the_timeout_to_rearm() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let t0 = handle.now();
    let deadline = Deadline::new(Some(t0 + ms(100)));
    let log = Log::new();
    let mut t = pin!(Timeout::with_deadline(&handle, &deadline, pending::<()>()));
    assert!(poll_with(t.as_mut(), &log.waker(7)).is_pending());
    assert_eq!(timers.len(), 1);

    // Earlier, from another task: the timeout's task is woken to re-arm,
    // and its timer then fires at the new deadline.
    deadline.reschedule(Some(t0 + ms(10)));
    assert_eq!(log.take(), [7]);
    assert!(poll_with(t.as_mut(), &log.waker(7)).is_pending());
    assert_eq!(t.when(), Some(t0 + ms(10)));
    assert_eq!(advance(&timers, ms(10)), 1);
    assert_eq!(log.take(), [7]);

    // Disabled from outside: it survives the old deadline.
    deadline.reschedule(None);
    assert_eq!(log.take(), [7]);
    assert!(poll_with(t.as_mut(), &log.waker(7)).is_pending());
    assert_eq!(t.when(), None);
    assert_eq!(advance(&timers, ms(200)), 0);
    assert!(poll_with(t.as_mut(), &log.waker(7)).is_pending());
    assert!(!deadline.expired());

    // The timeout's own reschedule moves the shared deadline too.
    t.as_mut().reschedule(handle.now() + ms(1));
    assert_eq!(deadline.when(), Some(handle.now() + ms(1)));
    advance(&timers, ms(1));
    assert!(poll_with(t.as_mut(), &log.waker(7)).is_ready());
    assert!(deadline.expired());
}

#[test]
fn a_shared_deadline_whose_future_finishes_is_not_expired() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let deadline = Deadline::new(Some(handle.now() + ms(10)));
    let mut t = pin!(Timeout::with_deadline(
        &handle,
        &deadline,
        handle.sleep(ms(3))
    ));
    assert!(poll_with(t.as_mut(), Waker::noop()).is_pending());
    advance(&timers, ms(3));
    assert_eq!(poll_with(t.as_mut(), Waker::noop()), Poll::Ready(Ok(())));
    assert!(!deadline.expired());
    assert!(!t.expired());
}

/// A waker that counts its clones, to see who still holds it.
struct Counted;

impl std::task::Wake for Counted {
    fn wake(self: std::sync::Arc<Self>) {}
}

#[test]
fn a_deadline_that_outlives_its_timeout_keeps_no_waker() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let deadline = Deadline::new(Some(handle.now() + ms(100)));
    let task = std::sync::Arc::new(Counted);
    let waker = Waker::from(task.clone());
    {
        let mut t = pin!(Timeout::with_deadline(&handle, &deadline, pending::<()>()));
        assert!(poll_with(t.as_mut(), &waker).is_pending());
        // The cell and the timer entry each hold a clone now.
        assert!(std::sync::Arc::strong_count(&task) > 2);
    }
    drop(waker);
    assert_eq!(
        std::sync::Arc::strong_count(&task),
        1,
        "the cancelled timeout took its waker back from the shared deadline"
    );
    // The deadline still works for a new timeout.
    deadline.reschedule(Some(handle.now() + ms(10)));
    let log = Log::new();
    let mut t = pin!(Timeout::with_deadline(&handle, &deadline, pending::<()>()));
    assert!(poll_with(t.as_mut(), &log.waker(2)).is_pending());
    assert_eq!(advance(&timers, ms(10)), 1);
    assert_eq!(log.take(), [2]);
    assert!(poll_with(t.as_mut(), &log.waker(2)).is_ready());
}

#[test]
fn dropping_one_of_two_timeouts_on_a_deadline_keeps_the_others_waker() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let deadline = Deadline::new(Some(handle.now() + ms(100)));
    let log = Log::new();
    let mut first = Box::pin(Timeout::with_deadline(&handle, &deadline, pending::<()>()));
    let mut second = pin!(Timeout::with_deadline(&handle, &deadline, pending::<()>()));
    assert!(poll_with(first.as_mut(), &log.waker(1)).is_pending());
    assert!(poll_with(second.as_mut(), &log.waker(2)).is_pending());
    // The cell holds the waker of the last timeout that went pending: the
    // second. Dropping the first must not take it.
    drop(first);
    deadline.reschedule(Some(handle.now() + ms(5)));
    assert_eq!(log.take(), [2], "the second timeout is woken to re-arm");
}
