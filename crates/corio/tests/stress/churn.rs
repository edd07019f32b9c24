//! The churn on one loop: thousands of tasks, loop timers, blocking jobs and
//! three threads' threadsafe traffic at once, then a probe thread's round
//! trips to the idle loop; every count must balance exactly.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use corio::{CallbackHandle, LoopHandle, Task, ThreadsafeTask};

use crate::helpers::{abort_after, block_on_for, pause, watchdog, Latch, Rng, Token};
use crate::{lock, serial, ABORT_AFTER, LOST_WAKE_UP, WATCHDOG};

const TASKS: usize = 2_000;
const THREADS: usize = 3;
/// Per thread.
const THREADSAFE_CALLBACKS: usize = 500;
/// Per thread.
const THREADSAFE_COROUTINES: usize = 200;
/// Per thread; every 10th is cancelled (scheduled an hour out, so it cannot
/// have run when the thread cancels it).
const THREAD_TIMERS: usize = 50;
/// Scheduled from a task on the loop; every 10th is cancelled.
const LOOP_TIMERS: usize = 400;
const BLOCKING_JOBS: usize = 50;
/// Round trips of the probe thread (a quarter of each kind).
const PROBES: usize = 80;

/// What must balance at the end of the churn.
struct Tally {
    failures: Mutex<Vec<String>>,
    task_futures: Arc<Latch>,
    tasks_finished: AtomicUsize,
    loop_timer_closures: Arc<Latch>,
    thread_timer_closures: Arc<Latch>,
    thread_timers_ran: Arc<Latch>,
    cancelled_thread_timers_ran: AtomicUsize,
    callback_closures: Arc<Latch>,
    callbacks_ran: Arc<Latch>,
    /// The next callback number each thread's FIFO order expects.
    next_callback: [AtomicUsize; THREADS],
    coroutine_futures: Arc<Latch>,
    blocking_closures: Arc<Latch>,
    threads_done: Arc<Latch>,
    probes_done: Arc<Latch>,
}

impl Tally {
    fn new() -> Arc<Tally> {
        let cancelled_per_thread = THREAD_TIMERS.div_ceil(10);
        Arc::new(Tally {
            failures: Mutex::new(Vec::new()),
            task_futures: Latch::new("task futures dropped", TASKS),
            tasks_finished: AtomicUsize::new(0),
            loop_timer_closures: Latch::new("loop call_later closures dropped", LOOP_TIMERS),
            thread_timer_closures: Latch::new(
                "threads' call_later closures dropped",
                THREADS * THREAD_TIMERS,
            ),
            thread_timers_ran: Latch::new(
                "threads' call_later callbacks run",
                THREADS * (THREAD_TIMERS - cancelled_per_thread),
            ),
            cancelled_thread_timers_ran: AtomicUsize::new(0),
            callback_closures: Latch::new(
                "call_soon_threadsafe closures dropped",
                THREADS * THREADSAFE_CALLBACKS,
            ),
            callbacks_ran: Latch::new(
                "call_soon_threadsafe callbacks run",
                THREADS * THREADSAFE_CALLBACKS,
            ),
            next_callback: std::array::from_fn(|_| AtomicUsize::new(0)),
            coroutine_futures: Latch::new(
                "run_coroutine_threadsafe futures dropped",
                THREADS * THREADSAFE_COROUTINES,
            ),
            blocking_closures: Latch::new("to_thread closures dropped", BLOCKING_JOBS),
            threads_done: Latch::new("threads done", THREADS),
            probes_done: Latch::new("probe round trips done", PROBES),
        })
    }

    fn fail(&self, message: String) {
        lock(&self.failures).push(message);
    }

    fn latches(&self) -> [&Arc<Latch>; 10] {
        [
            &self.task_futures,
            &self.loop_timer_closures,
            &self.thread_timer_closures,
            &self.thread_timers_ran,
            &self.callback_closures,
            &self.callbacks_ran,
            &self.coroutine_futures,
            &self.blocking_closures,
            &self.threads_done,
            &self.probes_done,
        ]
    }
}

impl fmt::Debug for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.latches().iter().filter(|l| !l.is_balanced()))
            .finish()
    }
}

/// What the churn hands back to the test thread.
struct Report {
    threads: Vec<JoinHandle<Vec<u64>>>,
    ok: usize,
    cancelled: usize,
    loop_timers_cancelled_in_time: usize,
}

/// The value thread `t`'s `k`-th coroutine returns.
fn coroutine_value(t: usize, k: usize) -> u64 {
    ((t as u64) << 32) | k as u64
}

#[derive(Clone, Copy)]
enum Op {
    Callback,
    Coroutine,
    Timer,
}

/// One remote thread: its callbacks, timers and coroutines in a shuffled
/// order, waiting for the coroutines' results in batches. Returns the values
/// it received.
fn remote_thread(t: usize, handle: LoopHandle, tally: Arc<Tally>) -> Vec<u64> {
    // Counts down even if this thread panics: the loop never waits in vain.
    let _done = tally.threads_done.token();
    let mut rng = Rng::new(0x7EAD_0000 + t as u64);
    let mut ops = Vec::new();
    ops.extend(std::iter::repeat_n(Op::Callback, THREADSAFE_CALLBACKS));
    ops.extend(std::iter::repeat_n(Op::Coroutine, THREADSAFE_COROUTINES));
    ops.extend(std::iter::repeat_n(Op::Timer, THREAD_TIMERS));
    rng.shuffle(&mut ops);

    let (mut callbacks, mut coroutines, mut timers) = (0, 0, 0);
    let mut pending: Vec<(u64, ThreadsafeTask<u64>)> = Vec::new();
    let mut batch = 1 + rng.below(16);
    let mut to_cancel: Vec<CallbackHandle> = Vec::new();
    let mut received = Vec::new();
    let wait_all = |pending: &mut Vec<(u64, ThreadsafeTask<u64>)>, received: &mut Vec<u64>| {
        for (value, task) in pending.drain(..) {
            match task.wait() {
                Ok(got) if got == value => received.push(got),
                other => tally.fail(format!(
                    "thread {t}: coroutine for {value:#x} gave {other:?}"
                )),
            }
        }
    };

    for op in ops {
        match op {
            Op::Callback => {
                let seq = callbacks;
                callbacks += 1;
                let token = tally.callback_closures.token();
                let (tally, loop_handle) = (tally.clone(), handle.clone());
                handle.call_soon_threadsafe(move || {
                    let _token = token;
                    if !corio::try_get_running_loop().is_some_and(|h| h.same_loop(&loop_handle)) {
                        tally.fail(format!("thread {t}: callback {seq} ran off its loop"));
                    }
                    let expected = tally.next_callback[t].swap(seq + 1, Ordering::SeqCst);
                    if expected != seq {
                        tally.fail(format!(
                            "thread {t}: callback {seq} ran when {expected} was due (FIFO broken)"
                        ));
                    }
                    tally.callbacks_ran.count_down();
                });
            }
            Op::Coroutine => {
                let value = coroutine_value(t, coroutines);
                coroutines += 1;
                let token = tally.coroutine_futures.token();
                let task = handle.run_coroutine_threadsafe(async move {
                    let _token = token;
                    corio::sleep(Duration::from_millis(1)).await;
                    value
                });
                pending.push((value, task));
                if pending.len() >= batch {
                    // Cancel the hour-long timers from here too, mid-traffic.
                    for timer in to_cancel.drain(..) {
                        timer.cancel();
                    }
                    wait_all(&mut pending, &mut received);
                    batch = 1 + rng.below(16);
                }
            }
            Op::Timer => {
                let i = timers;
                timers += 1;
                let token = tally.thread_timer_closures.token();
                let tally = tally.clone();
                if i % 10 == 0 {
                    to_cancel.push(handle.call_later(Duration::from_secs(3600), move || {
                        let _token = token;
                        tally
                            .cancelled_thread_timers_ran
                            .fetch_add(1, Ordering::SeqCst);
                    }));
                } else {
                    let delay = rng.millis(0, 5);
                    let earliest = handle.time() + delay;
                    let loop_handle = handle.clone();
                    handle.call_later(delay, move || {
                        let _token = token;
                        let now = loop_handle.time();
                        if now < earliest {
                            tally.fail(format!(
                                "thread {t}: timer {i} ran {:?} early",
                                earliest - now
                            ));
                        }
                        tally.thread_timers_ran.count_down();
                    });
                }
            }
        }
    }
    for timer in to_cancel.drain(..) {
        timer.cancel();
    }
    wait_all(&mut pending, &mut received);
    received
}

/// Round trips to an idle loop, each after a short nap (so the loop is
/// parked when it arrives); a wake-up that does not arrive within
/// `LOST_WAKE_UP` is a failure, and ends the probing. It checks its values
/// itself: returns none.
fn probe(handle: LoopHandle, tally: Arc<Tally>) -> Vec<u64> {
    let mut rng = Rng::new(0x9F0BE);
    for k in 0..PROBES {
        std::thread::sleep(Duration::from_micros(100 + rng.below(900) as u64));
        let (tx, rx) = mpsc::channel();
        let (what, got) = match k % 4 {
            0 => {
                handle.call_soon_threadsafe(move || {
                    let _ = tx.send(k); // the probe may have given up
                });
                ("call_soon_threadsafe", rx.recv_timeout(LOST_WAKE_UP).ok())
            }
            1 => {
                handle.call_later(rng.millis(0, 2), move || {
                    let _ = tx.send(k);
                });
                ("call_later", rx.recv_timeout(LOST_WAKE_UP).ok())
            }
            2 => {
                let mut task = handle.run_coroutine_threadsafe(async move {
                    corio::yield_now().await;
                    k
                });
                let got = task.wait_timeout(LOST_WAKE_UP).and_then(Result::ok);
                ("run_coroutine_threadsafe", got)
            }
            _ => {
                // A loop timer armed from this thread, earlier than anything
                // the loop sleeps towards: the loop must be woken to re-arm.
                let nap = rng.millis(2, 4);
                // Made on the loop (wrapped: the coroutine returns it, does
                // not await it), polled first here.
                let sleep = handle
                    .run_coroutine_threadsafe(async move { Some(corio::sleep(nap)) })
                    .wait_timeout(LOST_WAKE_UP)
                    .and_then(Result::ok)
                    .flatten();
                let got = sleep.and_then(|sleep| {
                    let deadline = sleep.deadline();
                    block_on_for(LOST_WAKE_UP, sleep)?;
                    let now = handle.time();
                    if now < deadline {
                        tally.fail(format!("probe {k}: sleep ended {:?} early", deadline - now));
                    }
                    Some(k)
                });
                ("a loop's sleep awaited on another thread", got)
            }
        };
        if got != Some(k) {
            tally.fail(format!(
                "lost wake-up: probe {k} ({what}) gave {got:?} within {LOST_WAKE_UP:?}"
            ));
            for _ in k..PROBES {
                tally.probes_done.count_down();
            }
            break;
        }
        tally.probes_done.count_down();
    }
    Vec::new()
}

/// How a loop-side `call_later` was treated.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Fate {
    Kept,
    /// `cancel()` before the callback had run: it must never run.
    CancelledInTime,
    /// `cancel()` after the callback had already run.
    CancelledLate,
}

/// Schedules `LOOP_TIMERS` callbacks with 0–10 ms delays, interleaved with
/// pauses; cancels every 10th, half of those at once, half at a random later
/// point. Returns how many cancellations came in time, after checking that
/// exactly the callbacks not cancelled in time ran.
async fn loop_timers(tally: Arc<Tally>) -> usize {
    let handle = corio::get_running_loop();
    let mut rng = Rng::new(0x71AE);
    let mut ran: Vec<Arc<AtomicBool>> = Vec::with_capacity(LOOP_TIMERS);
    let mut fate = vec![Fate::Kept; LOOP_TIMERS];
    let mut later: Vec<(usize, CallbackHandle)> = Vec::new();
    let cancel = |i: usize, cb: CallbackHandle, ran: &[Arc<AtomicBool>], fate: &mut [Fate]| {
        // Single-threaded: the callback cannot be mid-run while we look.
        fate[i] = if ran[i].load(Ordering::SeqCst) {
            Fate::CancelledLate
        } else {
            Fate::CancelledInTime
        };
        cb.cancel();
        assert!(cb.is_cancelled());
    };
    for i in 0..LOOP_TIMERS {
        let flag = Arc::new(AtomicBool::new(false));
        ran.push(flag.clone());
        let token = tally.loop_timer_closures.token();
        let delay = rng.millis(0, 10);
        let earliest = handle.time() + delay;
        let (loop_handle, tally) = (handle.clone(), tally.clone());
        let cb = handle.call_later(delay, move || {
            let _token = token;
            let now = loop_handle.time();
            if now < earliest {
                tally.fail(format!("loop timer {i} ran {:?} early", earliest - now));
            }
            if flag.swap(true, Ordering::SeqCst) {
                tally.fail(format!("loop timer {i} ran twice"));
            }
        });
        match i % 20 {
            0 => cancel(i, cb, &ran, &mut fate),
            10 => later.push((i, cb)),
            _ => drop(cb), // dropping the handle does not cancel
        }
        if rng.below(4) == 0 {
            pause(&mut rng).await;
        }
        if !later.is_empty() && rng.below(8) == 0 {
            let (j, cb) = later.swap_remove(rng.below(later.len()));
            cancel(j, cb, &ran, &mut fate);
        }
    }
    pause(&mut rng).await;
    for (j, cb) in std::mem::take(&mut later) {
        cancel(j, cb, &ran, &mut fate);
    }
    // Every closure is dropped: run, or dropped by its cancellation.
    tally.loop_timer_closures.wait().await;
    for (i, (ran, fate)) in ran.iter().zip(&fate).enumerate() {
        let ran = ran.load(Ordering::SeqCst);
        let expected = *fate != Fate::CancelledInTime;
        assert_eq!(ran, expected, "loop timer {i} ({fate:?}) ran: {ran}");
    }
    fate.iter().filter(|f| **f == Fate::CancelledInTime).count()
}

/// `BLOCKING_JOBS` `to_thread` jobs of 1–5 ms, started between pauses.
async fn blocking_jobs(tally: Arc<Tally>) {
    let mut rng = Rng::new(0xB10C);
    let mut jobs = Vec::with_capacity(BLOCKING_JOBS);
    for j in 0..BLOCKING_JOBS {
        let token = tally.blocking_closures.token();
        let nap = rng.millis(1, 5);
        jobs.push(corio::to_thread(move || {
            let _token = token;
            std::thread::sleep(nap);
            (j, std::thread::current().name().map(str::to_owned))
        }));
        if rng.below(2) == 0 {
            pause(&mut rng).await;
        }
    }
    for (j, job) in jobs.into_iter().enumerate() {
        let (got, thread) = job.await.expect("a to_thread job failed");
        assert_eq!(got, j);
        let thread = thread.unwrap_or_default();
        assert!(
            thread.starts_with("corio-blocking-"),
            "job {j} ran on {thread:?}"
        );
    }
    tally.blocking_closures.wait().await;
}

/// One of the 2,000 tasks: 2–4 pauses, then its index.
async fn worker(i: usize, token: Token, tally: Arc<Tally>) -> usize {
    let _token = token;
    let mut rng = Rng::new(i as u64);
    for _ in 0..2 + rng.below(3) {
        pause(&mut rng).await;
    }
    tally.tasks_finished.fetch_add(1, Ordering::SeqCst);
    i
}

async fn churn(tally: Arc<Tally>) -> Report {
    let handle = corio::get_running_loop();

    // Remote threads first: their traffic overlaps everything below.
    let threads: Vec<JoinHandle<Vec<u64>>> = (0..THREADS)
        .map(|t| {
            let (handle, tally) = (handle.clone(), tally.clone());
            std::thread::Builder::new()
                .name(format!("stress-remote-{t}"))
                .spawn(move || remote_thread(t, handle, tally))
                .expect("spawn a remote thread")
        })
        .collect();

    let timers = corio::create_task(loop_timers(tally.clone()));
    let blocking = corio::create_task(blocking_jobs(tally.clone()));

    let mut rng = Rng::new(0xC0FFEE);
    let mut tasks: Vec<Option<Task<usize>>> = (0..TASKS)
        .map(|i| {
            let token = tally.task_futures.token();
            Some(corio::create_task(worker(i, token, tally.clone())))
        })
        .collect();

    // Half of them are cancelled: some by this task before they first run,
    // the rest each by its own canceller task after 0–8 ms or a few yields
    // (before, during, or after the victim's sleeps).
    let mut victims: Vec<usize> = (0..TASKS).collect();
    rng.shuffle(&mut victims);
    victims.truncate(TASKS / 2);
    let mut decided: Vec<(usize, Task<usize>, bool)> = Vec::with_capacity(TASKS);
    let mut cancellers = Vec::with_capacity(victims.len());
    for (n, &i) in victims.iter().enumerate() {
        let task = tasks[i].take().expect("each victim once");
        if n % 10 == 0 {
            let requested = task.cancel();
            assert!(requested, "task {i} was done before it ever ran");
            decided.push((i, task, requested));
            continue;
        }
        let mut rng = Rng::new(0xCA9CE1 + i as u64);
        cancellers.push(corio::create_task(async move {
            if rng.below(3) == 0 {
                for _ in 0..rng.below(6) {
                    corio::yield_now().await;
                }
            } else {
                corio::sleep(rng.millis(0, 8)).await;
            }
            let requested = task.cancel();
            (i, task, requested)
        }));
    }
    for canceller in cancellers {
        decided.push(canceller.await.expect("a canceller failed"));
    }
    decided.extend(
        tasks
            .into_iter()
            .enumerate()
            .filter_map(|(i, task)| task.map(|task| (i, task, false))),
    );
    decided.sort_by_key(|(i, _, _)| *i);

    let (mut ok, mut cancelled) = (0, 0);
    for (i, task, requested) in decided {
        let result = task.await;
        match result {
            // A cancel from another task on this thread never lands
            // mid-poll: when it was accepted, the future was dropped.
            Err(error) if requested && error.is_cancelled() => cancelled += 1,
            Ok(value) if !requested && value == i => ok += 1,
            other => panic!("task {i} (cancel requested: {requested}) ended {other:?}"),
        }
    }
    assert_eq!(ok + cancelled, TASKS);
    assert_eq!(ok, tally.tasks_finished.load(Ordering::SeqCst));
    tally.task_futures.wait().await;

    let loop_timers_cancelled_in_time = timers.await.expect("the loop timer task failed");
    blocking.await.expect("the to_thread task failed");

    tally.threads_done.wait().await;
    tally.callbacks_ran.wait().await;
    tally.callback_closures.wait().await;
    tally.coroutine_futures.wait().await;
    tally.thread_timers_ran.wait().await;
    tally.thread_timer_closures.wait().await;

    // The loop is idle now: every round trip of the probe needs its
    // cross-thread wake-up to reach the parked loop.
    let probe = {
        let (handle, tally) = (handle.clone(), tally.clone());
        std::thread::Builder::new()
            .name("stress-probe".to_owned())
            .spawn(move || probe(handle, tally))
            .expect("spawn the probe thread")
    };
    tally.probes_done.wait().await;
    let mut threads = threads;
    threads.push(probe);

    Report {
        threads,
        ok,
        cancelled,
        loop_timers_cancelled_in_time,
    }
}

#[test]
fn churn_of_tasks_timers_and_threads_on_one_loop_balances_exactly() {
    let _serial = serial();
    let _abort = abort_after(ABORT_AFTER, "the churn test");
    let tally = Tally::new();
    let started = Instant::now();

    let report = corio::run(watchdog(WATCHDOG, churn(tally.clone()))).unwrap_or_else(|()| {
        panic!(
            "lost wake-up: the churn was not done after {WATCHDOG:?}; short: {tally:?}; \
                 failures: {:?}",
            lock(&tally.failures)
        )
    });

    let mut received = Vec::new();
    for thread in report.threads {
        received.extend(thread.join().expect("a remote thread panicked"));
    }
    let failures = lock(&tally.failures);
    assert!(
        failures.is_empty(),
        "{} failures: {:#?}",
        failures.len(),
        &failures[..failures.len().min(20)]
    );
    received.sort_unstable();
    let expected: Vec<u64> = (0..THREADS)
        .flat_map(|t| (0..THREADSAFE_COROUTINES).map(move |k| coroutine_value(t, k)))
        .collect();
    assert_eq!(received, expected, "a coroutine's value went missing");
    for (t, next) in tally.next_callback.iter().enumerate() {
        assert_eq!(
            next.load(Ordering::SeqCst),
            THREADSAFE_CALLBACKS,
            "thread {t}"
        );
    }
    assert_eq!(tally.cancelled_thread_timers_ran.load(Ordering::SeqCst), 0);
    // Nothing was counted twice, also not by the loop's clean-up.
    for latch in tally.latches() {
        assert!(latch.is_balanced(), "{latch:?}");
    }
    assert!(
        report.cancelled >= TASKS / 20,
        "{} cancelled",
        report.cancelled
    );
    assert!(report.loop_timers_cancelled_in_time >= LOOP_TIMERS / 20);
    eprintln!(
        "churn: {} tasks ok, {} cancelled; {} of {} loop timers cancelled in time; {:?}",
        report.ok,
        report.cancelled,
        report.loop_timers_cancelled_in_time,
        LOOP_TIMERS / 10,
        started.elapsed()
    );
}
