//! The local queues: a worker pushes into its own bounded queue (under loom
//! it holds two, so the third push overflows into the injector) and pops
//! from it while idle workers steal half of it, from it and from each
//! other; every Runnable runs exactly once and every future is dropped
//! exactly once.

use std::sync::Arc;

use super::{model_bounded, Pool, Tally};
use crate::raw::{Builder, MultiScheduler, Task};

/// A task that spawns `children` tasks onto its worker's local queue and
/// hands their handles back.
fn parent(pool: &Pool, tally: &Tally, children: usize) -> Task<Vec<Task<()>>> {
    let scheduler: Arc<MultiScheduler> = pool.scheduler.clone();
    let bodies: Vec<_> = (0..children).map(|_| tally.task()).collect();
    pool.spawn(async move {
        bodies
            .into_iter()
            .map(|body| scheduler.spawn(Builder::new(), body))
            .collect()
    })
}

/// Runs the model: `workers` workers, one parent spawning `children`; the
/// owner thread waits for them without running a loop of its own.
fn spread(workers: usize, children: usize) {
    let tally = Tally::waited_for(children);
    let mut pool = Pool::new(workers);
    let parent = parent(&pool, &tally, children);
    for slot in 0..workers {
        pool.start(slot);
    }
    tally.wait();
    assert_eq!(tally.completed(), children);
    drop(parent);
    pool.close();
    assert_eq!(tally.dropped(), children);
}

/// Three children pushed into a queue of two (one overflows into the
/// injector) while the other worker steals half of the queue: each runs
/// once, wherever it ends up.
#[test]
fn push_and_pop_against_a_steal_of_half_with_overflow_run_each_task_once() {
    model_bounded(1, || spread(2, 3));
}

/// Two idle workers steal from the busy one (and from each other, a chained
/// steal) at once.
#[test]
fn two_stealers_run_each_task_once() {
    model_bounded(1, || spread(3, 3));
}
