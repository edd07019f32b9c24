//! `Instant`: std conversions round-trip and saturate; arithmetic saturates
//! instead of panicking.

use std::collections::HashSet;
use std::time::Duration;

use corio_timer::Instant;

#[test]
fn std_conversions_round_trip() {
    let std_now = std::time::Instant::now();
    let ours = Instant::from_std(std_now);
    assert_eq!(ours.into_std(), std_now);
    assert_eq!(Instant::from(std::time::Instant::from(ours)), ours);

    let later = ours + Duration::from_secs(3600) + Duration::from_nanos(7);
    assert_eq!(Instant::from_std(later.into_std()), later);
    assert_eq!(
        later.into_std() - std_now,
        Duration::from_nanos(3_600_000_000_007)
    );
}

#[test]
fn now_is_monotonic_and_agrees_with_std() {
    let a = Instant::now();
    let s = std::time::Instant::now();
    let b = Instant::now();
    assert!(a <= b);
    assert!(a <= Instant::from_std(s) && Instant::from_std(s) <= b);
}

#[test]
fn times_before_the_origin_saturate_to_zero() {
    let origin = Instant::from_nanos(0).into_std();
    if let Some(before) = origin.checked_sub(Duration::from_nanos(1)) {
        assert_eq!(Instant::from_std(before), Instant::from_nanos(0));
    }
    assert_eq!(Instant::from_std(origin), Instant::from_nanos(0));
}

#[test]
fn far_future_into_std_saturates_without_panicking() {
    let far = Instant::MAX.into_std();
    assert!(far > std::time::Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600));
    // Converting back cannot exceed MAX.
    assert!(Instant::from_std(far) <= Instant::MAX);
}

#[test]
fn addition_saturates_at_max() {
    let t = Instant::from_nanos(10);
    assert_eq!(t + Duration::MAX, Instant::MAX);
    assert_eq!(Instant::MAX + Duration::from_nanos(1), Instant::MAX);
    assert_eq!(
        t.saturating_add(Duration::from_nanos(5)),
        Instant::from_nanos(15)
    );
    let mut u = t;
    u += Duration::MAX;
    assert_eq!(u, Instant::MAX);

    assert_eq!(
        t.checked_add(Duration::from_nanos(5)),
        Some(Instant::from_nanos(15))
    );
    assert_eq!(t.checked_add(Duration::MAX), None);
    assert_eq!(
        Instant::from_nanos(0).checked_add(Duration::from_nanos(u64::MAX)),
        Some(Instant::MAX)
    );
    assert_eq!(Instant::MAX.checked_add(Duration::from_nanos(1)), None);
}

#[test]
fn subtraction_saturates_at_zero() {
    let t = Instant::from_nanos(10);
    assert_eq!(t - Duration::from_nanos(3), Instant::from_nanos(7));
    assert_eq!(t - Duration::from_secs(1), Instant::from_nanos(0));
    assert_eq!(t - Duration::MAX, Instant::from_nanos(0));
    let mut u = t;
    u -= Duration::from_nanos(11);
    assert_eq!(u, Instant::from_nanos(0));
    assert_eq!(t.checked_sub(Duration::from_nanos(11)), None);
    assert_eq!(
        t.checked_sub(Duration::from_nanos(10)),
        Some(Instant::from_nanos(0))
    );
}

#[test]
fn differences_saturate_at_zero() {
    let a = Instant::from_nanos(10);
    let b = Instant::from_nanos(25);
    assert_eq!(b - a, Duration::from_nanos(15));
    assert_eq!(a - b, Duration::ZERO);
    assert_eq!(a.duration_since(b), Duration::ZERO);
    assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
    assert_eq!(b.duration_since(a), Duration::from_nanos(15));
    assert_eq!(a.checked_duration_since(b), None);
    assert_eq!(
        Instant::MAX - Instant::from_nanos(0),
        Duration::from_nanos(u64::MAX)
    );
}

#[test]
fn raw_nanos_order_and_hash() {
    let a = Instant::from_nanos(42);
    assert_eq!(a.as_nanos(), 42);
    assert!(a < Instant::from_nanos(43));
    assert!(Instant::from_nanos(u64::MAX - 1) < Instant::MAX);
    let set: HashSet<Instant> = [a, Instant::from_nanos(42), Instant::MAX]
        .into_iter()
        .collect();
    assert_eq!(set.len(), 2);
    assert_eq!(format!("{:?}", Instant::MAX), "Instant(MAX)");
    assert_eq!(
        format!("{:?}", Instant::from_nanos(1_500)),
        "Instant(+1.5µs)"
    );
}
