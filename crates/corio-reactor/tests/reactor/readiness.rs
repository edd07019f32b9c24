//! Readiness semantics of a registered `Source`, pinned for both trigger modes: wakers
//! are woken by events, readiness sticks until cleared, several waiters share a
//! direction, and hang-up makes readers see EOF instead of hanging.

use std::future::Future;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsFd;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::common::{eventually, pair, poll_until, reactors, Counter, Driver, PROMPT};

/// Polls the reactor until the socket's initial write readiness has been delivered
/// and consumed, so later assertions only see what the test causes.
fn settle(reactor: &corio_reactor::Reactor) {
    while reactor.poll(Some(Duration::from_millis(30))).unwrap() > 0 {}
}

#[test]
fn readable_waker_is_woken_after_the_peer_writes() {
    for reactor in reactors() {
        let (mut a, mut b) = pair();
        let source = reactor.register(a.as_fd()).unwrap();
        let driver = Driver::start(&reactor);

        let (counter, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);
        assert!(source.poll_readable(&mut cx).is_pending());
        // No data, no wake, however long the reactor runs.
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(
            counter.count(),
            0,
            "{:?}: woken without data",
            reactor.mode()
        );

        b.write_all(b"hello").unwrap();
        assert!(
            eventually(PROMPT, || counter.count() > 0),
            "{:?}: reader not woken after the peer wrote",
            reactor.mode()
        );
        assert!(source.poll_readable(&mut cx).is_ready());
        let mut buf = [0; 5];
        a.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hello");

        drop(driver);
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn a_fresh_socket_becomes_writable() {
    for reactor in reactors() {
        let (a, _b) = pair();
        let source = reactor.register(a.as_fd()).unwrap();
        let (counter, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);
        assert!(poll_until(&reactor, PROMPT, || source
            .poll_writable(&mut cx)
            .is_ready()));
        assert!(counter.count() <= 1);
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn readiness_sticks_until_cleared_then_waits_for_a_fresh_event() {
    for reactor in reactors() {
        let (mut a, mut b) = pair();
        let source = reactor.register(a.as_fd()).unwrap();
        settle(&reactor);
        let (counter, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);

        b.write_all(b"x").unwrap();
        assert!(poll_until(&reactor, PROMPT, || source
            .poll_readable(&mut cx)
            .is_ready()));
        // Still ready on every poll until somebody clears it.
        for _ in 0..3 {
            assert!(source.poll_readable(&mut cx).is_ready());
        }

        let mut buf = [0; 8];
        assert_eq!(a.read(&mut buf).unwrap(), 1);
        assert_eq!(a.read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
        source.clear_readable();
        let before = counter.count();
        assert!(source.poll_readable(&mut cx).is_pending());
        reactor.poll(Some(Duration::from_millis(50))).unwrap();
        assert_eq!(counter.count(), before, "woken with no new data");
        assert!(source.poll_readable(&mut cx).is_pending());

        b.write_all(b"y").unwrap();
        assert!(poll_until(&reactor, PROMPT, || counter.count() > before));
        assert!(source.poll_readable(&mut cx).is_ready());
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn clear_at_keeps_readiness_that_arrived_after_the_tick() {
    for reactor in reactors() {
        let (_a, mut b) = pair();
        let source = reactor.register(_a.as_fd()).unwrap();
        settle(&reactor);
        let (_, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);

        // The tick is taken "before the read"; an event lands before the clear.
        let tick = source.readable_tick();
        assert!(source.poll_readable(&mut cx).is_pending());
        b.write_all(b"late").unwrap();
        assert!(poll_until(&reactor, PROMPT, || source.readable_tick() != tick));

        assert!(!source.clear_readable_at(tick), "cleared a newer event");
        assert!(source.poll_readable(&mut cx).is_ready());

        // With the current tick the clear goes through.
        assert!(source.clear_readable_at(source.readable_tick()));
        assert!(source.poll_readable(&mut cx).is_pending());
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn two_waiters_on_one_source_are_both_woken() {
    for reactor in reactors() {
        let (_a, mut b) = pair();
        let source = reactor.register(_a.as_fd()).unwrap();
        settle(&reactor);
        let (first, w1) = Counter::waker();
        let (second, w2) = Counter::waker();
        let mut one = Box::pin(source.readable());
        let mut two = Box::pin(source.readable());
        assert!(one
            .as_mut()
            .poll(&mut Context::from_waker(&w1))
            .is_pending());
        assert!(two
            .as_mut()
            .poll(&mut Context::from_waker(&w2))
            .is_pending());

        b.write_all(b"!").unwrap();
        assert!(
            poll_until(&reactor, PROMPT, || first.count() > 0 && second.count() > 0),
            "{:?}: woken {} and {} times",
            reactor.mode(),
            first.count(),
            second.count()
        );
        assert!(one.as_mut().poll(&mut Context::from_waker(&w1)).is_ready());
        assert!(two.as_mut().poll(&mut Context::from_waker(&w2)).is_ready());
        drop((one, two));
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn the_poll_api_wakes_only_its_latest_poller() {
    for reactor in reactors() {
        let (_a, mut b) = pair();
        let source = reactor.register(_a.as_fd()).unwrap();
        settle(&reactor);
        let (first, w1) = Counter::waker();
        let (second, w2) = Counter::waker();
        assert!(source
            .poll_readable(&mut Context::from_waker(&w1))
            .is_pending());
        assert!(source
            .poll_readable(&mut Context::from_waker(&w2))
            .is_pending());

        b.write_all(b"!").unwrap();
        assert!(poll_until(&reactor, PROMPT, || second.count() > 0));
        reactor.poll(Some(Duration::from_millis(20))).unwrap();
        assert_eq!(
            (first.count(), second.count()),
            (0, 1),
            "{:?}: one slot, the latest poller's",
            reactor.mode()
        );
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn the_same_task_polling_twice_is_woken_once() {
    for reactor in reactors() {
        let (_a, mut b) = pair();
        let source = reactor.register(_a.as_fd()).unwrap();
        settle(&reactor);
        let (counter, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);
        for _ in 0..3 {
            assert!(source.poll_readable(&mut cx).is_pending());
        }
        b.write_all(b"!").unwrap();
        assert!(poll_until(&reactor, PROMPT, || counter.count() > 0));
        reactor.poll(Some(Duration::from_millis(20))).unwrap();
        assert_eq!(counter.count(), 1, "one stored waker per task");
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn a_reader_and_a_writer_waiting_together_are_each_woken_by_their_event() {
    for reactor in reactors() {
        let (mut a, mut b) = pair();
        let source = reactor.register(a.as_fd()).unwrap();
        let (reader, rw) = Counter::waker();
        let (writer, ww) = Counter::waker();
        let mut rcx = Context::from_waker(&rw);
        let mut wcx = Context::from_waker(&ww);
        assert!(source.poll_readable(&mut rcx).is_pending());
        if source.poll_writable(&mut wcx).is_pending() {
            assert!(poll_until(&reactor, PROMPT, || writer.count() > 0));
        }
        assert!(source.poll_writable(&mut wcx).is_ready());
        // The write event must not have cost the reader its registration (the reader is
        // deliberately not polled again: it must still be woken).
        assert_eq!(reader.count(), 0);

        b.write_all(b"r").unwrap();
        assert!(
            poll_until(&reactor, PROMPT, || reader.count() > 0),
            "{:?}: reader lost after a write event",
            reactor.mode()
        );
        let mut buf = [0; 1];
        a.read_exact(&mut buf).unwrap();
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn peer_close_wakes_a_waiting_reader_and_the_read_sees_eof() {
    for reactor in reactors() {
        let (mut a, b) = pair();
        let source = reactor.register(a.as_fd()).unwrap();
        settle(&reactor);
        let (counter, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);
        assert!(source.poll_readable(&mut cx).is_pending());

        drop(b);
        assert!(
            poll_until(&reactor, PROMPT, || counter.count() > 0),
            "{:?}: hang-up did not wake the reader",
            reactor.mode()
        );
        assert!(matches!(source.poll_readable(&mut cx), Poll::Ready(Ok(()))));
        let mut buf = [0; 4];
        assert_eq!(a.read(&mut buf).unwrap(), 0, "expected EOF");
        reactor.deregister(&source).unwrap();
    }
}

/// Writes into `a` until its send buffer is full.
fn fill(a: &mut std::os::unix::net::UnixStream) {
    let chunk = [0u8; 64 * 1024];
    for _ in 0..10_000 {
        match a.write(&chunk) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) => panic!("write: {e}"),
        }
    }
    panic!("send buffer never filled");
}

#[test]
fn peer_close_wakes_a_writer_blocked_on_a_full_buffer() {
    for reactor in reactors() {
        let (mut a, b) = pair();
        let source = reactor.register(a.as_fd()).unwrap();
        settle(&reactor);
        fill(&mut a);
        source.clear_writable();
        let (counter, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);
        assert!(source.poll_writable(&mut cx).is_pending());
        reactor.poll(Some(Duration::from_millis(30))).unwrap();
        assert_eq!(
            counter.count(),
            0,
            "{:?}: woken with a full buffer",
            reactor.mode()
        );

        drop(b);
        assert!(
            poll_until(&reactor, PROMPT, || counter.count() > 0),
            "{:?}: hang-up did not wake the writer",
            reactor.mode()
        );
        assert!(matches!(source.poll_writable(&mut cx), Poll::Ready(Ok(()))));
        // The write now fails instead of blocking forever.
        let err = a.write(b"more").unwrap_err();
        assert_ne!(err.kind(), ErrorKind::WouldBlock);
        reactor.deregister(&source).unwrap();
    }
}
