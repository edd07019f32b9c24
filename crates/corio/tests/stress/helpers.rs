//! The stress tests' tools: a seeded random source and pauses, latches that
//! count drops down to exactly zero, the loop-clock watchdog and the
//! wall-clock abort backstop, and a `block_on` for plain threads.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io::Write;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::lock;

/// splitmix64: random-ish, deterministic per seed.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5EED_C0C0_A5A5_0001)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// `lo..=hi` milliseconds.
    pub(crate) fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.next() % (hi - lo + 1))
    }

    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// A yield or a 0–3 ms sleep, at random.
pub(crate) async fn pause(rng: &mut Rng) {
    if rng.below(3) == 0 {
        corio::yield_now().await;
    } else {
        corio::sleep(rng.millis(0, 3)).await;
    }
}

/// Counts down from `n` to zero, from any thread; one task awaits zero.
/// Counting past zero is recorded (it would mean a double count).
pub(crate) struct Latch {
    name: &'static str,
    initial: usize,
    state: Mutex<LatchState>,
}

pub(crate) struct LatchState {
    remaining: usize,
    overflow: usize,
    waker: Option<Waker>,
}

impl Latch {
    pub(crate) fn new(name: &'static str, n: usize) -> Arc<Latch> {
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

    pub(crate) fn count_down(&self) {
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
    pub(crate) fn token(self: &Arc<Self>) -> Token {
        Token(self.clone())
    }

    pub(crate) async fn wait(&self) {
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

    pub(crate) fn remaining(&self) -> usize {
        lock(&self.state).remaining
    }

    /// Reached exactly zero, never past it.
    pub(crate) fn is_balanced(&self) -> bool {
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
pub(crate) struct Token(Arc<Latch>);

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
pub(crate) async fn watchdog<F: Future>(limit: Duration, future: F) -> Result<F::Output, ()> {
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
pub(crate) struct AbortGuard {
    disarm: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

pub(crate) fn abort_after(limit: Duration, what: &'static str) -> AbortGuard {
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

/// Wakes a blocked thread.
struct Unparker(std::thread::Thread);

impl std::task::Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on this (non-loop) thread; `None` if not done within `limit`.
pub(crate) fn block_on_for<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
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
