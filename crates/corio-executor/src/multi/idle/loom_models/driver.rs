//! The driver hand-off: idle workers take turns sleeping in the shared
//! driver (IO, timers); one sleeps there, the other on its thread, and work
//! arrives from an IO event or a foreign thread: it runs, and every worker
//! exits at close.

use std::future::Future;
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::Duration;

use loom::sync::{Condvar, Mutex};

use super::{model_bounded, Pool, Tally};
use crate::park::Park;
use crate::raw::Builder;

/// What the modelled reactor knows.
#[derive(Default)]
struct Reactor {
    /// `unpark_driver` was called and no park has returned since (sticky,
    /// as an eventfd's wake is).
    unparked: bool,
    /// The event source fired.
    ready: bool,
    /// The task waiting for it, registered by its poll.
    interest: Option<Waker>,
    /// Wakers whose events the driver has not delivered yet.
    events: Vec<Waker>,
}

/// A reactor shared by the driver, its unpark callback and the event source.
#[derive(Clone, Default)]
struct Shared(Arc<(Mutex<Reactor>, Condvar)>);

impl Shared {
    fn new() -> Shared {
        Shared(Arc::new((Mutex::new(Reactor::default()), Condvar::new())))
    }

    /// The event source fires (a foreign thread: the kernel).
    fn fire(&self) {
        let (reactor, condvar) = &*self.0;
        let mut reactor = reactor.lock().unwrap();
        reactor.ready = true;
        if let Some(waker) = reactor.interest.take() {
            reactor.events.push(waker);
            condvar.notify_one();
        }
    }

    /// The executor's `unpark_driver`.
    fn unpark(&self) {
        let (reactor, condvar) = &*self.0;
        reactor.lock().unwrap().unparked = true;
        condvar.notify_one();
    }

    /// Polls the event source: ready once it fired, else registers interest.
    fn poll_ready(&self, waker: &Waker) -> Poll<()> {
        let mut reactor = self.0 .0.lock().unwrap();
        if reactor.ready {
            return Poll::Ready(());
        }
        reactor.interest = Some(waker.clone());
        Poll::Pending
    }
}

/// The `Park` the workers share: blocks until an event or an unpark (or
/// not at all for a maintenance turn), then wakes the tasks whose events
/// arrived, on the parking worker's thread, as a reactor does.
struct Driver(Shared);

impl Park for Driver {
    fn park(&mut self, timeout: Option<Duration>) {
        let (reactor, condvar) = &*self.0 .0;
        let mut state = reactor.lock().unwrap();
        if timeout.is_none() {
            while !state.unparked && state.events.is_empty() {
                state = condvar.wait(state).unwrap();
            }
        }
        state.unparked = false;
        let events = std::mem::take(&mut state.events);
        drop(state);
        for waker in events {
            waker.wake();
        }
    }
}

/// A pool of `workers` workers sharing a [`Driver`] over `shared`.
fn pool(workers: usize, shared: &Shared) -> Pool {
    let unpark = shared.clone();
    Pool::with_driver(
        workers,
        Some(Box::new(Driver(shared.clone()))),
        Box::new(move || unpark.unpark()),
    )
}

/// A task waits for an IO event; both workers go idle (one in the driver,
/// one on its thread); the event fires: the worker in the driver wakes the
/// task (into its own queue) and hands the driver on; the task completes.
#[test]
fn an_io_event_while_one_worker_sleeps_in_the_driver_and_one_on_its_thread_is_run() {
    model_bounded(1, || {
        let shared = Shared::new();
        let tally = Tally::new();
        let mut pool = pool(2, &shared);
        let source = shared.clone();
        let mut body = Box::pin(tally.task());
        let task = pool.spawn(std::future::poll_fn(move |cx| {
            if source.poll_ready(cx.waker()).is_pending() {
                return Poll::Pending;
            }
            body.as_mut().poll(cx)
        }));
        pool.start(0);
        pool.start(1);
        let kernel = shared.clone();
        let foreign = loom::thread::spawn(move || kernel.fire());
        pool.block_on(async { task.await.unwrap() });
        foreign.join().unwrap();
        assert_eq!(tally.completed(), 1);
        pool.close();
        assert_eq!(tally.dropped(), 1);
    });
}

/// Both workers go idle (one in the driver, one on its thread) while a
/// foreign thread spawns into the injector: whichever is woken runs it.
#[test]
fn a_foreign_spawn_while_one_worker_sleeps_in_the_driver_and_one_on_its_thread_is_run() {
    model_bounded(1, || {
        let shared = Shared::new();
        let tally = Tally::new();
        let mut pool = pool(2, &shared);
        pool.start(0);
        pool.start(1);
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
