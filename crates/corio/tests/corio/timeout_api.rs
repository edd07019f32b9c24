//! asyncio's rescheduled and disabled timeouts on corio, in virtual time:
//! `timeout(None)` never fires until given a deadline, a `Deadline` moved
//! from inside the guarded future (asyncio's `cm.reschedule()` in the
//! block) or from another task takes effect exactly, `when()` and
//! `expired()` report what asyncio's do.

use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corio::time::{Deadline, Instant};

fn virtual_runner() -> corio::Runner {
    corio::Runner::builder().manual_clock().build().unwrap()
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn timeout_none_lets_a_day_long_sleep_finish() {
    let (out, took) = virtual_runner().run(async {
        let start = corio::time::now();
        let out = corio::time::timeout_never(async {
            corio::sleep(secs(86_400)).await;
            "done"
        })
        .await;
        (out, corio::time::now() - start)
    });
    assert_eq!(out, Ok("done"));
    assert_eq!(took, secs(86_400));
}

#[test]
fn a_disabled_timeout_outside_a_loop_is_just_its_future() {
    // No deadline: the loop's timers are never looked up.
    let t = corio::time::timeout_never(std::future::ready(4));
    assert_eq!(t.when(), None);
    assert_eq!(corio::run(t), Ok(4));
}

#[test]
fn the_block_reschedules_its_own_deadline_and_expired_says_it_fired() {
    // async with asyncio.timeout(None) as cm:
    //     cm.reschedule(loop.time() + 10); await asyncio.sleep(60)
    let (result, expired, when, took) = virtual_runner().run(async {
        let start = corio::time::now();
        let cm = Deadline::new(None);
        let result = corio::time::timeout_with(&cm, async {
            assert_eq!(cm.when(), None);
            cm.reschedule(Some(corio::time::now() + secs(10)));
            corio::sleep(secs(60)).await;
        })
        .await;
        (
            result,
            cm.expired(),
            cm.when().map(|t| t - start),
            corio::time::now() - start,
        )
    });
    assert!(result.is_err());
    assert!(expired);
    assert_eq!(when, Some(secs(10)));
    assert_eq!(took, secs(10));
}

#[test]
fn extending_the_deadline_from_inside_lets_the_work_finish() {
    let (result, expired, took) = virtual_runner().run(async {
        let start = corio::time::now();
        let cm = Deadline::new(Some(start + secs(5)));
        let result = corio::time::timeout_with(&cm, async {
            for step in 0..4u64 {
                corio::sleep(secs(3)).await;
                // Each step earns three more seconds.
                cm.reschedule(Some(corio::time::now() + secs(3)));
                let _ = step;
            }
            "finished"
        })
        .await;
        (result, cm.expired(), corio::time::now() - start)
    });
    assert_eq!(result, Ok("finished"));
    assert!(!expired);
    assert_eq!(took, secs(12));
}

#[test]
fn disabling_the_deadline_from_inside_survives_past_it() {
    let (result, expired) = virtual_runner().run(async {
        let cm = Deadline::new(Some(corio::time::now() + secs(1)));
        let result = corio::time::timeout_with(&cm, async {
            cm.reschedule(None); // cm.reschedule(None)
            corio::sleep(secs(30)).await;
            7
        })
        .await;
        (result, cm.expired())
    });
    assert_eq!(result, Ok(7));
    assert!(!expired);
}

#[test]
fn another_task_moves_the_deadline_earlier_and_the_timeout_fires_then() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let took = virtual_runner().run({
        let log = Arc::clone(&log);
        async move {
            let start = corio::time::now();
            let cm = Deadline::new(Some(start + secs(100)));
            let mover = corio::create_task({
                let cm = cm.clone();
                let log = Arc::clone(&log);
                async move {
                    corio::sleep(secs(2)).await;
                    log.lock().unwrap().push("moved");
                    cm.reschedule(Some(corio::time::now() + secs(3)));
                }
            });
            let result = corio::time::timeout_with(&cm, corio::sleep(secs(50))).await;
            log.lock().unwrap().push(if result.is_err() {
                "timed out"
            } else {
                "finished"
            });
            mover.await.unwrap();
            assert!(cm.expired());
            corio::time::now() - start
        }
    });
    assert_eq!(took, secs(5));
    assert_eq!(*log.lock().unwrap(), ["moved", "timed out"]);
}

#[test]
fn a_pinned_timeout_is_rescheduled_and_disabled_by_its_owner() {
    let (first, when_after_disable, second, took) = virtual_runner().run(async {
        let start = corio::time::now();
        let mut t = pin!(corio::timeout(secs(5), corio::sleep(secs(20))));
        // Poll it for a 1 s window: still running, and its first poll
        // fixed the deadline 5 s after the start.
        let first = corio::timeout(secs(1), t.as_mut()).await.is_err();
        assert_eq!(t.when(), Some(start + secs(5)));
        assert_eq!(t.deadline(), start + secs(5));
        t.as_mut().reschedule_at(None);
        let when_after_disable = t.when();
        assert_eq!(t.deadline(), Instant::MAX);
        let second = t.as_mut().await;
        assert!(!t.expired());
        (
            first,
            when_after_disable,
            second,
            corio::time::now() - start,
        )
    });
    assert!(first, "the outer 1 s window elapsed first");
    assert_eq!(when_after_disable, None);
    assert_eq!(second, Ok(()));
    assert_eq!(took, secs(20));
}

#[test]
fn a_past_deadline_expires_at_the_next_poll_but_a_ready_future_still_wins() {
    virtual_runner().run(async {
        let now = corio::time::now();
        let ready = corio::time::timeout_with(&Deadline::new(Some(now)), async { 1 }).await;
        assert_eq!(ready, Ok(1));
        let cm = Deadline::new(None);
        let late = corio::time::timeout_with(&cm, async {
            cm.reschedule(Some(now));
            corio::yield_now().await;
            2
        })
        .await;
        assert!(late.is_err());
        assert!(cm.expired());
    });
}
