//! Stream reads with the TCP receive-queue hint (`corio_reactor::inq`, Linux): a read
//! that fills its buffer and leaves nothing queued clears read readiness like a short
//! read, so the next read waits for an event without the `EAGAIN` syscall; a read
//! that leaves bytes (or a FIN) behind does not, and nothing arriving later is lost:
//! more bytes, EOF with the last bytes, a half-close, a reset.
#![cfg(any(target_os = "linux", target_os = "android"))]

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsFd;
use std::task::{Context, Poll};
use std::time::Duration;

use corio_reactor::{inq, Backend, Reactor, Source};

use crate::common::{poll_until, reactors, tcp_pair, Counter, PROMPT};

/// A connected loopback TCP pair, both ends non-blocking, the hint on for `ours`.
fn hinted_tcp_pair() -> (TcpStream, TcpStream) {
    let (ours, peer) = tcp_pair();
    inq::enable(ours.as_fd(), true).unwrap();
    (ours, peer)
}

/// Reads up to 64 bytes with `poll_read_stream_hinted` and the hint, counting syscalls.
fn read_hinted(
    source: &Source,
    cx: &mut Context<'_>,
    ours: &TcpStream,
    syscalls: &mut usize,
) -> Poll<std::io::Result<Vec<u8>>> {
    let mut buf = [0u8; 64];
    let polled = source.poll_read_stream_hinted(cx, || {
        *syscalls += 1;
        let (n, queued) = inq::recv(ours.as_fd(), &mut buf)?;
        Ok((n, n < 64 || queued == Some(0)))
    });
    polled.map(|r| r.map(|n| buf[..n].to_vec()))
}

/// Polls the reactor until a hinted read is ready; returns its result.
fn read_when_ready(
    reactor: &Reactor,
    source: &Source,
    cx: &mut Context<'_>,
    ours: &TcpStream,
) -> std::io::Result<Vec<u8>> {
    let mut out = None;
    let mut syscalls = 0;
    let done = poll_until(reactor, PROMPT, || {
        if let Poll::Ready(r) = read_hinted(source, cx, ours, &mut syscalls) {
            out = Some(r);
        }
        out.is_some()
    });
    assert!(done, "the read never became ready");
    out.expect("set when done")
}

/// Waits until the kernel has queued `n` bytes on `ours` (loopback delivery is
/// synchronous, but the FIN of a close may lag a little).
fn settle() {
    std::thread::sleep(Duration::from_millis(10));
}

#[test]
fn recv_reports_the_bytes_left_queued() {
    let (ours, mut peer) = hinted_tcp_pair();
    let mut buf = [0u8; 64];
    peer.write_all(&[1u8; 100]).unwrap();
    settle();
    assert_eq!(inq::recv(ours.as_fd(), &mut buf).unwrap(), (64, Some(36)));
    assert_eq!(inq::recv(ours.as_fd(), &mut buf).unwrap(), (36, Some(0)));
    let err = inq::recv(ours.as_fd(), &mut buf).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WouldBlock);
    // A FIN behind the last bytes counts as one queued byte: EOF is still to read.
    peer.write_all(&[2u8; 64]).unwrap();
    peer.shutdown(Shutdown::Write).unwrap();
    settle();
    assert_eq!(inq::recv(ours.as_fd(), &mut buf).unwrap(), (64, Some(1)));
    assert_eq!(inq::recv(ours.as_fd(), &mut buf).unwrap().0, 0);
}

#[test]
fn without_the_hint_recv_reports_none_and_non_tcp_sockets_refuse_it() {
    let (ours, mut peer) = hinted_tcp_pair();
    inq::enable(ours.as_fd(), false).unwrap();
    peer.write_all(b"ping").unwrap();
    settle();
    let mut buf = [0u8; 64];
    assert_eq!(inq::recv(ours.as_fd(), &mut buf).unwrap(), (4, None));
    let (unix, _other) = std::os::unix::net::UnixStream::pair().unwrap();
    assert!(inq::enable(unix.as_fd(), true).is_err());
}

#[test]
fn a_full_read_that_emptied_the_queue_clears_readiness_on_epoll() {
    for reactor in reactors() {
        let (ours, mut peer) = hinted_tcp_pair();
        let source = reactor.register(ours.as_fd()).unwrap();
        let (_, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);
        peer.write_all(&[7u8; 64]).unwrap();
        assert_eq!(
            read_when_ready(&reactor, &source, &mut cx, &ours)
                .unwrap()
                .len(),
            64
        );
        // Exactly 64 bytes filled the 64-byte buffer; the hint said none were left.
        // Only where EOF is its own event (epoll) may the next read skip its syscall.
        let mut syscalls = 0;
        assert!(read_hinted(&source, &mut cx, &ours, &mut syscalls).is_pending());
        let expected = usize::from(reactor.backend() == Backend::Polling);
        assert_eq!(syscalls, expected, "{:?}", reactor.backend());
        // More bytes are a new event.
        peer.write_all(b"more").unwrap();
        assert_eq!(
            read_when_ready(&reactor, &source, &mut cx, &ours).unwrap(),
            b"more"
        );
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn a_full_read_with_bytes_left_does_not_clear_readiness() {
    for reactor in reactors() {
        let (ours, mut peer) = hinted_tcp_pair();
        let source = reactor.register(ours.as_fd()).unwrap();
        let (_, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);
        peer.write_all(&[7u8; 128]).unwrap();
        settle();
        assert_eq!(
            read_when_ready(&reactor, &source, &mut cx, &ours)
                .unwrap()
                .len(),
            64
        );
        let mut syscalls = 0;
        match read_hinted(&source, &mut cx, &ours, &mut syscalls) {
            Poll::Ready(Ok(rest)) => assert_eq!(rest.len(), 64),
            other => panic!("the rest was not read at once: {other:?}"),
        }
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn eof_with_the_last_bytes_of_a_full_read_is_read_at_once() {
    for reactor in reactors() {
        let (ours, mut peer) = hinted_tcp_pair();
        let source = reactor.register(ours.as_fd()).unwrap();
        let (_, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);
        // 64 bytes and the FIN before the reactor looks: one event carries both.
        peer.write_all(&[3u8; 64]).unwrap();
        drop(peer);
        settle();
        reactor.poll(Some(Duration::from_millis(50))).unwrap();
        let mut syscalls = 0;
        let full = read_hinted(&source, &mut cx, &ours, &mut syscalls);
        assert!(
            matches!(&full, Poll::Ready(Ok(b)) if b.len() == 64),
            "{full:?}"
        );
        let eof = read_hinted(&source, &mut cx, &ours, &mut syscalls);
        assert!(
            matches!(&eof, Poll::Ready(Ok(b)) if b.is_empty()),
            "EOF lost on {:?}: {eof:?}",
            reactor.backend()
        );
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn a_half_close_after_a_cleared_full_read_is_reported() {
    for reactor in reactors() {
        let (ours, peer) = hinted_tcp_pair();
        let source = reactor.register(ours.as_fd()).unwrap();
        let (_, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);
        (&peer).write_all(&[5u8; 64]).unwrap();
        assert_eq!(
            read_when_ready(&reactor, &source, &mut cx, &ours)
                .unwrap()
                .len(),
            64
        );
        // Readiness is cleared (epoll); the FIN comes later, as its own event.
        peer.shutdown(Shutdown::Write).unwrap();
        let eof = read_when_ready(&reactor, &source, &mut cx, &ours).unwrap();
        assert!(eof.is_empty(), "a half-close reads as EOF: {eof:?}");
        (&ours).write_all(b"reply").unwrap();
        peer.set_nonblocking(false).unwrap();
        let mut got = [0u8; 5];
        (&peer).read_exact(&mut got).unwrap();
        assert_eq!(&got, b"reply");
        reactor.deregister(&source).unwrap();
    }
}

#[test]
fn a_reset_after_a_cleared_full_read_is_an_error_not_a_hang() {
    for reactor in reactors() {
        let (ours, peer) = hinted_tcp_pair();
        let source = reactor.register(ours.as_fd()).unwrap();
        let (_, waker) = Counter::waker();
        let mut cx = Context::from_waker(&waker);
        (&peer).write_all(&[9u8; 64]).unwrap();
        assert_eq!(
            read_when_ready(&reactor, &source, &mut cx, &ours)
                .unwrap()
                .len(),
            64
        );
        // The peer closes with bytes it never read: the kernel answers with RST.
        (&ours).write_all(b"unread").unwrap();
        settle();
        drop(peer);
        match read_when_ready(&reactor, &source, &mut cx, &ours) {
            Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset),
            Ok(bytes) => panic!("expected a reset, read {bytes:?}"),
        }
        reactor.deregister(&source).unwrap();
    }
}
