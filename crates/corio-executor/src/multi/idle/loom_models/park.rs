//! Park and unpark: work queued while the last worker goes to sleep is
//! never lost, and a wake racing `begin_close` never leaves a worker parked.

use std::future::Future;
use std::sync::Arc;
use std::task::{Poll, Waker};

use loom::sync::Mutex;

use super::{model, model_bounded, Pool, Tally};
use crate::raw::Builder;

/// A foreign thread spawns (into the injector) while the only worker finds
/// nothing and goes to sleep: the worker runs the task.
#[test]
fn a_foreign_spawn_while_the_last_worker_sleeps_is_run() {
    model(|| {
        let tally = Tally::new();
        let mut pool = Pool::new(1);
        pool.start(0);
        let scheduler = pool.scheduler.clone();
        let body = tally.task();
        let foreign = loom::thread::spawn(move || scheduler.spawn(Builder::new(), body));
        let task = foreign.join().unwrap();
        pool.block_on(async { task.await.unwrap() });
        assert_eq!(tally.completed(), 1);
        pool.close();
        assert_eq!(tally.dropped(), 1);
    });
}

/// A task on one worker spawns a child into that worker's local queue while
/// the other worker goes to sleep: the child runs (on either worker).
#[test]
fn a_spawn_on_a_worker_while_the_other_goes_to_sleep_is_run() {
    model_bounded(1, || {
        let tally = Tally::new();
        let mut pool = Pool::new(2);
        let scheduler = pool.scheduler.clone();
        let body = tally.task();
        // The parent hands the child's handle back (not awaiting it).
        #[allow(clippy::async_yields_async)]
        let parent = pool.spawn(async move { scheduler.spawn(Builder::new(), body) });
        pool.start(0);
        pool.start(1);
        pool.block_on(async { parent.await.unwrap().await.unwrap() });
        assert_eq!(tally.completed(), 1);
        pool.close();
        assert_eq!(tally.dropped(), 1);
    });
}

/// Where a waiting task leaves its waker, and who waits for it to be there.
#[derive(Default)]
struct Handshake {
    task: Option<Waker>,
    watcher: Option<Waker>,
}

/// A task waits (its waker handed to a foreign thread); the foreign thread
/// wakes it while the owner closes the executor and the worker goes to
/// sleep: the worker exits (a parked worker would be a loom deadlock), and
/// the task's future is dropped exactly once, run or not.
#[test]
fn a_foreign_wake_racing_close_leaves_no_worker_parked() {
    model(|| {
        let tally = Tally::new();
        let handshake = Arc::new(Mutex::new(Handshake::default()));
        let mut pool = Pool::new(1);
        let mut waited = false;
        let shared = handshake.clone();
        let body = tally.task();
        let mut body = Box::pin(body);
        let task = pool.spawn(std::future::poll_fn(move |cx| {
            if !waited {
                waited = true;
                let mut handshake = shared.lock().unwrap();
                handshake.task = Some(cx.waker().clone());
                if let Some(watcher) = handshake.watcher.take() {
                    watcher.wake();
                }
                return Poll::Pending;
            }
            body.as_mut().poll(cx)
        }));
        pool.start(0);
        // The owner waits until the task has handed its waker over.
        let waker = pool.block_on(std::future::poll_fn(|cx| {
            let mut handshake = handshake.lock().unwrap();
            match handshake.task.take() {
                Some(waker) => Poll::Ready(waker),
                None => {
                    handshake.watcher = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        }));
        let foreign = loom::thread::spawn(move || waker.wake());
        let pool = pool.begin_close();
        foreign.join().unwrap();
        pool.finish_close();
        drop(task);
        assert!(tally.completed() <= 1);
        assert_eq!(tally.dropped(), 1);
    });
}

/// The owner closes while the only worker is going to sleep with nothing
/// queued: the worker exits.
#[test]
fn close_while_the_last_worker_goes_to_sleep_stops_it() {
    model(|| {
        let mut pool = Pool::new(1);
        pool.start(0);
        pool.close();
    });
}

/// The same race as the previous model with one more preemption (the owner
/// waits without a loop of its own, which keeps the model small).
#[test]
fn a_spawn_on_a_worker_while_the_other_goes_to_sleep_is_run_two_preemptions() {
    model(|| {
        let tally = Tally::waited_for(1);
        let mut pool = Pool::new(2);
        let scheduler = pool.scheduler.clone();
        let body = tally.task();
        let parent = pool.spawn(async move { drop(scheduler.spawn(Builder::new(), body)) });
        pool.start(0);
        pool.start(1);
        tally.wait();
        drop(parent);
        pool.close();
        assert_eq!(tally.dropped(), 1);
    });
}

/// A local task pinned to the only worker gives its waker to a foreign
/// thread, which wakes it (straight into the worker's pinned queue and the
/// worker's parker, not through the idle list) while the worker goes to
/// sleep: the worker wakes and polls it.
#[test]
fn a_foreign_wake_of_a_local_task_reaches_its_sleeping_worker() {
    model(|| {
        let tally = Tally::waited_for(1);
        let slot: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
        let shared = slot.clone();
        let foreign = loom::thread::spawn(move || loop {
            if let Some(waker) = shared.lock().unwrap().take() {
                waker.wake();
                return;
            }
            loom::thread::park();
        });
        let mut pool = Pool::new(1);
        let scheduler = pool.scheduler.clone();
        let waker_to = foreign.thread().clone();
        let mut body = Box::pin(tally.task());
        let parent = pool.spawn(async move {
            let mut waited = false;
            let local = std::future::poll_fn(move |cx| {
                if !waited {
                    waited = true;
                    *slot.lock().unwrap() = Some(cx.waker().clone());
                    waker_to.unpark();
                    return Poll::Pending;
                }
                body.as_mut().poll(cx)
            });
            // Pinned to this worker, detached.
            drop(scheduler.spawn_local(Builder::new(), local));
        });
        pool.start(0);
        tally.wait();
        foreign.join().unwrap();
        drop(parent);
        pool.close();
        assert_eq!(tally.dropped(), 1);
    });
}
