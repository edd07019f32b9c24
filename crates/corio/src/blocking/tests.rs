//! Unit tests of the blocking pool: results, panics, the thread cap,
//! reuse and retirement of idle threads, shutdown.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use super::join::BlockingJoin;
use super::pool::PoolShutDown;
use super::{BlockingPool, DEFAULT_KEEP_ALIVE, DEFAULT_MAX_THREADS};

struct ThreadWaker(thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}

/// Polls `cond` until true or 2 s pass.
fn wait_until(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        thread::sleep(Duration::from_millis(2));
    }
    cond()
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        String::new()
    }
}

#[test]
fn result_arrives() {
    let pool = BlockingPool::new(DEFAULT_MAX_THREADS, DEFAULT_KEEP_ALIVE);
    let join = pool.spawn(|| 6 * 7).unwrap();
    assert_eq!(block_on(join).unwrap(), 42);
    let name = block_on(
        pool.spawn(|| thread::current().name().map(str::to_owned))
            .unwrap(),
    )
    .unwrap()
    .unwrap();
    assert!(name.starts_with("corio-blocking-"), "{name}");
    assert!(pool.shutdown(Some(Duration::from_secs(2))));
}

#[test]
fn panic_is_delivered_and_pool_survives() {
    let pool = BlockingPool::new(1, Duration::from_secs(10));
    let join = pool.spawn(|| -> u32 { panic!("boom {}", 7) }).unwrap();
    let err = block_on(join).unwrap_err();
    assert_eq!(panic_message(&*err), "boom 7");
    assert_eq!(block_on(pool.spawn(|| 1).unwrap()).unwrap(), 1);
    assert_eq!(pool.thread_count(), 1);
    assert!(pool.shutdown(Some(Duration::from_secs(2))));
}

#[test]
fn many_jobs_respect_the_cap() {
    let pool = BlockingPool::new(8, Duration::from_secs(10));
    let running = Arc::new(AtomicUsize::new(0));
    let max_running = Arc::new(AtomicUsize::new(0));
    let max_threads = Arc::new(AtomicUsize::new(0));
    let joins: Vec<_> = (0..64)
        .map(|i| {
            let (pool2, running, max_running, seen_threads) = (
                pool.clone(),
                running.clone(),
                max_running.clone(),
                max_threads.clone(),
            );
            let join = pool
                .spawn(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    max_running.fetch_max(now, Ordering::SeqCst);
                    seen_threads.fetch_max(pool2.thread_count(), Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                    i
                })
                .unwrap();
            max_threads.fetch_max(pool.thread_count(), Ordering::SeqCst);
            join
        })
        .collect();
    for (i, join) in joins.into_iter().enumerate() {
        assert_eq!(block_on(join).unwrap(), i);
    }
    assert!(max_threads.load(Ordering::SeqCst) <= 8);
    assert!(max_running.load(Ordering::SeqCst) <= 8);
    assert_eq!(pool.thread_count(), 8);
    assert!(pool.shutdown(Some(Duration::from_secs(2))));
    assert_eq!(pool.thread_count(), 0);
}

#[test]
fn idle_thread_is_reused() {
    let pool = BlockingPool::new(8, Duration::from_secs(10));
    let first = block_on(pool.spawn(|| thread::current().id()).unwrap()).unwrap();
    assert!(wait_until(|| pool.idle_count() == 1));
    let second = block_on(pool.spawn(|| thread::current().id()).unwrap()).unwrap();
    assert_eq!(first, second);
    assert_eq!(pool.thread_count(), 1);
    assert!(pool.shutdown(Some(Duration::from_secs(2))));
}

#[test]
fn idle_threads_retire_after_keep_alive() {
    let pool = BlockingPool::new(4, Duration::from_millis(50));
    let joins: Vec<_> = (0..4)
        .map(|_| {
            pool.spawn(|| thread::sleep(Duration::from_millis(10)))
                .unwrap()
        })
        .collect();
    for join in joins {
        block_on(join).unwrap();
    }
    assert!(wait_until(|| pool.thread_count() == 0));
    assert_eq!(pool.idle_count(), 0);
    // The pool still works after every thread retired.
    assert_eq!(block_on(pool.spawn(|| 5).unwrap()).unwrap(), 5);
    assert!(pool.shutdown(Some(Duration::from_secs(2))));
}

#[test]
fn spawn_after_shutdown_errs() {
    let pool = BlockingPool::new(2, Duration::from_secs(10));
    assert!(pool.shutdown(None));
    let err = pool.spawn(|| ()).unwrap_err();
    assert_eq!(err, PoolShutDown);
    assert_eq!(err.to_string(), "the blocking pool is shut down");
    assert!(pool.shutdown(Some(Duration::ZERO)));
}

#[test]
fn shutdown_runs_queued_jobs_and_joins() {
    let pool = BlockingPool::new(1, Duration::from_secs(10));
    let done = Arc::new(AtomicUsize::new(0));
    let first = pool
        .spawn(|| thread::sleep(Duration::from_millis(50)))
        .unwrap();
    let queued: Vec<_> = (0..5)
        .map(|_| {
            let done = done.clone();
            pool.spawn(move || {
                done.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap()
        })
        .collect();
    assert!(pool.shutdown(None));
    assert_eq!(done.load(Ordering::SeqCst), 5);
    assert_eq!(pool.thread_count(), 0);
    block_on(first).unwrap();
    for join in queued {
        block_on(join).unwrap();
    }
}

#[test]
fn shutdown_times_out_on_a_busy_worker() {
    let pool = BlockingPool::new(1, Duration::from_secs(10));
    let (tx, rx) = mpsc::channel::<()>();
    let join = pool.spawn(move || rx.recv().is_ok()).unwrap();
    assert!(!pool.shutdown(Some(Duration::from_millis(20))));
    assert!(pool.spawn(|| ()).is_err());
    tx.send(()).unwrap();
    assert!(pool.shutdown(Some(Duration::from_secs(2))));
    assert!(block_on(join).unwrap());
}

#[test]
fn dropped_join_does_not_break_the_worker() {
    let pool = BlockingPool::new(1, Duration::from_secs(10));
    let (tx, rx) = mpsc::channel::<()>();
    let ran = Arc::new(AtomicUsize::new(0));
    let ran2 = ran.clone();
    let join = pool
        .spawn(move || {
            rx.recv().unwrap();
            ran2.fetch_add(1, Ordering::SeqCst);
            String::from("discarded")
        })
        .unwrap();
    // Register a waker first, then drop the join while the job is blocked.
    let mut join = join;
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    assert!(Pin::new(&mut join)
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    drop(join);
    tx.send(()).unwrap();
    assert_eq!(block_on(pool.spawn(|| 9).unwrap()).unwrap(), 9);
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    assert_eq!(pool.thread_count(), 1);
    assert!(pool.shutdown(Some(Duration::from_secs(2))));
}

#[test]
fn shutdown_from_inside_a_job_does_not_deadlock() {
    let pool = BlockingPool::new(2, Duration::from_secs(10));
    let pool2 = pool.clone();
    let join = pool
        .spawn(move || pool2.shutdown(Some(Duration::from_secs(2))))
        .unwrap();
    assert!(block_on(join).unwrap());
    assert!(pool.shutdown(Some(Duration::from_secs(2))));
    assert_eq!(pool.thread_count(), 0);
}

#[test]
fn join_is_send_and_unpin() {
    fn check<T: Send + Unpin>() {}
    fn check_sync<T: Send + Sync>() {}
    check::<BlockingJoin<Vec<u8>>>();
    check_sync::<BlockingPool>();
}
