//! `Timers`: fires in deadline order, wakes outside its lock, and calls the
//! unpark hook exactly when an insert undercuts the deadline the driver
//! last read.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use crate::common::{poll_once, poll_with, Log};
use corio_timer::{Clock, Sleep, TimerHandle, Timers};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn handle_is_send_sync_and_clone() {
    fn check<T: Send + Sync + Clone>() {}
    check::<TimerHandle>();
    fn check_timers<T: Send + Sync>() {}
    check_timers::<Timers>();
}

#[test]
fn fire_wakes_in_deadline_order_fifo_among_equals() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let log = Log::new();
    let t0 = handle.now();
    let deadlines = [30, 10, 20, 10, 30];
    let mut sleeps: Vec<Sleep> = deadlines
        .iter()
        .map(|&d| handle.sleep_until(t0 + ms(d)))
        .collect();
    for (id, s) in sleeps.iter_mut().enumerate() {
        assert!(poll_with(s, &log.waker(id)).is_pending());
    }
    assert_eq!(timers.len(), 5);
    assert_eq!(timers.next_deadline(), Some(t0 + ms(10)));
    timers.clock().advance(ms(30));
    assert_eq!(timers.fire(timers.clock().now()), 5);
    assert_eq!(log.take(), vec![1, 3, 2, 0, 4]);
    assert!(timers.is_empty());
}

#[test]
fn unpark_is_called_only_for_a_new_earliest_deadline() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    timers.set_unpark(Arc::new(move || {
        c.fetch_add(1, Ordering::SeqCst);
    }));
    let t0 = handle.now();

    // The driver read "nothing pending" and parked indefinitely.
    assert_eq!(timers.next_deadline(), None);
    let mut a = handle.sleep_until(t0 + ms(50));
    assert!(poll_once(&mut a).is_pending());
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // Later than what was just announced: no need to wake the driver.
    let mut b = handle.sleep_until(t0 + ms(80));
    assert!(poll_once(&mut b).is_pending());
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // The driver re-reads 50 ms and parks; an earlier insert wakes it.
    assert_eq!(timers.next_deadline(), Some(t0 + ms(50)));
    let mut c = handle.sleep_until(t0 + ms(20));
    assert!(poll_once(&mut c).is_pending());
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    // Rescheduling earlier counts too.
    b.reset_unpinned(t0 + ms(5));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    // ...but rescheduling later does not.
    b.reset_unpinned(t0 + ms(500));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[test]
fn an_insert_from_another_thread_unparks_a_parked_driver() {
    let timers = Arc::new(Timers::new(Clock::real()));
    let (tx, rx) = mpsc::channel::<()>();
    let tx = Mutex::new(tx);
    timers.set_unpark(Arc::new(move || {
        let _ = tx.lock().unwrap().send(());
    }));
    assert_eq!(timers.next_deadline(), None);
    let handle = timers.handle();
    let remote = std::thread::spawn(move || {
        let mut sleep = handle.sleep(ms(1));
        assert!(poll_once(&mut sleep).is_pending());
        sleep
    });
    // The "driver" parks with no timeout and must be unparked.
    rx.recv_timeout(Duration::from_secs(10))
        .expect("driver was not unparked");
    let sleep = remote.join().unwrap();
    assert_eq!(timers.len(), 1);
    drop(sleep);
}

/// A waker that, when woken, polls a new `Sleep` on the same timers: this
/// needs the queue's lock, so it deadlocks if `fire` wakes under the lock.
struct Reentrant {
    handle: TimerHandle,
    done: Mutex<Option<mpsc::Sender<()>>>,
}

impl Wake for Reentrant {
    fn wake(self: Arc<Self>) {
        let mut sleep = self.handle.sleep(ms(100));
        let waker = Waker::from(self.clone());
        assert!(sleep
            .poll_unpinned(&mut Context::from_waker(&waker))
            .is_pending());
        if let Some(tx) = self.done.lock().unwrap().take() {
            let _ = tx.send(());
        }
    }
}

#[test]
fn wakers_run_outside_the_lock() {
    let timers = Arc::new(Timers::new(Clock::manual()));
    let handle = timers.handle();
    let (tx, rx) = mpsc::channel();
    let waker = Waker::from(Arc::new(Reentrant {
        handle: handle.clone(),
        done: Mutex::new(Some(tx)),
    }));
    let mut sleep = handle.sleep(ms(1));
    assert!(poll_with(&mut sleep, &waker).is_pending());
    drop(waker);
    let t = timers.clone();
    // The sleep goes with the firing thread: if that thread deadlocks, this
    // one must not block too by cancelling it on the way out.
    std::thread::spawn(move || {
        t.clock().advance(ms(1));
        t.fire(t.clock().now());
        drop(sleep);
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("fire deadlocked: waker ran under the timer lock");
}

#[test]
fn fired_now_never_runs_ahead_of_the_fired_time() {
    let timers = Timers::new(Clock::manual());
    let handle = timers.handle();
    let t0 = handle.now();
    // The clock moves but the driver has not fired: a due sleep still needs
    // the fire (it registers), rather than trusting a time nobody fired.
    timers.clock().advance(ms(10));
    let mut s = handle.sleep_until(t0 + ms(10));
    assert!(poll_once(&mut s).is_pending());
    timers.fire(handle.now());
    assert!(poll_once(&mut s).is_ready());
    // After the fire, deadlines up to the fired time complete without the queue.
    let mut s2 = handle.sleep_until(t0 + ms(10));
    assert!(poll_once(&mut s2).is_ready());
    assert!(timers.is_empty());
}
