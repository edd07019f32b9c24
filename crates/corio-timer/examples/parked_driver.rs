//! A real-clock timer driver that parks its thread until the next deadline,
//! and the unpark hook that wakes it early when another thread asks for an
//! earlier timer.
//!
//! The main thread drives the timers while awaiting a 300 ms sleep, so it
//! parks for ~300 ms. 20 ms in, another thread registers a 50 ms sleep: the
//! hook unparks the driver, which re-reads the next deadline and fires the
//! new timer on time (at ~70 ms) instead of at the end of its 300 ms park.
//!
//! Run with `cargo run -p corio-timer --example parked_driver`.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Duration;

use corio_timer::{Clock, Instant, Timers};

/// A waker that unparks a thread.
struct Unparker(Thread);

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `fut` on this thread, which is also the timer driver: each time
/// around it fires what is due, then parks until the next deadline.
/// `thread::park` keeps a wake-up token, so an unpark that lands between
/// reading the deadline and parking is not lost.
fn drive<F: Future>(timers: &Timers, fut: F) -> F::Output {
    let waker = Waker::from(Arc::new(Unparker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        timers.fire(timers.clock().now());
        match timers.next_deadline() {
            Some(next) => thread::park_timeout(next - timers.clock().now()),
            None => thread::park(),
        }
    }
}

/// Runs `fut` on a thread that is *not* the driver: it only polls and parks,
/// relying on the driver thread to fire its timers.
fn wait<F: Future>(fut: F) -> F::Output {
    let waker = Waker::from(Arc::new(Unparker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}

fn main() {
    let timers = Timers::new(Clock::real());
    let handle = timers.handle();
    let driver = thread::current();
    timers.set_unpark(Arc::new(move || driver.unpark()));
    let start = Instant::now();

    let remote = {
        let handle = handle.clone();
        thread::spawn(move || {
            // Let the driver settle into its long park first.
            thread::sleep(Duration::from_millis(20));
            let sleep = handle.sleep(Duration::from_millis(50));
            let deadline = sleep.deadline();
            wait(sleep);
            let done = Instant::now();
            assert!(done >= deadline, "a sleep never completes early");
            println!(
                "remote 50 ms sleep (registered at ~20 ms) done at {:?}",
                done - start
            );
        })
    };

    let slow = handle.sleep(Duration::from_millis(300));
    let deadline = slow.deadline();
    drive(&timers, slow);
    let done = Instant::now();
    assert!(done >= deadline, "a sleep never completes early");
    println!("driver's 300 ms sleep done at {:?}", done - start);
    remote.join().expect("remote thread panicked");
}
