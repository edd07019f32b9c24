//! `gather`, `try_gather`, `gather!` and `try_gather!`: outputs in input
//! order, concurrent polling in place, and short-circuiting on the first `Err`
//! with every other future dropped by then.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::common::*;

const MS: Duration = Duration::from_millis(1);

async fn after<T>(delay: Duration, value: T) -> T {
    corio::sleep(delay).await;
    value
}

#[test]
fn gather_keeps_input_order_whatever_the_completion_order() {
    let out = corio::run(async {
        corio::gather([
            after(30 * MS, "a"),
            after(10 * MS, "b"),
            after(20 * MS, "c"),
        ])
        .await
    });
    assert_eq!(out, ["a", "b", "c"]);
}

/// A waker that does nothing (`Waker::noop` is newer than the MSRV).
struct NoWake;

impl std::task::Wake for NoWake {
    fn wake(self: Arc<Self>) {}
}

#[test]
fn gather_of_nothing_is_ready_at_once_with_an_empty_vec() {
    corio::run(async {
        let futures: Vec<std::future::Ready<u8>> = Vec::new();
        let mut gathered = std::pin::pin!(corio::gather(futures));
        // Ready on the first poll, with a waker that could never wake it.
        let waker = std::task::Waker::from(Arc::new(NoWake));
        let first = gathered.as_mut().poll(&mut Context::from_waker(&waker));
        assert_eq!(first, Poll::Ready(Vec::new()));
    });
}

#[test]
fn gather_and_try_gather_of_send_futures_can_run_as_tasks() {
    corio::run(async {
        let gathered = corio::create_task(corio::gather((0..3).map(|i| after(MS, i))));
        assert_eq!(gathered.await.unwrap(), [0, 1, 2]);
        let tried = corio::create_task(corio::try_gather(
            (0..3).map(|i| after(MS, Ok::<_, String>(i))),
        ));
        assert_eq!(tried.await.unwrap(), Ok(vec![0, 1, 2]));
    });
}

#[test]
fn gather_polls_its_futures_concurrently() {
    let (out, took) = corio::run(async {
        let start = Instant::now();
        let out = corio::gather((1..=5u32).map(|i| after(50 * MS, i))).await;
        (out, start.elapsed())
    });
    assert_eq!(out, [1, 2, 3, 4, 5]);
    // One after the other would take 5 x 50 = 250 ms; together, 50.
    assert!(took < 200 * MS, "gather took {took:?}: not concurrent");
}

#[test]
fn gather_runs_futures_in_place_without_spawning_tasks() {
    // Rc is neither Send nor 'static-bound here: no task could hold it.
    let shared = Rc::new(Cell::new(0));
    let out = corio::run(async {
        let bump = |n: i32| {
            let shared = shared.clone();
            async move {
                corio::yield_now().await;
                shared.set(shared.get() + n);
                n
            }
        };
        let tasks_before = corio::all_tasks().len();
        let gathered = corio::gather([bump(1), bump(2), bump(3)]);
        let out = gathered.await;
        assert_eq!(corio::all_tasks().len(), tasks_before);
        out
    });
    assert_eq!(out, [1, 2, 3]);
    assert_eq!(shared.get(), 6);
}

/// A future that is Pending until its flag is set, counting its polls.
struct Gate {
    open: Arc<std::sync::atomic::AtomicBool>,
    polls: Arc<AtomicUsize>,
    waker: Arc<std::sync::Mutex<Option<std::task::Waker>>>,
}

impl Future for Gate {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        if self.open.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        *self.waker.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[test]
fn gather_polls_only_the_futures_that_were_woken() {
    corio::run(async {
        let n = 1000;
        let polls = Arc::new(AtomicUsize::new(0));
        let gates: Vec<_> = (0..n)
            .map(|_| {
                (
                    flag(),
                    Arc::new(std::sync::Mutex::new(None::<std::task::Waker>)),
                )
            })
            .collect();
        let futures: Vec<Gate> = gates
            .iter()
            .map(|(open, waker)| Gate {
                open: open.clone(),
                polls: polls.clone(),
                waker: waker.clone(),
            })
            .collect();
        let opener = {
            let gates = gates.clone();
            corio::create_task(async move {
                // Open the gates one per loop iteration.
                for (open, waker) in gates {
                    open.store(true, Ordering::SeqCst);
                    if let Some(waker) = waker.lock().unwrap().take() {
                        waker.wake();
                    }
                    corio::yield_now().await;
                }
            })
        };
        corio::gather(futures).await;
        opener.await.unwrap();
        // Each gate: one first poll, one poll after its wake. Polling all
        // of them on every wake would be about n * n / 2.
        assert_eq!(polls.load(Ordering::SeqCst), 2 * n);
    });
}

#[test]
fn a_future_that_wakes_itself_does_not_starve_the_loop() {
    corio::run(async {
        let other = corio::create_task(async { "ran" });
        // Each future yields 3 times: gather must give the loop a turn at
        // each self-wake, not poll the same future in a loop.
        let out = corio::gather((0..3).map(|i| async move {
            for _ in 0..3 {
                corio::yield_now().await;
            }
            i
        }));
        let out = out.await;
        assert_eq!(out, [0, 1, 2]);
        assert!(other.is_done());
    });
}

#[test]
fn dropping_gather_drops_the_unfinished_futures() {
    corio::run(async {
        let dropped = flag();
        let guard = SetOnDrop(dropped.clone());
        let slow = async move {
            let _guard = guard;
            corio::sleep(Duration::from_secs(3600)).await;
        };
        let result = corio::timeout(10 * MS, corio::gather([slow])).await;
        assert!(result.is_err());
        assert!(dropped.load(Ordering::SeqCst));
    });
}

#[test]
fn gather_macro_joins_futures_of_different_types() {
    let out = corio::run(async {
        corio::gather!(
            after(20 * MS, 1u8),
            after(10 * MS, "two"),
            async { vec![3.0] },
            corio::sleep(5 * MS),
        )
    });
    assert_eq!(out, (1u8, "two", vec![3.0], ()));
}

#[test]
fn gather_macro_polls_concurrently_with_one_to_eight_arguments() {
    corio::run(async {
        let (a,) = corio::gather!(after(MS, 1));
        assert_eq!(a, 1);
        let start = Instant::now();
        let all = corio::gather!(
            after(40 * MS, 1),
            after(40 * MS, 2u16),
            after(40 * MS, 3u32),
            after(40 * MS, 4u64),
            after(40 * MS, '5'),
            after(40 * MS, "6"),
            after(40 * MS, 7i8),
            after(40 * MS, 8i64),
        );
        assert_eq!(all, (1, 2, 3, 4, '5', "6", 7, 8));
        let took = start.elapsed();
        assert!(took < 200 * MS, "8 x 40 ms took {took:?}: not concurrent");
    });
}

#[test]
fn try_gather_returns_every_value_in_input_order() {
    let out: Result<Vec<u32>, String> = corio::run(async {
        corio::try_gather([
            after(30 * MS, Ok(1)),
            after(10 * MS, Ok(2)),
            after(20 * MS, Ok(3)),
        ])
        .await
    });
    assert_eq!(out, Ok(vec![1, 2, 3]));
}

#[test]
fn try_gather_returns_the_first_err_at_once_with_the_others_dropped() {
    corio::run(async {
        let drops: Vec<_> = (0..3).map(|_| flag()).collect();
        let job = |i: usize, delay: Duration, result: Result<usize, String>| {
            let guard = SetOnDrop(drops[i].clone());
            async move {
                let _guard = guard;
                corio::sleep(delay).await;
                result
            }
        };
        let start = Instant::now();
        let out = corio::try_gather([
            job(0, Duration::from_secs(3600), Ok(0)),
            job(1, 10 * MS, Err("boom".to_string())),
            job(2, 20 * MS, Err("later".to_string())),
        ])
        .await;
        assert_eq!(out, Err("boom".to_string()));
        assert!(start.elapsed() < Duration::from_secs(1));
        for (i, dropped) in drops.iter().enumerate() {
            assert!(dropped.load(Ordering::SeqCst), "future {i} not dropped");
        }
    });
}

#[test]
fn try_gather_of_nothing_is_ok_empty() {
    let out = corio::run(async {
        corio::try_gather(Vec::<std::future::Ready<Result<(), ()>>>::new()).await
    });
    assert_eq!(out, Ok(vec![]));
}

#[test]
fn try_gather_macro_short_circuits_on_the_first_err() {
    corio::run(async {
        let dropped = flag();
        let guard = SetOnDrop(dropped.clone());
        let start = Instant::now();
        let out: Result<(u8, &str, ()), String> = corio::try_gather!(
            async move {
                let _guard = guard;
                corio::sleep(Duration::from_secs(3600)).await;
                Ok(1)
            },
            after(10 * MS, Err("failed".to_string())),
            after(5 * MS, Ok(())),
        );
        assert_eq!(out, Err("failed".to_string()));
        assert!(start.elapsed() < Duration::from_secs(1));
        assert!(dropped.load(Ordering::SeqCst));
    });
}

#[test]
fn try_gather_macro_returns_all_values_when_none_fails() {
    let out: Result<(i32, String), ()> = corio::run(async {
        corio::try_gather!(after(10 * MS, Ok(1)), async { Ok("x".to_string()) })
    });
    assert_eq!(out, Ok((1, "x".to_string())));
}
