//! corio::net UDP and name resolution: send_to/recv_from between two sockets,
//! connect/send/recv with a default peer, options, and lookup_host on the blocking
//! pool. Every wait is bounded by `corio::timeout`.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use corio::net::UdpSocket;

/// Runs `fut` on a fresh loop, failing the test if it takes longer than 20 s.
fn run_bounded<F: Future>(fut: F) -> F::Output {
    corio::run(async {
        corio::timeout(Duration::from_secs(20), fut)
            .await
            .expect("the test timed out (a hang)")
    })
}

#[test]
fn send_to_and_recv_from_carry_datagrams_and_the_sender_address() {
    run_bounded(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b_addr = b.local_addr().unwrap();
        for i in 0..10u8 {
            assert_eq!(a.send_to(&[i; 3], b_addr).await.unwrap(), 3);
        }
        let mut buf = [0; 16];
        for i in 0..10u8 {
            let (n, from) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], &[i; 3]);
            assert_eq!(from, a.local_addr().unwrap());
        }
        // A reply, addressed by a string.
        b.send_to(b"pong", a.local_addr().unwrap().to_string())
            .await
            .unwrap();
        let (n, _) = a.peek_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"pong");
        let (n, from) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"pong"[..], b_addr));
    });
}

#[test]
fn connect_sets_the_default_peer_for_send_and_recv() {
    run_bounded(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        assert_eq!(
            a.peer_addr().unwrap_err().kind(),
            io::ErrorKind::NotConnected
        );
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
        a.send(b"hello").await.unwrap();
        let mut buf = [0; 16];
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"hello");
        b.send(b"world").await.unwrap();
        let n = a.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"world");
    });
}

#[test]
fn a_receiver_task_waits_for_a_datagram_sent_later() {
    run_bounded(async {
        let receiver = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let addr = receiver.local_addr().unwrap();
        let task = {
            let receiver = Arc::clone(&receiver);
            corio::create_task(async move {
                let mut buf = [0; 8];
                let (n, _) = receiver.recv_from(&mut buf).await.unwrap();
                buf[..n].to_vec()
            })
        };
        corio::sleep(Duration::from_millis(20)).await;
        assert!(!task.is_done());
        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        sender.send_to(b"late", addr).await.unwrap();
        assert_eq!(task.await.unwrap(), b"late");
    });
}

#[test]
fn broadcast_and_ttl_options_can_be_set_and_read_back() {
    run_bounded(async {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        socket.set_broadcast(true).unwrap();
        assert!(socket.broadcast().unwrap());
        socket.set_ttl(7).unwrap();
        assert_eq!(socket.ttl().unwrap(), 7);
        let std_socket = socket.into_std().unwrap();
        let socket = UdpSocket::from_std(std_socket).unwrap();
        assert!(socket.broadcast().unwrap());
    });
}

#[test]
fn lookup_host_finds_a_loopback_address_for_localhost() {
    run_bounded(async {
        let addrs = corio::net::lookup_host("localhost:80").await.unwrap();
        assert!(
            addrs.iter().any(|a| a.ip().is_loopback() && a.port() == 80),
            "{addrs:?}"
        );
    });
}

#[test]
fn lookup_host_of_an_unknown_name_is_an_error_naming_it() {
    run_bounded(async {
        let err = corio::net::lookup_host("no-such-host.invalid:80")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no-such-host.invalid"), "{err}");
        let err = corio::net::lookup_host("missing-port").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    });
}
