//! `#[corio::main]` and `#[corio::test]` (the `macros` feature): each option
//! reaches the runner, `#[should_panic]` and `Result` tests work, and the
//! body runs on the calling thread. The compile errors are tested in
//! crates/corio-macros/tests/ui.rs.

use std::collections::HashSet;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Waits (blocking its worker thread) until `n` tasks have arrived, so the
/// `n` tasks calling it must each hold a thread of their own; returns the
/// thread's name.
async fn rendezvous(arrived: Arc<AtomicUsize>, n: usize) -> String {
    arrived.fetch_add(1, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(20);
    while arrived.load(Ordering::SeqCst) < n {
        assert!(Instant::now() < deadline, "fewer than {n} worker threads");
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::current().name().unwrap_or("").to_owned()
}

/// The names of the threads `n` tasks ran on, each task holding its thread
/// until all `n` have started.
async fn threads_of(n: usize) -> HashSet<String> {
    let arrived = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..n)
        .map(|_| corio::create_task(rendezvous(arrived.clone(), n)))
        .collect();
    let mut names = HashSet::new();
    for task in tasks {
        names.insert(task.await.unwrap());
    }
    names
}

#[corio::test]
async fn the_body_runs_on_a_loop_and_need_not_be_send() {
    // An `Rc` held across awaits: the body is polled on this thread only.
    let local = Rc::new(5);
    let task = corio::create_task(async { 37 });
    corio::sleep(Duration::from_millis(1)).await;
    assert_eq!(task.await.unwrap() + *local, 42);
    assert!(corio::get_running_loop().is_running());
}

#[corio::test(manual_clock)]
async fn manual_clock_sleeps_an_hour_at_once() {
    let started = Instant::now();
    let before = corio::time::now();
    // Fails at once (not after an hour) if the clock were the real one.
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(corio::time::now(), before, "the clock moved by itself");
    corio::sleep(Duration::from_secs(3600)).await;
    assert_eq!(corio::time::now() - before, Duration::from_secs(3600));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[corio::test(manual_clock = false)]
async fn manual_clock_false_keeps_the_real_clock() {
    // A real clock: it moves while the thread is blocked.
    let before = corio::time::now();
    std::thread::sleep(Duration::from_millis(20));
    assert!(corio::time::now() - before >= Duration::from_millis(20));
}

#[corio::test(workers = 2)]
async fn workers_2_runs_tasks_on_two_worker_threads() {
    let names = threads_of(2).await;
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names.iter().all(|n| n.starts_with("corio-worker-")),
        "{names:?}"
    );
}

#[corio::test(workers = "auto")]
async fn workers_auto_runs_one_worker_per_core() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let names = threads_of(cores).await;
    assert_eq!(names.len(), cores, "{names:?}");
    if cores > 1 {
        assert!(
            names.iter().all(|n| n.starts_with("corio-worker-")),
            "{names:?}"
        );
    }
}

#[corio::test(debug)]
async fn debug_turns_debug_mode_on() {
    assert!(corio::get_running_loop().is_debug());
}

#[corio::test(debug = false, workers = 1)]
async fn debug_false_turns_debug_mode_off() {
    assert!(!corio::get_running_loop().is_debug());
}

#[corio::test]
#[should_panic(expected = "boom from the test body")]
async fn should_panic_sees_the_body_panic() {
    corio::yield_now().await;
    panic!("boom from the test body");
}

#[corio::test]
#[should_panic(expected = "boom in a task")]
async fn should_panic_sees_a_task_panic_reraised() {
    let task = corio::create_task(async { panic!("boom in a task") });
    if let Err(error) = task.await {
        std::panic::resume_unwind(error.into_panic());
    }
}

#[corio::test]
async fn a_test_may_return_result() -> Result<(), Box<dyn std::error::Error>> {
    let n: u32 = "41".parse()?;
    let task = corio::create_task(async move { n + 1 });
    assert_eq!(task.await?, 42);
    Ok(())
}

/// `#[corio::main]` on a function not called `main`: it returns the
/// body's output, errors included.
#[corio::main]
async fn fails_after_a_sleep() -> Result<u32, String> {
    corio::sleep(Duration::from_millis(1)).await;
    let parsed: u32 = "x".parse().map_err(|e| format!("bad number: {e}"))?;
    Ok(parsed)
}

#[test]
fn main_returns_the_body_error() {
    let error = fails_after_a_sleep().unwrap_err();
    assert!(error.starts_with("bad number"), "{error}");
}

/// A stand-in for corio reached under another path (`crate = "..."`):
/// counts the runners built through it.
mod renamed {
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub(super) static BUILT: AtomicUsize = AtomicUsize::new(0);

    pub(super) struct Runner;

    impl Runner {
        pub(super) fn builder() -> corio::Builder {
            BUILT.fetch_add(1, Ordering::SeqCst);
            corio::Runner::builder()
        }
    }
}

#[corio::main(crate = "self::renamed", workers = 1)]
async fn through_the_renamed_path() -> usize {
    corio::create_task(async { 7 }).await.unwrap()
}

#[test]
fn crate_option_reaches_corio_through_that_path() {
    let before = renamed::BUILT.load(Ordering::SeqCst);
    assert_eq!(through_the_renamed_path(), 7);
    assert_eq!(renamed::BUILT.load(Ordering::SeqCst), before + 1);
}
