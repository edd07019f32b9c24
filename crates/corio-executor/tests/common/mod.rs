//! Test helpers shared by the integration tests: drop counters, a self-waking
//! yield, a future that parks its waker in a shared slot, and loop drivers.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use corio_executor::LocalExecutor;

/// Counts how many values it handed out were dropped.
#[derive(Clone, Default)]
pub(crate) struct Counter(Arc<AtomicUsize>);

impl Counter {
    pub(crate) fn new() -> Counter {
        Counter::default()
    }

    /// A value that bumps this counter once when dropped.
    pub(crate) fn token(&self) -> Token {
        Token(self.0.clone())
    }

    pub(crate) fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Bumps its counter when dropped.
#[derive(Debug)]
pub(crate) struct Token(Arc<AtomicUsize>);

impl Drop for Token {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A flag set once, shared between a test and a task.
#[derive(Clone, Default)]
pub(crate) struct Flag(Arc<AtomicBool>);

impl Flag {
    pub(crate) fn new() -> Flag {
        Flag::default()
    }
    pub(crate) fn set(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub(crate) fn get(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Returns `Pending` once after waking itself: the task goes to the back of
/// the run queue.
pub(crate) async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

/// Where a waiting future leaves its waker, and the switch that releases it.
#[derive(Clone, Default)]
pub(crate) struct WakerSlot {
    waker: Arc<Mutex<Option<Waker>>>,
    ready: Flag,
}

impl WakerSlot {
    pub(crate) fn new() -> WakerSlot {
        WakerSlot::default()
    }

    /// A future that stays pending, leaving its latest waker here, until
    /// [`WakerSlot::release`] is called.
    pub(crate) fn wait(&self) -> WaitSlot {
        WaitSlot { slot: self.clone() }
    }

    /// Takes the stored waker, if any.
    pub(crate) fn take(&self) -> Option<Waker> {
        self.waker.lock().unwrap().take()
    }

    pub(crate) fn has_waker(&self) -> bool {
        self.waker.lock().unwrap().is_some()
    }

    /// Lets the waiting future finish and wakes it.
    pub(crate) fn release(&self) {
        self.ready.set();
        if let Some(waker) = self.take() {
            waker.wake();
        }
    }
}

/// See [`WakerSlot::wait`].
pub(crate) struct WaitSlot {
    slot: WakerSlot,
}

impl Future for WaitSlot {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.slot.ready.get() {
            return Poll::Ready(());
        }
        *self.slot.waker.lock().unwrap() = Some(cx.waker().clone());
        // Re-check: a release between the first check and the store took no waker.
        if self.slot.ready.get() {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

/// A future that never completes and never keeps its waker: once pending,
/// only its executor still knows about it.
pub(crate) fn forgotten<T>() -> std::future::Pending<T> {
    std::future::pending()
}

/// Runs iterations until nothing is runnable; returns how many polls ran.
pub(crate) fn drain(ex: &LocalExecutor) -> usize {
    let mut total = 0;
    loop {
        let ran = ex.run_once();
        total += ran;
        if ran == 0 && ex.is_idle() {
            return total;
        }
    }
}

/// Polls `future` once with a no-op waker.
pub(crate) fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    Pin::new(future).poll(&mut cx)
}

/// A waker that does nothing (`Waker::noop` is newer than the crate's MSRV).
pub(crate) fn noop_waker() -> Waker {
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    Waker::from(Arc::new(Noop))
}

/// Runs `f` with `subscriber` as this thread's default, robustly against the
/// other tests of the binary running on other threads.
///
/// `tracing` caches each callsite's interest process-wide. While only one
/// dispatcher is registered, a callsite first hit on another thread (one
/// with no subscriber) caches "never" for everyone, so a span this test
/// waits for may silently never reach `subscriber`. A second, idle
/// dispatcher kept alive for the whole process makes every cached interest
/// the combination of all registered dispatchers ("sometimes"), and each
/// thread's own dispatcher then decides per call.
pub(crate) fn with_scoped_subscriber<S, R>(subscriber: S, f: impl FnOnce() -> R) -> R
where
    S: tracing::Subscriber + Send + Sync + 'static,
{
    keep_a_second_dispatcher();
    tracing::subscriber::with_default(subscriber, f)
}

fn keep_a_second_dispatcher() {
    static IDLE: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
    IDLE.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
}
