//! Virtual time (`Builder::manual_clock`, `corio::time::advance`): the clock
//! stands still while tasks run and jumps to the next deadline when all are
//! idle, so long sleeps finish at once, in exact deadline order.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant as StdInstant};

fn virtual_runner() -> corio::Runner {
    corio::Runner::builder().manual_clock().build().unwrap()
}

#[test]
fn a_thousand_sleeps_up_to_a_day_wake_in_exact_deadline_order_at_once() {
    let started = StdInstant::now();
    let woke = virtual_runner().run(async {
        let start = corio::time::now();
        let log = Arc::new(Mutex::new(Vec::new()));
        // A deterministic spread of durations up to a day, with repeats.
        let durations: Vec<u64> = (0..1000u64).map(|i| (i * 7_919 + 13) % 86_400).collect();
        let tasks: Vec<_> = durations
            .iter()
            .enumerate()
            .map(|(index, &secs)| {
                let log = log.clone();
                corio::create_task(async move {
                    corio::sleep(Duration::from_secs(secs)).await;
                    let at = corio::time::now() - start;
                    log.lock().unwrap().push((at, secs, index));
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let woke = log.lock().unwrap().clone();
        woke
    });
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "virtual: took {:?}",
        started.elapsed()
    );
    assert_eq!(woke.len(), 1000);
    // Each woke exactly at its deadline (never early, never late)...
    for &(at, secs, _) in &woke {
        assert_eq!(at, Duration::from_secs(secs));
    }
    // ...in deadline order, FIFO (creation order) among equal deadlines.
    let mut expected = woke.clone();
    expected.sort_by_key(|&(_, secs, index)| (secs, index));
    assert_eq!(woke, expected);
}

#[test]
fn a_timeout_of_a_day_elapses_at_once_and_the_clock_says_a_day() {
    let started = StdInstant::now();
    virtual_runner().run(async {
        let before = corio::time::now();
        let result =
            corio::timeout(Duration::from_secs(86_400), std::future::pending::<()>()).await;
        assert!(result.is_err());
        assert_eq!(corio::time::now() - before, Duration::from_secs(86_400));
    });
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn the_clock_stands_still_while_tasks_run() {
    virtual_runner().run(async {
        let before = corio::time::now();
        for _ in 0..100 {
            corio::yield_now().await;
        }
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(corio::time::now(), before);
    });
}

#[test]
fn advance_fires_exactly_the_timers_that_became_due() {
    virtual_runner().run(async {
        let fired = Arc::new(Mutex::new(Vec::new()));
        for secs in [30u64, 10, 20] {
            let fired = fired.clone();
            corio::create_task(async move {
                corio::sleep(Duration::from_secs(secs)).await;
                fired.lock().unwrap().push(secs);
            });
        }
        corio::yield_now().await; // every sleeper registers
        corio::time::advance(Duration::from_secs(15)).await;
        assert_eq!(*fired.lock().unwrap(), [10]);
        corio::time::advance(Duration::from_secs(15)).await;
        assert_eq!(*fired.lock().unwrap(), [10, 20, 30]);
    });
}

#[test]
fn call_later_callbacks_run_in_deadline_order_under_virtual_time() {
    let order = virtual_runner().run(async {
        let handle = corio::get_running_loop();
        let order = Arc::new(Mutex::new(Vec::new()));
        for (secs, name) in [(3600u64, "hour"), (60, "minute"), (1, "second")] {
            let order = order.clone();
            handle.call_later(Duration::from_secs(secs), move || {
                order.lock().unwrap().push(name)
            });
        }
        corio::sleep(Duration::from_secs(7200)).await;
        let order = order.lock().unwrap().clone();
        order
    });
    assert_eq!(order, ["second", "minute", "hour"]);
}

#[test]
#[should_panic(expected = "needs virtual time")]
fn advance_on_a_real_clock_panics_with_the_fix() {
    corio::run(corio::time::advance(Duration::from_secs(1)));
}
