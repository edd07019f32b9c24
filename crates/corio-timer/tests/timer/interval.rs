//! `Interval`: ticks on the grid `start + k * period` without drift, and the
//! three missed-tick policies behave as tokio defines them.

use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use crate::common::noop_waker;
use corio_timer::{Clock, Instant, Interval, MissedTickBehavior, Timers};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Polls one tick without waiting.
fn try_tick(i: &mut Interval) -> Option<Instant> {
    match i.poll_tick(&mut std::task::Context::from_waker(&noop_waker())) {
        Poll::Ready(t) => Some(t),
        Poll::Pending => None,
    }
}

fn advance_to(timers: &Timers, t: Instant) {
    timers.clock().set(t);
    timers.fire(t);
}

#[test]
fn first_tick_is_at_start_and_returns_scheduled_instants() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let start = handle.now() + ms(5);
    let mut i = Interval::new(&handle, start, ms(10));
    assert_eq!(i.period(), ms(10));
    assert_eq!(try_tick(&mut i), None);
    advance_to(&timers, start);
    assert_eq!(try_tick(&mut i), Some(start));
    assert_eq!(try_tick(&mut i), None);
    advance_to(&timers, start + ms(10));
    assert_eq!(try_tick(&mut i), Some(start + ms(10)));
}

#[test]
fn burst_never_drifts_and_catches_up_back_to_back() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let start = handle.now();
    let period = Duration::from_nanos(7_333_333);
    let mut i = Interval::new(&handle, start, period);
    assert_eq!(i.missed_tick_behavior(), MissedTickBehavior::Burst);
    // Each tick observed late, by varying amounts inside and beyond the slack.
    for k in 0..200u32 {
        let scheduled = start + period * k;
        let lateness = ms(u64::from(k % 9));
        advance_to(&timers, scheduled + lateness);
        if let Some(t) = try_tick(&mut i) {
            assert_eq!(t, scheduled, "tick {k} off the grid");
        } else {
            panic!("tick {k} not ready at {:?} late", lateness);
        }
    }
    // A long stall: the missed ticks come out back to back, still on the grid.
    let k0 = 200u32;
    advance_to(&timers, start + period * (k0 + 3) + ms(1));
    for k in k0..=k0 + 3 {
        assert_eq!(try_tick(&mut i), Some(start + period * k));
    }
    assert_eq!(try_tick(&mut i), None);
}

#[test]
fn delay_restarts_the_schedule_from_the_late_tick() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let start = handle.now();
    let mut i = Interval::new(&handle, start, ms(100));
    i.set_missed_tick_behavior(MissedTickBehavior::Delay);
    assert_eq!(i.missed_tick_behavior(), MissedTickBehavior::Delay);
    assert_eq!(try_tick(&mut i), Some(start));
    let seen = start + ms(350);
    advance_to(&timers, seen);
    assert_eq!(try_tick(&mut i), Some(start + ms(100)));
    assert_eq!(try_tick(&mut i), None);
    assert_eq!(i.next_tick(), seen + ms(100));
    advance_to(&timers, seen + ms(100));
    assert_eq!(try_tick(&mut i), Some(seen + ms(100)));
}

#[test]
fn skip_drops_missed_ticks_and_keeps_the_grid() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let start = handle.now();
    let mut i = Interval::new(&handle, start, ms(100));
    i.set_missed_tick_behavior(MissedTickBehavior::Skip);
    assert_eq!(try_tick(&mut i), Some(start));
    advance_to(&timers, start + ms(350));
    assert_eq!(try_tick(&mut i), Some(start + ms(100)));
    assert_eq!(try_tick(&mut i), None, "ticks 200 and 300 are skipped");
    assert_eq!(i.next_tick(), start + ms(400));
    advance_to(&timers, start + ms(400));
    assert_eq!(try_tick(&mut i), Some(start + ms(400)));
}

#[test]
fn lateness_within_the_slack_keeps_every_policy_on_the_grid() {
    for policy in [MissedTickBehavior::Delay, MissedTickBehavior::Skip] {
        let timers = Timers::new(Clock::manual());
        let handle = timers.handle();
        let start = handle.now();
        let mut i = Interval::new(&handle, start, ms(10));
        i.set_missed_tick_behavior(policy);
        for k in 0..20u32 {
            advance_to(&timers, start + ms(10) * k + ms(2));
            assert_eq!(try_tick(&mut i), Some(start + ms(10) * k), "{policy:?}");
        }
    }
}

#[test]
fn reset_puts_the_next_tick_one_period_from_now() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let start = handle.now();
    let mut i = Interval::new(&handle, start, ms(10));
    assert_eq!(try_tick(&mut i), Some(start));
    advance_to(&timers, start + ms(3));
    i.reset();
    assert_eq!(i.next_tick(), start + ms(13));
    advance_to(&timers, start + ms(10));
    assert_eq!(try_tick(&mut i), None);
    advance_to(&timers, start + ms(13));
    assert_eq!(try_tick(&mut i), Some(start + ms(13)));
    i.reset_at(start + ms(50));
    advance_to(&timers, start + ms(23));
    assert_eq!(try_tick(&mut i), None);
}

#[test]
fn tick_future_completes() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let start = handle.now();
    let mut i = Interval::new(&handle, start, ms(10));
    let mut fut = Box::pin(i.tick());
    let waker = noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(start));
    drop(fut);
    let mut fut = Box::pin(i.tick());
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    advance_to(&timers, start + ms(10));
    assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(start + ms(10)));
}

#[test]
#[should_panic(expected = "interval period must be non-zero")]
fn zero_period_panics() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let _ = Interval::new(&handle, handle.now(), Duration::ZERO);
}
