//! A worker blocked inside a poll (user code that does not return) does not
//! stall the others: the tasks it had queued run elsewhere, including one
//! the blocked poll woke just before it blocked, and IO keeps being driven
//! when the worker blocked right after leaving the driver.
//!
//! Such a task sits in the blocked worker's LIFO slot: the worker holding
//! the watch (the first to sleep, in the driver if there is one) takes it
//! once the blocked worker has started no poll for a watch interval
//! (`worker::rescue_lifo`); tokio's LIFO slot has no such rescue.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use corio_executor::{Executor, Park};

use crate::common::WakerSlot;

/// Blocks the calling thread until `flag` is set or `limit` passes;
/// returns whether it was set.
fn block_until(flag: &AtomicBool, limit: Duration) -> bool {
    let started = Instant::now();
    while !flag.load(Ordering::SeqCst) {
        if started.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    true
}

#[test]
fn a_task_woken_by_a_poll_that_then_blocks_runs_on_another_worker() {
    let limit = if std::env::var_os("CORIO_UNDER_VALGRIND").is_some() {
        Duration::from_secs(60)
    } else {
        Duration::from_secs(5)
    };
    for _ in 0..20 {
        let ex = Executor::new(2);
        let slot = WakerSlot::new();
        let ran = Arc::new(AtomicBool::new(false));
        let (waiting, flag) = (slot.clone(), ran.clone());
        let woken = ex.spawn(async move {
            waiting.wait().await;
            flag.store(true, Ordering::SeqCst);
        });
        let (waker, flag) = (slot.clone(), ran.clone());
        let blocker = ex.spawn(async move {
            while !waker.has_waker() {
                crate::common::yield_now().await;
            }
            // Wake the other task from this poll, then block this worker
            // until it has run: only another worker can run it.
            waker.release();
            block_until(&flag, limit)
        });
        let ran_elsewhere = ex.block_on(async {
            woken.await.unwrap();
            blocker.await.unwrap()
        });
        assert!(
            ran_elsewhere,
            "the woken task waited for the blocked worker"
        );
    }
}

/// A reactor for a driver: two event sources, fired from a foreign thread.
#[derive(Default)]
struct Reactor {
    state: Mutex<Events>,
    changed: Condvar,
}

#[derive(Default)]
struct Events {
    unparked: bool,
    fired: [bool; 2],
    interest: [Option<Waker>; 2],
    /// Wakers of fired events, for the driver to deliver.
    pending: Vec<Waker>,
}

impl Reactor {
    fn fire(&self, source: usize) {
        let mut events = self.state.lock().unwrap();
        events.fired[source] = true;
        if let Some(waker) = events.interest[source].take() {
            events.pending.push(waker);
        }
        self.changed.notify_all();
    }

    fn unpark(&self) {
        self.state.lock().unwrap().unparked = true;
        self.changed.notify_all();
    }

    fn registered(&self, source: usize) -> bool {
        self.state.lock().unwrap().interest[source].is_some()
    }

    /// Ready once `source` fired.
    async fn event(self: Arc<Self>, source: usize) {
        std::future::poll_fn(|cx| {
            let mut events = self.state.lock().unwrap();
            if events.fired[source] {
                return Poll::Ready(());
            }
            events.interest[source] = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

/// The idle workers' driver: sleeps until an event or an unpark, then
/// delivers the fired events' wakes on the worker's thread, as a reactor.
struct Driver(Arc<Reactor>);

impl Park for Driver {
    fn park(&mut self, timeout: Option<Duration>) {
        let mut events = self.0.state.lock().unwrap();
        match timeout {
            None => {
                while !events.unparked && events.pending.is_empty() {
                    events = self.0.changed.wait(events).unwrap();
                }
            }
            Some(limit) if !limit.is_zero() => {
                events = self.0.changed.wait_timeout(events, limit).unwrap().0;
            }
            Some(_) => {}
        }
        events.unparked = false;
        let wakers = std::mem::take(&mut events.pending);
        drop(events);
        wakers.into_iter().for_each(Waker::wake);
    }
}

/// Both workers idle (one in the driver, one on its thread); an IO event
/// wakes a task on the worker in the driver, and that task blocks its
/// worker until a second IO event has been delivered: the other worker must
/// take the driver over and deliver it.
#[test]
fn a_worker_that_leaves_the_driver_and_blocks_hands_the_driver_on() {
    let limit = if std::env::var_os("CORIO_UNDER_VALGRIND").is_some() {
        Duration::from_secs(60)
    } else {
        Duration::from_secs(5)
    };
    for _ in 0..10 {
        let reactor = Arc::new(Reactor::default());
        let unpark = reactor.clone();
        let ex = Executor::builder()
            .workers(2)
            .driver(Driver(reactor.clone()), move || unpark.unpark())
            .build()
            .unwrap();
        let second_ran = Arc::new(AtomicBool::new(false));
        let blocking = Arc::new(AtomicBool::new(false));
        let (source, ran, started) = (reactor.clone(), second_ran.clone(), blocking.clone());
        let blocker = ex.spawn(async move {
            source.event(0).await;
            started.store(true, Ordering::SeqCst);
            block_until(&ran, limit)
        });
        let (source, ran) = (reactor.clone(), second_ran.clone());
        let second = ex.spawn(async move {
            source.event(1).await;
            ran.store(true, Ordering::SeqCst);
        });
        ex.start().unwrap();
        while !(reactor.registered(0) && reactor.registered(1)) {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(10)); // both workers asleep
        reactor.fire(0);
        assert!(
            block_until(&blocking, limit),
            "the first event was not delivered"
        );
        reactor.fire(1);
        let delivered = ex.block_on(async {
            second.await.unwrap();
            blocker.await.unwrap()
        });
        assert!(delivered, "nobody drove IO while a worker was blocked");
    }
}

/// As above, but the blocked task waits for a task a foreign thread spawns
/// once the other worker is back asleep (in the driver): the spawn must
/// wake it. (The worker that left the driver must not still count as
/// searching while it runs, or every wake is held back for it.)
#[test]
fn a_worker_that_leaves_the_driver_and_blocks_lets_foreign_spawns_wake_the_others() {
    let limit = if std::env::var_os("CORIO_UNDER_VALGRIND").is_some() {
        Duration::from_secs(60)
    } else {
        Duration::from_secs(5)
    };
    for _ in 0..10 {
        let reactor = Arc::new(Reactor::default());
        let unpark = reactor.clone();
        let ex = Executor::builder()
            .workers(2)
            .driver(Driver(reactor.clone()), move || unpark.unpark())
            .build()
            .unwrap();
        let spawned_ran = Arc::new(AtomicBool::new(false));
        let blocking = Arc::new(AtomicBool::new(false));
        let (source, ran, started) = (reactor.clone(), spawned_ran.clone(), blocking.clone());
        let blocker = ex.spawn(async move {
            source.event(0).await;
            started.store(true, Ordering::SeqCst);
            block_until(&ran, limit)
        });
        ex.start().unwrap();
        while !reactor.registered(0) {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(10)); // both workers asleep
        reactor.fire(0);
        assert!(block_until(&blocking, limit), "the event was not delivered");
        std::thread::sleep(Duration::from_millis(10)); // the other back asleep
        let spawner = ex.spawner();
        let ran = spawned_ran.clone();
        let foreign = std::thread::spawn(move || {
            drop(spawner.spawn(async move { ran.store(true, Ordering::SeqCst) }));
        });
        foreign.join().unwrap();
        let ran_meanwhile = ex.block_on(blocker).unwrap();
        assert!(
            ran_meanwhile,
            "a foreign spawn waited for the blocked worker"
        );
    }
}
