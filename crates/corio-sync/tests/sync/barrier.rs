//! Barrier: distinct indices in arrival order, rounds that reset, abort and
//! reset breaking waiters, and dropped waiters leaving the round.

use std::sync::Arc;
use std::task::Poll;

use crate::signal_support::{assert_send_sync, poll_once, poll_with, recorder, rt};
use corio_sync::{Barrier, BrokenBarrier};

#[test]
fn barrier_and_its_future_are_send_sync() {
    assert_send_sync::<Barrier>();
    assert_send_sync::<corio_sync::BarrierWait<'static>>();
    assert_send_sync::<BrokenBarrier>();
}

#[test]
fn parties_get_distinct_indices_in_arrival_order() {
    let barrier = Barrier::new(3);
    assert_eq!(barrier.parties(), 3);
    let (w, r) = recorder();
    let mut a = barrier.wait();
    let mut b = barrier.wait();
    assert!(poll_with(&mut a, &w).is_pending());
    assert_eq!(barrier.n_waiting(), 1);
    assert!(poll_with(&mut b, &w).is_pending());
    assert_eq!(barrier.n_waiting(), 2);
    assert_eq!(r.wakes(), 0);
    // The last party passes at once and releases the others.
    assert_eq!(poll_once(&mut barrier.wait()), Poll::Ready(Ok(2)));
    assert_eq!(r.wakes(), 2);
    assert_eq!(barrier.n_waiting(), 0);
    assert_eq!(poll_with(&mut b, &w), Poll::Ready(Ok(1)));
    assert_eq!(poll_with(&mut a, &w), Poll::Ready(Ok(0)));
}

#[test]
fn the_barrier_is_reusable_round_after_round() {
    let barrier = Barrier::new(2);
    for _ in 0..3 {
        let mut first = barrier.wait();
        assert!(poll_once(&mut first).is_pending());
        // The next round may start filling before the released party runs.
        let mut second = barrier.wait();
        assert_eq!(poll_once(&mut second), Poll::Ready(Ok(1)));
        let mut next_round = barrier.wait();
        assert!(poll_once(&mut next_round).is_pending());
        assert_eq!(poll_once(&mut first), Poll::Ready(Ok(0)));
        assert_eq!(barrier.n_waiting(), 1);
        drop(next_round);
        assert_eq!(barrier.n_waiting(), 0);
    }
}

#[test]
fn one_party_passes_alone() {
    let barrier = Barrier::new(1);
    for _ in 0..3 {
        assert_eq!(poll_once(&mut barrier.wait()), Poll::Ready(Ok(0)));
    }
}

#[test]
#[should_panic(expected = "at least one party")]
fn zero_parties_is_refused() {
    let _ = Barrier::new(0);
}

#[test]
fn abort_breaks_current_and_future_waiters_until_reset() {
    let barrier = Barrier::new(3);
    let (w, r) = recorder();
    let mut a = barrier.wait();
    assert!(poll_with(&mut a, &w).is_pending());
    barrier.abort();
    assert!(barrier.is_broken());
    assert_eq!(r.wakes(), 1);
    assert_eq!(barrier.n_waiting(), 0);
    assert_eq!(poll_with(&mut a, &w), Poll::Ready(Err(BrokenBarrier)));
    for _ in 0..3 {
        assert_eq!(
            poll_once(&mut barrier.wait()),
            Poll::Ready(Err(BrokenBarrier))
        );
    }
    barrier.reset();
    assert!(!barrier.is_broken());
    let mut x = barrier.wait();
    let mut y = barrier.wait();
    assert!(poll_once(&mut x).is_pending());
    assert!(poll_once(&mut y).is_pending());
    assert_eq!(poll_once(&mut barrier.wait()), Poll::Ready(Ok(2)));
    assert_eq!(poll_once(&mut x), Poll::Ready(Ok(0)));
    assert_eq!(poll_once(&mut y), Poll::Ready(Ok(1)));
    assert_eq!(BrokenBarrier.to_string(), "barrier broken");
}

#[test]
fn reset_fails_the_waiting_parties_and_empties_the_barrier() {
    let barrier = Barrier::new(3);
    let (w, r) = recorder();
    let mut a = barrier.wait();
    let mut b = barrier.wait();
    assert!(poll_with(&mut a, &w).is_pending());
    assert!(poll_with(&mut b, &w).is_pending());
    barrier.reset();
    assert_eq!(r.wakes(), 2);
    assert!(!barrier.is_broken());
    assert_eq!(barrier.n_waiting(), 0);
    assert_eq!(poll_with(&mut a, &w), Poll::Ready(Err(BrokenBarrier)));
    assert_eq!(poll_with(&mut b, &w), Poll::Ready(Err(BrokenBarrier)));
    // A full new round is needed now.
    let mut c = barrier.wait();
    assert!(poll_once(&mut c).is_pending());
    assert_eq!(barrier.n_waiting(), 1);
}

#[test]
fn a_dropped_waiter_leaves_the_round() {
    let barrier = Barrier::new(3);
    let mut a = barrier.wait();
    let mut b = barrier.wait();
    assert!(poll_once(&mut a).is_pending());
    assert!(poll_once(&mut b).is_pending());
    assert_eq!(barrier.n_waiting(), 2);
    drop(a);
    assert_eq!(barrier.n_waiting(), 1);
    // The round now needs two more parties; indices stay distinct.
    let mut c = barrier.wait();
    assert!(poll_once(&mut c).is_pending());
    assert_eq!(poll_once(&mut barrier.wait()), Poll::Ready(Ok(2)));
    assert_eq!(poll_once(&mut b), Poll::Ready(Ok(0)));
    assert_eq!(poll_once(&mut c), Poll::Ready(Ok(1)));
    // Dropped after its round completed: nothing left behind.
    let mut d = barrier.wait();
    let mut e = barrier.wait();
    assert!(poll_once(&mut d).is_pending());
    assert!(poll_once(&mut e).is_pending());
    assert_eq!(poll_once(&mut barrier.wait()), Poll::Ready(Ok(2)));
    drop(d);
    assert_eq!(barrier.n_waiting(), 0);
    assert_eq!(poll_once(&mut e), Poll::Ready(Ok(1)));
    // A future never polled never counted.
    drop(barrier.wait());
    assert_eq!(barrier.n_waiting(), 0);
}

#[test]
fn spawned_tasks_meet_at_the_barrier_each_round() {
    rt().block_on(async {
        let barrier = Arc::new(Barrier::new(4));
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let barrier = Arc::clone(&barrier);
            tasks.push(tokio::spawn(async move {
                let mut indices = Vec::new();
                for _ in 0..5 {
                    indices.push(barrier.wait().await.unwrap());
                    tokio::task::yield_now().await;
                }
                indices
            }));
        }
        let mut per_task = Vec::new();
        for task in tasks {
            per_task.push(task.await.unwrap());
        }
        for round in 0..5 {
            let mut indices: Vec<usize> = per_task.iter().map(|t| t[round]).collect();
            indices.sort();
            assert_eq!(indices, [0, 1, 2, 3]);
        }
    });
}

#[test]
fn works_across_threads() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    rt.block_on(async {
        let barrier = Arc::new(Barrier::new(4));
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let barrier = Arc::clone(&barrier);
            tasks.push(tokio::spawn(async move {
                let mut sum = 0;
                for _ in 0..100 {
                    sum += barrier.wait().await.unwrap();
                }
                sum
            }));
        }
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap();
        }
        assert_eq!(total, 100 * 6);
    });
}
