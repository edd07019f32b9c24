//! The read path and edges: after `WouldBlock` the next read waits for an
//! event without a syscall; EOF that arrives together with the last bytes is
//! still read (regression: clearing readiness after a short read lost it).

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::common::{pair, reactors, Counter};

#[test]
fn after_would_block_the_next_read_waits_for_an_event_without_a_syscall() {
    for reactor in reactors() {
        let (ours, mut peer) = pair();
        let source = reactor.register(ours.as_fd()).unwrap();
        let (_, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);
        let mut buf = [0u8; 64];

        // Nothing there: one syscall, WouldBlock, Pending.
        let mut attempts = 0;
        let first = source.poll_read_with(&mut cx, || {
            attempts += 1;
            (&ours).read(&mut buf)
        });
        assert!(first.is_pending());
        assert_eq!(attempts, 1);

        // Polled again with no event in between: no syscall.
        let again = source.poll_read_with(&mut cx, || {
            attempts += 1;
            (&ours).read(&mut buf)
        });
        assert!(again.is_pending());
        assert_eq!(attempts, 1, "no syscall while known drained");

        // Data is a new edge: once the reactor reports it, the read happens.
        peer.write_all(b"hello").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            reactor.poll(Some(Duration::from_millis(50))).unwrap();
            if let Poll::Ready(n) = source.poll_read_with(&mut cx, || (&ours).read(&mut buf)) {
                assert_eq!(n.unwrap(), 5);
                break;
            }
            assert!(Instant::now() < deadline, "the data was never reported");
        }
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn eof_arriving_with_the_last_bytes_is_still_read() {
    for reactor in reactors() {
        let (ours, mut peer) = pair();
        let source = reactor.register(ours.as_fd()).unwrap();
        let (_, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);
        // The bytes and the close arrive before the reactor looks: one edge.
        peer.write_all(b"tail").unwrap();
        drop(peer);
        reactor.poll(Some(Duration::from_millis(50))).unwrap();
        let mut buf = [0u8; 64];
        let short = source.poll_read_with(&mut cx, || (&ours).read(&mut buf));
        assert!(matches!(short, Poll::Ready(Ok(4))));
        // No further edge will come; the next read must still see EOF.
        let eof = source.poll_read_with(&mut cx, || (&ours).read(&mut buf));
        assert!(
            matches!(eof, Poll::Ready(Ok(0))),
            "EOF must not be lost: {eof:?}"
        );
        reactor.deregister(&source).unwrap();
    }
}
