//! `start_server`/`open_connection` end to end, over TCP and Unix sockets:
//! echo round trips, flow control both ways, panicking handlers, closing and
//! `wait_closed`, refused connects, peers that vanish, socket files.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corio::{StreamReader, StreamWriter};

use super::run_bounded;

// ---------------------------------------------------------------------------
// TCP: start_server + open_connection

async fn echo(mut reader: StreamReader, mut writer: StreamWriter) {
    loop {
        match reader.readline().await {
            Ok(line) if line.is_empty() => break,
            Ok(line) => {
                writer.write(&line);
                if writer.drain().await.is_err() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let _ = writer.wait_closed().await;
}

#[test]
fn an_echo_server_round_trips_lines_for_several_clients() {
    run_bounded(async {
        let server = corio::start_server(echo, "127.0.0.1:0").await.unwrap();
        assert!(server.is_serving());
        let addr = server.local_addr().unwrap();
        let clients: Vec<_> = (0..5)
            .map(|i| {
                corio::create_task(async move {
                    let (mut reader, mut writer) = corio::open_connection(addr).await.unwrap();
                    assert_eq!(writer.peer_addr(), Some(addr));
                    assert!(writer.local_addr().is_some());
                    for j in 0..20 {
                        let line = format!("client {i} line {j}\n");
                        writer.write(line.as_bytes());
                        writer.drain().await.unwrap();
                        assert_eq!(reader.readline().await.unwrap(), line.as_bytes());
                    }
                    writer.write_eof().await.unwrap();
                    assert_eq!(
                        reader.read_to_end().await.unwrap(),
                        b"",
                        "the server closes after our EOF"
                    );
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
        server.close();
        server.wait_closed().await;
        assert_eq!(server.connections(), 0);
    });
}

#[test]
fn a_large_transfer_survives_flow_control_both_ways() {
    run_bounded(async {
        let server = corio::start_server(
            |mut reader: StreamReader, mut writer: StreamWriter| async move {
                // Echo in 64 KiB pieces until EOF.
                loop {
                    let chunk = reader.read(65536).await.unwrap();
                    if chunk.is_empty() {
                        break;
                    }
                    writer.write(&chunk);
                    writer.drain().await.unwrap();
                }
                writer.wait_closed().await.unwrap();
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut reader, mut writer) = corio::open_connection(server.local_addr().unwrap())
            .await
            .unwrap();
        let payload: Vec<u8> = (0..=250u8).cycle().take(8 << 20).collect();
        let sender = corio::create_task({
            let payload = payload.clone();
            async move {
                for piece in payload.chunks(100_000) {
                    writer.write(piece);
                    writer.drain().await.unwrap();
                }
                writer.write_eof().await.unwrap();
            }
        });
        let echoed = reader.read_to_end().await.unwrap();
        sender.await.unwrap();
        assert!(echoed == payload, "echoed bytes differ");
    });
}

#[test]
fn the_server_keeps_serving_when_a_handler_panics() {
    run_bounded(async {
        let server = corio::start_server(
            |mut reader: StreamReader, mut writer: StreamWriter| async move {
                let line = reader.readline().await.unwrap();
                if line == b"panic\n" {
                    panic!("handler told to panic");
                }
                writer.write(b"fine\n");
                writer.wait_closed().await.unwrap();
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let addr = server.local_addr().unwrap();
        for _ in 0..2 {
            let (mut reader, mut writer) = corio::open_connection(addr).await.unwrap();
            writer.write(b"panic\n");
            writer.drain().await.unwrap();
            // The panicking handler's connection is dropped: we read EOF.
            assert_eq!(reader.read_to_end().await.unwrap(), b"");
        }
        let (mut reader, mut writer) = corio::open_connection(addr).await.unwrap();
        writer.write(b"hello\n");
        writer.drain().await.unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"fine\n");
        assert!(server.is_serving());
        server.close();
        server.wait_closed().await;
    });
}

#[test]
fn close_stops_accepting_and_wait_closed_waits_for_running_handlers() {
    run_bounded(async {
        let finished = Arc::new(AtomicUsize::new(0));
        let server = corio::start_server(
            {
                let finished = finished.clone();
                move |mut reader: StreamReader, mut writer: StreamWriter| {
                    let finished = finished.clone();
                    async move {
                        // Serve until the client sends its end.
                        let _ = reader.read_to_end().await;
                        writer.write(b"bye\n");
                        let _ = writer.wait_closed().await;
                        finished.fetch_add(1, Ordering::SeqCst);
                    }
                }
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let addr = server.local_addr().unwrap();
        let (mut reader, mut writer) = corio::open_connection(addr).await.unwrap();
        writer.write(b"hi");
        writer.drain().await.unwrap();
        while server.connections() == 0 {
            corio::sleep(Duration::from_millis(1)).await;
        }

        server.close();
        assert!(!server.is_serving());
        server.serve_forever().await; // returns at once once closed
                                      // New connections are refused; the existing one keeps running.
        let refused = corio::open_connection(addr).await;
        assert_eq!(
            refused.unwrap_err().kind(),
            io::ErrorKind::ConnectionRefused
        );
        assert!(
            corio::timeout(Duration::from_millis(30), server.wait_closed())
                .await
                .is_err(),
            "wait_closed must wait for the running handler"
        );
        assert_eq!(finished.load(Ordering::SeqCst), 0);

        writer.write_eof().await.unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"bye\n");
        server.wait_closed().await;
        assert_eq!(finished.load(Ordering::SeqCst), 1);
        assert_eq!(server.connections(), 0);
    });
}

#[test]
fn a_server_closed_at_once_still_finishes_closing() {
    run_bounded(async {
        // Closed before its accept task ever ran.
        let server = corio::start_server(echo, "127.0.0.1:0").await.unwrap();
        server.close();
        server.wait_closed().await;
        assert!(!server.is_serving());
    });
}

#[test]
fn dropping_the_server_stops_accepting() {
    run_bounded(async {
        let server = corio::start_server(echo, "127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        drop(server);
        corio::sleep(Duration::from_millis(5)).await; // the accept task is dropped
        let err = corio::open_connection(addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    });
}

#[test]
fn connecting_to_a_closed_port_is_refused_naming_the_address() {
    run_bounded(async {
        // Bind then free a port, so nothing listens on it.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let err = corio::open_connection(addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        assert!(
            err.to_string().contains(&addr.to_string()),
            "message without the address: {err}"
        );
    });
}

#[test]
fn a_peer_that_vanishes_mid_line_gives_the_partial_line() {
    run_bounded(async {
        let server = corio::start_server(
            |_reader: StreamReader, mut writer: StreamWriter| async move {
                writer.write(b"no newline here");
                let _ = writer.wait_closed().await;
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut reader, _writer) = corio::open_connection(server.local_addr().unwrap())
            .await
            .unwrap();
        assert!(reader
            .readuntil(b"\n")
            .await
            .unwrap_err()
            .is_incomplete_read());
        assert!(reader.at_eof());
    });
}

// ---------------------------------------------------------------------------
// Unix sockets

fn socket_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("corio-streams-{}-{name}.sock", std::process::id()))
}

#[test]
fn a_unix_echo_server_round_trips_and_cleans_up_its_socket() {
    run_bounded(async {
        let path = socket_path("echo");
        let server = corio::start_unix_server(echo, &path).await.unwrap();
        assert_eq!(server.unix_path(), Some(path.as_path()));
        assert_eq!(server.local_addr(), None);
        let (mut reader, mut writer) = corio::open_unix_connection(&path).await.unwrap();
        assert_eq!(writer.peer_addr(), None);
        for line in [&b"one\n"[..], b"two\n"] {
            writer.write(line);
            writer.drain().await.unwrap();
            assert_eq!(reader.readline().await.unwrap(), line);
        }
        writer.write_eof().await.unwrap();
        assert_eq!(reader.read_to_end().await.unwrap(), b"");
        server.close();
        server.wait_closed().await;
        assert!(!path.exists(), "the socket file is removed on close");
        let err = corio::open_unix_connection(&path).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains(&path.display().to_string()));
    });
}

#[test]
fn a_stale_unix_socket_file_is_replaced() {
    run_bounded(async {
        let path = socket_path("stale");
        let stale = std::os::unix::net::UnixListener::bind(&path).unwrap();
        drop(stale); // leaves the file behind
        assert!(path.exists());
        let server = corio::start_unix_server(echo, &path).await.unwrap();
        let (mut reader, mut writer) = corio::open_unix_connection(&path).await.unwrap();
        writer.write(b"fresh\n");
        writer.drain().await.unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"fresh\n");
        drop(server);
    });
}
