//! Closing the work-stealing `Executor` while tasks still wake each other:
//! a wake sent from a `Drop` that close runs (a local task's, dropped on its
//! worker) reaches a task whose future is then dropped like every other:
//! inside the worker's context (its `wrap_worker`) or on the thread that
//! closes, exactly once, never later from a thread-local destructor.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;

use corio_executor::{Builder, Executor};

use crate::common::{Counter, Token, WakerSlot};

thread_local! {
    /// Set by `wrap_worker` around the worker's loop.
    static IN_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// Where a future was dropped.
#[derive(Default)]
struct Drops {
    in_context: AtomicUsize,
    outside: AtomicUsize,
}

/// A future's part that records where it is dropped.
struct Probe {
    drops: Arc<Drops>,
    owner: std::thread::ThreadId,
    _token: Token,
}

impl Drop for Probe {
    fn drop(&mut self) {
        let here = IN_WORKER.with(Cell::get) || std::thread::current().id() == self.owner;
        let count = if here {
            &self.drops.in_context
        } else {
            &self.drops.outside
        };
        count.fetch_add(1, Ordering::SeqCst);
    }
}

/// Wakes the waker it holds when dropped.
struct WakeOnDrop(Arc<Mutex<Option<Waker>>>);

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        if let Some(waker) = self.0.lock().unwrap().take() {
            waker.wake();
        }
    }
}

#[test]
fn a_wake_from_a_local_tasks_drop_at_close_is_dropped_in_the_workers_context() {
    for _ in 0..20 {
        let ex = Executor::builder()
            .workers(1)
            .wrap_worker(|_, run_loop| {
                IN_WORKER.with(|flag| flag.set(true));
                run_loop();
                IN_WORKER.with(|flag| flag.set(false));
            })
            .build()
            .unwrap();
        let drops = Arc::new(Drops::default());
        let dropped = Counter::new();
        let owner = std::thread::current().id();
        // A Send task that waits forever, its waker handed over.
        let waker_of_waiter = Arc::new(Mutex::new(None::<Waker>));
        let slot = WakerSlot::new();
        let probe = Probe {
            drops: drops.clone(),
            owner,
            _token: dropped.token(),
        };
        let waiting = slot.clone();
        let waiter = ex.spawn(async move {
            let _probe = probe;
            waiting.wait().await;
        });
        // On the worker: a local task, pinned there, that wakes the waiter
        // when close drops it.
        let spawner = ex.spawner();
        let handed = waker_of_waiter.clone();
        let local_probe = Probe {
            drops: drops.clone(),
            owner,
            _token: dropped.token(),
        };
        let setup = ex.spawn(async move {
            let local = async move {
                let _probe = local_probe;
                let _wake = WakeOnDrop(handed);
                std::future::pending::<()>().await
            };
            drop(spawner.spawn_local_with(Builder::new(), local));
        });
        ex.block_on(async {
            setup.await.unwrap();
            // The waiter has parked its waker: hand it to the local task.
            while !slot.has_waker() {
                crate::common::yield_now().await;
            }
        });
        *waker_of_waiter.lock().unwrap() = slot.take();
        drop(waiter);
        ex.close();
        drop(ex);
        assert_eq!(dropped.get(), 2, "both futures dropped once");
        assert_eq!(
            drops.outside.load(Ordering::SeqCst),
            0,
            "a future was dropped after its worker's loop (a thread-local destructor?)"
        );
    }
}
