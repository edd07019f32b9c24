//! `to_thread`: blocking work on the loop's thread pool returns its value or
//! its panic, runs off the loop thread, runs jobs concurrently, and never
//! blocks the loop.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn to_thread_returns_the_closure_value() {
    let (sum, ran_on) = corio::run(async {
        corio::to_thread(|| ((1..=100u32).sum::<u32>(), std::thread::current().id()))
            .await
            .unwrap()
    });
    assert_eq!(sum, 5050);
    assert_ne!(
        ran_on,
        std::thread::current().id(),
        "the closure ran on the loop thread"
    );
}

#[test]
fn a_panicking_closure_gives_panicked_with_its_message() {
    let (error, after) = corio::run(async {
        let error = corio::to_thread(|| -> u32 { panic!("blocking job failed on purpose") })
            .await
            .unwrap_err();
        // The pool survives a panicking job.
        let after = corio::to_thread(|| 1).await.unwrap();
        (error, after)
    });
    assert!(error.is_panic());
    assert_eq!(
        error.panic_message(),
        Some("blocking job failed on purpose")
    );
    assert_eq!(after, 1);
}

#[test]
fn to_thread_does_not_block_the_loop() {
    let ticks = corio::run(async {
        let ticks = Arc::new(AtomicUsize::new(0));
        let ticker = corio::create_task({
            let ticks = ticks.clone();
            async move {
                loop {
                    corio::sleep(Duration::from_millis(10)).await;
                    ticks.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        corio::to_thread(|| std::thread::sleep(Duration::from_millis(200)))
            .await
            .unwrap();
        ticker.cancel();
        ticks.load(Ordering::SeqCst)
    });
    // About 20 ticks fit in 200 ms; a blocked loop would manage none.
    assert!(
        ticks >= 5,
        "only {ticks} ticks while a to_thread job ran for 200 ms"
    );
}

#[test]
fn several_to_thread_jobs_run_at_the_same_time() {
    const JOBS: usize = 4;
    let active = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let results = corio::run(async {
        let tasks: Vec<_> = (0..JOBS)
            .map(|i| {
                let (active, most) = (active.clone(), most.clone());
                corio::to_thread(move || {
                    let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    // Stay until every job is in (or 2 s pass, if they
                    // cannot all be: then the assertion below fails).
                    let deadline = std::time::Instant::now() + Duration::from_secs(2);
                    while most.load(Ordering::SeqCst) < JOBS && std::time::Instant::now() < deadline
                    {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    active.fetch_sub(1, Ordering::SeqCst);
                    i * 10
                })
            })
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap());
        }
        results
    });
    assert_eq!(results, [0, 10, 20, 30]);
    assert_eq!(
        most.load(Ordering::SeqCst),
        JOBS,
        "the jobs did not all run at once"
    );
}

#[test]
fn cancelling_a_to_thread_task_stops_waiting_not_the_job() {
    let finished = Arc::new(AtomicUsize::new(0));
    corio::run(async {
        let job = corio::to_thread({
            let finished = finished.clone();
            move || {
                std::thread::sleep(Duration::from_millis(30));
                finished.fetch_add(1, Ordering::SeqCst);
            }
        });
        corio::yield_now().await;
        assert!(job.cancel());
        assert!(job.await.unwrap_err().is_cancelled());
        assert_eq!(finished.load(Ordering::SeqCst), 0);
    });
    // run shuts the pool down, waiting for the job already running.
    assert_eq!(finished.load(Ordering::SeqCst), 1);
}

#[test]
fn to_thread_outside_a_loop_panics_naming_it() {
    let payload = std::panic::catch_unwind(|| corio::to_thread(|| ())).unwrap_err();
    let shown = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .unwrap_or_default();
    assert!(shown.contains("to_thread"), "{shown}");
}

#[test]
fn max_blocking_threads_bounds_how_many_jobs_run_at_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let mut runner = corio::Runner::builder()
        .max_blocking_threads(2)
        .build()
        .unwrap();
    let (running, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    runner.run(async {
        let jobs: Vec<_> = (0..6)
            .map(|_| {
                let (running, peak) = (running.clone(), peak.clone());
                corio::to_thread(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for job in jobs {
            job.await.unwrap();
        }
    });
    assert_eq!(peak.load(Ordering::SeqCst), 2);
}

#[test]
fn max_blocking_threads_zero_is_a_clear_build_error() {
    let error = corio::Runner::builder()
        .max_blocking_threads(0)
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(
        error.to_string().contains("max_blocking_threads(0)"),
        "{error}"
    );
}

#[test]
fn closing_waits_for_jobs_at_most_the_shutdown_timeout_then_reports_them() {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};
    let mut runner = corio::Runner::builder()
        .blocking_shutdown_timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    {
        let seen = seen.clone();
        runner
            .handle()
            .set_exception_handler(move |error| seen.lock().unwrap().push(error.clone()));
    }
    let (release, blocked) = std::sync::mpsc::channel::<()>();
    runner.run(async move {
        drop(corio::to_thread(move || blocked.recv()));
        corio::sleep(Duration::from_millis(5)).await;
    });
    let started = Instant::now();
    runner.close();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(50), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].kind(), corio::LoopErrorKind::BlockingPoolTimedOut);
    assert!(
        seen[0].message().contains("1 thread(s) busy"),
        "{}",
        seen[0]
    );
    release.send(()).unwrap();
}

#[test]
fn closing_waits_for_a_job_that_finishes_within_the_timeout() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let finished = Arc::new(AtomicBool::new(false));
    let mut runner = corio::Runner::new();
    let flag = finished.clone();
    runner.run(async move {
        drop(corio::to_thread(move || {
            std::thread::sleep(std::time::Duration::from_millis(30));
            flag.store(true, Ordering::SeqCst);
        }));
    });
    runner.close();
    assert!(finished.load(Ordering::SeqCst));
}
