//! `TimerQueue` behaviours pinned one at a time: exactness, ordering,
//! cancellation and stale keys, huge deadlines, late inserts, backwards
//! time, `next_deadline` refinement, memory reuse, and waker replacement.

use std::time::Duration;

use crate::common::{noop_waker, wake_all, Log};
use corio_timer::{Instant, TimerQueue};

const ORIGIN: Instant = Instant::from_nanos(1_000_000_000_000);

fn ns(n: u64) -> Duration {
    Duration::from_nanos(n)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Fires at `now` and returns the ids woken, in order.
fn fire(q: &mut TimerQueue, log: &Log, now: Instant) -> Vec<usize> {
    let mut out = Vec::new();
    let n = q.fire(now, &mut out);
    assert_eq!(n, out.len());
    wake_all(&mut out);
    log.take()
}

#[test]
fn never_fires_early_and_fires_exactly_at_deadline() {
    let offsets = [
        ns(1),
        ns(999_999),
        ms(1),
        ms(1) + ns(1),
        ms(63) + ns(500_000),
        ms(64),
        ms(4096) + ns(3),
        Duration::from_secs(3600) + ns(7),
        // Beyond the wheel's range: starts on the overflow list.
        Duration::from_secs(3 * 365 * 24 * 3600) + ns(11),
    ];
    for (i, off) in offsets.into_iter().enumerate() {
        let log = Log::new();
        let mut q = TimerQueue::new(ORIGIN);
        let t = ORIGIN + off;
        q.insert(t, log.waker(i));
        // Walk up in uneven steps so coarse slots get cascaded on the way.
        let mut at = ORIGIN;
        while at < t - ns(1) {
            at = at + (t - ns(1) - at) / 3 + ns(1);
            assert_eq!(
                fire(&mut q, &log, at.min(t - ns(1))),
                Vec::<usize>::new(),
                "{off:?}"
            );
        }
        assert_eq!(
            fire(&mut q, &log, t - ns(1)),
            Vec::<usize>::new(),
            "{off:?}"
        );
        assert_eq!(q.len(), 1);
        assert_eq!(fire(&mut q, &log, t), vec![i], "{off:?}");
        assert!(q.is_empty());
    }
}

#[test]
fn one_fire_far_ahead_fires_everything_due_in_deadline_order() {
    let log = Log::new();
    let mut q = TimerQueue::new(ORIGIN);
    let offsets = [ms(5000), ms(3), ns(10), ms(70), ms(3) + ns(1), ms(300_000)];
    for (id, off) in offsets.iter().enumerate() {
        q.insert(ORIGIN + *off, log.waker(id));
    }
    assert_eq!(fire(&mut q, &log, ORIGIN + ms(6000)), vec![2, 1, 4, 3, 0]);
    assert_eq!(q.len(), 1);
}

#[test]
fn equal_deadlines_fire_fifo() {
    let log = Log::new();
    let mut q = TimerQueue::new(ORIGIN);
    let d = ORIGIN + ms(5000) + ns(3);
    // Inserted from the start: these sit in a coarse slot and get cascaded.
    for id in 0..5 {
        q.insert(d, log.waker(id));
    }
    // Move time close so later inserts with the same deadline land directly
    // in level 0, next to the cascaded ones.
    assert!(fire(&mut q, &log, d - ms(2)).is_empty());
    for id in 5..10 {
        q.insert(d, log.waker(id));
    }
    assert_eq!(fire(&mut q, &log, d), (0..10).collect::<Vec<_>>());
}

#[test]
fn cancel_reports_pending_and_stale_keys_are_harmless() {
    let mut q = TimerQueue::new(ORIGIN);
    let a = q.insert(ORIGIN + ms(10), noop_waker());
    assert!(q.is_pending(a));
    assert!(q.cancel(a));
    assert!(!q.cancel(a), "second cancel of the same key");
    assert!(!q.is_pending(a));
    assert!(q.is_empty());

    // The freed cell is reused; the old key must not reach the new timer.
    let b = q.insert(ORIGIN + ms(10), noop_waker());
    assert_eq!(q.capacity(), 1);
    assert_ne!(a, b);
    assert!(!q.cancel(a));
    assert!(q.remove(a).is_none());
    q.set_waker(a, &noop_waker());
    assert!(!q.reschedule(a, ORIGIN));
    assert!(q.is_pending(b));

    // A fired key is stale too.
    let mut out = Vec::new();
    assert_eq!(q.fire(ORIGIN + ms(10), &mut out), 1);
    assert!(!q.is_pending(b));
    assert!(!q.cancel(b));
}

#[test]
fn cancel_from_the_middle_of_a_slot_keeps_the_rest() {
    let log = Log::new();
    let mut q = TimerQueue::new(ORIGIN);
    // All in the same level-0 slot (same millisecond) and in one coarse slot.
    let near: Vec<_> = (0..6)
        .map(|id| q.insert(ORIGIN + ms(7) + ns(id as u64), log.waker(id)))
        .collect();
    let far: Vec<_> = (6..12)
        .map(|id| q.insert(ORIGIN + ms(9000) + ns(id as u64), log.waker(id)))
        .collect();
    for &i in &[0, 3, 5] {
        assert!(q.cancel(near[i]));
    }
    for &i in &[1, 4] {
        assert!(q.cancel(far[i]));
    }
    assert_eq!(q.len(), 7);
    assert_eq!(
        fire(&mut q, &log, ORIGIN + ms(10_000)),
        vec![1, 2, 4, 6, 8, 9, 11]
    );
    assert!(q.is_empty());
}

#[test]
fn huge_deadlines_and_max_do_not_panic_or_fire() {
    let log = Log::new();
    let mut q = TimerQueue::new(ORIGIN);
    let century = Duration::from_secs(100 * 365 * 24 * 3600);
    let max = q.insert(ORIGIN + Duration::MAX, log.waker(0));
    q.insert(ORIGIN + century, log.waker(1));
    q.insert(Instant::MAX, log.waker(2));
    assert_eq!(q.len(), 3);
    let next = q.next_deadline().expect("pending");
    assert!(next <= ORIGIN + century);

    // Ten years pass: nothing fires.
    assert!(fire(&mut q, &log, ORIGIN + century / 10).is_empty());
    assert_eq!(q.len(), 3);
    // A century: only the finite one.
    assert_eq!(fire(&mut q, &log, ORIGIN + century), vec![1]);
    assert!(q.is_pending(max));
    assert!(q.next_deadline().is_some());
    assert!(q.cancel(max));
    assert_eq!(q.len(), 1);
}

#[test]
fn deadlines_already_due_fire_on_the_next_fire() {
    let log = Log::new();
    let mut q = TimerQueue::new(ORIGIN);
    let t = ORIGIN + ms(500) + ns(250_000);
    assert!(fire(&mut q, &log, t).is_empty());
    q.insert(t, log.waker(0));
    q.insert(t - ms(5), log.waker(1));
    q.insert(Instant::from_nanos(0), log.waker(2)); // before the origin
    q.insert(t - ns(1), log.waker(3));
    q.insert(t + ns(1), log.waker(4)); // same tick, not yet due
    assert_eq!(q.next_deadline(), Some(Instant::from_nanos(0)));
    // An earlier `now` still fires what is due at the queue's time.
    assert_eq!(fire(&mut q, &log, t - ms(100)), vec![2, 1, 3, 0]);
    assert_eq!(q.next_deadline(), Some(t + ns(1)));
    assert_eq!(fire(&mut q, &log, t + ns(1)), vec![4]);
}

#[test]
fn fire_with_an_earlier_now_does_not_move_time_back() {
    let log = Log::new();
    let mut q = TimerQueue::new(ORIGIN);
    let t = ORIGIN + ms(1000);
    q.insert(t + ms(1), log.waker(0));
    assert!(fire(&mut q, &log, t).is_empty());
    assert!(fire(&mut q, &log, ORIGIN).is_empty());
    assert!(fire(&mut q, &log, Instant::from_nanos(0)).is_empty());
    assert_eq!(q.now(), t);
    assert_eq!(fire(&mut q, &log, t + ms(1)), vec![0]);
}

#[test]
fn next_deadline_is_a_lower_bound_that_becomes_exact() {
    let log = Log::new();
    let mut q = TimerQueue::new(ORIGIN);
    assert_eq!(q.next_deadline(), None);
    let near = ORIGIN + ms(20) + ns(123);
    q.insert(near, log.waker(0));
    assert_eq!(q.next_deadline(), Some(near), "exact within level 0");
    let earlier = q.insert(ORIGIN + ms(1), log.waker(9));
    assert_eq!(q.next_deadline(), Some(ORIGIN + ms(1)));
    assert!(q.cancel(earlier));
    assert_eq!(q.next_deadline(), Some(near));

    let far = ORIGIN + Duration::from_secs(7200) + ns(77);
    let mut q = TimerQueue::new(ORIGIN);
    q.insert(far, log.waker(1));
    let mut steps = 0;
    loop {
        let next = q.next_deadline().expect("pending");
        assert!(next <= far);
        if !fire(&mut q, &log, next).is_empty() {
            assert_eq!(next, far, "fired exactly at its deadline");
            break;
        }
        steps += 1;
        assert!(steps <= 6, "refines one level per step at most");
    }
    assert!(steps >= 1, "a 2 h deadline starts in a coarse slot");
    assert_eq!(q.next_deadline(), None);
}

#[test]
fn insert_cancel_churn_reuses_memory() {
    let mut q = TimerQueue::new(ORIGIN);
    for i in 0..100_000u64 {
        let k = q.insert(ORIGIN + ms(i % 5000), noop_waker());
        assert!(q.cancel(k));
    }
    assert_eq!(q.capacity(), 1);

    let keys: Vec<_> = (0..10)
        .map(|i| q.insert(ORIGIN + ms(i), noop_waker()))
        .collect();
    for k in keys {
        q.cancel(k);
    }
    for i in 0..10 {
        q.insert(ORIGIN + ms(i), noop_waker());
    }
    let mut out = Vec::new();
    assert_eq!(q.fire(ORIGIN + ms(100), &mut out), 10);
    for i in 0..10 {
        q.insert(ORIGIN + ms(200 + i), noop_waker());
    }
    assert_eq!(q.capacity(), 10, "fired cells are reused too");
}

#[test]
fn set_waker_replaces_the_waker_that_fires() {
    let log = Log::new();
    let mut q = TimerQueue::new(ORIGIN);
    let k = q.insert(ORIGIN + ms(3), log.waker(1));
    q.set_waker(k, &log.waker(2));
    assert!(q.replace_waker(k, &log.waker(3)).is_some());
    // A waker that will_wake the stored one is not swapped in.
    let stored_clone = {
        let w = log.waker(4);
        q.set_waker(k, &w);
        w
    };
    assert!(q.replace_waker(k, &stored_clone).is_none());
    assert_eq!(fire(&mut q, &log, ORIGIN + ms(3)), vec![4]);
}

#[test]
fn reschedule_moves_a_timer_and_requeues_it_fifo() {
    let log = Log::new();
    let mut q = TimerQueue::new(ORIGIN);
    let a = q.insert(ORIGIN + ms(10), log.waker(0));
    q.insert(ORIGIN + ms(20), log.waker(1));
    assert!(q.reschedule(a, ORIGIN + ms(20)));
    assert!(fire(&mut q, &log, ORIGIN + ms(19)).is_empty());
    assert_eq!(fire(&mut q, &log, ORIGIN + ms(20)), vec![1, 0]);
    assert!(!q.reschedule(a, ORIGIN + ms(30)), "fired key");
}

#[test]
fn fire_appends_to_out_without_clearing_it() {
    let mut q = TimerQueue::new(ORIGIN);
    q.insert(ORIGIN + ms(1), noop_waker());
    let mut out = vec![noop_waker()];
    assert_eq!(q.fire(ORIGIN + ms(1), &mut out), 1);
    assert_eq!(out.len(), 2);
    assert_eq!(q.fire(ORIGIN + ms(2), &mut out), 0);
}
