//! corio::net TCP reads that fill their buffer exactly (the `tcp-echo` pattern: a
//! 64-byte `read_exact` of a 64-byte message). On Linux such a read asks the kernel
//! whether it emptied the receive queue (`TCP_INQ`) and, if so, waits for the next
//! event instead of trying a read that can only fail. These tests pin what that
//! must not lose: bytes that arrive later, EOF with the last bytes, a half-close, a
//! reset, split halves, and a stream handed back with `into_std` or read through a
//! `dup` of its fd (corio reads nothing ahead: unread bytes stay in the socket).

use std::future::Future;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

use corio::net::{TcpListener, TcpStream};
use futures_util::io::AsyncReadExt;

/// Runs `fut` on a fresh loop, failing the test if it takes longer than 20 s.
fn run_bounded<F: Future>(fut: F) -> F::Output {
    corio::run(async {
        corio::timeout(Duration::from_secs(20), fut)
            .await
            .expect("the test timed out (a hang)")
    })
}

/// A connected pair: (ours on the loop, the peer as a blocking std stream).
async fn pair() -> (TcpStream, std::net::TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ours = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (peer, _) = listener.accept().unwrap();
    (ours, peer)
}

#[test]
fn exact_size_messages_that_arrive_later_are_all_read() {
    run_bounded(async {
        let (mut ours, peer) = pair().await;
        let writer = std::thread::spawn(move || {
            let mut peer = peer;
            for i in 0..20u8 {
                peer.write_all(&[i; 64]).unwrap();
                // Each read finds the queue empty before the next message.
                std::thread::sleep(Duration::from_millis(2));
            }
            peer
        });
        let mut buf = [0u8; 64];
        for i in 0..20u8 {
            ours.read_exact(&mut buf).await.unwrap();
            assert_eq!(buf, [i; 64]);
        }
        drop(writer.join().unwrap());
        assert_eq!(ours.read(&mut buf).await.unwrap(), 0, "EOF after the last");
    });
}

#[test]
fn an_echo_server_of_exact_reads_serves_many_round_trips() {
    run_bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = corio::create_task(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 64];
            while stream.read_exact(&mut buf).await.is_ok() {
                stream.write_all(&buf).await.unwrap();
            }
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.set_nodelay(true).unwrap();
        for i in 0..2_000u32 {
            let msg = [(i % 251) as u8; 64];
            client.write_all(&msg).await.unwrap();
            let mut back = [0u8; 64];
            client.read_exact(&mut back).await.unwrap();
            assert_eq!(back, msg);
        }
        client.shutdown(Shutdown::Write).unwrap();
        server.await.unwrap();
    });
}

#[test]
fn eof_with_the_last_bytes_of_an_exact_read() {
    run_bounded(async {
        let (mut ours, mut peer) = pair().await;
        peer.write_all(&[4u8; 64]).unwrap();
        drop(peer);
        corio::sleep(Duration::from_millis(10)).await;
        let mut buf = [0u8; 64];
        ours.read_exact(&mut buf).await.unwrap();
        assert_eq!(buf, [4u8; 64]);
        assert_eq!(ours.read(&mut buf).await.unwrap(), 0);
        assert_eq!(ours.read(&mut buf).await.unwrap(), 0, "EOF stays EOF");
    });
}

#[test]
fn a_half_close_after_an_exact_read_is_eof_and_writes_go_on() {
    run_bounded(async {
        let (mut ours, mut peer) = pair().await;
        peer.write_all(&[6u8; 64]).unwrap();
        let mut buf = [0u8; 64];
        ours.read_exact(&mut buf).await.unwrap();
        // The read emptied the queue; the FIN comes later, as its own event.
        let closer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            peer.shutdown(Shutdown::Write).unwrap();
            peer
        });
        assert_eq!(ours.read(&mut buf).await.unwrap(), 0);
        let mut peer = closer.join().unwrap();
        ours.write_all(b"still open").await.unwrap();
        let mut got = [0u8; 10];
        peer.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"still open");
    });
}

#[test]
fn a_reset_while_waiting_after_an_exact_read_is_an_error() {
    run_bounded(async {
        let (mut ours, mut peer) = pair().await;
        peer.write_all(&[8u8; 64]).unwrap();
        let mut buf = [0u8; 64];
        ours.read_exact(&mut buf).await.unwrap();
        // Bytes the peer never reads make its close a reset.
        ours.write_all(b"unread").await.unwrap();
        let closer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            drop(peer);
        });
        let err = ours.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
        closer.join().unwrap();
    });
}

#[test]
fn split_halves_read_exact_messages_and_reunite() {
    run_bounded(async {
        let (ours, mut peer) = pair().await;
        let (mut read, write) = ours.into_split();
        let mut buf = [0u8; 64];
        for i in 0..3u8 {
            peer.write_all(&[i; 64]).unwrap();
            read.read_exact(&mut buf).await.unwrap();
            assert_eq!(buf, [i; 64]);
            write.write_all(&buf).await.unwrap();
        }
        let mut echoed = [0u8; 192];
        peer.read_exact(&mut echoed).unwrap();
        let stream = read.reunite(write).unwrap();
        peer.write_all(&[9u8; 64]).unwrap();
        (&stream).read_exact(&mut buf).await.unwrap();
        assert_eq!(buf, [9u8; 64]);
    });
}

#[test]
fn into_std_and_the_raw_fd_see_every_byte_not_yet_read() {
    run_bounded(async {
        let (mut ours, mut peer) = pair().await;
        // 64 read through corio, 64 left in the socket: corio holds none of them.
        peer.write_all(&[1u8; 64]).unwrap();
        peer.write_all(&[2u8; 64]).unwrap();
        corio::sleep(Duration::from_millis(10)).await;
        let mut buf = [0u8; 64];
        ours.read_exact(&mut buf).await.unwrap();
        assert_eq!(buf, [1u8; 64]);
        // A dup of the raw fd reads the rest...
        let dup = ours.as_fd().try_clone_to_owned().unwrap();
        assert!(ours.as_raw_fd() >= 0);
        let mut dup = std::net::TcpStream::from(dup);
        dup.set_nonblocking(false).unwrap();
        let mut half = [0u8; 32];
        dup.read_exact(&mut half).unwrap();
        assert_eq!(half, [2u8; 32]);
        drop(dup);
        // ...and into_std the bytes after those.
        let mut std_stream = ours.into_std().unwrap();
        std_stream.set_nonblocking(false).unwrap();
        std_stream.read_exact(&mut half).unwrap();
        assert_eq!(half, [2u8; 32]);
        // Handed back to a loop, it reads on.
        peer.write_all(&[3u8; 64]).unwrap();
        let mut again = TcpStream::from_std(std_stream).unwrap();
        again.read_exact(&mut buf).await.unwrap();
        assert_eq!(buf, [3u8; 64]);
    });
}
