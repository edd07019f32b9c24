//! The local queues: a worker pushes into its own bounded queue (under loom
//! it holds four, so a fifth push overflows into the injector) and pops from
//! it while idle workers steal half of it (the first Runnable to run, the
//! rest into their own queue), from it and from each other; a worker
//! blocked inside a poll has its queue stolen. Every Runnable runs exactly
//! once and every future is dropped exactly once.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use loom::sync::{Condvar, Mutex};

use super::{model_bounded, Pool, Tally};
use crate::raw::{Builder, MultiScheduler, Task};

type Body = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A task that spawns `bodies` as tasks onto its worker's local queue, in
/// order, and hands their handles back.
fn parent(pool: &Pool, bodies: Vec<Body>) -> Task<Vec<Task<()>>> {
    let scheduler: Arc<MultiScheduler> = pool.scheduler.clone();
    pool.spawn(async move {
        bodies
            .into_iter()
            .map(|body| scheduler.spawn(Builder::new(), body))
            .collect()
    })
}

/// Runs `workers` workers and one parent spawning `bodies` (which complete
/// `expected` tally tasks); the owner thread waits for them without a loop
/// of its own, then closes.
fn spread(workers: usize, tally: &Tally, bodies: Vec<Body>, expected: usize) {
    let mut pool = Pool::new(workers);
    let parent = parent(&pool, bodies);
    for slot in 0..workers {
        pool.start(slot);
    }
    tally.wait();
    assert_eq!(tally.completed(), expected);
    drop(parent);
    pool.close();
    assert_eq!(tally.dropped(), expected);
}

/// `children` plain tasks.
fn plain(workers: usize, children: usize) {
    let tally = Tally::waited_for(children);
    let bodies = (0..children)
        .map(|_| Box::pin(tally.task()) as Body)
        .collect();
    spread(workers, &tally, bodies, children);
}

/// Five children pushed into a queue of four (one overflows into the
/// injector) while the other worker steals half of the queue: each runs
/// once, wherever it ends up.
#[test]
fn push_and_pop_against_a_steal_of_half_with_overflow_run_each_task_once() {
    model_bounded(1, || plain(2, 5));
}

/// Two idle workers steal from the busy one (and from each other) at once.
#[test]
fn two_stealers_run_each_task_once() {
    model_bounded(1, || plain(3, 3));
}

/// Counts passes; a waiter blocks its thread until enough have passed.
#[derive(Clone)]
struct Gate(Arc<(Mutex<usize>, Condvar)>);

impl Gate {
    fn pass(&self) {
        *self.0 .0.lock().unwrap() += 1;
        self.0 .1.notify_all();
    }

    fn wait(&self, passes: usize) {
        let mut passed = self.0 .0.lock().unwrap();
        while *passed < passes {
            passed = self.0 .1.wait(passed).unwrap();
        }
    }
}

/// The first child blocks its worker's thread inside its poll until the two
/// others have run, which sit in that worker's queue (or wherever steals
/// and overflow put them): another worker must be woken and steal them,
/// from the blocked worker if need be, or the model deadlocks.
#[test]
fn a_worker_blocked_in_a_poll_has_its_queue_stolen() {
    model_bounded(1, || {
        let tally = Tally::waited_for(3);
        let gate = Gate(Arc::new((Mutex::new(0), Condvar::new())));
        let blocker = {
            let (gate, mut body) = (gate.clone(), Box::pin(tally.task()));
            Box::pin(std::future::poll_fn(move |cx| {
                gate.wait(2);
                body.as_mut().poll(cx)
            })) as Body
        };
        let mut bodies = vec![blocker];
        for _ in 0..2 {
            let (gate, body) = (gate.clone(), tally.task());
            bodies.push(Box::pin(async move {
                body.await;
                gate.pass();
            }));
        }
        spread(2, &tally, bodies, 3);
    });
}
