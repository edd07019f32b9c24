//! Time: `sleep` and `sleep_until` never wake early and wake in deadline
//! order, `timeout`/`timeout_at` (asyncio's `wait_for`), `Timeout`'s
//! deadline and reschedule, and `interval` without drift.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corio::time::Instant;
use corio::Elapsed;

use crate::common::SetOnDrop;

const MS: Duration = Duration::from_millis(1);

#[test]
fn sleep_never_wakes_early() {
    corio::run(async {
        for ms in [1, 5, 20] {
            let requested = ms * MS;
            let wall = std::time::Instant::now();
            let clock = corio::time::now();
            corio::sleep(requested).await;
            let (wall, clock) = (wall.elapsed(), corio::time::now() - clock);
            assert!(
                wall >= requested,
                "sleep({requested:?}) woke after {wall:?} of wall time"
            );
            assert!(
                clock >= requested,
                "sleep({requested:?}) woke after {clock:?} on the loop clock"
            );
        }
    });
}

#[test]
fn sleep_until_wakes_at_or_after_the_deadline() {
    corio::run(async {
        let deadline = corio::time::now() + 10 * MS;
        corio::sleep_until(deadline).await;
        assert!(corio::time::now() >= deadline);
        assert!(
            Instant::now() >= deadline,
            "corio's Instant::now and the loop clock agree"
        );
        // A deadline in the past completes at once.
        corio::timeout(
            Duration::from_secs(2),
            corio::sleep_until(deadline - 5 * MS),
        )
        .await
        .expect("a past deadline must not wait");
    });
}

#[test]
fn the_loop_clock_converts_to_std_instants() {
    corio::run(async {
        let before = std::time::Instant::now();
        let now = corio::time::now();
        let after = std::time::Instant::now();
        let as_std: std::time::Instant = now.into();
        assert!(before <= as_std + MS && as_std <= after + MS);
        assert_eq!(Instant::from(as_std), now);
        assert!(corio::get_running_loop().time() >= now);
    });
}

#[test]
fn timeout_on_a_ready_future_returns_its_value() {
    corio::run(async {
        assert_eq!(
            corio::timeout(Duration::from_secs(1), async { 5 }).await,
            Ok(5)
        );
        assert_eq!(corio::timeout(Duration::ZERO, async { 6 }).await, Ok(6));
        // Even when the deadline passed before the first poll.
        let late = corio::timeout_at(corio::time::now(), std::future::ready(7));
        corio::sleep(2 * MS).await;
        assert_eq!(late.await, Ok(7));
    });
}

#[test]
fn timeout_on_a_future_that_finishes_in_time_returns_its_value() {
    corio::run(async {
        let value = corio::timeout(Duration::from_secs(2), async {
            corio::sleep(5 * MS).await;
            "in time"
        })
        .await;
        assert_eq!(value, Ok("in time"));
    });
}

#[test]
fn timeout_on_a_slow_future_elapses_and_drops_it() {
    corio::run(async {
        let dropped = Arc::new(AtomicBool::new(false));
        let finished = Arc::new(AtomicBool::new(false));
        let slow = {
            let guard = SetOnDrop(dropped.clone());
            let finished = finished.clone();
            async move {
                let _guard = guard;
                corio::sleep(Duration::from_secs(3600)).await;
                finished.store(true, Ordering::SeqCst);
            }
        };
        let started = corio::time::now();
        let result = corio::timeout(10 * MS, slow).await;
        assert_eq!(result, Err(Elapsed::new()));
        assert!(
            corio::time::now() - started >= 10 * MS,
            "the timeout elapsed early"
        );
        assert!(
            dropped.load(Ordering::SeqCst),
            "the inner future outlived its Timeout"
        );
        assert!(!finished.load(Ordering::SeqCst));
        let error = result.unwrap_err();
        assert_eq!(error.to_string(), "deadline has elapsed");
        let io: std::io::Error = error.into();
        assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
    });
}

#[test]
fn a_dropped_timeout_drops_its_future() {
    corio::run(async {
        let dropped = Arc::new(AtomicBool::new(false));
        let guard = SetOnDrop(dropped.clone());
        let pending = corio::timeout(Duration::from_secs(3600), async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        assert!(!dropped.load(Ordering::SeqCst));
        drop(pending);
        assert!(dropped.load(Ordering::SeqCst));
    });
}

#[test]
fn sleep_for_duration_max_does_not_panic() {
    corio::run(async {
        assert_eq!(
            corio::timeout(10 * MS, corio::sleep(Duration::MAX)).await,
            Err(Elapsed::new())
        );
        assert_eq!(
            corio::timeout(10 * MS, corio::sleep_until(Instant::MAX)).await,
            Err(Elapsed::new())
        );
        // A timeout of Duration::MAX is "no timeout".
        assert_eq!(corio::timeout(Duration::MAX, async { 1 }).await, Ok(1));
    });
}

#[test]
fn interval_ticks_on_a_fixed_grid_without_drift() {
    corio::run(async {
        let period = 10 * MS;
        let created = corio::time::now();
        let mut ticks = corio::interval(period);
        let start = ticks.tick().await;
        assert!(start >= created);
        assert!(
            corio::time::now() - created < Duration::from_secs(1),
            "the first tick is immediate"
        );
        for k in 1..=5u32 {
            if k == 3 {
                // Keep the task busy past a whole tick: the schedule must not shift.
                std::thread::sleep(period + period / 2);
            }
            let tick = ticks.tick().await;
            assert_eq!(tick, start + k * period, "tick {k} is off the grid");
            assert!(
                corio::time::now() >= tick,
                "tick {k} arrived before its instant"
            );
        }
        assert_eq!(ticks.next_tick(), start + 6 * period);
        assert_eq!(ticks.period(), period);
    });
}

#[test]
fn interval_with_zero_period_panics() {
    corio::run(async {
        let result = std::panic::catch_unwind(|| corio::interval(Duration::ZERO));
        assert!(result.is_err());
    });
}

#[test]
fn timeout_deadline_and_reschedule() {
    corio::run(async {
        let mut slow = std::pin::pin!(corio::timeout(
            Duration::from_secs(3600),
            std::future::pending::<()>()
        ));
        // The limit starts at the first poll (the one finding the future
        // pending), not at creation.
        let before = corio::time::now();
        assert!(futures_poll_once(slow.as_mut()).await.is_none());
        let after = corio::time::now();
        let deadline = slow.deadline();
        assert!(deadline >= before + Duration::from_secs(3600));
        assert!(deadline <= after + Duration::from_secs(3600));

        // Earlier: the hour-long timeout now elapses in 10 ms.
        let sooner = corio::time::now() + 10 * MS;
        slow.as_mut().reschedule(sooner);
        assert_eq!(slow.deadline(), sooner);
        let result = corio::timeout(Duration::from_secs(2), slow.as_mut()).await;
        assert_eq!(
            result,
            Ok(Err(Elapsed::new())),
            "the rescheduled deadline was not honoured"
        );
        assert!(corio::time::now() >= sooner);

        // Later: a timeout that would elapse first is pushed past its future.
        let mut patient = std::pin::pin!(corio::timeout(5 * MS, async {
            corio::sleep(20 * MS).await;
            "finished"
        }));
        let later = corio::time::now() + Duration::from_secs(2);
        patient.as_mut().reschedule(later);
        assert_eq!(patient.deadline(), later);
        assert_eq!(patient.await, Ok("finished"));
    });
}

#[test]
fn reschedule_after_polling_moves_an_armed_deadline() {
    corio::run(async {
        let mut timeout = std::pin::pin!(corio::timeout(10 * MS, async {
            corio::sleep(30 * MS).await;
            "finished"
        }));
        // Poll once so the 10 ms deadline is armed, then move it out.
        assert!(futures_poll_once(timeout.as_mut()).await.is_none());
        timeout
            .as_mut()
            .reschedule(corio::time::now() + Duration::from_secs(2));
        assert_eq!(timeout.await, Ok("finished"));
    });
}

/// Polls `fut` once; `Some(output)` if it was ready.
async fn futures_poll_once<F: std::future::Future + Unpin>(mut fut: F) -> Option<F::Output> {
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match std::pin::Pin::new(&mut fut).poll(cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        })
    })
    .await
}

#[test]
fn many_sleeps_wake_in_deadline_order() {
    // Durations 0..25 ms, each used twice (i and i + 25 share one), spawned
    // in a scrambled order: wake order is by duration, ties in spawn order.
    const TASKS: u64 = 50;
    let duration = |i: u64| (i * 7) % 25;
    let woke = Arc::new(Mutex::new(Vec::new()));
    corio::run(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|i| {
                let woke = woke.clone();
                corio::create_task(async move {
                    corio::sleep(Duration::from_millis(duration(i))).await;
                    woke.lock().unwrap().push(i);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    let mut expected: Vec<u64> = (0..TASKS).collect();
    expected.sort_by_key(|&i| (duration(i), i));
    assert_eq!(*woke.lock().unwrap(), expected);
}

#[test]
fn a_task_submitted_from_another_thread_sleeps_on_time_in_a_sleeping_loop() {
    // The loop sleeps towards a far deadline; a coroutine submitted from
    // another thread must wake it, and its short sleep must not wait for the
    // far deadline.
    let mut runner = corio::Runner::new();
    let handle = runner.handle();
    let waited = runner.run(async move {
        let far = corio::create_task(corio::sleep(Duration::from_secs(10)));
        let remote = std::thread::spawn(move || {
            std::thread::sleep(5 * MS);
            let task = handle.run_coroutine_threadsafe(async {
                let started = corio::time::now();
                corio::sleep(10 * MS).await;
                corio::time::now() - started
            });
            task.wait().unwrap()
        });
        let waited = corio::timeout(
            Duration::from_secs(5),
            corio::to_thread(move || remote.join().unwrap()),
        )
        .await
        .expect("the submitted coroutine did not finish in time")
        .unwrap();
        far.cancel();
        waited
    });
    assert!(waited >= 10 * MS);
}
