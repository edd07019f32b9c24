//! Helpers of `multi_stress.rs`: a seeded random stream, a timer on a
//! thread of its own (the sleeps of the stress tasks, woken from a foreign
//! thread) and a watchdog that turns a hang into an abort with a report.

use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::common::WakerSlot;

/// xorshift64*: a cheap, seeded, reproducible stream of choices.
#[derive(Clone, Copy)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A timer on a thread of its own: releases each slot at its deadline.
#[derive(Default)]
pub(crate) struct Timer {
    due: Mutex<BinaryHeap<Due>>,
    pub(crate) changed: Condvar,
    pub(crate) stop: AtomicBool,
    pub(crate) fired: AtomicUsize,
}

struct Due {
    deadline: Instant,
    slot: WakerSlot,
}

impl PartialEq for Due {
    fn eq(&self, other: &Due) -> bool {
        self.deadline == other.deadline
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Due) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Due {
    /// The earliest deadline is the heap's greatest.
    fn cmp(&self, other: &Due) -> std::cmp::Ordering {
        other.deadline.cmp(&self.deadline)
    }
}

impl Timer {
    /// Sleeps `duration`: released by the timer thread, a foreign thread.
    pub(crate) async fn sleep(&self, duration: Duration) {
        let slot = WakerSlot::new();
        self.due.lock().unwrap().push(Due {
            deadline: Instant::now() + duration,
            slot: slot.clone(),
        });
        self.changed.notify_one();
        slot.wait().await;
    }

    /// The timer thread: until stopped and empty.
    pub(crate) fn run(&self) {
        let mut due = self.due.lock().unwrap();
        loop {
            let now = Instant::now();
            let mut fire = Vec::new();
            while due.peek().is_some_and(|next| next.deadline <= now) {
                fire.push(due.pop().unwrap().slot);
            }
            if !fire.is_empty() {
                drop(due);
                self.fired.fetch_add(fire.len(), Ordering::Relaxed);
                fire.iter().for_each(WakerSlot::release);
                due = self.due.lock().unwrap();
                continue;
            }
            if due.is_empty() && self.stop.load(Ordering::SeqCst) {
                return;
            }
            let wait = due.peek().map_or(Duration::from_millis(5), |next| {
                next.deadline.saturating_duration_since(now)
            });
            due = self.changed.wait_timeout(due, wait).unwrap().0;
        }
    }
}

/// Aborts the process, with the round's counts, if a round hangs (a lost
/// wake-up leaves tasks queued and every worker asleep, forever).
pub(crate) struct Watchdog {
    done: Arc<(Mutex<bool>, Condvar)>,
    thread: std::thread::JoinHandle<()>,
}

impl Watchdog {
    /// Watches a round: aborts if [`stop`](Self::stop) is not called
    /// within the limit, printing `report()` first.
    pub(crate) fn start(report: impl FnOnce() -> String + Send + 'static) -> Watchdog {
        let limit = if std::env::var_os("CORIO_UNDER_VALGRIND").is_some() {
            Duration::from_secs(1_200)
        } else {
            Duration::from_secs(60)
        };
        let done = Arc::new((Mutex::new(false), Condvar::new()));
        let seen = done.clone();
        let thread = std::thread::spawn(move || {
            let (lock, changed) = &*seen;
            let (finished, _) = changed
                .wait_timeout_while(lock.lock().unwrap(), limit, |done| !*done)
                .unwrap();
            if !*finished {
                eprintln!("multi_stress: hung for {limit:?}: {}", report());
                std::process::abort();
            }
        });
        Watchdog { done, thread }
    }

    pub(crate) fn stop(self) {
        *self.done.0.lock().unwrap() = true;
        self.done.1.notify_one();
        self.thread.join().unwrap();
    }
}
