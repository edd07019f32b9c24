//! `foreign-spawn`: a plain thread that is not one of the runtime's submits
//! N tasks through the runtime's thread-safe handle; the main future waits
//! until all N have run.
//!
//! Each task adds one to a shared counter; the one that brings it to N
//! wakes the main future through the runtime's own one-shot signal (a
//! `corio::sync::Event`, a `tokio::sync::Notify`, an async-channel
//! `bounded(1)` on smol). The submitting thread starts inside the timed
//! region and is joined after it. One op is one task submitted from the
//! foreign thread and run. The handles:
//!
//! - corio: the loop's `LoopHandle` (`corio::get_running_loop()`, the same
//!   handle as `Runner::handle()`), `LoopHandle::create_task`;
//! - tokio: `tokio::runtime::Handle::current()`, `Handle::spawn`;
//! - smol-mt: the `Arc`'d `Executor`, `Executor::spawn`;
//! - smol-local: a `LocalExecutor` cannot be reached from another thread,
//!   so the foreign thread sends a message per task over an unbounded
//!   async-channel to a relay task on the executor, which spawns the task
//!   (what a smol user does).
//!
//! On a multi-threaded runtime this is the injector's path: every task
//! enters from outside the workers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::Workload;
use crate::measure::Measurement;
use crate::runtime::{self, Threads};

/// The `foreign-spawn` workload.
pub(super) const WORKLOAD: Workload = Workload {
    name: "foreign-spawn",
    description: "a non-runtime thread submits N tasks through the runtime's handle; \
                  main awaits all N",
    default_size: 1_000_000,
    multi_threaded: true,
    corio,
    tokio,
    smol,
};

/// The count of tasks that ran, and the signal the last of `n` sends.
struct Finish<S> {
    /// Tasks that ran so far.
    ran: AtomicUsize,
    /// How many will run.
    n: usize,
    /// Sent once, by the `n`-th task.
    signal: S,
}

impl<S> Finish<S> {
    /// A finish line for `n` tasks.
    fn new(n: usize, signal: S) -> Arc<Finish<S>> {
        Arc::new(Finish {
            ran: AtomicUsize::new(0),
            n,
            signal,
        })
    }

    /// Counts one task; true for the `n`-th.
    fn ran_one(&self) -> bool {
        self.ran.fetch_add(1, Ordering::AcqRel) + 1 == self.n
    }
}

/// Spawns the thread that submits `n` tasks with `submit`.
fn submitter(n: usize, mut submit: impl FnMut() + Send + 'static) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("foreign-spawn".to_owned())
        .spawn(move || {
            for _ in 0..n {
                submit();
            }
        })
        .expect("spawn the submitting thread")
}

/// `foreign-spawn` on corio, through `LoopHandle::create_task`.
fn corio(threads: Threads, n: usize) -> Measurement {
    runtime::corio(threads, async move {
        let handle = corio::get_running_loop();
        let finish = Finish::new(n, corio::sync::Event::new());
        let start = Instant::now();
        let thread = submitter(n, {
            let finish = Arc::clone(&finish);
            move || {
                let finish = Arc::clone(&finish);
                drop(handle.create_task(async move {
                    if finish.ran_one() {
                        finish.signal.set();
                    }
                }));
            }
        });
        finish.signal.wait().await;
        let elapsed = start.elapsed();
        thread.join().expect("the submitting thread");
        assert_eq!(finish.ran.load(Ordering::Acquire), n);
        Measurement::new(n, elapsed)
    })
}

/// `foreign-spawn` on tokio, through `Handle::spawn`.
fn tokio(threads: Threads, n: usize) -> Measurement {
    runtime::tokio(threads).block_on(async move {
        let handle = tokio::runtime::Handle::current();
        let finish = Finish::new(n, tokio::sync::Notify::new());
        let start = Instant::now();
        let thread = submitter(n, {
            let finish = Arc::clone(&finish);
            move || {
                let finish = Arc::clone(&finish);
                drop(handle.spawn(async move {
                    if finish.ran_one() {
                        // Stores a permit if main is not waiting yet.
                        finish.signal.notify_one();
                    }
                }));
            }
        });
        finish.signal.notified().await;
        let elapsed = start.elapsed();
        thread.join().expect("the submitting thread");
        assert_eq!(finish.ran.load(Ordering::Acquire), n);
        Measurement::new(n, elapsed)
    })
}

/// A smol task of this workload: counts itself, and the last one sends.
async fn smol_task(finish: Arc<Finish<async_channel::Sender<()>>>) {
    if finish.ran_one() {
        finish.signal.try_send(()).expect("sent once");
    }
}

/// `foreign-spawn` on smol: `Executor::spawn` on smol-mt, a relay task on
/// smol-local.
fn smol(threads: Threads, n: usize) -> Measurement {
    let (tx, rx) = async_channel::bounded(1);
    let finish = Finish::new(n, tx);
    let counted = Arc::clone(&finish);
    // The end of the main future, the same on both flavours.
    let wait = |thread: std::thread::JoinHandle<()>, start: Instant| async move {
        rx.recv().await.expect("the last task sends");
        let elapsed = start.elapsed();
        thread.join().expect("the submitting thread");
        assert_eq!(counted.ran.load(Ordering::Acquire), n);
        Measurement::new(n, elapsed)
    };
    match threads {
        Threads::Workers(workers) => runtime::smol_mt(workers, |ex| async move {
            let start = Instant::now();
            let thread = submitter(n, {
                let finish = Arc::clone(&finish);
                move || ex.spawn(smol_task(Arc::clone(&finish))).detach()
            });
            wait(thread, start).await
        }),
        Threads::Local => runtime::smol_local(|ex| async move {
            let (relay_tx, relay_rx) = async_channel::unbounded::<()>();
            let relay_ex = ex.clone();
            let relay_finish = Arc::clone(&finish);
            ex.spawn(async move {
                while relay_rx.recv().await.is_ok() {
                    relay_ex
                        .spawn(smol_task(Arc::clone(&relay_finish)))
                        .detach();
                }
            })
            .detach();
            let start = Instant::now();
            let thread = submitter(n, move || {
                relay_tx.send_blocking(()).expect("the relay is running");
            });
            wait(thread, start).await
        }),
    }
}
