//! Task listings (`LocalExecutor::tasks`): every task's state, poll count
//! and age on the executor's clock (`set_clock`), read at most once per
//! iteration that spawns, never per spawn.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::common::{drain, forgotten, yield_now, WakerSlot};
use corio_executor::{Builder, LocalExecutor, TaskId, TaskInfo, TaskState, ThreadPark};

fn listed(ex: &LocalExecutor, id: TaskId) -> TaskInfo {
    ex.tasks()
        .into_iter()
        .find(|task| task.id() == id)
        .unwrap_or_else(|| panic!("task {id} is listed"))
}

/// A manual clock in milliseconds that counts how often it is read.
#[derive(Clone, Default)]
struct TestClock {
    millis: Arc<AtomicU64>,
    reads: Arc<AtomicUsize>,
}

impl TestClock {
    fn install(&self, ex: &LocalExecutor) {
        let clock = self.clone();
        ex.set_clock(move || {
            clock.reads.fetch_add(1, Ordering::SeqCst);
            Duration::from_millis(clock.millis.load(Ordering::SeqCst))
        });
    }
    fn advance(&self, millis: u64) {
        self.millis.fetch_add(millis, Ordering::SeqCst);
    }
    fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
}

#[test]
fn each_poll_is_counted() {
    let ex = LocalExecutor::new();
    let slot = WakerSlot::new();
    let task = ex.spawn({
        let slot = slot.clone();
        async move {
            for _ in 0..3 {
                yield_now().await;
            }
            slot.wait().await;
        }
    });
    assert_eq!(listed(&ex, task.id()).polls(), 0, "not yet polled");
    assert_eq!(listed(&ex, task.id()).state(), TaskState::Scheduled);
    drain(&ex);
    // The first poll, then one after each yield; the last one waits.
    let info = listed(&ex, task.id());
    assert_eq!(info.polls(), 4);
    assert_eq!(info.state(), TaskState::Waiting);
    drain(&ex);
    assert_eq!(listed(&ex, task.id()).polls(), 4, "nobody woke it");
    slot.release();
    assert_eq!(listed(&ex, task.id()).state(), TaskState::Scheduled);
    ex.block_on(task, &mut ThreadPark).unwrap();
    assert!(ex.tasks().is_empty());
}

#[test]
fn the_block_on_task_lists_itself_as_running_and_flagged() {
    let ex = LocalExecutor::new();
    let other = ex.spawn(forgotten::<()>());
    let (me, polls) = ex.block_on(
        async {
            yield_now().await;
            let me = ex
                .tasks()
                .into_iter()
                .find(TaskInfo::is_block_on)
                .expect("the block_on task is listed");
            (me.state(), me.polls())
        },
        &mut ThreadPark,
    );
    assert_eq!(me, TaskState::Running);
    assert_eq!(polls, 2);
    assert!(!listed(&ex, other.id()).is_block_on());
    assert!(
        listed(&ex, other.id()).age().is_some(),
        "listings carry ages"
    );
}

#[test]
fn ages_follow_the_executor_clock_to_the_millisecond() {
    let ex = LocalExecutor::new();
    let clock = TestClock::default();
    clock.install(&ex);
    clock.advance(1_000_000); // an arbitrary origin
    let old = ex.spawn(forgotten::<()>());
    drain(&ex);
    clock.advance(1_500);
    let young = ex.spawn(forgotten::<()>());
    drain(&ex);
    clock.advance(250);
    assert_eq!(
        listed(&ex, old.id()).age(),
        Some(Duration::from_millis(1_750))
    );
    assert_eq!(
        listed(&ex, young.id()).age(),
        Some(Duration::from_millis(250))
    );
    // `current_task` does not reach the registry: no age there.
    let inside = ex.spawn(async { corio_executor::current_task().unwrap().age() });
    assert_eq!(ex.block_on(inside, &mut ThreadPark).unwrap(), None);
}

#[test]
fn the_clock_is_read_once_per_iteration_that_spawns_not_per_spawn() {
    let ex = LocalExecutor::new();
    let clock = TestClock::default();
    clock.install(&ex);
    let spawner = ex.spawn({
        let spawner = ex.spawner();
        async move {
            for _ in 0..3 {
                let batch: Vec<_> = (0..100).map(|_| spawner.spawn(async {})).collect();
                drop(batch);
                yield_now().await;
            }
        }
    });
    let yielders: Vec<_> = (0..10)
        .map(|_| {
            ex.spawn(async {
                for _ in 0..20 {
                    yield_now().await;
                }
            })
        })
        .collect();
    // Between iterations, time may pass between spawns: each reads.
    assert_eq!(clock.reads(), 11, "eleven spawns outside any iteration");
    drain(&ex);
    assert!(spawner.is_done() && yielders.iter().all(|task| task.is_done()));
    // One reading for each of the 3 iterations that spawned 100 tasks; the
    // other iterations (only yields) read nothing.
    assert_eq!(clock.reads(), 11 + 3);
    ex.tasks();
    assert_eq!(clock.reads(), 11 + 3 + 1, "a listing reads the clock once");
}

#[test]
fn every_task_of_one_iteration_gets_the_same_stamp() {
    let ex = LocalExecutor::new();
    let clock = TestClock::default();
    clock.install(&ex);
    let children = ex.block_on(
        async {
            let first = ex.spawn(forgotten::<()>());
            clock.advance(7); // the clock moves, the iteration's stamp does not
            let second = ex.spawn_local_with(Builder::new().name("second"), forgotten::<()>());
            (first.id(), second.id())
        },
        &mut ThreadPark,
    );
    let ages: Vec<_> = [children.0, children.1]
        .iter()
        .map(|&id| listed(&ex, id).age())
        .collect();
    assert_eq!(ages, [Some(Duration::from_millis(7)); 2]);
}

#[test]
fn tasks_spawned_from_other_threads_have_exact_ages_too() {
    let ex = LocalExecutor::new();
    let clock = TestClock::default();
    clock.install(&ex);
    let local_before = ex.spawn(forgotten::<()>());
    drain(&ex);
    clock.advance(100);
    // Another thread takes ids from its own block: out of the owner's order.
    let spawner = ex.spawner();
    let remote = std::thread::spawn(move || spawner.spawn(forgotten::<()>()))
        .join()
        .unwrap();
    drain(&ex);
    clock.advance(100);
    let local_after = ex.spawn(forgotten::<()>());
    drain(&ex);
    clock.advance(100);
    assert_eq!(
        listed(&ex, local_before.id()).age(),
        Some(Duration::from_millis(300))
    );
    assert_eq!(
        listed(&ex, remote.id()).age(),
        Some(Duration::from_millis(200))
    );
    assert_eq!(
        listed(&ex, local_after.id()).age(),
        Some(Duration::from_millis(100))
    );
    // A remote task that ends leaves nothing behind; the others keep their ages.
    remote.cancel();
    drain(&ex);
    assert_eq!(
        listed(&ex, local_after.id()).age(),
        Some(Duration::from_millis(100))
    );
}
