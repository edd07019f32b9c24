//! The order of loop callbacks against asyncio's: one FIFO for
//! `call_soon` and `call_soon_threadsafe`, due timers in deadline order
//! and after the `call_soon`s already queued. Each case was run on
//! CPython 3.13; its output is quoted in the test.

use std::sync::{Arc, Mutex};
use std::time::Duration;

type Log = Arc<Mutex<Vec<&'static str>>>;

fn push(log: &Log, value: &'static str) -> impl FnOnce() + Send + 'static {
    let log = log.clone();
    move || log.lock().unwrap().push(value)
}

/// A few iterations, then an idle moment: the driver parks, which
/// releases due timers (a busy loop releases them every 61 polls; asyncio
/// looks every iteration, see the callbacks docs).
async fn settle() {
    for _ in 0..4 {
        corio::yield_now().await;
    }
    corio::sleep(Duration::from_millis(5)).await;
}

#[test]
fn call_soon_threadsafe_from_another_thread_first_runs_first() {
    // asyncio:
    //   t = threading.Thread(target=lambda: loop.call_soon_threadsafe(log.append, 'threadsafe'))
    //   t.start(); t.join()
    //   loop.call_soon(log.append, 'soon')
    //   -> ['threadsafe', 'soon']
    corio::run(async {
        let log = Log::default();
        let handle = corio::get_running_loop();
        let remote = {
            let (handle, log) = (handle.clone(), log.clone());
            std::thread::spawn(move || {
                handle.call_soon_threadsafe(push(&log, "threadsafe"));
            })
        };
        remote.join().unwrap();
        handle.call_soon(push(&log, "soon"));
        settle().await;
        assert_eq!(*log.lock().unwrap(), ["threadsafe", "soon"]);
    });
}

#[test]
fn a_task_created_from_another_thread_first_runs_first() {
    corio::run(async {
        let log = Log::default();
        let handle = corio::get_running_loop();
        let remote = {
            let (handle, log) = (handle.clone(), log.clone());
            std::thread::spawn(move || {
                let log = log.clone();
                drop(handle.create_task(async move { log.lock().unwrap().push("remote") }));
            })
        };
        remote.join().unwrap();
        let local = log.clone();
        drop(corio::create_task(async move {
            local.lock().unwrap().push("local")
        }));
        settle().await;
        assert_eq!(*log.lock().unwrap(), ["remote", "local"]);
    });
}

#[test]
fn past_deadlines_run_in_deadline_order() {
    // asyncio:
    //   now = loop.time()
    //   loop.call_at(now - 1, log.append, 'late-1')
    //   loop.call_at(now - 2, log.append, 'late-2')
    //   loop.call_later(-3, log.append, 'late-3')
    //   -> ['late-3', 'late-2', 'late-1']
    corio::run(async {
        let log = Log::default();
        let handle = corio::get_running_loop();
        // Deadlines 10-30 ms in the past (the clock's origin may be less
        // than asyncio's seconds ago).
        corio::sleep(Duration::from_millis(40)).await;
        let now = handle.time();
        let ms = Duration::from_millis;
        handle.call_at(now - ms(10), push(&log, "late-1"));
        handle.call_at(now - ms(20), push(&log, "late-2"));
        handle.call_at(now - ms(30), push(&log, "late-3"));
        settle().await;
        assert_eq!(*log.lock().unwrap(), ["late-3", "late-2", "late-1"]);
    });
}

#[test]
fn due_timers_run_after_the_call_soons_already_queued() {
    // asyncio:
    //   loop.call_later(0, log.append, 'later-0')
    //   loop.call_soon(log.append, 'soon')
    //   loop.call_at(loop.time() - 1, log.append, 'past')
    //   -> ['soon', 'past', 'later-0']
    corio::run(async {
        let log = Log::default();
        let handle = corio::get_running_loop();
        corio::sleep(Duration::from_millis(20)).await;
        handle.call_later(Duration::ZERO, push(&log, "later-0"));
        handle.call_soon(push(&log, "soon"));
        handle.call_at(
            handle.time() - Duration::from_millis(10),
            push(&log, "past"),
        );
        settle().await;
        assert_eq!(*log.lock().unwrap(), ["soon", "past", "later-0"]);
    });
}

/// Sets its flag when dropped.
struct DropFlag(Arc<std::sync::atomic::AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn cancelling_a_timer_callback_drops_its_closure_at_once() {
    corio::run(async {
        let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let guard = DropFlag(dropped.clone());
        let handle = corio::get_running_loop().call_later(Duration::from_secs(3600), move || {
            drop(guard);
            panic!("a cancelled callback ran");
        });
        assert!(!dropped.load(std::sync::atomic::Ordering::SeqCst));
        handle.cancel();
        assert!(dropped.load(std::sync::atomic::Ordering::SeqCst));
    });
}

#[test]
fn closing_drops_pending_timer_callbacks_that_hold_the_loop() {
    let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let weak = {
        let mut event_loop = corio::EventLoop::new().unwrap();
        let handle = event_loop.handle();
        let guard = DropFlag(dropped.clone());
        let held = handle.clone();
        handle.call_later(Duration::from_secs(3600), move || {
            let _ = (&guard, &held);
        });
        event_loop.run_until_complete(async {});
        event_loop.close();
        assert!(dropped.load(std::sync::atomic::Ordering::SeqCst));
        handle
    };
    // Only our handle is left: the callback's clone went with it.
    drop(weak);
}

#[test]
fn a_past_call_at_from_another_thread_wakes_a_sleeping_loop() {
    let mut event_loop = corio::EventLoop::new().unwrap();
    let handle = event_loop.handle();
    let remote = {
        let handle = handle.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            let stop = handle.clone();
            handle.call_at(handle.time() - Duration::from_millis(5), move || {
                stop.stop()
            });
        })
    };
    let started = std::time::Instant::now();
    event_loop.run_forever();
    assert!(started.elapsed() < Duration::from_secs(5));
    remote.join().unwrap();
}
