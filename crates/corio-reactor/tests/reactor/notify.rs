//! `Reactor::notify` wakes a blocked `poll`, is remembered when nobody polls yet, and
//! coalesces repeated calls.

use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::common::{pair, reactors, PROMPT};
use corio_reactor::Reactor;

/// Starts `reactor.poll(None)` on a thread; the receiver yields its result and how long
/// it blocked.
fn spawn_blocking_poll(
    reactor: &Arc<Reactor>,
) -> (mpsc::Receiver<(usize, Duration)>, thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel();
    let reactor = Arc::clone(reactor);
    let handle = thread::spawn(move || {
        let started = Instant::now();
        let n = reactor.poll(None).expect("poll");
        let _ = tx.send((n, started.elapsed()));
    });
    (rx, handle)
}

#[test]
fn reactor_source_and_async_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Reactor>();
    assert_send_sync::<corio_reactor::Source>();
    assert_send_sync::<corio_reactor::Async<std::os::unix::net::UnixStream>>();
}

#[test]
fn notify_from_another_thread_wakes_a_poll_blocked_without_timeout() {
    let reactor = Arc::new(Reactor::new().unwrap());
    let (rx, handle) = spawn_blocking_poll(&reactor);

    // It really blocks: nothing to do and no timeout.
    assert!(
        rx.recv_timeout(Duration::from_millis(100)).is_err(),
        "poll(None) returned with nothing to do"
    );

    let notifier = Arc::clone(&reactor);
    thread::spawn(move || notifier.notify().unwrap())
        .join()
        .unwrap();

    let (n, _) = rx
        .recv_timeout(PROMPT)
        .expect("notify did not wake the blocked poll");
    assert_eq!(n, 0, "a notification is not an I/O event");
    handle.join().unwrap();
}

#[test]
fn notify_wakes_a_blocked_poll_while_sources_are_registered() {
    for reactor in reactors() {
        let (a, _b) = pair();
        let source = reactor.register(std::os::fd::AsFd::as_fd(&a)).unwrap();
        // Consume the initial "writable" edge so the next wait has nothing to report.
        reactor.poll(Some(Duration::from_millis(50))).unwrap();

        let (rx, handle) = spawn_blocking_poll(&reactor);
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
        reactor.notify().unwrap();
        rx.recv_timeout(PROMPT)
            .expect("notify did not wake the blocked poll");
        handle.join().unwrap();
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn notify_before_poll_makes_the_next_poll_return_promptly() {
    let reactor = Reactor::new().unwrap();
    reactor.notify().unwrap();
    let started = Instant::now();
    assert_eq!(reactor.poll(Some(Duration::from_secs(10))).unwrap(), 0);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "pending notification was not honoured: poll took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_notification_is_consumed_by_the_poll_it_wakes() {
    let reactor = Reactor::new().unwrap();
    for _ in 0..1000 {
        reactor.notify().unwrap();
    }
    reactor.poll(Some(Duration::from_secs(10))).unwrap();

    // All those notifies made one wake-up, now spent: the next poll sleeps its timeout.
    let started = Instant::now();
    reactor.poll(Some(Duration::from_millis(60))).unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(50),
        "stale notification woke the poll after {:?}",
        started.elapsed()
    );

    // And the flag is re-armed: a new notify works again.
    reactor.notify().unwrap();
    let started = Instant::now();
    reactor.poll(Some(Duration::from_secs(10))).unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn many_threads_notifying_concurrently_wake_the_poller() {
    let reactor = Arc::new(Reactor::new().unwrap());
    for _round in 0..20 {
        let (rx, handle) = spawn_blocking_poll(&reactor);
        let notifiers: Vec<_> = (0..4)
            .map(|_| {
                let reactor = Arc::clone(&reactor);
                thread::spawn(move || {
                    for _ in 0..100 {
                        reactor.notify().unwrap();
                    }
                })
            })
            .collect();
        for t in notifiers {
            t.join().unwrap();
        }
        rx.recv_timeout(PROMPT)
            .expect("concurrent notifies lost the wake-up");
        handle.join().unwrap();
    }
}
