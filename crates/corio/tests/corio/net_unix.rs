//! corio::net Unix-domain sockets: stream echo through a socket file, stream and
//! datagram pairs, split halves, futures-io, and errors naming the path. Every wait is
//! bounded by `corio::timeout`.

use std::future::Future;
use std::io;
use std::net::Shutdown;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use corio::net::{UnixDatagram, UnixListener, UnixStream};
use futures_util::io::{AsyncReadExt, AsyncWriteExt};

/// Runs `fut` on a fresh loop, failing the test if it takes longer than 20 s.
fn run_bounded<F: Future>(fut: F) -> F::Output {
    corio::run(async {
        corio::timeout(Duration::from_secs(20), fut)
            .await
            .expect("the test timed out (a hang)")
    })
}

/// A socket path in the temp dir, unique to this process and call; removed on drop.
struct TempPath(PathBuf);

impl TempPath {
    fn new(tag: &str) -> TempPath {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("corio-net-{tag}-{}-{n}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        TempPath(path)
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn read_exact(stream: &UnixStream, buf: &mut [u8]) -> io::Result<()> {
    let mut got = 0;
    while got < buf.len() {
        match stream.read(&mut buf[got..]).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => got += n,
        }
    }
    Ok(())
}

#[test]
fn unix_stream_echo_through_a_socket_file() {
    let path = TempPath::new("echo");
    run_bounded(async {
        let listener = UnixListener::bind(&path.0).unwrap();
        assert_eq!(
            listener.local_addr().unwrap().as_pathname(),
            Some(path.0.as_path())
        );
        let server = corio::create_task(async move {
            for _ in 0..3 {
                let (stream, _) = listener.accept().await.unwrap();
                corio::create_task(async move {
                    let mut buf = [0; 1024];
                    loop {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => stream.write_all(&buf[..n]).await.unwrap(),
                        }
                    }
                });
            }
        });
        for i in 0..3u8 {
            let client = UnixStream::connect(&path.0).await.unwrap();
            for j in 0..50u8 {
                client.write_all(&[i, j, 1, 2]).await.unwrap();
                let mut back = [0; 4];
                read_exact(&client, &mut back).await.unwrap();
                assert_eq!(back, [i, j, 1, 2]);
            }
        }
        server.await.unwrap();
    });
    assert!(path.0.exists(), "the listener leaves its socket file");
}

#[test]
fn connecting_to_a_missing_path_keeps_the_kind_and_names_the_path() {
    let path = TempPath::new("missing");
    run_bounded(async {
        let err = UnixStream::connect(&path.0).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
        assert!(
            err.to_string().contains(&*path.0.to_string_lossy()),
            "{err}"
        );
    });
}

#[test]
fn binding_an_existing_path_fails_naming_it() {
    let path = TempPath::new("twice");
    run_bounded(async {
        let _first = UnixListener::bind(&path.0).unwrap();
        let err = UnixListener::bind(&path.0).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
        assert!(
            err.to_string().contains(&*path.0.to_string_lossy()),
            "{err}"
        );
    });
}

#[test]
fn unix_stream_pair_carries_bytes_both_ways_and_half_closes() {
    run_bounded(async {
        let (a, b) = UnixStream::pair().unwrap();
        a.write_all(b"to b").await.unwrap();
        a.shutdown(Shutdown::Write).unwrap();
        let mut buf = [0; 4];
        read_exact(&b, &mut buf).await.unwrap();
        assert_eq!(&buf, b"to b");
        assert_eq!(b.read(&mut buf).await.unwrap(), 0);
        b.write_all(b"to a").await.unwrap();
        read_exact(&a, &mut buf).await.unwrap();
        assert_eq!(&buf, b"to a");
    });
}

#[test]
fn unix_split_halves_work_from_two_tasks_and_futures_io() {
    run_bounded(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let (mut read, mut write) = a.into_split();
        let writer = corio::create_task(async move {
            for i in 0..100u8 {
                AsyncWriteExt::write_all(&mut write, &[i; 10])
                    .await
                    .unwrap();
            }
            write.close().await.unwrap();
            write
        });
        // Echo on the other end with the futures-io traits.
        let echo = corio::create_task(async move {
            let mut buf = [0; 64];
            loop {
                let n = AsyncReadExt::read(&mut b, &mut buf).await.unwrap();
                if n == 0 {
                    return;
                }
                AsyncWriteExt::write_all(&mut b, &buf[..n]).await.unwrap();
            }
        });
        let mut all = Vec::new();
        read.read_to_end(&mut all).await.unwrap();
        assert_eq!(all.len(), 1000);
        assert!(all.chunks(10).enumerate().all(|(i, c)| c == [i as u8; 10]));
        echo.await.unwrap();
        let write = writer.await.unwrap();
        read.reunite(write).unwrap();
    });
}

#[test]
fn a_reader_on_a_unix_read_half_is_woken_by_shutdown_from_the_write_half() {
    run_bounded(async {
        let (a, _b) = UnixStream::pair().unwrap();
        let (read, write) = a.into_split();
        let reader = corio::create_task(async move {
            let mut buf = [0; 8];
            read.read(&mut buf).await
        });
        corio::sleep(Duration::from_millis(20)).await;
        assert!(!reader.is_done());
        write.as_ref().shutdown(Shutdown::Both).unwrap();
        let n = corio::timeout(Duration::from_secs(5), reader)
            .await
            .expect("the blocked reader hung")
            .unwrap()
            .unwrap();
        assert_eq!(n, 0);
    });
}

#[test]
fn unix_datagram_pair_and_bound_sockets_exchange_datagrams() {
    let server_path = TempPath::new("dgram-server");
    let client_path = TempPath::new("dgram-client");
    run_bounded(async {
        let (a, b) = UnixDatagram::pair().unwrap();
        a.send(b"first").await.unwrap();
        a.send(b"second").await.unwrap();
        let mut buf = [0; 16];
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"first");
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"second");

        let server = UnixDatagram::bind(&server_path.0).unwrap();
        let client = UnixDatagram::bind(&client_path.0).unwrap();
        client.send_to(b"ping", &server_path.0).await.unwrap();
        let (n, from) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"ping");
        assert_eq!(from.as_pathname(), Some(client_path.0.as_path()));
        server
            .send_to(b"pong", from.as_pathname().unwrap())
            .await
            .unwrap();
        let (n, _) = client.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"pong");

        let unbound = UnixDatagram::unbound().unwrap();
        unbound.connect(&server_path.0).unwrap();
        assert_eq!(
            unbound.peer_addr().unwrap().as_pathname(),
            Some(server_path.0.as_path())
        );
        unbound.send(b"connected").await.unwrap();
        let (n, _) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"connected");
    });
}

#[test]
fn unix_sockets_debug_as_their_own_types() {
    run_bounded(async {
        let (stream, _peer) = UnixStream::pair().unwrap();
        assert!(format!("{stream:?}").starts_with("UnixStream { local: Some("));
        let (read, _write) = stream.into_split();
        assert!(format!("{read:?}").starts_with("OwnedReadHalf(UnixStream {"));
        let (datagram, _peer) = UnixDatagram::pair().unwrap();
        assert!(format!("{datagram:?}").starts_with("UnixDatagram { local: Some("));
    });
}

#[test]
#[should_panic(expected = "corio::net::UnixDatagram::pair() needs a running event loop")]
fn unix_datagram_pair_outside_a_loop_panics_naming_the_call() {
    let _ = UnixDatagram::pair();
}
