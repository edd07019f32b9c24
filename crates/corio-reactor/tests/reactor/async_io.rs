//! `Async<T>`: non-blocking setup, `read_with`/`write_with` retry loops, the
//! `futures-io` traits, and deregistration on `into_inner` and drop — all driven by the
//! tiny reactor-backed `block_on` in `common`.

use std::future::poll_fn;
use std::io::{self, ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::common::{block_on, reactors, PROMPT};
use corio_reactor::{Async, Reactor};
use futures_io::{AsyncRead, AsyncWrite};

fn async_pair(reactor: &Arc<Reactor>) -> (Async<UnixStream>, Async<UnixStream>) {
    let (a, b) = UnixStream::pair().unwrap();
    (
        Async::new(reactor, a).unwrap(),
        Async::new(reactor, b).unwrap(),
    )
}

#[test]
fn read_with_and_write_with_round_trip() {
    for reactor in reactors() {
        let (a, b) = async_pair(&reactor);
        let echoed = block_on(&reactor, PROMPT, async {
            // `b` is read before anything was written: the read must park and be woken.
            let reader = async {
                let mut buf = [0u8; 5];
                let mut got = 0;
                while got < buf.len() {
                    let n = b.read_with(|io| (&*io).read(&mut buf[got..])).await?;
                    assert_ne!(n, 0, "unexpected EOF");
                    got += n;
                }
                b.write_with(|io| (&*io).write(&buf)).await?;
                io::Result::Ok(())
            };
            let writer = async {
                a.write_with(|io| (&*io).write(b"hello")).await?;
                let mut back = [0u8; 5];
                let n = a.read_with(|io| (&*io).read(&mut back)).await?;
                io::Result::Ok(back[..n].to_vec())
            };
            let (r, w) = join(reader, writer).await;
            r.unwrap();
            w.unwrap()
        });
        assert_eq!(echoed, b"hello", "{:?}", reactor.mode());
    }
}

#[test]
fn read_with_parks_until_another_thread_writes() {
    for reactor in reactors() {
        let (a, mut peer) = UnixStream::pair().unwrap();
        let a = Async::new(&reactor, a).unwrap();
        let writer = thread::spawn(move || {
            thread::sleep(Duration::from_millis(50));
            peer.write_all(b"late").unwrap();
            peer
        });
        let mut buf = [0u8; 4];
        let n = block_on(&reactor, PROMPT, a.read_with(|io| (&*io).read(&mut buf))).unwrap();
        assert_eq!(&buf[..n], &b"late"[..n]);
        assert!(n > 0);
        drop(writer.join().unwrap());
    }
}

#[test]
fn write_with_waits_for_room_when_the_buffer_is_full() {
    for reactor in reactors() {
        let (a, peer) = UnixStream::pair().unwrap();
        let mut a = Async::new(&reactor, a).unwrap();
        let chunk = vec![7u8; 64 * 1024];
        let mut sent = 0usize;
        loop {
            match a.get_mut().write(&chunk) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
        let drainer = thread::spawn(move || {
            thread::sleep(Duration::from_millis(50));
            let mut peer = peer;
            let mut total = 0usize;
            let mut buf = vec![0u8; 64 * 1024];
            while total < sent + 1 {
                total += peer.read(&mut buf).unwrap();
            }
            total
        });
        let n = block_on(&reactor, PROMPT, a.write_with(|io| (&*io).write(b"!"))).unwrap();
        assert_eq!(n, 1);
        assert_eq!(drainer.join().unwrap(), sent + 1);
    }
}

#[test]
fn stale_readiness_is_cleared_so_a_would_block_parks_instead_of_spinning() {
    for reactor in reactors() {
        let (a, mut peer) = UnixStream::pair().unwrap();
        let a = Async::new(&reactor, a).unwrap();
        // Make the reactor see read readiness, then drain the data behind its back:
        // the ready flag is now stale.
        peer.write_all(b"x").unwrap();
        let (_, waker) = crate::common::Counter::waker();
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(crate::common::poll_until(&reactor, PROMPT, || a
            .poll_readable(&mut cx)
            .is_ready()));
        a.get_ref().read_exact(&mut [0u8; 1]).unwrap();

        let writer = thread::spawn(move || {
            thread::sleep(Duration::from_millis(50));
            peer.write_all(b"y").unwrap();
            peer
        });
        let mut calls = 0;
        let mut buf = [0u8; 1];
        let n = block_on(
            &reactor,
            PROMPT,
            a.read_with(|io| {
                calls += 1;
                (&*io).read(&mut buf)
            }),
        )
        .unwrap();
        assert_eq!((n, buf[0]), (1, b'y'));
        assert!(calls <= 3, "{:?}: op tried {calls} times", reactor.mode());
        drop(writer.join().unwrap());
    }
}

#[test]
fn interrupted_operations_are_retried() {
    let reactor = Arc::new(Reactor::new().unwrap());
    let (a, _b) = async_pair(&reactor);
    let mut calls = 0;
    let out = block_on(
        &reactor,
        PROMPT,
        a.read_with(|_| {
            calls += 1;
            if calls < 3 {
                Err(io::Error::from(ErrorKind::Interrupted))
            } else {
                Ok(calls)
            }
        }),
    )
    .unwrap();
    assert_eq!(out, 3);
}

#[test]
fn other_errors_are_returned_not_retried() {
    let reactor = Arc::new(Reactor::new().unwrap());
    let (mut a, _b) = async_pair(&reactor);
    let mut calls = 0;
    let err = block_on(
        &reactor,
        PROMPT,
        a.write_with_mut(|_| -> io::Result<()> {
            calls += 1;
            Err(io::Error::from(ErrorKind::BrokenPipe))
        }),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BrokenPipe);
    assert_eq!(calls, 1);
}

#[test]
fn futures_io_traits_round_trip() {
    for reactor in reactors() {
        let (mut a, b) = async_pair(&reactor);
        block_on(&reactor, PROMPT, async {
            let n = poll_fn(|cx| Pin::new(&mut a).poll_write(cx, b"traits")).await?;
            assert_eq!(n, 6);
            poll_fn(|cx| Pin::new(&mut a).poll_flush(cx)).await?;
            let mut buf = [0u8; 6];
            let mut got = 0;
            let mut reader = &b;
            while got < 6 {
                got += poll_fn(|cx| Pin::new(&mut reader).poll_read(cx, &mut buf[got..])).await?;
            }
            assert_eq!(&buf, b"traits");
            io::Result::Ok(())
        })
        .unwrap();
    }
}

#[test]
fn new_puts_the_fd_in_nonblocking_mode() {
    let reactor = Arc::new(Reactor::new().unwrap());
    let (a, _b) = UnixStream::pair().unwrap(); // blocking by default
    let a = Async::new(&reactor, a).unwrap();
    let mut buf = [0u8; 1];
    let err = a.get_ref().read(&mut buf).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WouldBlock);
}

#[test]
fn into_inner_and_drop_deregister() {
    let reactor = Arc::new(Reactor::new().unwrap());
    let (a, b) = async_pair(&reactor);
    assert_eq!(reactor.source_count(), 2);
    let source = Arc::clone(a.source());
    let a = a.into_inner().unwrap();
    assert_eq!(reactor.source_count(), 1);
    assert!(source.is_deregistered());
    drop(b);
    assert_eq!(reactor.source_count(), 0);
    // The returned stream is still usable (and still non-blocking).
    let mut buf = [0u8; 1];
    assert_eq!((&a).read(&mut buf).unwrap(), 0, "peer closed: EOF");
}

/// Polls two futures to completion concurrently (a minimal `join`).
async fn join<A, B>(a: A, b: B) -> (A::Output, B::Output)
where
    A: std::future::Future,
    B: std::future::Future,
{
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    let (mut ra, mut rb) = (None, None);
    poll_fn(|cx| {
        if ra.is_none() {
            if let std::task::Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let std::task::Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        if ra.is_some() && rb.is_some() {
            std::task::Poll::Ready((ra.take().unwrap(), rb.take().unwrap()))
        } else {
            std::task::Poll::Pending
        }
    })
    .await
}
