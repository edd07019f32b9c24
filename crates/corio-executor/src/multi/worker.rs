//! One worker thread's loop, and the owner thread's `block_on` loop.
//!
//! Each tick a worker runs one Runnable, found in this order: every 61st
//! tick the injector first (so work from other threads is never starved by
//! a busy local queue) and a maintenance turn of the driver (timers and IO
//! keep moving while every worker is busy); then its pinned local tasks and
//! its local queue (alternating which comes first, so neither starves the
//! other), then the injector, then half of another worker's queue (stolen,
//! starting from a victim that changes every tick). A worker that finds
//! nothing sleeps: in the driver if no other worker does (it then waits for
//! IO and timers for everyone), else on its own thread; see `idle.rs`.

use std::sync::Arc;
use std::time::Duration;

use crate::loom::Ordering;

use crate::local::{run_hooked, spans_for_iteration, SlowPoll};
use crate::raw::multi_scheduler::polling;
use crate::raw::{MultiScheduler, Runnable};

/// How many times in a row a worker runs its LIFO slot before it looks at
/// its queue (tokio's bound too).
const MAX_LIFO_POLLS: u32 = 3;
use crate::MAINTENANCE_INTERVAL;

/// The slow-poll hook workers report to.
pub(crate) struct SlowPollReport {
    pub(crate) threshold: Duration,
    pub(crate) report: Box<dyn Fn(&SlowPoll) + Send + Sync>,
}

/// Runs worker `slot`'s loop until the executor closes, then drops the
/// local tasks pinned to it.
pub(crate) fn run_worker(
    scheduler: &Arc<MultiScheduler>,
    slot: usize,
    slow_poll: Option<&SlowPollReport>,
) {
    let _worker = scheduler.enter_worker(slot);
    let mut tick: usize = slot;
    let mut searching = false;
    let mut lifo_polls = 0;
    while !scheduler.is_closed() {
        tick = tick.wrapping_add(1);
        if tick % MAINTENANCE_INTERVAL == 0 {
            maintenance(scheduler);
        }
        // The LIFO slot first, a few times in a row at most: two tasks that
        // keep waking each other must not starve the queue.
        if let Some(runnable) = scheduler.take_lifo(slot) {
            if lifo_polls < MAX_LIFO_POLLS {
                lifo_polls += 1;
                // Filled in the driver, this worker may still count as
                // searching: it stops before the poll (which may block).
                found_work(scheduler, slot, &mut searching);
                scheduler.count_poll(slot);
                run(runnable, slot, slow_poll);
                continue;
            }
            scheduler.schedule_send(runnable);
        }
        lifo_polls = 0;
        let mut next = next_runnable(scheduler, slot, tick);
        if next.is_none() {
            if !searching {
                scheduler.idle.start_search();
                searching = true;
            }
            next = steal(scheduler, slot, tick);
        }
        match next {
            Some(runnable) => {
                found_work(scheduler, slot, &mut searching);
                scheduler.count_poll(slot);
                run(runnable, slot, slow_poll);
            }
            None => {
                // Still counted as searching while it spins: work queued
                // meanwhile wakes nobody else, this worker takes it.
                if spin_for_work(scheduler, slot) {
                    continue;
                }
                scheduler.idle.end_search();
                sleep(scheduler, slot);
                // Awake again: counted as searching (see `Idle::wake_up`).
                searching = true;
            }
        }
    }
    if searching {
        scheduler.idle.end_search();
    }
    // Closing: a task left in the LIFO slot, or woken into it by a `Drop`
    // that `close_slot` runs (a local task's), goes back to the queues,
    // whose Runnables `close` drops on its own thread. Left in the slot, it
    // would be dropped by the thread-local's destructor as the thread
    // exits, outside the worker's context (`tests/executor/multi_close.rs`).
    let requeue = || {
        while let Some(runnable) = scheduler.take_lifo(slot) {
            scheduler.schedule_send(runnable);
        }
    };
    requeue();
    scheduler.close_slot(slot);
    requeue();
}

/// A searching worker found work: it stops searching before it runs it (a
/// worker counted as searching holds every other wake back). The last
/// searcher passes the search to a sleeper if more work is waiting.
#[inline]
fn found_work(scheduler: &MultiScheduler, slot: usize, searching: &mut bool) {
    if *searching {
        *searching = false;
        if scheduler.idle.end_search() && scheduler.has_work_for(slot) {
            scheduler.idle.notify_one(scheduler);
        }
    }
}

/// Polls one Runnable, in its span and timed when debug tooling asks.
#[inline]
pub(crate) fn run(runnable: Runnable, slot: usize, slow_poll: Option<&SlowPollReport>) {
    // The task's address, only ever compared (a self-wake goes to the back).
    let task = runnable.header() as *const crate::raw::Header as usize;
    polling(task, || run_in_span(runnable, slot, slow_poll))
}

fn run_in_span(runnable: Runnable, slot: usize, slow_poll: Option<&SlowPollReport>) {
    // With no subscriber at INFO, one level check: the executor's spans (a
    // thread-local its workers set, `task_spans::activate`) are not looked at.
    let spans = spans_for_iteration();
    match (slow_poll, spans) {
        (None, None) => {
            runnable.run();
        }
        (hook, spans) => {
            let hook = hook.map(|h| (h.threshold, &*h.report as &dyn Fn(&SlowPoll)));
            run_hooked(runnable, spans.as_deref(), hook, Some(slot));
        }
    }
}

/// The next Runnable of this worker's own queues, or the injector's.
#[inline]
fn next_runnable(scheduler: &MultiScheduler, slot: usize, tick: usize) -> Option<Runnable> {
    let own = &scheduler.slots[slot];
    if tick % MAINTENANCE_INTERVAL == 0 {
        if let Ok(runnable) = scheduler.injector.pop() {
            return Some(runnable);
        }
    }
    let (first, second) = if tick & 1 == 0 {
        (&own.queue, &own.pinned)
    } else {
        (&own.pinned, &own.queue)
    };
    first
        .pop()
        .or_else(|_| second.pop())
        .ok()
        .or_else(|| from_injector(scheduler, slot))
}

/// Takes a Runnable from the injector, and moves a fair share of what is
/// left (up to 64) into this worker's queue, so that workers draining a
/// busy injector contend on it once per batch rather than once per task.
#[inline]
fn from_injector(scheduler: &MultiScheduler, slot: usize) -> Option<Runnable> {
    let first = scheduler.injector.pop().ok()?;
    let share = (scheduler.injector.len() / scheduler.workers).min(64);
    let own = &scheduler.slots[slot].queue;
    for _ in 0..share {
        let Ok(more) = scheduler.injector.pop() else {
            break;
        };
        if let Err(full) = own.push(more) {
            scheduler.push_injector(full.into_inner());
            break;
        }
    }
    Some(first)
}

/// Takes half of another worker's queue (the first to run, the rest into
/// this worker's queue), or a Runnable of the injector.
fn steal(scheduler: &MultiScheduler, slot: usize, tick: usize) -> Option<Runnable> {
    let workers = scheduler.workers;
    let own = &scheduler.slots[slot].queue;
    for offset in 0..workers {
        let victim = (tick + offset) % workers;
        if victim == slot {
            continue;
        }
        let queue = &scheduler.slots[victim].queue;
        let available = queue.len();
        if available == 0 {
            continue;
        }
        let Ok(first) = queue.pop() else { continue };
        for _ in 1..available.div_ceil(2) {
            let Ok(more) = queue.pop() else { break };
            if let Err(full) = own.push(more) {
                scheduler.push_injector(full.into_inner());
                break;
            }
        }
        return Some(first);
    }
    from_injector(scheduler, slot)
}

/// Between ticks: fires due timers and polls IO without blocking, if no
/// other worker sleeps in the driver.
fn maintenance(scheduler: &MultiScheduler) {
    if let Some(mut driver) = scheduler.driver.try_lock() {
        if let Some(driver) = driver.as_mut() {
            driver.park(Some(Duration::ZERO));
        }
    }
}

/// How many rounds a worker that ran out of work keeps looking before it
/// goes to sleep (each round a few dozen spin hints): a wake-up costs two
/// context switches, and work often arrives within microseconds.
#[cfg(not(loom))]
const SPIN_ROUNDS: u32 = 32;
/// Under loom the models explore sleeping, not spinning.
#[cfg(loom)]
const SPIN_ROUNDS: u32 = 0;

/// Looks for work for a few microseconds before sleeping; whether some
/// showed up.
fn spin_for_work(scheduler: &MultiScheduler, slot: usize) -> bool {
    for _ in 0..SPIN_ROUNDS {
        for _ in 0..32 {
            std::hint::spin_loop();
        }
        if scheduler.has_work_for(slot) || scheduler.is_closed() {
            return true;
        }
    }
    false
}

/// How often the worker asleep in the driver looks at the busy workers'
/// LIFO slots; a task is taken from one whose worker started no poll
/// between two looks (so after one to two intervals).
const LIFO_WATCH_INTERVAL: Duration = Duration::from_millis(10);

/// Under loom the models explore the wake-ups, not the watch's timeouts.
pub(crate) const WATCH_LIFO: bool = !cfg!(loom);

/// Called by the worker holding the driver: moves the task of a busy
/// worker's LIFO slot to the injector if that worker has not started a poll
/// since the last look (its current poll blocks), so another worker runs it.
/// Go's scheduler steals `runnext` the same way, after a delay.
fn rescue_lifo(scheduler: &MultiScheduler, watcher: usize) {
    for (index, victim) in scheduler.slots[..scheduler.workers].iter().enumerate() {
        if index == watcher || victim.lifo.is_empty() {
            continue;
        }
        let polls = victim.watch.polls.load(Ordering::Relaxed);
        if victim.watch.lifo_seen.swap(polls, Ordering::Relaxed) != polls {
            continue; // first look, or it moved on since: look again later
        }
        if let Ok(stuck) = victim.lifo.pop() {
            scheduler.push_injector(stuck);
        }
    }
}

/// Sleeps until woken (see `idle.rs`), unless work shows up meanwhile.
fn sleep(scheduler: &MultiScheduler, slot: usize) {
    scheduler.idle.register_sleeper(slot);
    if scheduler.has_work_for(slot) || scheduler.is_closed() {
        scheduler.idle.wake_up(slot);
        return;
    }
    let parker = &scheduler.slots[slot].parker;
    let mut in_driver = false;
    let mut parked = false;
    if let Some(mut driver) = scheduler.driver.try_lock() {
        // The first to sleep holds the driver (or, without one, the watch).
        // While another worker is busy, it wakes now and then to look for a
        // task stuck in that worker's LIFO slot behind a poll that does not
        // return.
        scheduler.watcher.store(slot, Ordering::SeqCst);
        let busy = !scheduler.everyone_idle();
        let watch = (busy && WATCH_LIFO).then_some(LIFO_WATCH_INTERVAL);
        scheduler.watching.store(watch.is_some(), Ordering::SeqCst);
        match (driver.as_mut(), watch) {
            (Some(driver), _) => {
                parker.park_driver(&mut **driver, watch);
                in_driver = true;
            }
            (None, Some(interval)) => parker.park_thread_timeout(interval),
            (None, None) => parker.park_thread(),
        }
        parked = true;
        scheduler.watching.store(false, Ordering::SeqCst);
        scheduler.watcher.store(usize::MAX, Ordering::SeqCst);
        if watch.is_some() {
            rescue_lifo(scheduler, slot);
        }
    }
    if !parked {
        scheduler.wake_watcher_if_everyone_idle();
        parker.park_thread();
    }
    scheduler.idle.wake_up(slot);
    if in_driver && (scheduler.has_lifo(slot) || scheduler.has_work_for(slot)) {
        // The driver is free again and work is queued (the driver's wakes on
        // this thread went to the LIFO slot, which no other worker sees):
        // wake a sleeper, which either helps or takes the driver, so that IO
        // and timers are driven even if this worker's next poll blocks
        // (`tests/executor/multi_blocked.rs`).
        scheduler.idle.hand_off(scheduler);
    }
}

/// The owner thread's `block_on` loop: polls the local tasks pinned to the
/// owner slot (the main future among them) until `done`, sleeping on the
/// thread in between.
pub(crate) fn run_owner(
    scheduler: &MultiScheduler,
    slow_poll: Option<&SlowPollReport>,
    mut done: impl FnMut() -> bool,
) {
    let slot = scheduler.owner_slot();
    let own = &scheduler.slots[slot];
    scheduler.owner_idle.store(false, Ordering::SeqCst);
    let _idle_again = OwnerIdleOnExit(scheduler);
    loop {
        let count = own.pinned.len().max(1);
        for _ in 0..count {
            let Ok(runnable) = own.pinned.pop() else {
                break;
            };
            run(runnable, slot, slow_poll);
        }
        if done() {
            return;
        }
        if own.pinned.is_empty() {
            scheduler.owner_idle.store(true, Ordering::SeqCst);
            scheduler.wake_watcher_if_everyone_idle();
            own.parker.park_thread();
            scheduler.owner_idle.store(false, Ordering::SeqCst);
        }
    }
}

/// Marks the owner thread idle when `block_on` returns or unwinds.
struct OwnerIdleOnExit<'a>(&'a MultiScheduler);

impl Drop for OwnerIdleOnExit<'_> {
    fn drop(&mut self) {
        self.0.owner_idle.store(true, Ordering::SeqCst);
        self.0.wake_watcher_if_everyone_idle();
    }
}
