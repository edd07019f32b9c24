//! corio::net TCP: echo round trips (also 50 connections at once), refused connects that
//! name the address, peer resets and half-closes, EOF without busy-looping, split halves
//! on two tasks, socket options, an accept loop that survives a panicking handler, and
//! the futures-io traits. Every wait is bounded by `corio::timeout`.

use std::future::{poll_fn, Future};
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corio::net::{TcpListener, TcpStream};
use futures_io::AsyncRead;
use futures_util::io::{AsyncReadExt, AsyncWriteExt};

/// Runs `fut` on a fresh loop, failing the test if it takes longer than 20 s.
fn run_bounded<F: Future>(fut: F) -> F::Output {
    corio::run(async {
        corio::timeout(Duration::from_secs(20), fut)
            .await
            .expect("the test timed out (a hang)")
    })
}

/// Waits at most 5 s for `fut`.
async fn within<F: Future>(fut: F) -> F::Output {
    corio::timeout(Duration::from_secs(5), fut)
        .await
        .expect("timed out")
}

/// Reads exactly `buf.len()` bytes with the inherent `read`.
async fn read_exact(stream: &TcpStream, buf: &mut [u8]) -> io::Result<()> {
    let mut got = 0;
    while got < buf.len() {
        match stream.read(&mut buf[got..]).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => got += n,
        }
    }
    Ok(())
}

/// An echo server on 127.0.0.1:0: one task per connection; returns its address.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    corio::create_task(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            corio::create_task(async move {
                let mut buf = vec![0; 4096];
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
    addr
}

/// A connected (client, server) pair over loopback.
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, peer) = listener.accept().await.unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
    (client, server)
}

#[test]
fn echo_round_trip_over_loopback() {
    run_bounded(async {
        let addr = echo_server().await;
        let stream = TcpStream::connect(addr).await.unwrap();
        assert_eq!(stream.peer_addr().unwrap(), addr);
        assert!(stream.local_addr().unwrap().ip().is_loopback());
        stream.write_all(b"hello, corio").await.unwrap();
        let mut buf = [0; 12];
        read_exact(&stream, &mut buf).await.unwrap();
        assert_eq!(&buf, b"hello, corio");
    });
}

#[test]
fn fifty_concurrent_connections_each_echo_a_hundred_messages() {
    run_bounded(async {
        let addr = echo_server().await;
        let clients: Vec<_> = (0..50u32)
            .map(|id| {
                corio::create_task(async move {
                    let stream = TcpStream::connect(addr).await.unwrap();
                    for i in 0..100u32 {
                        let message = format!("client {id:03} message {i:03}!");
                        stream.write_all(message.as_bytes()).await.unwrap();
                        let mut back = vec![0; message.len()];
                        read_exact(&stream, &mut back).await.unwrap();
                        assert_eq!(back, message.as_bytes());
                    }
                    id
                })
            })
            .collect();
        let mut done = 0;
        for client in clients {
            client.await.unwrap();
            done += 1;
        }
        assert_eq!(done, 50);
    });
}

#[test]
fn connect_to_a_closed_port_is_refused_and_names_the_address() {
    run_bounded(async {
        // A port that was just free: bind, note it, close.
        let addr = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
        let message = err.to_string();
        assert!(message.contains(&addr.to_string()), "{message}");
        assert!(message.to_lowercase().contains("refused"), "{message}");
    });
}

#[test]
fn connect_by_host_name_resolves_off_the_loop_and_tries_each_address() {
    run_bounded(async {
        let addr = echo_server().await;
        // "localhost" may resolve to ::1 first, where nobody listens; the next address
        // (127.0.0.1) must then be tried.
        let stream = TcpStream::connect(("localhost", addr.port()))
            .await
            .unwrap();
        assert_eq!(stream.peer_addr().unwrap(), addr);
        let stream = TcpStream::connect(format!("localhost:{}", addr.port()))
            .await
            .unwrap();
        assert_eq!(stream.peer_addr().unwrap(), addr);
    });
}

#[test]
fn connecting_to_an_unresolvable_host_fails_without_hanging() {
    run_bounded(async {
        let err = TcpStream::connect("no-such-host.invalid:80")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no-such-host.invalid"), "{err}");
    });
}

#[test]
fn peer_reset_mid_read_is_an_error_not_a_hang() {
    run_bounded(async {
        let (client, server) = pair().await;
        let reader = corio::create_task(async move {
            let mut buf = [0; 16];
            client.read(&mut buf).await
        });
        corio::sleep(Duration::from_millis(20)).await;
        // SO_LINGER 0: close sends RST instead of FIN.
        socket2::SockRef::from(&server)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(server);
        let err = within(reader).await.unwrap().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
    });
}

#[test]
fn shutdown_write_gives_the_peer_eof_while_it_can_still_write_back() {
    run_bounded(async {
        let (client, server) = pair().await;
        client.write_all(b"request").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();

        let mut request = Vec::new();
        let mut buf = [0; 64];
        loop {
            match server.read(&mut buf).await.unwrap() {
                0 => break,
                n => request.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(request, b"request");
        server.write_all(b"response").await.unwrap();
        drop(server);

        let mut response = [0; 8];
        read_exact(&client, &mut response).await.unwrap();
        assert_eq!(&response, b"response");
        assert_eq!(client.read(&mut buf).await.unwrap(), 0);
    });
}

#[test]
fn reading_at_eof_returns_zero_repeatedly_without_waiting() {
    run_bounded(async {
        let (client, server) = pair().await;
        drop(server);
        let mut buf = [0; 16];
        assert_eq!(within(client.read(&mut buf)).await.unwrap(), 0);
        // Each read at EOF must complete on its first poll: no wait, no spin.
        let polls = AtomicUsize::new(0);
        let started = Instant::now();
        for _ in 0..1000 {
            let mut read = std::pin::pin!(client.read(&mut buf));
            let n = poll_fn(|cx| {
                polls.fetch_add(1, Ordering::Relaxed);
                read.as_mut().poll(cx)
            })
            .await
            .unwrap();
            assert_eq!(n, 0);
        }
        assert_eq!(polls.load(Ordering::Relaxed), 1000);
        assert!(started.elapsed() < Duration::from_secs(2));
    });
}

#[test]
fn into_split_halves_run_on_two_tasks_concurrently() {
    run_bounded(async {
        let addr = echo_server().await;
        let (read, write) = TcpStream::connect(addr).await.unwrap().into_split();
        const TOTAL: usize = 200 * 1024;
        let writer = corio::create_task(async move {
            let chunk = vec![7u8; 1024];
            for _ in 0..TOTAL / 1024 {
                write.write_all(&chunk).await.unwrap();
            }
            write
        });
        let reader = corio::create_task(async move {
            let mut got = 0;
            let mut buf = vec![0; 8192];
            while got < TOTAL {
                let n = read.read(&mut buf).await.unwrap();
                assert!(n > 0, "early EOF after {got} bytes");
                assert!(buf[..n].iter().all(|&b| b == 7));
                got += n;
            }
            read
        });
        let write = writer.await.unwrap();
        let read = reader.await.unwrap();
        assert_eq!(read.peer_addr().unwrap(), addr);
        assert_eq!(write.peer_addr().unwrap(), addr);
        let stream = read.reunite(write).unwrap();
        assert_eq!(stream.peer_addr().unwrap(), addr);
    });
}

#[test]
fn reuniting_halves_of_different_streams_fails_and_returns_them() {
    run_bounded(async {
        let (a, b) = pair().await;
        let (a_read, a_write) = a.into_split();
        let (b_read, b_write) = b.into_split();
        let err: corio::net::tcp::ReuniteError = a_read.reunite(b_write).unwrap_err();
        assert!(err.to_string().contains("not from the same socket"));
        // Both halves come back intact and reunite with their own partners.
        let (a_read, b_write) = (err.0, err.1);
        let a = a_read.reunite(a_write).unwrap();
        let b = b_write.reunite(b_read).unwrap();
        assert_eq!(a.local_addr().unwrap(), b.peer_addr().unwrap());
    });
}

#[test]
fn debug_output_names_the_socket_type_and_its_addresses() {
    run_bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(format!("{listener:?}").starts_with("TcpListener { local: Some("));
        let client = TcpStream::connect(addr).await.unwrap();
        let debug = format!("{client:?}");
        assert!(debug.starts_with("TcpStream { local: Some("), "{debug}");
        assert!(debug.contains(&format!("peer: Some({addr})")), "{debug}");
        let (read, write) = client.into_split();
        assert!(format!("{read:?}").starts_with("OwnedReadHalf(TcpStream {"));
        assert!(format!("{write:?}").starts_with("OwnedWriteHalf(TcpStream {"));
        let udp = corio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        assert!(format!("{udp:?}").starts_with("UdpSocket { local: Some("));
    });
}

#[test]
#[should_panic(expected = "corio::net::TcpStream::from_std() needs a running event loop")]
fn from_std_outside_a_loop_panics_naming_the_call() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let _ = TcpStream::from_std(stream);
}

#[test]
fn dropping_the_write_half_sends_eof_and_the_read_half_keeps_working() {
    run_bounded(async {
        let (client, server) = pair().await;
        let (read, write) = client.into_split();
        drop(write);
        let mut buf = [0; 8];
        assert_eq!(within(server.read(&mut buf)).await.unwrap(), 0);
        server.write_all(b"still").await.unwrap();
        let n = within(read.read(&mut buf)).await.unwrap();
        assert_eq!(&buf[..n], b"still");
    });
}

#[test]
fn shutting_down_from_the_write_half_wakes_a_reader_blocked_on_the_read_half() {
    run_bounded(async {
        let (client, _server) = pair().await;
        let (read, write) = client.into_split();
        let reader = corio::create_task(async move {
            let mut buf = [0; 8];
            read.read(&mut buf).await
        });
        corio::sleep(Duration::from_millis(20)).await;
        assert!(!reader.is_done());
        write.as_ref().shutdown(Shutdown::Both).unwrap();
        // The blocked read ends (EOF), it does not hang.
        assert_eq!(within(reader).await.unwrap().unwrap(), 0);
    });
}

#[test]
fn cancelling_a_task_blocked_on_read_closes_its_socket_for_the_peer() {
    run_bounded(async {
        let (client, server) = pair().await;
        let reader = corio::create_task(async move {
            let mut buf = [0; 8];
            client.read(&mut buf).await
        });
        corio::sleep(Duration::from_millis(20)).await;
        reader.cancel();
        let mut buf = [0; 8];
        assert_eq!(within(server.read(&mut buf)).await.unwrap(), 0);
    });
}

#[test]
fn an_accept_on_a_shared_listener_in_another_task_gets_the_connection() {
    run_bounded(async {
        let listener = Arc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
        let addr = listener.local_addr().unwrap();
        let acceptor = {
            let listener = Arc::clone(&listener);
            corio::create_task(async move { listener.accept().await.map(|(_, a)| a) })
        };
        corio::sleep(Duration::from_millis(20)).await;
        let client = TcpStream::connect(addr).await.unwrap();
        let accepted = within(acceptor).await.unwrap().unwrap();
        assert_eq!(accepted, client.local_addr().unwrap());
    });
}

#[test]
fn nodelay_and_ttl_can_be_set_and_read_back() {
    run_bounded(async {
        let (client, _server) = pair().await;
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        client.set_nodelay(false).unwrap();
        assert!(!client.nodelay().unwrap());
        client.set_ttl(42).unwrap();
        assert_eq!(client.ttl().unwrap(), 42);
        assert!(client.take_error().unwrap().is_none());
    });
}

#[test]
fn accept_loop_keeps_serving_after_a_handler_task_panics() {
    run_bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let served = Arc::new(AtomicUsize::new(0));
        let server = {
            let served = Arc::clone(&served);
            corio::create_task(async move {
                for n in 0.. {
                    let (stream, _) = listener.accept().await.unwrap();
                    let served = Arc::clone(&served);
                    corio::create_task(async move {
                        if n == 0 {
                            panic!("handler 0 fails on purpose");
                        }
                        // Counted before the reply: under workers the client
                        // may read "ok" before this task runs another line.
                        served.fetch_add(1, Ordering::SeqCst);
                        stream.write_all(b"ok").await.unwrap();
                    });
                }
            })
        };
        // The first connection's handler panics: the client sees EOF.
        let first = TcpStream::connect(addr).await.unwrap();
        let mut buf = [0; 2];
        assert_eq!(within(first.read(&mut buf)).await.unwrap(), 0);
        // Later connections are still served.
        for _ in 0..3 {
            let stream = TcpStream::connect(addr).await.unwrap();
            within(read_exact(&stream, &mut buf)).await.unwrap();
            assert_eq!(&buf, b"ok");
        }
        assert_eq!(served.load(Ordering::SeqCst), 3);
        assert!(!server.is_done());
        server.cancel();
    });
}

#[test]
fn try_read_and_try_write_report_would_block_then_succeed_after_readiness() {
    run_bounded(async {
        let (client, server) = pair().await;
        let mut buf = [0; 8];
        let err = client.try_read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        server.writable().await.unwrap();
        assert_eq!(server.try_write(b"now").unwrap(), 3);
        loop {
            within(client.readable()).await.unwrap();
            match client.try_read(&mut buf) {
                Ok(n) => {
                    assert_eq!(&buf[..n], b"now");
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => panic!("{e}"),
            }
        }
    });
}

#[test]
fn peek_leaves_the_data_for_the_next_read() {
    run_bounded(async {
        let (client, server) = pair().await;
        server.write_all(b"peek").await.unwrap();
        let mut buf = [0; 4];
        let n = within(client.peek(&mut buf)).await.unwrap();
        assert_eq!(&buf[..n], &b"peek"[..n]);
        read_exact(&client, &mut buf).await.unwrap();
        assert_eq!(&buf, b"peek");
    });
}

/// Reads once through `futures_io::AsyncRead::poll_read`, nothing else.
async fn read_via_futures_io<R: AsyncRead + Unpin>(
    reader: &mut R,
    buf: &mut [u8],
) -> io::Result<usize> {
    poll_fn(|cx| Pin::new(&mut *reader).poll_read(cx, buf)).await
}

#[test]
fn streams_and_halves_implement_futures_io() {
    run_bounded(async {
        let (mut client, mut server) = pair().await;
        // AsyncWrite via futures-util, AsyncRead via the bare trait.
        AsyncWriteExt::write_all(&mut client, b"futures-io")
            .await
            .unwrap();
        let mut buf = [0; 10];
        let mut got = 0;
        while got < buf.len() {
            got += read_via_futures_io(&mut server, &mut buf[got..])
                .await
                .unwrap();
        }
        assert_eq!(&buf, b"futures-io");

        // &TcpStream works too, and close() is a write shutdown: the peer sees EOF.
        AsyncWriteExt::write_all(&mut &server, b"back")
            .await
            .unwrap();
        (&server).close().await.unwrap();
        let mut back = Vec::new();
        client.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, b"back");

        // The owned halves.
        let (mut client, server) = pair().await;
        let (mut read, mut write) = server.into_split();
        AsyncWriteExt::write_all(&mut client, b"halves")
            .await
            .unwrap();
        let mut buf = [0; 6];
        read.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"halves");
        AsyncWriteExt::write_all(&mut write, b"bye").await.unwrap();
        write.flush().await.unwrap();
        write.close().await.unwrap();
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"bye");
    });
}

#[test]
fn listener_and_stream_round_trip_through_std() {
    run_bounded(async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let listener = TcpListener::from_std(std_listener).unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_ttl(64).unwrap();
        assert_eq!(listener.ttl().unwrap(), 64);
        let client = TcpStream::from_std(std::net::TcpStream::connect(addr).unwrap()).unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let server = server.into_std().unwrap();
        assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
        let listener = listener.into_std().unwrap();
        assert_eq!(listener.local_addr().unwrap(), addr);
    });
}

#[test]
fn binding_an_address_in_use_keeps_the_kind_and_names_the_address() {
    run_bounded(async {
        let first = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = first.local_addr().unwrap();
        let err = TcpListener::bind(addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    });
}

/// Two tasks reading one `&TcpStream` at once are both woken: each `read`
/// waits with its own waker (the reactor keeps one waker per direction for
/// `poll_read`, so a shared slot would leave the first reader asleep).
#[test]
fn two_tasks_reading_one_stream_are_both_woken() {
    run_bounded(async {
        let (client, server) = pair().await;
        let client = std::rc::Rc::new(client);
        let reader = |client: std::rc::Rc<TcpStream>| async move {
            let mut byte = [0u8; 1];
            client.read(&mut byte).await.unwrap();
            byte[0]
        };
        let first = corio::create_local_task(reader(client.clone()));
        let second = corio::create_local_task(reader(client.clone()));
        // Both readers wait.
        corio::sleep(Duration::from_millis(20)).await;
        server.write_all(b"a").await.unwrap();
        corio::sleep(Duration::from_millis(20)).await;
        server.write_all(b"b").await.unwrap();
        // A reader left asleep would only finish when something polled its
        // read again: wait on the handles, which do not.
        let both = async { (first.await.unwrap(), second.await.unwrap()) };
        let (a, b) = corio::timeout(Duration::from_secs(2), both)
            .await
            .expect("a reader was never woken");
        let mut got = [a, b];
        got.sort();
        assert_eq!(&got, b"ab");
    });
}
