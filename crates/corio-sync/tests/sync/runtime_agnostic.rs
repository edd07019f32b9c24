//! `Lock` and `Semaphore` need nothing but `std::task::Waker`: they run
//! under tokio's multi-threaded runtime, with tasks moving between threads,
//! guards held across awaits, and waiters cancelled by `tokio::time::timeout`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corio_sync::{Lock, Semaphore};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .unwrap()
}

#[test]
fn lock_counter_under_tokio() {
    let lock = Arc::new(Lock::new(0usize));
    runtime().block_on(async {
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let lock = lock.clone();
                tokio::spawn(async move {
                    for i in 0..1000 {
                        let mut guard = lock.lock().await;
                        *guard += 1;
                        if i % 100 == 0 {
                            tokio::task::yield_now().await; // held across an await
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert_eq!(Arc::try_unwrap(lock).unwrap().into_inner(), 8000);
}

#[test]
fn semaphore_limit_under_tokio() {
    let sem = Arc::new(Semaphore::new(3));
    let running = Arc::new(AtomicUsize::new(0));
    runtime().block_on(async {
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let (sem, running) = (sem.clone(), running.clone());
                tokio::spawn(async move {
                    for _ in 0..50 {
                        let _permit = sem.clone().acquire_owned().await;
                        assert!(running.fetch_add(1, Ordering::SeqCst) < 3);
                        tokio::task::yield_now().await;
                        running.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert_eq!(sem.available(), 3);
}

#[test]
fn timeouts_cancel_waiters_without_losing_the_lock() {
    let lock = Arc::new(Lock::new(0usize));
    let sem = Arc::new(Semaphore::new(2));
    runtime().block_on(async {
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let (lock, sem) = (lock.clone(), sem.clone());
                tokio::spawn(async move {
                    for j in 0..50 {
                        // Some waiters give up: queued, or already handed
                        // the lock/permits when the timeout fires.
                        let timeout = Duration::from_micros(((i * 7 + j) % 5) as u64 * 20);
                        if let Ok(mut guard) = tokio::time::timeout(timeout, lock.lock()).await {
                            *guard += 1;
                            tokio::task::yield_now().await;
                        }
                        if let Ok(p) = tokio::time::timeout(timeout, sem.acquire_many(2)).await {
                            tokio::task::yield_now().await;
                            drop(p);
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert!(!lock.is_locked());
    assert!(*lock.try_lock().unwrap() <= 16 * 50);
    assert_eq!(sem.available(), 2);
}
