//! Streams through the reactor's io_uring (`--features io-uring`, Linux):
//! bytes arrive intact and in order both ways, EOF comes after the last bytes,
//! a cancelled read loses nothing, a send error is sticky, and a stream closed
//! with operations in flight still delivers what it queued and then really
//! closes (the peer reads EOF). Each test skips where the kernel has no
//! io_uring (or forbids it), saying so.

use std::future::{poll_fn, Future};
use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use corio_reactor::uring::{RingStream, SEND_QUEUE};
use corio_reactor::Reactor;

use crate::common::{block_on, pair, tcp_pair, Counter, PROMPT};

/// A reactor with a ring, or `None` (after saying why) where there is none.
fn ring_reactor() -> Option<Arc<Reactor>> {
    match Reactor::with_io_uring() {
        Ok(reactor) => Some(Arc::new(reactor)),
        Err(e) => {
            eprintln!("skipped: no io_uring here ({e})");
            None
        }
    }
}

/// Puts `socket` on `reactor`'s ring, keeping the socket beside it.
fn on_ring(reactor: &Arc<Reactor>, socket: UnixStream) -> (RingStream, UnixStream) {
    let stream = RingStream::new(reactor, socket.as_fd()).expect("the reactor has a ring");
    (stream, socket)
}

/// Writes all of `data` through `stream`, then waits until it was sent.
async fn write_all(stream: &RingStream, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        let n = stream.write(data).await?;
        data = &data[n..];
    }
    poll_fn(|cx| stream.poll_flush(cx)).await
}

/// Reads until EOF.
async fn read_to_end(stream: &RingStream) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 7919];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn bytes_arrive_in_order_both_ways_with_eof_after_the_last() {
    let Some(reactor) = ring_reactor() else {
        return;
    };
    let (a, b) = pair();
    let (a, a_sock) = on_ring(&reactor, a);
    let (b, b_sock) = on_ring(&reactor, b);
    // More than the send queue, in writes of odd sizes, so writers wait for room.
    let data = pattern(3 * SEND_QUEUE + 12_345);
    let (sent, got) = block_on(&reactor, PROMPT, async {
        let writer = async {
            for chunk in data.chunks(10_007) {
                write_all(&a, chunk).await?;
            }
            poll_fn(|cx| a.poll_shutdown_write(cx)).await
        };
        let reader = read_to_end(&b);
        let mut writer = pin!(writer);
        let mut reader = pin!(reader);
        let (mut w, mut r) = (None, None);
        poll_fn(|cx| {
            if w.is_none() {
                if let Poll::Ready(out) = writer.as_mut().poll(cx) {
                    w = Some(out);
                }
            }
            if r.is_none() {
                if let Poll::Ready(out) = reader.as_mut().poll(cx) {
                    r = Some(out);
                }
            }
            if w.is_some() && r.is_some() {
                Poll::Ready((w.take().unwrap(), r.take().unwrap()))
            } else {
                Poll::Pending
            }
        })
        .await
    });
    sent.expect("writes");
    assert_eq!(got.expect("reads"), data);
    // The other direction still works after the half-close.
    block_on(&reactor, PROMPT, write_all(&b, b"back")).expect("write back");
    let mut buf = [0u8; 4];
    assert_eq!(block_on(&reactor, PROMPT, a.read(&mut buf)).unwrap(), 4);
    assert_eq!(&buf, b"back");
    drop((a, b, a_sock, b_sock));
}

#[test]
fn a_read_dropped_while_its_recv_is_in_flight_loses_nothing() {
    let Some(reactor) = ring_reactor() else {
        return;
    };
    let (a, mut peer) = pair();
    let (a, _a_sock) = on_ring(&reactor, a);
    let (_counter, waker) = Counter::waker();
    let mut cx = std::task::Context::from_waker(&waker);
    let mut buf = [0u8; 64];
    {
        let read = a.read(&mut buf);
        let mut read = pin!(read);
        assert!(read.as_mut().poll(&mut cx).is_pending());
        reactor.poll(Some(Duration::ZERO)).unwrap(); // the recv is submitted
    } // ... and its future dropped
    peer.write_all(b"kept for the next read").unwrap();
    let mut buf = [0u8; 64];
    let n = block_on(&reactor, PROMPT, a.read(&mut buf)).unwrap();
    assert_eq!(&buf[..n], b"kept for the next read");
}

#[test]
fn a_send_error_is_reported_and_sticky() {
    let Some(reactor) = ring_reactor() else {
        return;
    };
    let (a, peer) = pair();
    let (a, _a_sock) = on_ring(&reactor, a);
    drop(peer);
    let first = block_on(&reactor, PROMPT, write_all(&a, b"to nobody"));
    let err = first.expect_err("the peer is gone");
    assert!(
        matches!(
            err.kind(),
            ErrorKind::BrokenPipe | ErrorKind::ConnectionReset
        ),
        "{err:?}"
    );
    let again = block_on(&reactor, PROMPT, a.write(b"more")).expect_err("sticky");
    assert_eq!(again.kind(), err.kind());
    assert!(a.try_write(b"x").is_err());
}

#[test]
fn closing_with_sends_in_flight_delivers_them_then_eof() {
    let Some(reactor) = ring_reactor() else {
        return;
    };
    let (a, b) = tcp_pair();
    let stream = RingStream::new(&reactor, a.as_fd()).unwrap();
    let data = pattern(SEND_QUEUE);
    let queued = block_on(&reactor, PROMPT, stream.write(&data)).unwrap();
    assert_eq!(queued, SEND_QUEUE);
    // The owner is done: the ring keeps the socket until the send completed.
    stream.close(OwnedFd::from(a));
    drop(stream);
    let reader = std::thread::spawn(move || {
        let mut b = b;
        b.set_nonblocking(false).unwrap();
        b.set_read_timeout(Some(PROMPT)).unwrap();
        let mut got = Vec::new();
        b.read_to_end(&mut got).map(|_| got)
    });
    let deadline = std::time::Instant::now() + PROMPT;
    while !reader.is_finished() && std::time::Instant::now() < deadline {
        reactor.poll(Some(Duration::from_millis(10))).unwrap();
    }
    assert_eq!(reader.join().unwrap().expect("read to EOF"), data);
}

#[test]
fn closing_with_a_recv_in_flight_really_closes_the_socket() {
    let Some(reactor) = ring_reactor() else {
        return;
    };
    let (a, mut peer) = pair();
    let stream = RingStream::new(&reactor, a.as_fd()).unwrap();
    let (_counter, waker) = Counter::waker();
    let mut cx = std::task::Context::from_waker(&waker);
    let mut buf = [0u8; 16];
    assert!(stream.poll_read(&mut cx, &mut buf).is_pending());
    reactor.poll(Some(Duration::ZERO)).unwrap();
    stream.close(OwnedFd::from(a));
    drop(stream);
    // The cancel goes out with the next poll; then the last reference to the
    // socket is gone and the peer reads EOF.
    for _ in 0..10 {
        reactor.poll(Some(Duration::from_millis(5))).unwrap();
    }
    peer.set_nonblocking(false).unwrap();
    peer.set_read_timeout(Some(PROMPT)).unwrap();
    let mut rest = Vec::new();
    assert_eq!(peer.read_to_end(&mut rest).unwrap(), 0, "EOF, no bytes");
}

#[test]
fn a_deferred_shutdown_goes_out_after_the_queued_bytes() {
    let Some(reactor) = ring_reactor() else {
        return;
    };
    let (a, mut peer) = pair();
    let (a, _a_sock) = on_ring(&reactor, a);
    let data = pattern(50_000);
    assert_eq!(a.try_write(&data).unwrap(), data.len());
    a.shutdown(Shutdown::Write).unwrap(); // deferred: the send is still queued
    assert!(a.try_write(b"late").is_err(), "no writes after shutdown");
    let reader = std::thread::spawn(move || {
        peer.set_nonblocking(false).unwrap();
        peer.set_read_timeout(Some(PROMPT)).unwrap();
        let mut got = Vec::new();
        peer.read_to_end(&mut got).map(|_| got)
    });
    let deadline = std::time::Instant::now() + PROMPT;
    while !reader.is_finished() && std::time::Instant::now() < deadline {
        reactor.poll(Some(Duration::from_millis(10))).unwrap();
    }
    assert_eq!(reader.join().unwrap().expect("read to EOF"), data);
}

#[test]
fn readable_and_try_read_find_what_arrived() {
    let Some(reactor) = ring_reactor() else {
        return;
    };
    let (a, mut peer) = pair();
    let (a, _a_sock) = on_ring(&reactor, a);
    let mut buf = [0u8; 8];
    let first = a.try_read(&mut buf).expect_err("nothing yet");
    assert_eq!(first.kind(), ErrorKind::WouldBlock);
    peer.write_all(b"hello").unwrap();
    block_on(&reactor, PROMPT, a.readable()).unwrap();
    assert!(!a.is_idle(), "bytes are buffered");
    assert_eq!(a.try_read(&mut buf).unwrap(), 5);
    assert_eq!(&buf[..5], b"hello");
    assert!(a.is_idle());
    peer.shutdown(Shutdown::Write).unwrap();
    assert_eq!(block_on(&reactor, PROMPT, a.read(&mut buf)).unwrap(), 0);
}

#[test]
fn dropping_the_reactor_with_operations_in_flight_waits_for_them() {
    let Some(reactor) = ring_reactor() else {
        return;
    };
    let (a, _peer) = pair();
    let (a, a_sock) = on_ring(&reactor, a);
    let (_counter, waker) = Counter::waker();
    let mut cx = std::task::Context::from_waker(&waker);
    let mut buf = [0u8; 16];
    assert!(a.poll_read(&mut cx, &mut buf).is_pending());
    reactor.poll(Some(Duration::ZERO)).unwrap();
    a.close(OwnedFd::from(a_sock));
    drop(a);
    // The ring's teardown cancels the recv and reaps it before freeing its buffer
    // (valgrind: no invalid write, nothing definitely lost).
    drop(reactor);
}
