//! `Clock`: a manual clock stands still until advanced or set, never goes
//! backwards, and is shared by its clones; a real clock refuses to be moved.

use std::time::Duration;

use corio_timer::{Clock, Instant};

#[test]
fn manual_clock_starts_now_and_stands_still() {
    let before = Instant::now();
    let clock = Clock::manual();
    let after = Instant::now();
    assert!(clock.is_manual());
    let t = clock.now();
    assert!(before <= t && t <= after);
    std::thread::sleep(Duration::from_millis(2));
    assert_eq!(clock.now(), t);
}

#[test]
fn advance_moves_every_clone() {
    let clock = Clock::manual();
    let other = clock.clone();
    let t = clock.now();
    clock.advance(Duration::from_millis(250));
    assert_eq!(other.now(), t + Duration::from_millis(250));
    other.advance(Duration::from_nanos(1));
    assert_eq!(clock.now() - t, Duration::from_nanos(250_000_001));
}

#[test]
fn advance_saturates_at_max() {
    let clock = Clock::manual();
    clock.advance(Duration::MAX);
    assert_eq!(clock.now(), Instant::MAX);
    clock.advance(Duration::from_secs(1));
    assert_eq!(clock.now(), Instant::MAX);
}

#[test]
fn set_moves_forward_only() {
    let clock = Clock::manual();
    let t = clock.now();
    clock.set(t + Duration::from_secs(5));
    assert_eq!(clock.now(), t + Duration::from_secs(5));
    clock.set(t);
    assert_eq!(
        clock.now(),
        t + Duration::from_secs(5),
        "set never moves time back"
    );
}

#[test]
fn real_clock_follows_instant_now() {
    let clock = Clock::real();
    assert!(!clock.is_manual());
    let a = Instant::now();
    let b = clock.now();
    assert!(a <= b && b <= Instant::now());
    assert!(!Clock::default().is_manual());
}

#[test]
#[should_panic(expected = "Clock::advance called on a real clock")]
fn advancing_a_real_clock_panics() {
    Clock::real().advance(Duration::from_millis(1));
}

#[test]
#[should_panic(expected = "Clock::set called on a real clock")]
fn setting_a_real_clock_panics() {
    Clock::real().set(Instant::MAX);
}
