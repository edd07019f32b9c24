//! The work-stealing `Executor`: tasks run on the workers, local tasks stay
//! on the thread that spawned them, idle workers steal, closing drops every
//! future exactly once, bad input is an error.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

use corio_executor::{Executor, MAX_WORKERS};

use crate::common::{yield_now, Counter};

#[test]
fn send_tasks_run_on_the_workers_and_their_results_come_back() {
    let ex = Executor::new(2);
    let main = std::thread::current().id();
    let tasks: Vec<_> = (0..1_000u64)
        .map(|i| {
            ex.spawn(async move {
                yield_now().await;
                (i, std::thread::current().id())
            })
        })
        .collect();
    let results = ex.block_on(async {
        let mut out = Vec::new();
        for task in tasks {
            out.push(task.await.unwrap());
        }
        out
    });
    assert_eq!(
        results.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        (0..1_000).collect::<Vec<_>>()
    );
    assert!(results.iter().all(|(_, thread)| *thread != main));
}

#[test]
fn work_spawned_by_one_task_spreads_over_the_workers() {
    let ex = Executor::new(2);
    let threads = Arc::new(Mutex::new(HashSet::<ThreadId>::new()));
    let spawner = ex.spawner();
    let seen = threads.clone();
    let root = ex.spawn(async move {
        let children: Vec<_> = (0..20_000u64)
            .map(|i| {
                let seen = seen.clone();
                spawner.spawn(async move {
                    // A little CPU work, so the spawner's queue backs up.
                    let mut x = i;
                    for _ in 0..200 {
                        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                    }
                    seen.lock().unwrap().insert(std::thread::current().id());
                    x
                })
            })
            .collect();
        for child in children {
            child.await.unwrap();
        }
    });
    ex.block_on(root).unwrap();
    drop(ex);
    assert_eq!(
        threads.lock().unwrap().len(),
        2,
        "one worker ran everything"
    );
}

#[test]
fn local_tasks_stay_on_the_thread_that_spawned_them() {
    let ex = Executor::new(2);
    let owner = std::thread::current().id();
    let local = ex.spawn_local(async move {
        let rc = std::rc::Rc::new(1); // !Send across the await
        yield_now().await;
        assert_eq!(std::thread::current().id(), owner);
        *rc
    });
    assert_eq!(ex.block_on(local).unwrap(), 1);
}

#[test]
fn closing_drops_every_pending_future_exactly_once() {
    let dropped = Counter::new();
    let ex = Executor::new(3);
    for _ in 0..500 {
        let token = dropped.token();
        drop(ex.spawn(async move {
            let _token = token;
            std::future::pending::<()>().await
        }));
    }
    let token = dropped.token();
    drop(ex.spawn_local(async move {
        let _token = token;
        std::future::pending::<()>().await
    }));
    ex.block_on(yield_now());
    ex.close();
    assert_eq!(dropped.get(), 501);
    assert_eq!(ex.task_count(), 0);
    // Spawned after close: cancelled at once.
    let token = dropped.token();
    let late = ex.spawn(async move {
        let _token = token;
    });
    assert!(late.is_done());
    assert_eq!(dropped.get(), 502);
}

#[test]
fn zero_or_too_many_workers_is_an_error_naming_the_bound() {
    for workers in [0, MAX_WORKERS + 1] {
        let error = Executor::builder().workers(workers).build().unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
        assert!(error.to_string().contains("1024"), "{error}");
    }
}

#[test]
fn wakes_from_a_foreign_thread_reach_sleeping_workers() {
    let ex = Executor::new(2);
    ex.start().unwrap(); // workers start on the first block_on, or here
    let count = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = std::sync::mpsc::channel::<std::task::Waker>();
    let counted = count.clone();
    let waiter = ex.spawn(async move {
        let mut first = true;
        std::future::poll_fn(move |cx| {
            if first {
                first = false;
                tx.send(cx.waker().clone()).unwrap();
                return std::task::Poll::Pending;
            }
            counted.fetch_add(1, Ordering::SeqCst);
            std::task::Poll::Ready(())
        })
        .await
    });
    let waker = rx.recv().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20)); // every worker asleep
    std::thread::spawn(move || waker.wake()).join().unwrap();
    ex.block_on(waiter).unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 1);
}
