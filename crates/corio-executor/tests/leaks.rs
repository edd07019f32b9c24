//! Separate binary: installs a counting global allocator, which must see no
//! other test's allocations.
//!
//! Leaks and double drops: across every way a task can end (awaited,
//! detached, cancelled before or during its wait, panicked, dropped by
//! `close`, spawned after close), each future and each output is dropped
//! exactly once, and every task allocation is freed (a counting global
//! allocator checks that each scenario returns the heap to where it was).
//! Done-callbacks too: 10,000 tasks with two each, dropped unrun by a
//! closing executor, or run, with every callback dropped exactly once.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{drain, forgotten, poll_once, yield_now, Counter, WakerSlot};
use corio_executor::{LocalExecutor, Park, ThreadPark};

/// Counts live heap blocks.
struct CountingAlloc;

static LIVE_BLOCKS: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator; only adds a counter.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BLOCKS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: forwarded contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BLOCKS.fetch_sub(1, Ordering::SeqCst);
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Futures and outputs handed to tasks, each counting its drops.
struct Tracker {
    futures: Counter,
    outputs: Counter,
}

impl Tracker {
    fn new() -> Tracker {
        Tracker {
            futures: Counter::new(),
            outputs: Counter::new(),
        }
    }

    /// A task body that yields `yields` times, then returns a tracked output.
    fn body(
        &self,
        yields: usize,
    ) -> impl std::future::Future<Output = common::Token> + Send + 'static {
        let (future_token, output) = (self.futures.token(), self.outputs.token());
        async move {
            let _future_token = future_token;
            for _ in 0..yields {
                yield_now().await;
            }
            output
        }
    }

    /// A task body that waits on `slot` before returning a tracked output.
    fn waiting(
        &self,
        slot: &WakerSlot,
    ) -> impl std::future::Future<Output = common::Token> + Send + 'static {
        let (future_token, output, wait) =
            (self.futures.token(), self.outputs.token(), slot.wait());
        async move {
            let _future_token = future_token;
            wait.await;
            output
        }
    }

    fn assert(&self, futures: usize, outputs_dropped: usize, scenario: &str) {
        assert_eq!(self.futures.get(), futures, "{scenario}: futures dropped");
        assert_eq!(
            self.outputs.get(),
            outputs_dropped,
            "{scenario}: outputs dropped"
        );
    }
}

fn completed_and_awaited() {
    let ex = LocalExecutor::new();
    let t = Tracker::new();
    let tasks: Vec<_> = (0..5).map(|i| ex.spawn(t.body(i))).collect();
    let outputs = ex.block_on(
        async {
            let mut outputs = Vec::new();
            for task in tasks {
                outputs.push(task.await.unwrap());
            }
            outputs
        },
        &mut ThreadPark,
    );
    t.assert(5, 0, "completed+awaited, outputs held");
    drop(outputs);
    t.assert(5, 5, "completed+awaited");
}

fn completed_and_detached() {
    let ex = LocalExecutor::new();
    let t = Tracker::new();
    for i in 0..5 {
        drop(ex.spawn(t.body(i)));
    }
    drain(&ex);
    t.assert(5, 5, "completed+detached");
}

fn completed_then_handle_dropped_unread() {
    let ex = LocalExecutor::new();
    let t = Tracker::new();
    let tasks: Vec<_> = (0..5).map(|i| ex.spawn(t.body(i))).collect();
    drain(&ex);
    t.assert(5, 0, "completed, handles alive");
    let handles = std::thread::spawn(move || drop(tasks));
    handles.join().unwrap();
    t.assert(5, 5, "completed, handles dropped on another thread");
}

fn cancelled_before_first_poll() {
    let ex = LocalExecutor::new();
    let t = Tracker::new();
    let tasks: Vec<_> = (0..5).map(|_| ex.spawn(t.body(0))).collect();
    for task in &tasks {
        assert!(task.cancel());
    }
    drain(&ex);
    t.assert(
        5,
        5,
        "cancelled before the first poll (outputs dropped with the futures)",
    );
    for mut task in tasks {
        assert!(task.try_result().unwrap().unwrap_err().is_cancelled());
    }
}

fn cancelled_while_waiting() {
    let ex = LocalExecutor::new();
    let t = Tracker::new();
    let slots: Vec<WakerSlot> = (0..5).map(|_| WakerSlot::new()).collect();
    let mut tasks: Vec<_> = slots.iter().map(|s| ex.spawn(t.waiting(s))).collect();
    drain(&ex);
    // Register an awaiter on one of them: its waker sits in the task.
    assert!(poll_once(&mut tasks[0]).is_pending());
    for task in &tasks {
        assert!(task.cancel());
    }
    drain(&ex);
    t.assert(5, 5, "cancelled while waiting");
    // The wakers the slots still hold are the last references.
    for slot in &slots {
        slot.release();
    }
    assert_eq!(drain(&ex), 0);
    drop(tasks);
}

fn panicked() {
    let ex = LocalExecutor::new();
    let t = Tracker::new();
    let token = t.futures.token();
    let task = ex.spawn(async move {
        let _token = token;
        yield_now().await;
        panic!("{}", String::from("allocated message"));
    });
    let detached = ex.spawn({
        let token = t.futures.token();
        async move {
            let _token = token;
            panic!("detached");
        }
    });
    drop(detached);
    let err = ex.block_on(task, &mut ThreadPark).unwrap_err();
    assert_eq!(err.panic_message(), Some("allocated message"));
    drop(err);
    t.assert(2, 0, "panicked");
}

fn closed_with_pending_tasks() {
    let ex = LocalExecutor::new();
    let t = Tracker::new();
    let slot = WakerSlot::new();
    let held = ex.spawn(t.waiting(&slot));
    drop(ex.spawn(t.waiting(&WakerSlot::new()))); // waker dropped with its slot
    let mut awaited = ex.spawn(t.body(1_000_000));
    let token = t.futures.token();
    let local = ex.spawn_local(async move {
        let _token = token;
        let _rc = std::rc::Rc::new(());
        forgotten::<()>().await
    });
    drop(ex.spawn(t.body(0))); // queued, never polled
    ex.run_once();
    assert!(poll_once(&mut awaited).is_pending());
    drop(ex.spawn(t.body(0)));
    ex.close();
    t.assert(6, 5, "closed with pending tasks");
    drop((held, awaited, local));
    slot.release();
    drop(ex);
}

fn remote_spawn_after_close() {
    let ex = LocalExecutor::new();
    let spawner = ex.spawner();
    ex.close();
    let t = Tracker::new();
    let body = t.body(0);
    let task = std::thread::spawn(move || spawner.spawn(body))
        .join()
        .unwrap();
    t.assert(1, 1, "remote spawn after close");
    assert!(task.is_cancelled());
    drop(task);
    let spawner = ex.spawner();
    drop(spawner.spawn(t.body(0)));
    t.assert(2, 2, "local spawn through a spawner after close");
}

fn waker_outlives_everything() {
    let slot = WakerSlot::new();
    {
        let ex = LocalExecutor::new();
        let t = Tracker::new();
        let task = ex.spawn(t.waiting(&slot));
        drain(&ex);
        assert!(slot.has_waker());
        drop(task);
        drop(ex);
        t.assert(1, 1, "executor dropped while a waker lives");
    }
    let waker = slot.take().unwrap();
    std::thread::spawn(move || waker.wake()).join().unwrap();
}

fn awaiter_waker_left_in_a_detached_task() {
    let ex = LocalExecutor::new();
    let t = Tracker::new();
    let slot = WakerSlot::new();
    let mut task = ex.spawn(t.waiting(&slot));
    drain(&ex);
    assert!(poll_once(&mut task).is_pending());
    drop(task); // the awaiter's waker stays in the task until it is freed
    slot.release();
    drain(&ex);
    t.assert(1, 1, "awaiter waker left in a detached task");
}

/// Panics when asked to block.
struct FailingPark;

impl Park for FailingPark {
    fn park(&mut self, _: Option<Duration>) {
        panic!("park failed");
    }
}

fn block_on_unwinding() {
    let ex = LocalExecutor::new();
    let t = Tracker::new();
    let body = t.waiting(&WakerSlot::new());
    assert!(catch_unwind(AssertUnwindSafe(|| ex.block_on(body, &mut FailingPark))).is_err());
    t.assert(1, 1, "block_on unwinding out of park");
}

const TASKS: usize = 10_000;

/// Spawns `TASKS` tasks with two callbacks each; `finish` says whether the
/// tasks complete (and their callbacks run) before the executor closes.
fn done_callback_scenario(finish: bool) -> (usize, usize) {
    let dropped = Counter::new();
    let ran = Arc::new(AtomicUsize::new(0));
    {
        let ex = LocalExecutor::new();
        let mut kept = Vec::new();
        for i in 0..TASKS {
            let task = if finish {
                ex.spawn(async {})
            } else {
                ex.spawn(forgotten::<()>())
            };
            for _ in 0..2 {
                let (token, ran) = (dropped.token(), ran.clone());
                task.add_done_callback(move |_| {
                    let _token = token;
                    ran.fetch_add(1, Ordering::SeqCst);
                });
            }
            if i % 2 == 0 {
                // Half detached, half with a live handle at close.
                drop(task);
            } else {
                kept.push(task);
            }
        }
        if finish {
            drain(&ex);
        }
        ex.close();
        drop(kept);
    }
    (dropped.get(), ran.load(Ordering::SeqCst))
}

/// Tasks with done-callbacks, dropped by a closing executor unrun.
fn done_callbacks_dropped_unrun() {
    let (dropped, ran) = done_callback_scenario(false);
    assert_eq!(
        (dropped, ran),
        (2 * TASKS, 0),
        "each callback dropped once, none run"
    );
}

/// Tasks with done-callbacks that run them.
fn done_callbacks_run() {
    let (dropped, ran) = done_callback_scenario(true);
    assert_eq!(
        (dropped, ran),
        (2 * TASKS, 2 * TASKS),
        "each callback run and dropped once"
    );
}

#[test]
fn every_future_and_output_is_dropped_once_and_every_task_is_freed() {
    let scenarios: [(&str, fn()); 14] = [
        ("completed and awaited", completed_and_awaited),
        ("completed and detached", completed_and_detached),
        (
            "completed, handle dropped unread",
            completed_then_handle_dropped_unread,
        ),
        (
            "cancelled before the first poll",
            cancelled_before_first_poll,
        ),
        ("cancelled while waiting", cancelled_while_waiting),
        ("panicked", panicked),
        ("closed with pending tasks", closed_with_pending_tasks),
        ("remote spawn after close", remote_spawn_after_close),
        ("waker outlives everything", waker_outlives_everything),
        (
            "awaiter waker left in a detached task",
            awaiter_waker_left_in_a_detached_task,
        ),
        ("block_on unwinding", block_on_unwinding),
        ("done-callbacks dropped unrun", done_callbacks_dropped_unrun),
        ("done-callbacks run", done_callbacks_run),
        ("completed and awaited, again", completed_and_awaited),
    ];
    // Panics are part of the scenarios: keep them quiet, and warm up the
    // lazily allocated runtime state (thread handles, panic machinery).
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for (_, scenario) in &scenarios {
        scenario();
    }
    let mut leaks = Vec::new();
    for (name, scenario) in &scenarios {
        let before = LIVE_BLOCKS.load(Ordering::SeqCst);
        scenario();
        let after = LIVE_BLOCKS.load(Ordering::SeqCst);
        if after != before {
            leaks.push(format!("{name}: {} blocks", after - before));
        }
    }
    std::panic::set_hook(default_hook);
    assert!(leaks.is_empty(), "heap blocks not freed: {leaks:?}");
}
