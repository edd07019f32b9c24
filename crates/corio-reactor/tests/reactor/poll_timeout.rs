//! `Reactor::poll` timeouts: the free zero-timeout path, sleeping for the timeout, and
//! the rule that only one thread polls at a time.

use std::os::fd::AsFd;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::common::{pair, PROMPT};
use corio_reactor::Reactor;

#[test]
fn zero_timeout_with_nothing_registered_returns_zero_quickly() {
    let reactor = Reactor::new().unwrap();
    assert_eq!(reactor.source_count(), 0);
    let started = Instant::now();
    for _ in 0..10_000 {
        assert_eq!(reactor.poll(Some(Duration::ZERO)).unwrap(), 0);
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "10k empty zero-timeout polls took {:?}",
        started.elapsed()
    );
}

#[test]
fn zero_timeout_fast_path_does_not_touch_the_poller() {
    // Evidence that no wait happens: a pending notification survives it.
    let reactor = Reactor::new().unwrap();
    reactor.notify().unwrap();
    assert_eq!(reactor.poll(Some(Duration::ZERO)).unwrap(), 0);

    let started = Instant::now();
    reactor.poll(Some(Duration::from_secs(10))).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the zero-timeout fast path swallowed the notification"
    );
}

#[test]
fn zero_timeout_with_a_source_registered_reports_its_events() {
    let reactor = Reactor::new().unwrap();
    let (a, _b) = pair();
    let source = reactor.register(a.as_fd()).unwrap();
    // The fresh socket is writable: the first non-blocking poll must see it.
    assert!(crate::common::poll_until(&reactor, PROMPT, || {
        let (_, waker) = crate::common::Counter::waker();
        source
            .poll_writable(&mut std::task::Context::from_waker(&waker))
            .is_ready()
    }));
    reactor.deregister(&source).unwrap();
}

#[test]
fn timeout_with_nothing_ready_sleeps_about_that_long() {
    let reactor = Reactor::new().unwrap();
    let (a, _b) = pair();
    let source = reactor.register(a.as_fd()).unwrap();
    reactor.poll(Some(Duration::from_millis(50))).unwrap(); // initial writable edge

    let started = Instant::now();
    let n = reactor.poll(Some(Duration::from_millis(80))).unwrap();
    let waited = started.elapsed();
    assert_eq!(n, 0);
    assert!(
        waited >= Duration::from_millis(70),
        "woke early: {waited:?}"
    );
    assert!(waited < Duration::from_secs(2), "overslept: {waited:?}");
    reactor.deregister(&source).unwrap();
}

#[test]
fn a_second_concurrent_poll_returns_zero_at_once() {
    let reactor = Arc::new(Reactor::new().unwrap());
    let (tx, rx) = mpsc::channel();
    let blocked = {
        let reactor = Arc::clone(&reactor);
        thread::spawn(move || {
            reactor.poll(None).unwrap();
            tx.send(()).unwrap();
        })
    };
    // Make sure the first thread is inside poll.
    assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());

    let started = Instant::now();
    assert_eq!(reactor.poll(Some(Duration::from_secs(10))).unwrap(), 0);
    assert!(started.elapsed() < Duration::from_secs(2));

    reactor.notify().unwrap();
    rx.recv_timeout(PROMPT).expect("blocked poll not woken");
    blocked.join().unwrap();
}

#[test]
fn zero_timeout_polls_deliver_new_events_and_notifications() {
    let reactor = Reactor::new().unwrap();
    let (_a, mut b) = pair();
    let source = reactor.register(_a.as_fd()).unwrap();
    while reactor.poll(Some(Duration::from_millis(30))).unwrap() > 0 {}

    // Nothing pending: returns 0 without blocking.
    assert_eq!(reactor.poll(Some(Duration::ZERO)).unwrap(), 0);

    let (counter, waker) = crate::common::Counter::waker();
    assert!(source
        .poll_readable(&mut std::task::Context::from_waker(&waker))
        .is_pending());
    std::io::Write::write_all(&mut b, b"z").unwrap();
    let mut delivered = 0;
    for _ in 0..1000 {
        delivered += reactor.poll(Some(Duration::ZERO)).unwrap();
        if counter.count() > 0 {
            break;
        }
        thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(counter.count(), 1, "zero-timeout polls never saw the write");
    assert_eq!(delivered, 1);

    // A notification is pending work too: a zero-timeout poll consumes it, so the
    // following poll sleeps for its whole timeout.
    reactor.notify().unwrap();
    assert_eq!(reactor.poll(Some(Duration::ZERO)).unwrap(), 0);
    let started = Instant::now();
    reactor.poll(Some(Duration::from_millis(60))).unwrap();
    assert!(started.elapsed() >= Duration::from_millis(50));
    reactor.deregister(&source).unwrap();
}
