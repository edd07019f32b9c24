//! Churn stress of the event loop's cross-thread and timer paths together,
//! and of the clean-up of leftovers across consecutive `corio::run`s.
//!
//! One loop runs, all at once: 2,000 tasks that sleep 0–3 ms and yield, half
//! of them cancelled by other tasks; `call_later` callbacks, 10% cancelled;
//! 50 `to_thread` jobs; and three std threads' `call_soon_threadsafe`,
//! `call_later` and `run_coroutine_threadsafe` traffic (waited for with
//! `ThreadsafeTask::wait`). Then 20 `corio::run`s each leave tasks, timers and
//! a blocking job behind.
//!
//! Exactness: a task whose `cancel()` returned true ends `Cancelled`, every
//! other one `Ok` with its own value; exactly the callbacks not cancelled in
//! time run, never before their deadline, and the threadsafe ones in FIFO
//! order per thread; every coroutine's value reaches its thread; every future
//! and closure is dropped exactly once (drop latches); no blocking-pool
//! thread outlives `run`.
//!
//! Lost wake-ups: after the churn, a probe thread makes round trips to the
//! loop while it has nothing else to do (no timer but the watchdog's), so
//! each one needs its cross-thread wake-up (`call_soon_threadsafe`, a timer
//! armed from that thread, `run_coroutine_threadsafe`) to reach the parked
//! loop.
//!
//! Bounded: everything is short (milliseconds) and runs concurrently, so the
//! whole file takes well under a second in a debug build. It never hangs:
//! each main future runs under a 20 s watchdog timer that fails the test
//! (saying which counts fell short), and a wall-clock watchdog thread aborts
//! the process if even that timer never fires.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use corio::{CallbackHandle, LoopHandle, Task, ThreadsafeTask};

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

/// Turns a lost wake-up into a failure: generous, the churn needs < 1 s.
const WATCHDOG: Duration = Duration::from_secs(20);
/// Round trips of the probe thread (a quarter of each kind).
const PROBES: usize = 80;
/// A wake-up from another thread that takes this long was lost, and found
/// only when a timer woke the loop (the work itself takes microseconds).
const LOST_WAKE_UP: Duration = Duration::from_secs(5);
/// Backstop for a loop so wedged that even the watchdog's timer never fires.
const ABORT_AFTER: Duration = Duration::from_secs(60);

/// The tests count the process's threads: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// splitmix64: random-ish, deterministic per seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5EED_C0C0_A5A5_0001)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// `lo..=hi` milliseconds.
    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.next() % (hi - lo + 1))
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// A yield or a 0–3 ms sleep, at random.
async fn pause(rng: &mut Rng) {
    if rng.below(3) == 0 {
        corio::yield_now().await;
    } else {
        corio::sleep(rng.millis(0, 3)).await;
    }
}

/// Counts down from `n` to zero, from any thread; one task awaits zero.
/// Counting past zero is recorded (it would mean a double count).
struct Latch {
    name: &'static str,
    initial: usize,
    state: Mutex<LatchState>,
}

struct LatchState {
    remaining: usize,
    overflow: usize,
    waker: Option<Waker>,
}

impl Latch {
    fn new(name: &'static str, n: usize) -> Arc<Latch> {
        Arc::new(Latch {
            name,
            initial: n,
            state: Mutex::new(LatchState {
                remaining: n,
                overflow: 0,
                waker: None,
            }),
        })
    }

    fn count_down(&self) {
        let waker = {
            let mut state = lock(&self.state);
            if state.remaining == 0 {
                state.overflow += 1;
                None
            } else {
                state.remaining -= 1;
                if state.remaining == 0 {
                    state.waker.take()
                } else {
                    None
                }
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Counts down once when dropped.
    fn token(self: &Arc<Self>) -> Token {
        Token(self.clone())
    }

    async fn wait(&self) {
        poll_fn(|cx| {
            let mut state = lock(&self.state);
            if state.remaining == 0 {
                return Poll::Ready(());
            }
            state.waker = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }

    fn remaining(&self) -> usize {
        lock(&self.state).remaining
    }

    /// Reached exactly zero, never past it.
    fn is_balanced(&self) -> bool {
        let state = lock(&self.state);
        state.remaining == 0 && state.overflow == 0
    }
}

impl fmt::Debug for Latch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        write!(
            f,
            "{}: {} of {} still missing",
            self.name, state.remaining, self.initial
        )?;
        if state.overflow > 0 {
            write!(f, ", {} too many", state.overflow)?;
        }
        Ok(())
    }
}

/// Counts its latch down when dropped: put one in every future and closure.
struct Token(Arc<Latch>);

impl Drop for Token {
    fn drop(&mut self) {
        self.0.count_down();
    }
}

/// `future`, or `Err(())` once `limit` has passed on the loop's clock.
///
/// Unlike `corio::timeout`, the deadline is checked before the future is
/// polled: a wake-up that was lost until this very timer woke the loop (the
/// loop then finds the work it missed, and the future is ready) still fails.
async fn watchdog<F: Future>(limit: Duration, future: F) -> Result<F::Output, ()> {
    let mut deadline = std::pin::pin!(corio::sleep(limit));
    let mut future = std::pin::pin!(future);
    poll_fn(|cx| {
        if deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(()));
        }
        future.as_mut().poll(cx).map(Ok)
    })
    .await
}

/// Aborts the process if not dropped within `limit`: the hang backstop.
struct AbortGuard {
    disarm: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

fn abort_after(limit: Duration, what: &'static str) -> AbortGuard {
    let (disarm, armed) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        if let Err(RecvTimeoutError::Timeout) = armed.recv_timeout(limit) {
            // Straight to stderr: the harness's capture would die with us.
            let _ = writeln!(
                std::io::stderr(),
                "{what}: still running after {limit:?} (lost wake-up?); aborting"
            );
            std::process::abort();
        }
    });
    AbortGuard {
        disarm: Some(disarm),
        thread: Some(thread),
    }
}

impl Drop for AbortGuard {
    fn drop(&mut self) {
        drop(self.disarm.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

// ---------------------------------------------------------------------------
// The churn on one loop
// ---------------------------------------------------------------------------

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

/// Wakes a blocked thread.
struct Unparker(std::thread::Thread);

impl std::task::Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on this (non-loop) thread; `None` if not done within `limit`.
fn block_on_for<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
    let deadline = Instant::now() + limit;
    let waker = Waker::from(Arc::new(Unparker(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Some(output);
        }
        let left = deadline.checked_duration_since(Instant::now())?;
        std::thread::park_timeout(left);
    }
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

// ---------------------------------------------------------------------------
// Leftovers across consecutive runs
// ---------------------------------------------------------------------------

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
