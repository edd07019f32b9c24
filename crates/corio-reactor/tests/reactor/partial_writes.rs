//! Stream writes that come back partial: the send buffer is full, so
//! `poll_write_stream_with` clears write readiness and the next write waits for
//! the kernel's writable event without a syscall that can only fail; once the
//! peer reads, the waiting writer is woken and every byte arrives, in order.

use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::task::{Context, Poll};
use std::time::Duration;

use corio_reactor::{Reactor, Source};

use crate::common::{pair, poll_until, reactors, tcp_pair, Counter, PROMPT};

/// More than any loopback send buffer (plus the peer's receive buffer) holds.
const BIG: usize = 16 << 20;

/// One `poll_write_stream_with` of `buf`, counting the syscalls it made.
fn write_stream(
    source: &Source,
    cx: &mut Context<'_>,
    io: impl Write,
    buf: &[u8],
    syscalls: &mut usize,
) -> Poll<std::io::Result<usize>> {
    let mut io = io;
    source.poll_write_stream_with(cx, buf.len(), || {
        *syscalls += 1;
        io.write(buf)
    })
}

/// Reads everything the peer has queued now; returns the bytes.
fn drain(mut peer: impl Read) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match peer.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return out,
            Err(e) => panic!("peer read: {e}"),
        }
    }
}

/// The scenario, on one reactor and one connected pair (`ours` registered).
fn partial_write_waits_then_resumes<S>(reactor: &Reactor, ours: &S, peer: &S)
where
    for<'a> &'a S: Read + Write,
    S: AsFd,
{
    let source = reactor.register(ours.as_fd()).unwrap();
    // Take the registration's own first events, so what follows is the kernel's.
    reactor.poll(Some(Duration::ZERO)).unwrap();
    let (woken, waker) = Counter::waker();
    let mut cx = Context::from_waker(&waker);
    let data: Vec<u8> = (0..BIG).map(|i| (i % 251) as u8).collect();

    // The first write fills the send buffer: partial.
    let mut syscalls = 0;
    let first = match write_stream(&source, &mut cx, ours, &data, &mut syscalls) {
        Poll::Ready(Ok(n)) => n,
        other => panic!("the first write did not go through: {other:?}"),
    };
    assert!(
        first > 0 && first < BIG,
        "expected a partial write, got {first}"
    );
    assert_eq!(syscalls, 1);

    // The next write waits for an event, without trying the syscall.
    let mut syscalls = 0;
    let polled = write_stream(&source, &mut cx, ours, &data[first..], &mut syscalls);
    assert!(polled.is_pending(), "{polled:?}");
    assert_eq!(syscalls, 0, "a write after a partial one made a syscall");
    assert_eq!(woken.count(), 0);

    // The peer reads; the kernel reports writability; the writer goes on, and
    // every byte arrives in order.
    let mut sent = first;
    let mut received = Vec::with_capacity(BIG);
    let done = poll_until(reactor, PROMPT * 4, || {
        received.extend(drain(peer));
        if sent < BIG {
            let mut syscalls = 0;
            if let Poll::Ready(r) =
                write_stream(&source, &mut cx, ours, &data[sent..], &mut syscalls)
            {
                sent += r.expect("write");
            }
        }
        sent == BIG && received.len() == BIG
    });
    assert!(
        done,
        "stuck: {sent} of {BIG} sent, {} received",
        received.len()
    );
    assert!(woken.count() > 0, "the waiting writer was never woken");
    assert!(
        received == data,
        "the bytes arrived changed or out of order"
    );
    reactor.deregister(&source).unwrap();
}

#[test]
fn a_partial_tcp_write_waits_for_an_event_then_resumes() {
    for reactor in reactors() {
        let (ours, peer) = tcp_pair();
        partial_write_waits_then_resumes(&reactor, &ours, &peer);
    }
}

#[test]
fn a_partial_unix_write_waits_for_an_event_then_resumes() {
    for reactor in reactors() {
        let (ours, peer): (UnixStream, UnixStream) = pair();
        partial_write_waits_then_resumes(&reactor, &ours, &peer);
    }
}

#[test]
fn a_full_write_keeps_write_readiness() {
    for reactor in reactors() {
        let (ours, peer) = pair();
        let source = reactor.register(ours.as_fd()).unwrap();
        let (_, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);
        for round in 0..3 {
            let mut syscalls = 0;
            match write_stream(&source, &mut cx, &ours, b"hello", &mut syscalls) {
                Poll::Ready(Ok(5)) => {}
                other => panic!("round {round}: {other:?}"),
            }
            assert_eq!(syscalls, 1);
        }
        assert_eq!(drain(&peer), b"hellohellohello");
        reactor.deregister(&source).unwrap();
    }
}
