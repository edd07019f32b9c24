//! Leftovers across consecutive runs: each `run` drops the tasks, timers and
//! blocking job it leaves behind, exactly once, and no blocking-pool thread
//! outlives it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::helpers::{abort_after, watchdog, Latch};
use crate::{serial, ABORT_AFTER, LOST_WAKE_UP, WATCHDOG};

const RUNS: usize = 20;
const LEFTOVER_TASKS: usize = 100;
const LEFTOVER_TIMERS: usize = 10;
const HOUR: Duration = Duration::from_secs(3600);

/// The process's threads by id, or `None` where there is no procfs.
fn thread_ids() -> Option<Vec<u64>> {
    let entries = std::fs::read_dir("/proc/self/task").ok()?;
    let mut ids: Vec<u64> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    ids.sort_unstable();
    Some(ids)
}

fn thread_name(id: u64) -> String {
    std::fs::read_to_string(format!("/proc/self/task/{id}/comm"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "<exited>".to_owned())
}

/// The threads in `now` that were not in `before`.
fn new_threads(before: &[u64], now: &[u64]) -> Vec<u64> {
    now.iter()
        .copied()
        .filter(|id| !before.contains(id))
        .collect()
}

#[test]
fn each_run_drops_its_leftovers_and_leaves_no_blocking_thread() {
    let _serial = serial();
    let _abort = abort_after(ABORT_AFTER, "the leftovers test");
    for round in 0..RUNS {
        let before = thread_ids();
        let task_futures = Latch::new("leftover task futures dropped", LEFTOVER_TASKS);
        let timer_closures = Latch::new("leftover call_later closures dropped", LEFTOVER_TIMERS);
        let job_closure = Latch::new("leftover to_thread closure dropped", 1);
        let timers_ran = Arc::new(AtomicUsize::new(0));
        let job_done = Arc::new(AtomicBool::new(false));

        let during = corio::run(async {
            watchdog(WATCHDOG, async {
                // First, with no timer but the watchdog's (whose first wake-up
                // is seconds away), a round trip through the blocking pool:
                // the pool starts a thread, which then idles (10 s keep-alive).
                let asked = Instant::now();
                let on = corio::to_thread(|| std::thread::current().name().map(str::to_owned))
                    .await
                    .unwrap();
                let took = asked.elapsed();
                assert!(
                    took < LOST_WAKE_UP,
                    "round {round}: lost wake-up: to_thread's result took {took:?}"
                );
                assert!(on.is_some_and(|n| n.starts_with("corio-blocking-")));
                let handle = corio::get_running_loop();
                for _ in 0..LEFTOVER_TASKS {
                    let token = task_futures.token();
                    corio::create_task(async move {
                        let _token = token;
                        corio::sleep(HOUR).await;
                    });
                }
                for _ in 0..LEFTOVER_TIMERS {
                    let (token, ran) = (timer_closures.token(), timers_ran.clone());
                    handle.call_later(HOUR, move || {
                        let _token = token;
                        ran.fetch_add(1, Ordering::SeqCst);
                    });
                }
                // A job still running when main returns: `run` waits for it.
                let (token, done) = (job_closure.token(), job_done.clone());
                let _left = corio::to_thread(move || {
                    let _token = token;
                    std::thread::sleep(Duration::from_millis(3));
                    done.store(true, Ordering::SeqCst);
                });
                // The tasks now sleep on their hour.
                corio::yield_now().await;
                assert_eq!(task_futures.remaining(), LEFTOVER_TASKS);
                thread_ids()
            })
            .await
        })
        .unwrap_or_else(|()| {
            panic!("round {round}: lost wake-up: main not done after {WATCHDOG:?}")
        });

        assert!(
            task_futures.is_balanced(),
            "round {round}: {task_futures:?}"
        );
        assert!(
            timer_closures.is_balanced(),
            "round {round}: {timer_closures:?}"
        );
        assert_eq!(timers_ran.load(Ordering::SeqCst), 0, "round {round}");
        // `run` waits for the blocking pool: the job finished, its closure is gone.
        assert!(
            job_done.load(Ordering::SeqCst),
            "round {round}: job not finished"
        );
        assert!(job_closure.is_balanced(), "round {round}: {job_closure:?}");

        let (Some(before), Some(during)) = (before, during) else {
            continue; // no procfs: thread checks skipped
        };
        assert!(
            !new_threads(&before, &during).is_empty(),
            "round {round}: the blocking pool started no thread (or /proc lies)"
        );
        // A joined thread may linger in /proc for a moment after its join;
        // a thread left behind stays (its keep-alive is 10 s).
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let left = new_threads(&before, &thread_ids().unwrap_or_default());
            if left.is_empty() {
                break;
            }
            if Instant::now() >= deadline {
                let names: Vec<String> = left.iter().map(|&id| thread_name(id)).collect();
                panic!("round {round}: threads left behind after run returned: {names:?}");
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
