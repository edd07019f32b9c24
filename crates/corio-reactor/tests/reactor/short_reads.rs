//! Stream reads that come back short: where the backend reports EOF as an event
//! (epoll with `EPOLLRDHUP`), a short read clears read readiness, so the next read
//! waits for an event without a syscall; nothing that arrives later is lost: more
//! bytes, EOF that came with the last bytes, a half-close, a reset.

use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use corio_reactor::{Backend, Reactor, Source};

use crate::common::{pair, poll_until, reactors, tcp_pair, Counter, PROMPT};

/// Reads with `poll_read_stream_with` into a 64-byte buffer, counting syscalls.
fn read_stream(
    source: &Source,
    cx: &mut Context<'_>,
    io: impl Read,
    syscalls: &mut usize,
) -> Poll<std::io::Result<Vec<u8>>> {
    let mut io = io;
    let mut buf = [0u8; 64];
    let polled = source.poll_read_stream_with(cx, buf.len(), || {
        *syscalls += 1;
        io.read(&mut buf)
    });
    polled.map(|r| r.map(|n| buf[..n].to_vec()))
}

/// Polls the reactor until a stream read is ready; returns its result.
fn read_when_ready(
    reactor: &Reactor,
    source: &Source,
    cx: &mut Context<'_>,
    io: impl Read + Copy,
) -> std::io::Result<Vec<u8>> {
    let mut out = None;
    let mut syscalls = 0;
    let done = poll_until(reactor, PROMPT, || {
        match read_stream(source, cx, io, &mut syscalls) {
            Poll::Ready(r) => out = Some(r),
            Poll::Pending => {}
        }
        out.is_some()
    });
    assert!(done, "the read never became ready");
    out.expect("set when done")
}

#[test]
fn a_short_read_clears_readiness_only_where_eof_is_reported() {
    for reactor in reactors() {
        let (ours, mut peer) = pair();
        let source = reactor.register(ours.as_fd()).unwrap();
        let (_, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);
        peer.write_all(b"short").unwrap();
        assert_eq!(
            read_when_ready(&reactor, &source, &mut cx, &ours).unwrap(),
            b"short"
        );

        // The queue is empty now. The next read is a syscall only where the backend
        // cannot tell EOF apart (polling), and Pending everywhere.
        let mut syscalls = 0;
        assert!(read_stream(&source, &mut cx, &ours, &mut syscalls).is_pending());
        let expected = if reactor.backend() == Backend::Polling {
            1
        } else {
            0
        };
        assert_eq!(syscalls, expected, "{:?}", reactor.backend());

        // More bytes are a new event: read as usual.
        peer.write_all(b"more").unwrap();
        assert_eq!(
            read_when_ready(&reactor, &source, &mut cx, &ours).unwrap(),
            b"more"
        );
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn a_full_read_does_not_clear_readiness() {
    for reactor in reactors() {
        let (ours, mut peer) = pair();
        let source = reactor.register(ours.as_fd()).unwrap();
        let (_, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);
        // 100 bytes into 64-byte reads: the first read fills the buffer, so the
        // remaining 36 must be read without a new event.
        peer.write_all(&[7u8; 100]).unwrap();
        assert_eq!(
            read_when_ready(&reactor, &source, &mut cx, &ours)
                .unwrap()
                .len(),
            64
        );
        let mut syscalls = 0;
        match read_stream(&source, &mut cx, &ours, &mut syscalls) {
            Poll::Ready(Ok(rest)) => assert_eq!(rest.len(), 36),
            other => panic!("the rest was not read at once: {other:?}"),
        }
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn eof_with_the_last_bytes_is_read_after_a_short_read() {
    for reactor in reactors() {
        let (ours, mut peer) = pair();
        let source = reactor.register(ours.as_fd()).unwrap();
        let (_, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);
        // Bytes and close before the reactor looks: one event carries both.
        peer.write_all(b"tail").unwrap();
        drop(peer);
        reactor.poll(Some(Duration::from_millis(50))).unwrap();
        let mut syscalls = 0;
        let short = read_stream(&source, &mut cx, &ours, &mut syscalls);
        assert!(
            matches!(&short, Poll::Ready(Ok(b)) if b == b"tail"),
            "{short:?}"
        );
        // No further event will come: EOF must be read without waiting for one.
        let eof = read_stream(&source, &mut cx, &ours, &mut syscalls);
        assert!(
            matches!(&eof, Poll::Ready(Ok(b)) if b.is_empty()),
            "EOF lost on {:?}: {eof:?}",
            reactor.backend()
        );
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn a_half_close_after_a_cleared_short_read_is_reported_and_writes_go_on() {
    for reactor in reactors() {
        let (ours, peer) = tcp_pair();
        let source = reactor.register(ours.as_fd()).unwrap();
        let (_, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);
        (&peer).write_all(b"last words").unwrap();
        assert_eq!(
            read_when_ready(&reactor, &source, &mut cx, &ours).unwrap(),
            b"last words"
        );
        // Readiness is cleared (epoll); the peer now shuts its write side down.
        peer.shutdown(Shutdown::Write).unwrap();
        let eof = read_when_ready(&reactor, &source, &mut cx, &ours).unwrap();
        assert!(eof.is_empty(), "a half-close reads as EOF: {eof:?}");
        // Our direction is still open: the peer reads what we write.
        (&ours).write_all(b"reply").unwrap();
        let mut got = [0u8; 5];
        peer.set_nonblocking(false).unwrap();
        (&peer).read_exact(&mut got).unwrap();
        assert_eq!(&got, b"reply");
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn a_reset_after_a_cleared_short_read_is_an_error_not_a_hang() {
    for reactor in reactors() {
        let (ours, peer) = tcp_pair();
        let source = reactor.register(ours.as_fd()).unwrap();
        let (_, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);
        (&peer).write_all(b"abc").unwrap();
        assert_eq!(
            read_when_ready(&reactor, &source, &mut cx, &ours).unwrap(),
            b"abc"
        );
        // The peer closes with bytes it never read: the kernel answers with RST.
        (&ours).write_all(b"unread").unwrap();
        std::thread::sleep(Duration::from_millis(10));
        drop(peer);
        let reset = read_when_ready(&reactor, &source, &mut cx, &ours);
        match reset {
            Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset),
            Ok(bytes) => panic!("expected a reset, read {bytes:?}"),
        }
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn async_read_stream_with_waits_after_a_short_read_and_sees_eof() {
    for reactor in reactors() {
        let (ours, peer) = pair();
        let io = corio_reactor::Async::new(&reactor, ours).unwrap();
        let peer = Arc::new(peer);
        let writer = {
            let peer = Arc::clone(&peer);
            std::thread::spawn(move || {
                for chunk in [&b"one"[..], b"two", b"three"] {
                    (&*peer).write_all(chunk).unwrap();
                    std::thread::sleep(Duration::from_millis(5));
                }
                peer.shutdown(Shutdown::Write).unwrap();
            })
        };
        let got = crate::common::block_on(&reactor, PROMPT, async {
            let mut got = Vec::new();
            let mut buf = [0u8; 64];
            loop {
                let n = io
                    .read_stream_with(buf.len(), |s| (&*s).read(&mut buf))
                    .await
                    .unwrap();
                if n == 0 {
                    return got;
                }
                got.extend_from_slice(&buf[..n]);
            }
        });
        writer.join().unwrap();
        assert_eq!(got, b"onetwothree");
    }
}
