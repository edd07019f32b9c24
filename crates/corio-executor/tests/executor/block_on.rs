//! `block_on` and friends: futures borrowing the caller's stack, panics
//! re-raised (`block_on`) or returned (`block_on_catch`), the borrowed future
//! dropped before `block_on` unwinds, and the `Park` calls it makes.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::time::Duration;

use crate::common::{forgotten, yield_now, Counter};
use corio_executor::{current_task, Builder, LocalExecutor, Park, ThreadPark};

#[test]
fn block_on_accepts_a_future_borrowing_local_data() {
    let ex = LocalExecutor::new();
    let mut numbers = vec![1, 2, 3];
    let total = ex.block_on(
        async {
            yield_now().await;
            numbers.push(4);
            numbers.iter().sum::<i32>()
        },
        &mut ThreadPark,
    );
    assert_eq!(total, 10);
    assert_eq!(numbers, [1, 2, 3, 4]);
}

#[test]
fn block_on_returns_a_non_send_output() {
    let ex = LocalExecutor::new();
    let rc = ex.block_on(async { Rc::new(5) }, &mut ThreadPark);
    assert_eq!(*rc, 5);
    assert_eq!(ex.task_count(), 0);
}

#[test]
fn a_panic_in_the_block_on_future_propagates_and_spawned_tasks_remain() {
    let ex = LocalExecutor::new();
    let drops = Counter::new();
    let token = drops.token();
    let background = ex.spawn(async move {
        let _token = token;
        forgotten::<()>().await
    });
    let caught = catch_unwind(AssertUnwindSafe(|| {
        ex.block_on(
            async {
                yield_now().await;
                panic!("main failed");
            },
            &mut ThreadPark,
        )
    }));
    let payload = caught.unwrap_err();
    assert_eq!(
        corio_executor::payload_message(&*payload),
        Some("main failed")
    );
    assert_eq!(ex.task_count(), 1, "the background task is still there");
    assert!(!background.is_done());
    assert_eq!(drops.get(), 0);
    ex.close();
    assert_eq!(drops.get(), 1);
    assert!(background.is_cancelled());
}

#[test]
fn block_on_catch_returns_the_panic() {
    let ex = LocalExecutor::new();
    let err = ex
        .block_on_catch(
            async {
                panic!("caught");
            },
            &mut ThreadPark,
        )
        .unwrap_err();
    assert!(err.is_panic());
    assert_eq!(err.panic_message(), Some("caught"));
    assert_eq!(ex.task_count(), 0);
    // The executor is still usable.
    assert_eq!(ex.block_on_catch(async { 3 }, &mut ThreadPark).unwrap(), 3);
}

#[test]
fn block_on_with_names_the_main_task() {
    let ex = LocalExecutor::new();
    let name = ex
        .block_on_with(
            Builder::new().name("main"),
            async { current_task().unwrap().name().map(String::from) },
            &mut ThreadPark,
        )
        .unwrap();
    assert_eq!(name.as_deref(), Some("main"));
    let err = ex
        .block_on_with(
            Builder::new().name("main"),
            async { panic!("x") },
            &mut ThreadPark,
        )
        .unwrap_err();
    assert!(err.to_string().contains("'main'"), "{err}");
}

/// A `Park` that records its calls and panics if asked to block forever
/// more than `max_blocks` times.
#[derive(Default)]
struct RecordingPark {
    calls: Vec<Option<Duration>>,
    max_blocks: usize,
}

impl Park for RecordingPark {
    fn park(&mut self, timeout: Option<Duration>) {
        self.calls.push(timeout);
        if timeout.is_none() {
            assert!(
                self.calls.iter().filter(|c| c.is_none()).count() <= self.max_blocks,
                "blocked while work was queued"
            );
            std::thread::park_timeout(Duration::from_millis(1));
        }
    }
}

#[test]
fn block_on_takes_maintenance_turns_while_the_queue_never_empties() {
    let ex = LocalExecutor::new();
    for _ in 0..4 {
        drop(ex.spawn(async {
            for _ in 0..100 {
                yield_now().await;
            }
        }));
    }
    let mut park = RecordingPark::default();
    ex.block_on(
        async {
            for _ in 0..100 {
                yield_now().await;
            }
        },
        &mut park,
    );
    // About 500 polls with a busy queue: a maintenance turn every 61 or so, no blocking.
    let turns = park
        .calls
        .iter()
        .filter(|c| **c == Some(Duration::ZERO))
        .count();
    assert!(
        park.calls.iter().all(|c| *c == Some(Duration::ZERO)),
        "{:?}",
        park.calls
    );
    assert!((5..=10).contains(&turns), "{turns} maintenance turns");
}

#[test]
fn block_on_parks_without_a_timeout_only_when_idle() {
    let ex = LocalExecutor::new();
    let slot = crate::common::WakerSlot::new();
    let releaser = slot.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(10));
        releaser.release();
    });
    let mut park = RecordingPark {
        max_blocks: usize::MAX,
        ..Default::default()
    };
    ex.block_on(slot.wait(), &mut park);
    t.join().unwrap();
    assert!(park.calls.iter().all(Option::is_none), "{:?}", park.calls);
    assert!(!park.calls.is_empty());
}

/// A `Park` that panics when asked to block.
struct PanickingPark;

impl Park for PanickingPark {
    fn park(&mut self, timeout: Option<Duration>) {
        if timeout.is_none() {
            panic!("park failed");
        }
    }
}

#[test]
fn block_on_drops_its_future_before_unwinding_out_of_a_park_panic() {
    let ex = LocalExecutor::new();
    let drops = Counter::new();
    let mut borrowed = String::from("still here");
    let caught = catch_unwind(AssertUnwindSafe(|| {
        let token = drops.token();
        let borrowed = &mut borrowed;
        ex.block_on(
            async move {
                let _token = token;
                borrowed.push('!');
                forgotten::<()>().await
            },
            &mut PanickingPark,
        )
    }));
    assert!(caught.is_err());
    assert_eq!(
        drops.get(),
        1,
        "the future was dropped while unwinding out of block_on"
    );
    assert_eq!(ex.task_count(), 0);
    assert_eq!(borrowed, "still here!");
}

#[test]
fn block_on_can_run_again_after_a_previous_call_returned() {
    let ex = LocalExecutor::new();
    for i in 0..3 {
        assert_eq!(ex.block_on(async move { i * 2 }, &mut ThreadPark), i * 2);
    }
}
