//! `Source::poll_read_buf`: a short stream read drains the socket, so the
//! next read waits for an event instead of making a syscall that could only
//! return `WouldBlock`; new data (a new edge) makes it read again.

mod common;

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::task::{Context, Poll};
use std::time::Duration;

use common::{pair, reactors, Counter};

#[test]
fn a_short_read_makes_the_next_read_wait_without_a_syscall() {
    for reactor in reactors() {
        let (ours, mut peer) = pair();
        let source = reactor.register(ours.as_fd()).unwrap();
        let (_, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);
        let mut attempts = 0;
        peer.write_all(b"hello").unwrap();
        let mut buf = [0u8; 64];
        // The first read tries the socket and gets the 5 bytes: a short read.
        let first = source.poll_read_buf(&mut cx, 64, || {
            attempts += 1;
            (&ours).read(&mut buf)
        });
        assert!(matches!(first, Poll::Ready(Ok(5))));
        assert_eq!(attempts, 1);

        // Drained: the next poll registers the waker and returns Pending
        // without calling the operation.
        let mut attempts_after = 0;
        let poll = source.poll_read_buf(&mut cx, 64, || {
            attempts_after += 1;
            (&ours).read(&mut buf)
        });
        assert!(poll.is_pending());
        assert_eq!(attempts_after, 0, "no syscall while known drained");

        // New data is a new edge: once the reactor reports it, reads resume.
        peer.write_all(b"again").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            reactor.poll(Some(Duration::from_millis(50))).unwrap();
            if let Poll::Ready(result) =
                source.poll_read_buf(&mut cx, 64, || (&ours).read(&mut buf))
            {
                assert_eq!(result.unwrap(), 5);
                assert_eq!(&buf[..5], b"again");
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the new data was never reported"
            );
        }
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn a_full_read_keeps_readiness_so_the_rest_is_read_at_once() {
    for reactor in reactors() {
        let (ours, mut peer) = pair();
        let source = reactor.register(ours.as_fd()).unwrap();
        let (_, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);
        peer.write_all(&[7u8; 100]).unwrap();
        let mut buf = [0u8; 60];
        // A read that fills the buffer may have left data: no clearing.
        assert!(matches!(
            source.poll_read_buf(&mut cx, 60, || (&ours).read(&mut buf)),
            Poll::Ready(Ok(60))
        ));
        assert!(matches!(
            source.poll_read_buf(&mut cx, 60, || (&ours).read(&mut buf)),
            Poll::Ready(Ok(40))
        ));
        reactor.deregister(&source).unwrap();
    }
}
