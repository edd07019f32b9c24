//! TCP streams on a loop built with `Builder::io_uring(true)` (the `io-uring`
//! feature, Linux): what differs from the readiness path holds as documented
//! (`into_std` refuses held bytes, `write_all` returns once the kernel has the
//! bytes, a loop closed right after a write still sends it), and connection
//! churn with reads and writes in flight loses no byte and no descriptor. The
//! rest of this binary runs on the ring too in CI (`CORIO_IO_URING=1`). Each
//! test skips, saying so, where the kernel refuses a ring.

use std::io::Read;
use std::time::Duration;

use corio::net::{TcpListener, TcpStream};

/// A runner with io_uring, or `None` (after saying why) where there is none.
fn ring_runner() -> Option<corio::Runner> {
    if let Err(e) = corio_reactor::Reactor::with_io_uring() {
        eprintln!("skipped: no io_uring here ({e})");
        return None;
    }
    Some(
        corio::Runner::builder()
            .io_uring(true)
            .build()
            .expect("runner"),
    )
}

/// A connection to `listener`: (client, accepted server side).
async fn connected(listener: &TcpListener) -> (TcpStream, TcpStream) {
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// Open descriptors of this process.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

#[test]
fn into_std_refuses_a_stream_whose_bytes_the_ring_holds() {
    let Some(mut runner) = ring_runner() else {
        return;
    };
    runner.run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (client, server) = connected(&listener).await;
        client.write_all(b"abcdef").await.unwrap();
        let mut two = [0u8; 2];
        // A 2-byte read makes a 2-byte recv: the ring takes what the reader
        // asked for, no more, and the other 4 bytes stay in the kernel.
        assert_eq!(server.read(&mut two).await.unwrap(), 2);
        let mut rest = [0u8; 4];
        server.read(&mut rest).await.unwrap();
        // A read cancelled with its recv in flight leaves that recv behind,
        // and then bytes arrive into the ring's buffer.
        let waited = corio::timeout(Duration::from_millis(20), server.read(&mut rest)).await;
        assert!(waited.is_err(), "nothing was sent yet");
        client.write_all(b"held").await.unwrap();
        corio::sleep(Duration::from_millis(20)).await;
        let err = server.into_std().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("io_uring"), "{err}");
        // An idle stream goes back to std with nothing lost.
        let (client2, server2) = connected(&listener).await;
        client2.write_all(b"for std").await.unwrap();
        let mut std_stream = server2.into_std().expect("idle: handed back");
        std_stream.set_nonblocking(false).unwrap();
        let mut got = [0u8; 7];
        std_stream.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"for std");
    });
}

#[test]
fn a_cancelled_read_loses_no_bytes() {
    let Some(mut runner) = ring_runner() else {
        return;
    };
    runner.run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (client, server) = connected(&listener).await;
        let mut buf = [0u8; 16];
        for round in 0..20u8 {
            let waited = corio::timeout(Duration::from_millis(1), server.read(&mut buf)).await;
            assert!(waited.is_err());
            client.write_all(&[round; 3]).await.unwrap();
            let n = server.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], &[round; 3], "round {round}");
        }
    });
}

#[test]
fn a_loop_closed_right_after_a_write_still_sends_it() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let reader = std::thread::spawn(move || {
        let (mut peer, _) = listener.accept().unwrap();
        peer.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut got = Vec::new();
        peer.read_to_end(&mut got).map(|_| got)
    });
    let Some(mut runner) = ring_runner() else {
        drop(std::net::TcpStream::connect(addr));
        return;
    };
    let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
    let sent = data.clone();
    runner.run(async move {
        let stream = TcpStream::connect(addr).await.unwrap();
        // `write` returns once the bytes are queued; the loop closes at once.
        let mut rest = &sent[..];
        while !rest.is_empty() {
            let n = stream.write(rest).await.unwrap();
            rest = &rest[n..];
        }
    });
    drop(runner);
    assert_eq!(reader.join().unwrap().expect("read to EOF"), data);
}

#[test]
fn connection_churn_with_operations_in_flight_loses_nothing() {
    let Some(mut runner) = ring_runner() else {
        return;
    };
    let before = open_fds();
    runner.run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = corio::create_task(async move {
            for _ in 0..200 {
                let (stream, _) = listener.accept().await.unwrap();
                corio::create_task(async move {
                    let mut buf = [0u8; 4096];
                    loop {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => {
                                if stream.write_all(&buf[..n]).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        });
        let mut clients = Vec::new();
        for i in 0..200u32 {
            clients.push(corio::create_task(async move {
                let stream = TcpStream::connect(addr).await.unwrap();
                let msg = i.to_le_bytes().repeat(64 + i as usize);
                stream.write_all(&msg).await.unwrap();
                let mut got = vec![0u8; msg.len()];
                let mut filled = 0;
                while filled < got.len() {
                    let n = stream.read(&mut got[filled..]).await.unwrap();
                    assert!(n > 0, "early EOF");
                    filled += n;
                }
                assert_eq!(got, msg);
                if i % 2 == 0 {
                    // Dropped with a read in flight.
                    let _ = corio::timeout(Duration::from_millis(1), stream.read(&mut got)).await;
                }
            }));
        }
        for client in clients {
            client.await.unwrap();
        }
        server.await.unwrap();
        // Give the cancelled receives' completions a few iterations.
        corio::sleep(Duration::from_millis(50)).await;
    });
    drop(runner);
    let after = open_fds();
    assert!(
        after <= before + 2,
        "descriptors leaked: {before} -> {after}"
    );
}
