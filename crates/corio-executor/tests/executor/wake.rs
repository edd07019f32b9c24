//! Wakers: waking from another thread unparks `block_on`, wakers may be
//! cloned and dropped across threads freely, and waking a finished task or
//! a waker outliving its task is harmless.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::common::{drain, Counter, WakerSlot};
use corio_executor::{LocalExecutor, ThreadPark};

#[test]
fn a_wake_from_another_thread_ends_block_on() {
    let ex = LocalExecutor::new();
    let slot = WakerSlot::new();
    let task = ex.spawn(slot.wait());
    let waker_thread = {
        let slot = slot.clone();
        std::thread::spawn(move || {
            while !slot.has_waker() {
                std::thread::yield_now();
            }
            std::thread::sleep(Duration::from_millis(20));
            slot.release();
        })
    };
    let started = Instant::now();
    ex.block_on(task, &mut ThreadPark).unwrap();
    assert!(started.elapsed() >= Duration::from_millis(20));
    waker_thread.join().unwrap();
}

#[test]
fn block_on_own_future_woken_from_another_thread() {
    let ex = LocalExecutor::new();
    let slot = WakerSlot::new();
    let releaser = slot.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        releaser.release();
    });
    // The future borrows nothing 'static-only; block_on's own task is woken remotely.
    ex.block_on(slot.wait(), &mut ThreadPark);
    t.join().unwrap();
}

#[test]
fn wakers_cloned_and_dropped_across_threads_keep_the_task_sound() {
    let ex = LocalExecutor::new();
    let outputs = Counter::new();
    let futures = Counter::new();
    let slot = WakerSlot::new();
    let (wait, output, token) = (slot.wait(), outputs.token(), futures.token());
    let task = ex.spawn(async move {
        let _token = token;
        wait.await;
        output
    });
    drain(&ex);
    let waker = slot.take().expect("the task left its waker");
    let wakes = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let waker = waker.clone();
            let wakes = wakes.clone();
            std::thread::spawn(move || {
                let mut kept: Vec<Waker> = Vec::new();
                for i in 0..2000 {
                    let clone = waker.clone();
                    if i % 7 == 0 {
                        clone.wake_by_ref();
                        wakes.fetch_add(1, Ordering::Relaxed);
                    }
                    if i % 3 == 0 {
                        kept.push(clone);
                    }
                }
                drop(kept);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(wakes.load(Ordering::Relaxed) > 0);
    // Spurious wakes polled the task again (it re-stored a waker each time);
    // the final release lets it finish.
    drain(&ex);
    drop(waker);
    slot.release();
    let output = ex.block_on(task, &mut ThreadPark).unwrap();
    assert_eq!(futures.get(), 1);
    drop(output);
    assert_eq!(outputs.get(), 1);
}

#[test]
fn a_waker_outliving_its_task_is_harmless() {
    let ex = LocalExecutor::new();
    let slot = WakerSlot::new();
    let task = ex.spawn(slot.wait());
    drain(&ex);
    let waker = slot.take().unwrap();
    let keep = waker.clone();
    waker.wake(); // a spurious wake: the slot is not released, so the task just waits again
    drain(&ex);
    slot.release();
    drain(&ex);
    ex.block_on(task, &mut ThreadPark).unwrap();
    // The task is complete and its handle gone: only `keep` holds it.
    keep.wake_by_ref();
    assert_eq!(ex.run_once(), 0);
    let moved = keep.clone();
    std::thread::spawn(move || moved.wake()).join().unwrap();
    assert!(ex.is_idle());
    drop(keep); // frees the allocation (checked under valgrind/ASan)
}

#[test]
fn a_waker_will_wake_its_own_clones_only() {
    let ex = LocalExecutor::new();
    let a = WakerSlot::new();
    let b = WakerSlot::new();
    drop(ex.spawn(a.wait()));
    drop(ex.spawn(b.wait()));
    drain(&ex);
    let wa = a.take().unwrap();
    let wb = b.take().unwrap();
    assert!(wa.will_wake(&wa.clone()));
    assert!(!wa.will_wake(&wb));
    a.release();
    b.release();
    wa.wake();
    wb.wake();
    drain(&ex);
    assert_eq!(ex.task_count(), 0);
}

#[test]
fn waking_a_task_many_times_before_it_runs_queues_it_once() {
    let ex = LocalExecutor::new();
    let slot = WakerSlot::new();
    drop(ex.spawn(slot.wait()));
    drain(&ex);
    let waker = slot.take().unwrap();
    for _ in 0..100 {
        waker.wake_by_ref();
    }
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..100 {
                    waker.wake_by_ref();
                }
            });
        }
    });
    assert_eq!(ex.run_once(), 1);
    assert_eq!(ex.run_once(), 0);
    slot.release();
    drain(&ex);
    assert_eq!(ex.task_count(), 0);
}
