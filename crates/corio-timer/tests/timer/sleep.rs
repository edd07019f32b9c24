//! `Sleep`: lazy registration, completes exactly when its deadline is fired,
//! stays complete, cancels on drop, re-arms on reset, follows the latest
//! waker, and never completes early on the real clock.

use std::future::Future;
use std::pin::Pin;
use std::task::{Poll, Waker};
use std::time::Duration;

use crate::common::{poll_once, poll_with, Counter, Log};
use corio_timer::{Clock, Instant, Sleep, Timers};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Moves the manual clock by `d` and fires what is due.
fn advance(timers: &Timers, d: Duration) -> usize {
    timers.clock().advance(d);
    timers.fire(timers.clock().now())
}

#[test]
fn sleep_is_send_sync_and_unpin() {
    fn check<T: Send + Sync + Unpin>() {}
    check::<Sleep>();
}

#[test]
fn pending_before_the_deadline_ready_once_fired_at_it() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let counter = Counter::new();
    let waker = Waker::from(counter.clone());
    let mut sleep = handle.sleep(ms(10));

    assert_eq!(timers.len(), 0, "creating a Sleep does not touch the queue");
    assert_eq!(poll_with(&mut sleep, &waker), Poll::Pending);
    assert_eq!(timers.len(), 1, "the first poll registers");

    assert_eq!(advance(&timers, ms(10) - Duration::from_nanos(1)), 0);
    assert_eq!(counter.count(), 0);
    assert_eq!(poll_with(&mut sleep, &waker), Poll::Pending);

    assert_eq!(advance(&timers, Duration::from_nanos(1)), 1);
    assert_eq!(counter.count(), 1, "woken by the fire");
    assert!(!sleep.is_elapsed());
    assert_eq!(poll_with(&mut sleep, &waker), Poll::Ready(()));
    assert!(sleep.is_elapsed());
}

#[test]
fn stays_ready_without_registering_again() {
    let timers = Timers::new(Clock::manual());
    let mut sleep = timers.handle().sleep(ms(5));
    assert!(poll_once(&mut sleep).is_pending());
    advance(&timers, ms(5));
    assert!(poll_once(&mut sleep).is_ready());
    for _ in 0..3 {
        assert!(poll_once(&mut sleep).is_ready());
        assert!(timers.is_empty());
    }
}

#[test]
fn a_deadline_already_fired_past_completes_without_registering() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    advance(&timers, ms(100));
    let mut past = Sleep::new(&handle, handle.now() - ms(50));
    assert!(poll_once(&mut past).is_ready());
    let mut exactly_now = Sleep::new(&handle, handle.now());
    assert!(poll_once(&mut exactly_now).is_ready());
    assert!(timers.is_empty());
}

#[test]
fn a_deadline_the_clock_passed_but_not_yet_fired_waits_for_the_fire() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let deadline = handle.now() + ms(3);
    timers.clock().advance(ms(10));
    // The driver has not fired since: the sleep registers and is due at once.
    let mut sleep = Sleep::new(&handle, deadline);
    assert!(poll_once(&mut sleep).is_pending());
    assert_eq!(timers.next_deadline(), Some(deadline));
    assert_eq!(timers.fire(handle.now()), 1);
    assert!(poll_once(&mut sleep).is_ready());
}

#[test]
fn dropping_an_unfired_sleep_removes_its_entry() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let mut a = handle.sleep(ms(10));
    let mut b = handle.sleep(ms(20));
    assert!(poll_once(&mut a).is_pending());
    assert!(poll_once(&mut b).is_pending());
    assert_eq!(timers.len(), 2);
    drop(a);
    assert_eq!(timers.len(), 1);
    drop(b);
    assert_eq!(timers.len(), 0);
    assert!(timers.is_empty());
    assert_eq!(timers.next_deadline(), None);
}

#[test]
fn dropping_a_fired_but_unobserved_sleep_is_fine() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let mut a = handle.sleep(ms(1));
    assert!(poll_once(&mut a).is_pending());
    advance(&timers, ms(1));
    // Another timer now reuses the fired entry's cell; dropping `a` must not cancel it.
    let mut b = handle.sleep(ms(5));
    assert!(poll_once(&mut b).is_pending());
    drop(a);
    assert_eq!(timers.len(), 1);
    advance(&timers, ms(5));
    assert!(poll_once(&mut b).is_ready());
}

#[test]
fn the_latest_waker_is_the_one_woken() {
    let timers = Timers::new(Clock::manual());
    let log = Log::new();
    let mut sleep = timers.handle().sleep(ms(10));
    assert!(poll_with(&mut sleep, &log.waker(1)).is_pending());
    assert!(poll_with(&mut sleep, &log.waker(2)).is_pending());
    advance(&timers, ms(10));
    assert_eq!(log.take(), vec![2]);
}

#[test]
fn reset_after_completion_rearms() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let mut sleep = handle.sleep(ms(10));
    assert!(poll_once(&mut sleep).is_pending());
    advance(&timers, ms(10));
    assert!(poll_once(&mut sleep).is_ready());

    let new_deadline = handle.now() + ms(7);
    Pin::new(&mut sleep).reset(new_deadline);
    assert_eq!(sleep.deadline(), new_deadline);
    assert!(!sleep.is_elapsed());
    assert!(poll_once(&mut sleep).is_pending());
    advance(&timers, ms(6));
    assert!(poll_once(&mut sleep).is_pending());
    advance(&timers, ms(1));
    assert!(poll_once(&mut sleep).is_ready());
}

#[test]
fn reset_while_waiting_keeps_the_waker() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let counter = Counter::new();
    let mut sleep = handle.sleep(ms(100));
    assert!(poll_with(&mut sleep, &Waker::from(counter.clone())).is_pending());
    // Moved earlier without being polled again: the task must still be woken.
    Pin::new(&mut sleep).reset(handle.now() + ms(5));
    assert_eq!(timers.len(), 1);
    assert_eq!(advance(&timers, ms(5)), 1);
    assert_eq!(counter.count(), 1);
    assert!(poll_once(&mut sleep).is_ready());
    // Moved later: does not fire at the old deadline.
    let mut later = handle.sleep(ms(5));
    assert!(poll_once(&mut later).is_pending());
    later.reset_unpinned(handle.now() + ms(50));
    assert_eq!(advance(&timers, ms(5)), 0);
    assert!(poll_once(&mut later).is_pending());
    assert_eq!(advance(&timers, ms(45)), 1);
    assert!(poll_once(&mut later).is_ready());
}

#[test]
fn duration_max_saturates_and_never_fires() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let mut sleep = handle.sleep(Duration::MAX);
    assert_eq!(sleep.deadline(), Instant::MAX);
    assert!(poll_once(&mut sleep).is_pending());
    assert_eq!(
        advance(&timers, Duration::from_secs(50 * 365 * 24 * 3600)),
        0
    );
    assert!(poll_once(&mut sleep).is_pending());
    drop(sleep);
    assert!(timers.is_empty());
}

#[test]
fn never_completes_before_its_deadline_on_the_real_clock() {
    let timers = Timers::new(Clock::real());
    let handle = timers.handle();
    for wait in [0, 1, 3, 7] {
        let deadline = handle.now() + ms(wait) + Duration::from_micros(300);
        let mut sleep = handle.sleep_until(deadline);
        // A small real driver: fire, then sleep the thread until the next deadline.
        loop {
            timers.fire(Instant::now());
            if poll_once(&mut sleep).is_ready() {
                break;
            }
            if let Some(next) = timers.next_deadline() {
                std::thread::sleep(next - Instant::now());
            }
        }
        assert!(Instant::now() >= deadline, "completed early");
    }
}

#[test]
fn sleeps_can_be_polled_from_other_threads() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let counter = Counter::new();
    let waker = Waker::from(counter.clone());
    let mut sleep = handle.sleep(ms(10));
    let mut sleep = std::thread::spawn(move || {
        assert!(Pin::new(&mut sleep)
            .poll(&mut std::task::Context::from_waker(&waker))
            .is_pending());
        sleep
    })
    .join()
    .expect("poller thread");
    advance(&timers, ms(10));
    assert_eq!(counter.count(), 1);
    assert!(poll_once(&mut sleep).is_ready());
}
