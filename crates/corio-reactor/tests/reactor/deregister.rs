//! Registration bookkeeping: deregistration wakes waiters and poisons later polls,
//! double registration is refused, and a descriptor closed while registered is evicted
//! when its number is registered again.

use std::io::{ErrorKind, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::task::{Context, Poll};
use std::time::Duration;

use crate::common::{pair, poll_until, reactors, Counter, PROMPT};

fn assert_deregistered_error(poll: Poll<std::io::Result<()>>) {
    match poll {
        Poll::Ready(Err(e)) => {
            assert_eq!(e.kind(), ErrorKind::Other);
            assert!(e.to_string().contains("deregistered"), "message: {e}");
        }
        other => panic!("expected a deregistered error, got {other:?}"),
    }
}

#[test]
fn deregister_wakes_pending_waiters_and_later_polls_error() {
    for reactor in reactors() {
        let (a, _b) = pair();
        let source = reactor.register(a.as_fd()).unwrap();
        while reactor.poll(Some(Duration::from_millis(30))).unwrap() > 0 {}
        source.clear_writable();

        let (reader, rw) = Counter::waker();
        let (writer, ww) = Counter::waker();
        assert!(source
            .poll_readable(&mut Context::from_waker(&rw))
            .is_pending());
        // In oneshot mode arming write interest may deliver writability right away.
        let _ = source.poll_writable(&mut Context::from_waker(&ww));

        reactor.deregister(&source).unwrap();
        assert_eq!(reader.count(), 1, "{:?}: reader not woken", reactor.mode());
        assert!(writer.count() <= 1);
        assert!(source.is_deregistered());

        let (_, w) = Counter::waker();
        let mut cx = Context::from_waker(&w);
        assert_deregistered_error(source.poll_readable(&mut cx));
        assert_deregistered_error(source.poll_writable(&mut cx));
    }
}

#[test]
fn readable_future_resolves_with_an_error_after_deregistration() {
    let reactor = std::sync::Arc::new(corio_reactor::Reactor::new().unwrap());
    let (a, _b) = pair();
    let source = reactor.register(a.as_fd()).unwrap();
    let deregisterer = {
        let reactor = std::sync::Arc::clone(&reactor);
        let source = std::sync::Arc::clone(&source);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            reactor.deregister(&source).unwrap();
        })
    };
    let result = crate::common::block_on(&reactor, PROMPT, source.readable());
    assert_eq!(result.unwrap_err().kind(), ErrorKind::Other);
    deregisterer.join().unwrap();
}

#[test]
fn events_stop_after_deregistration() {
    for reactor in reactors() {
        let (a, mut b) = pair();
        let source = reactor.register(a.as_fd()).unwrap();
        reactor.deregister(&source).unwrap();
        b.write_all(b"ignored").unwrap();
        assert_eq!(reactor.poll(Some(Duration::from_millis(30))).unwrap(), 0);
    }
}

#[test]
fn source_count_tracks_registrations_and_double_deregister_is_a_noop() {
    let reactor = corio_reactor::Reactor::new().unwrap();
    let (a, b) = pair();
    let sa = reactor.register(a.as_fd()).unwrap();
    let sb = reactor.register(b.as_fd()).unwrap();
    assert_eq!(reactor.source_count(), 2);
    assert_eq!(sa.raw(), a.as_raw_fd());
    reactor.deregister(&sa).unwrap();
    assert_eq!(reactor.source_count(), 1);
    reactor.deregister(&sa).unwrap();
    assert_eq!(reactor.source_count(), 1);
    reactor.deregister(&sb).unwrap();
    assert_eq!(reactor.source_count(), 0);
    // Nothing registered any more: the zero-timeout path is free again.
    assert_eq!(reactor.poll(Some(Duration::ZERO)).unwrap(), 0);
}

#[test]
fn registering_the_same_fd_twice_is_refused() {
    for reactor in reactors() {
        let (a, _b) = pair();
        let source = reactor.register(a.as_fd()).unwrap();
        let err = reactor.register(a.as_fd()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists);
        assert_eq!(reactor.source_count(), 1);
        assert!(
            !source.is_deregistered(),
            "the live registration was disturbed"
        );
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn an_fd_closed_while_registered_is_evicted_when_its_number_returns() {
    for reactor in reactors() {
        let (a, _b) = pair();
        let (c, mut d) = pair();
        let stale = reactor.register(a.as_fd()).unwrap();
        let (woken, waker) = Counter::waker();
        assert!(stale
            .poll_readable(&mut Context::from_waker(&waker))
            .is_pending());

        // Break the contract deterministically: close `a`'s description by making
        // its fd number name `c` instead (dup2), without deregistering.
        let mut slot: OwnedFd = a.into();
        rustix::io::dup2(&c, &mut slot).unwrap();
        drop(c);
        let fresh = reactor.register(slot.as_fd()).unwrap();
        assert_eq!(fresh.raw(), stale.raw());

        assert!(stale.is_deregistered());
        assert_eq!(woken.count(), 1, "waiter of the stale source not woken");
        assert_eq!(reactor.source_count(), 1);

        // The fresh registration works and deregistering the stale one leaves it be.
        reactor.deregister(&stale).unwrap();
        assert_eq!(reactor.source_count(), 1);
        let (counter, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);
        assert!(fresh.poll_readable(&mut cx).is_pending());
        d.write_all(b"new").unwrap();
        assert!(poll_until(&reactor, PROMPT, || counter.count() > 0));
        reactor.deregister(&fresh).unwrap();
    }
}
