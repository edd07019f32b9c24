//! `corio::sync` on corio's own loop: the classic asyncio teaching uses of
//! each primitive, with asyncio's ordering.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corio::sync::{Barrier, Condition, Event, Lock, Promise, Queue, Semaphore};

#[test]
fn a_lock_guards_a_shared_counter_across_yields() {
    let total = corio::run(async {
        let counter = Arc::new(Lock::new(0u32));
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let counter = counter.clone();
                corio::create_task(async move {
                    for _ in 0..10 {
                        let mut guard = counter.lock().await;
                        let seen = *guard;
                        corio::yield_now().await; // others queue up meanwhile
                        *guard = seen + 1;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let total = *counter.lock().await;
        total
    });
    assert_eq!(total, 100);
}

#[test]
fn lock_waiters_are_served_in_fifo_order() {
    let order = corio::run(async {
        let lock = Arc::new(Lock::new(Vec::new()));
        let first = lock.clone().lock_owned().await;
        let tasks: Vec<_> = (0..5)
            .map(|i| {
                let lock = lock.clone();
                corio::create_task(async move { lock.lock().await.push(i) })
            })
            .collect();
        corio::yield_now().await; // all five are queued
        drop(first);
        for task in tasks {
            task.await.unwrap();
        }
        let order = lock.lock().await.clone();
        order
    });
    assert_eq!(order, [0, 1, 2, 3, 4]);
}

#[test]
fn a_semaphore_limits_concurrent_downloads_to_three() {
    let peak = corio::run(async {
        let limit = Arc::new(Semaphore::new(3));
        let (running, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let (limit, running, peak) = (limit.clone(), running.clone(), peak.clone());
                corio::create_task(async move {
                    let _permit = limit.acquire().await;
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    corio::sleep(Duration::from_millis(2)).await; // "downloading"
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        peak.load(Ordering::SeqCst)
    });
    assert_eq!(peak, 3);
}

#[test]
fn an_event_releases_every_waiting_worker() {
    let released = corio::run(async {
        let event = Arc::new(Event::new());
        let released = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (event, released) = (event.clone(), released.clone());
                corio::create_task(async move {
                    event.wait().await;
                    released.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        corio::sleep(Duration::from_millis(2)).await;
        assert_eq!(
            released.load(Ordering::SeqCst),
            0,
            "nobody passes before set()"
        );
        event.set();
        for worker in workers {
            worker.await.unwrap();
        }
        released.load(Ordering::SeqCst)
    });
    assert_eq!(released, 4);
}

#[test]
fn a_condition_drives_a_producer_and_a_consumer() {
    let consumed = corio::run(async {
        let state = Arc::new((Lock::new(Vec::<u32>::new()), Condition::new()));
        let consumer = corio::create_task({
            let state = state.clone();
            async move {
                let (lock, ready) = &*state;
                let mut got = Vec::new();
                while got.len() < 5 {
                    let mut items = ready
                        .wait_for(lock.lock().await, |items| !items.is_empty())
                        .await;
                    got.append(&mut items);
                }
                got
            }
        });
        for i in 0..5 {
            let (lock, ready) = &*state;
            lock.lock().await.push(i);
            ready.notify(1);
            corio::yield_now().await;
        }
        consumer.await.unwrap()
    });
    assert_eq!(consumed, [0, 1, 2, 3, 4]);
}

#[test]
fn a_queue_feeds_workers_and_join_waits_for_task_done() {
    let processed = corio::run(async {
        let queue = Arc::new(Queue::new(3));
        let processed = Arc::new(Mutex::new(Vec::new()));
        for _ in 0..3 {
            let (queue, processed) = (queue.clone(), processed.clone());
            corio::create_task(async move {
                while let Ok(item) = queue.get().await {
                    corio::sleep(Duration::from_millis(1)).await;
                    processed.lock().unwrap().push(item);
                    queue.task_done().unwrap();
                }
            });
        }
        for item in 0..12 {
            queue.put(item).await.unwrap();
        }
        queue.join().await;
        queue.shutdown(false);
        let mut processed = processed.lock().unwrap().clone();
        processed.sort_unstable();
        processed
    });
    assert_eq!(processed, (0..12).collect::<Vec<_>>());
}

#[test]
fn a_barrier_gives_each_party_a_distinct_index_and_a_promise_reaches_every_waiter() {
    let (mut indices, values) = corio::run(async {
        let barrier = Arc::new(Barrier::new(3));
        let promise = Arc::new(Promise::new());
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let (barrier, promise) = (barrier.clone(), promise.clone());
                corio::create_task(async move {
                    let index = barrier.wait().await.unwrap();
                    let value: String = promise.wait().await.unwrap();
                    (index, value)
                })
            })
            .collect();
        corio::yield_now().await;
        promise.set_result("ready".to_string()).unwrap();
        let mut indices = Vec::new();
        let mut values = Vec::new();
        for task in tasks {
            let (index, value) = task.await.unwrap();
            indices.push(index);
            values.push(value);
        }
        (indices, values)
    });
    indices.sort_unstable();
    assert_eq!(indices, [0, 1, 2]);
    assert!(values.iter().all(|v| v == "ready"));
}

#[test]
fn a_waiter_dropped_by_a_timeout_loses_nothing() {
    corio::run(async {
        let queue = Arc::new(Queue::<u32>::new(0));
        // A getter that gives up after 5 ms leaves no trace...
        let gave_up = corio::timeout(Duration::from_millis(5), queue.get()).await;
        assert!(gave_up.is_err());
        queue.put_nowait(7).unwrap();
        // ...so the item goes to the next getter.
        assert_eq!(queue.get().await.unwrap(), 7);
    });
}
