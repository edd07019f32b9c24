//! `Timeout`: the inner future wins ties and never pays for an unused
//! deadline; a slow inner future gives `Err(Elapsed)` exactly at the
//! deadline; `reschedule` moves it; `Elapsed` behaves as an error type.

use std::error::Error;
use std::future::{pending, ready, Future};
use std::io;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};
use std::time::Duration;

use crate::common::{noop_waker, poll_once};
use corio_timer::{Clock, Elapsed, Sleep, Timeout, Timers};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn poll_pinned<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(&noop_waker()))
}

#[test]
fn a_ready_inner_future_wins_even_after_the_deadline() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let deadline = handle.now() + ms(10);
    timers.clock().advance(ms(20));
    timers.fire(handle.now());
    let mut t = Timeout::new(&handle, deadline, ready(5));
    assert_eq!(poll_once(&mut t), Poll::Ready(Ok(5)));
}

#[test]
fn an_unused_timeout_never_touches_the_queue() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let mut t = Timeout::new(&handle, handle.now() + ms(10), ready("done"));
    assert_eq!(poll_once(&mut t), Poll::Ready(Ok("done")));
    assert!(timers.is_empty());
    assert_eq!(timers.next_deadline(), None);
}

#[test]
fn a_slow_inner_future_elapses_at_the_deadline() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let mut t = pin!(Timeout::new(
        &handle,
        handle.now() + ms(10),
        pending::<()>()
    ));
    assert!(poll_pinned(t.as_mut()).is_pending());
    assert_eq!(timers.len(), 1);
    timers.clock().advance(ms(10) - Duration::from_nanos(1));
    timers.fire(handle.now());
    assert!(poll_pinned(t.as_mut()).is_pending());
    timers.clock().advance(Duration::from_nanos(1));
    assert_eq!(timers.fire(handle.now()), 1);
    assert_eq!(poll_pinned(t.as_mut()), Poll::Ready(Err(Elapsed::new())));
}

#[test]
fn an_inner_future_finishing_first_cancels_the_deadline_on_drop() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let inner = handle.sleep(ms(5));
    let mut t = Timeout::new(&handle, handle.now() + ms(10), inner);
    assert!(poll_once(&mut t).is_pending());
    assert_eq!(timers.len(), 2);
    timers.clock().advance(ms(5));
    timers.fire(handle.now());
    assert_eq!(poll_once(&mut t), Poll::Ready(Ok(())));
    drop(t);
    assert!(timers.is_empty());
}

fn unreachable_timers() -> corio_timer::TimerHandle {
    panic!("a lazy timeout whose future is ready looked up its timers")
}

thread_local! {
    static LAZY_TIMERS: Timers = Timers::new(Clock::manual());
}

fn lazy_timers() -> corio_timer::TimerHandle {
    LAZY_TIMERS.with(Timers::handle)
}

#[test]
fn a_lazy_timeout_with_a_ready_future_never_looks_up_its_timers() {
    let mut t = Timeout::lazy(ms(10), unreachable_timers, ready(3));
    assert_eq!(poll_once(&mut t), Poll::Ready(Ok(3)));
}

#[test]
fn a_lazy_timeout_starts_its_limit_at_the_first_pending_poll() {
    LAZY_TIMERS.with(|timers| {
        let handle = timers.handle();
        let mut t = pin!(Timeout::lazy(ms(10), lazy_timers, pending::<()>()));
        // Time passing before the first poll does not count.
        timers.clock().advance(ms(50));
        timers.fire(handle.now());
        assert!(timers.is_empty());
        assert!(poll_pinned(t.as_mut()).is_pending());
        let started = handle.now();
        assert_eq!(t.deadline(), started + ms(10));
        assert_eq!(timers.len(), 1);
        timers.clock().advance(ms(10) - Duration::from_nanos(1));
        timers.fire(handle.now());
        assert!(poll_pinned(t.as_mut()).is_pending());
        timers.clock().advance(Duration::from_nanos(1));
        assert_eq!(timers.fire(handle.now()), 1);
        assert_eq!(poll_pinned(t.as_mut()), Poll::Ready(Err(Elapsed::new())));
    });
}

#[test]
fn rescheduling_a_lazy_timeout_before_its_first_poll_fixes_the_deadline() {
    LAZY_TIMERS.with(|timers| {
        let handle = timers.handle();
        let t0 = handle.now();
        let mut t = pin!(Timeout::lazy(ms(10), lazy_timers, pending::<()>()));
        // Unstarted: the deadline it would get if it started now.
        assert_eq!(t.deadline(), t0 + ms(10));
        t.as_mut().reschedule(t0 + ms(3));
        timers.clock().advance(ms(2));
        assert_eq!(t.deadline(), t0 + ms(3));
        assert!(poll_pinned(t.as_mut()).is_pending());
        timers.clock().advance(ms(1));
        assert_eq!(timers.fire(handle.now()), 1);
        assert_eq!(poll_pinned(t.as_mut()), Poll::Ready(Err(Elapsed::new())));
    });
}

#[test]
fn reschedule_moves_the_deadline_both_ways() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let t0 = handle.now();
    let mut t = pin!(Timeout::new(&handle, t0 + ms(10), pending::<()>()));
    assert!(poll_pinned(t.as_mut()).is_pending());
    t.as_mut().reschedule(t0 + ms(30));
    assert_eq!(t.deadline(), t0 + ms(30));
    timers.clock().advance(ms(10));
    assert_eq!(timers.fire(handle.now()), 0);
    assert!(poll_pinned(t.as_mut()).is_pending());
    timers.clock().advance(ms(20));
    timers.fire(handle.now());
    assert!(poll_pinned(t.as_mut()).is_ready());

    // After elapsing, rescheduling re-arms it.
    t.as_mut().reschedule(handle.now() + ms(5));
    assert!(poll_pinned(t.as_mut()).is_pending());
    timers.clock().advance(ms(5));
    timers.fire(handle.now());
    assert_eq!(poll_pinned(t.as_mut()), Poll::Ready(Err(Elapsed::new())));
}

#[test]
fn inner_future_accessors() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let mut t = Timeout::new(&handle, handle.now() + ms(1), vec![1, 2]);
    assert_eq!(t.get_ref(), &vec![1, 2]);
    t.get_mut().push(3);
    assert_eq!(t.into_inner(), vec![1, 2, 3]);

    let mut t = Timeout::new(&handle, handle.now() + ms(1), handle.sleep(ms(9)));
    assert!(poll_once(&mut t).is_pending());
    let inner: Sleep = t.into_inner();
    assert_eq!(timers.len(), 1, "only the inner sleep stays registered");
    drop(inner);
    assert!(timers.is_empty());
}

#[test]
fn elapsed_is_a_proper_error() {
    let e = Elapsed::new();
    assert_eq!(e.to_string(), "deadline has elapsed");
    assert_eq!(e, e.clone());
    let dyn_err: &dyn Error = &e;
    assert!(dyn_err.source().is_none());
    let io_err: io::Error = e.into();
    assert_eq!(io_err.kind(), io::ErrorKind::TimedOut);
    assert_eq!(io_err.to_string(), "deadline has elapsed");
    assert!(io_err.get_ref().is_some_and(|inner| inner.is::<Elapsed>()));
}
