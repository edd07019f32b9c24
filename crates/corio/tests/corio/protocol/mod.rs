//! corio::protocol: the order of a stream protocol's callbacks (server and
//! client side), close flushing and abort dropping the write buffer,
//! pause_reading, the write-buffer water marks with a peer that does not
//! read, a peer reset, server close and wait_closed, a panicking protocol,
//! a UDP echo (`datagram.rs`), and pipes through a child process
//! (`pipes.rs`).

mod datagram;
mod pipes;

use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corio::protocol::{Protocol, Transport};

/// Runs `fut` on a fresh loop, failing the test if it takes longer than 20 s.
pub(super) fn run_bounded<F: Future>(fut: F) -> F::Output {
    corio::run(async {
        corio::timeout(Duration::from_secs(20), fut)
            .await
            .expect("the test timed out (a hang)")
    })
}

pub(super) type Log = Arc<Mutex<Vec<String>>>;

/// Waits (bounded) until `cond` holds.
pub(super) async fn until(mut cond: impl FnMut() -> bool) {
    for _ in 0..5000 {
        if cond() {
            return;
        }
        corio::sleep(Duration::from_millis(1)).await;
    }
    panic!("condition never became true");
}

/// A protocol that logs every callback and runs an optional hook on data.
pub(super) struct Recorder {
    log: Log,
    transport: Option<Transport>,
    echo: bool,
    keep_open: bool,
}

impl Recorder {
    fn new(log: &Log) -> Recorder {
        Recorder {
            log: log.clone(),
            transport: None,
            echo: false,
            keep_open: false,
        }
    }

    fn push(&self, event: String) {
        self.log.lock().unwrap().push(event);
    }
}

impl Protocol for Recorder {
    fn connection_made(&mut self, transport: Transport) {
        self.push("made".into());
        self.transport = Some(transport);
    }
    fn data_received(&mut self, data: &[u8]) {
        self.push(format!("data:{}", String::from_utf8_lossy(data)));
        if self.echo {
            self.transport.as_ref().unwrap().write(data);
        }
    }
    fn eof_received(&mut self) -> bool {
        self.push("eof".into());
        self.keep_open
    }
    fn connection_lost(&mut self, err: Option<io::Error>) {
        self.push(match err {
            None => "lost:none".into(),
            Some(e) => format!("lost:{:?}", e.kind()),
        });
    }
    fn pause_writing(&mut self) {
        let size = self.transport.as_ref().unwrap().get_write_buffer_size();
        self.push(format!("pause:{size}"));
    }
    fn resume_writing(&mut self) {
        let size = self.transport.as_ref().unwrap().get_write_buffer_size();
        self.push(format!("resume:{size}"));
    }
}

/// Joins the `data:` entries and returns (events with the data folded into
/// one `data` entry, the data).
pub(super) fn fold(log: &Log) -> (Vec<String>, String) {
    let mut events = Vec::new();
    let mut data = String::new();
    for e in log.lock().unwrap().iter() {
        if let Some(d) = e.strip_prefix("data:") {
            data.push_str(d);
            if events.last().map(String::as_str) != Some("data") {
                events.push("data".to_owned());
            }
        } else {
            events.push(e.clone());
        }
    }
    (events, data)
}

#[test]
fn echo_server_callbacks_come_in_asyncio_order() {
    let log: Log = Arc::default();
    let server_log = log.clone();
    run_bounded(async move {
        let handle = corio::get_running_loop();
        let server = handle
            .create_server(
                move || Recorder {
                    echo: true,
                    ..Recorder::new(&server_log)
                },
                "127.0.0.1:0",
            )
            .await
            .unwrap();
        let (mut reader, mut writer) = corio::open_connection(server.local_addr()).await.unwrap();
        writer.write(b"hello ");
        writer.write(b"world");
        writer.drain().await.unwrap();
        writer.write_eof().await.unwrap();
        // The server echoes, hears EOF, returns false: its transport closes.
        assert_eq!(reader.read_to_end().await.unwrap(), b"hello world");
        server.close();
        server.wait_closed().await;
    });
    let (events, data) = fold(&log);
    assert_eq!(events, ["made", "data", "eof", "lost:none"]);
    assert_eq!(data, "hello world");
}

#[test]
fn client_connection_made_runs_before_create_connection_returns() {
    let log: Log = Arc::default();
    let client_log = log.clone();
    run_bounded(async {
        let server = corio::start_server(
            |mut r, mut w| async move {
                let data = r.read_to_end().await.unwrap();
                w.write(&data);
                let _ = w.wait_closed().await;
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (transport, done) = corio::protocol::create_connection(
            move || Recorder::new(&client_log),
            server.local_addr().unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(fold(&log).0, ["made"]);
        assert_eq!(transport.peer_addr(), server.local_addr());
        assert!(transport.can_write_eof());
        transport.writelines([&b"ab"[..], b"cd"]);
        transport.write_eof();
        let protocol = done.await.unwrap();
        assert!(protocol.transport.unwrap().is_closing());
    });
    let (events, data) = fold(&log);
    assert_eq!(events, ["made", "data", "eof", "lost:none"]);
    assert_eq!(data, "abcd");
}

/// A protocol that writes `n` bytes in `connection_made`, then closes or
/// aborts, and records the buffer size seen right after writing.
struct Burst {
    n: usize,
    abort: bool,
    buffered: Arc<Mutex<usize>>,
    log: Log,
}

impl Protocol for Burst {
    fn connection_made(&mut self, transport: Transport) {
        transport.write(&vec![b'x'; self.n]);
        *self.buffered.lock().unwrap() = transport.get_write_buffer_size();
        if self.abort {
            transport.abort();
        } else {
            transport.close();
        }
        // Idempotent, and nothing is written once closing.
        transport.close();
        transport.write(b"ignored");
        assert!(transport.is_closing());
    }
    fn data_received(&mut self, _data: &[u8]) {}
    fn connection_lost(&mut self, err: Option<io::Error>) {
        self.log
            .lock()
            .unwrap()
            .push(format!("lost:{:?}", err.map(|e| e.kind())));
    }
}

fn burst(abort: bool) -> (usize, usize, Vec<String>) {
    const N: usize = 4 << 20;
    let log: Log = Arc::default();
    let buffered = Arc::new(Mutex::new(0));
    let (l, b) = (log.clone(), buffered.clone());
    let received = run_bounded(async move {
        let handle = corio::get_running_loop();
        let server = handle
            .create_server(
                move || Burst {
                    n: N,
                    abort,
                    buffered: b.clone(),
                    log: l.clone(),
                },
                "127.0.0.1:0",
            )
            .await
            .unwrap();
        let stream = corio::net::TcpStream::connect(server.local_addr())
            .await
            .unwrap();
        let mut total = 0;
        let mut buf = vec![0; 64 * 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
        server.close();
        server.wait_closed().await;
        total
    });
    let buffered = *buffered.lock().unwrap();
    let log = log.lock().unwrap().clone();
    (received, buffered, log)
}

#[test]
fn close_flushes_the_write_buffer_first() {
    let (received, buffered, log) = burst(false);
    assert!(
        buffered > 0,
        "the socket took all 4 MiB at once: the test proves nothing"
    );
    assert_eq!(received, 4 << 20);
    assert_eq!(log, ["lost:None"]);
}

#[test]
fn abort_drops_the_write_buffer() {
    let (received, buffered, log) = burst(true);
    assert!(buffered > 0);
    assert!(
        received <= (4 << 20) - buffered,
        "received {received}, buffered {buffered}"
    );
    assert_eq!(log, ["lost:None"]);
}

#[test]
fn pause_reading_stops_data_received_until_resumed() {
    let log: Log = Arc::default();
    let transports: Arc<Mutex<Vec<Transport>>> = Arc::default();
    let (l, t) = (log.clone(), transports.clone());
    run_bounded(async {
        struct Paused(Recorder, Arc<Mutex<Vec<Transport>>>);
        impl Protocol for Paused {
            fn connection_made(&mut self, transport: Transport) {
                transport.pause_reading();
                assert!(!transport.is_reading());
                self.1.lock().unwrap().push(transport.clone());
                self.0.connection_made(transport);
            }
            fn data_received(&mut self, data: &[u8]) {
                self.0.data_received(data);
            }
            fn connection_lost(&mut self, err: Option<io::Error>) {
                self.0.connection_lost(err);
            }
        }
        let handle = corio::get_running_loop();
        let server = handle
            .create_server(move || Paused(Recorder::new(&l), t.clone()), "127.0.0.1:0")
            .await
            .unwrap();
        let stream = corio::net::TcpStream::connect(server.local_addr())
            .await
            .unwrap();
        stream.write_all(b"queued").await.unwrap();
        until(|| !transports.lock().unwrap().is_empty()).await;
        corio::sleep(Duration::from_millis(50)).await;
        assert_eq!(fold(&log).0, ["made"], "data_received while paused");
        let transport = transports.lock().unwrap()[0].clone();
        transport.resume_reading();
        assert!(transport.is_reading());
        until(|| fold(&log).1 == "queued").await;
        transport.close();
        server.close();
        server.wait_closed().await;
    });
    assert_eq!(fold(&log).0, ["made", "data", "lost:none"]);
}

#[test]
fn water_marks_pause_and_resume_writing() {
    let log: Log = Arc::default();
    let l = log.clone();
    run_bounded(async {
        struct Flood(Recorder);
        impl Protocol for Flood {
            fn connection_made(&mut self, transport: Transport) {
                assert_eq!(transport.get_write_buffer_limits(), (64 * 1024, 16 * 1024));
                transport.set_write_buffer_limits(256 * 1024, 32 * 1024);
                // Far more than the socket buffers take: the rest waits in ours.
                transport.write(&vec![b'x'; 8 << 20]);
                self.0.connection_made(transport);
            }
            fn data_received(&mut self, _data: &[u8]) {}
            fn connection_lost(&mut self, err: Option<io::Error>) {
                self.0.connection_lost(err);
            }
            fn pause_writing(&mut self) {
                self.0.pause_writing();
            }
            fn resume_writing(&mut self) {
                self.0.resume_writing();
                self.0.transport.as_ref().unwrap().close();
            }
        }
        let handle = corio::get_running_loop();
        let server = handle
            .create_server(move || Flood(Recorder::new(&l)), "127.0.0.1:0")
            .await
            .unwrap();
        let stream = corio::net::TcpStream::connect(server.local_addr())
            .await
            .unwrap();
        // A peer that does not read: the protocol is paused and stays so.
        until(|| log.lock().unwrap().len() >= 2).await;
        corio::sleep(Duration::from_millis(30)).await;
        assert_eq!(log.lock().unwrap().len(), 2, "{:?}", log.lock().unwrap());
        // Now read everything: the buffer drains below the low mark.
        let mut buf = vec![0; 256 * 1024];
        let mut total = 0;
        while total < 8 << 20 {
            let n = stream.read(&mut buf).await.unwrap();
            assert_ne!(n, 0);
            total += n;
        }
        server.close();
        server.wait_closed().await;
    });
    let log = log.lock().unwrap().clone();
    assert_eq!(log.len(), 4, "{log:?}");
    assert_eq!(log[0], "made");
    let paused: usize = log[1].strip_prefix("pause:").unwrap().parse().unwrap();
    assert!(paused > 256 * 1024, "{log:?}");
    let resumed: usize = log[2].strip_prefix("resume:").unwrap().parse().unwrap();
    assert!(resumed <= 32 * 1024, "{log:?}");
    assert_eq!(log[3], "lost:none");
}

#[test]
fn peer_reset_loses_the_connection_with_an_error() {
    let log: Log = Arc::default();
    let l = log.clone();
    run_bounded(async move {
        struct Greeter(Recorder);
        impl Protocol for Greeter {
            fn connection_made(&mut self, transport: Transport) {
                transport.write(b"unread");
                self.0.connection_made(transport);
            }
            fn data_received(&mut self, data: &[u8]) {
                self.0.data_received(data);
            }
            fn connection_lost(&mut self, err: Option<io::Error>) {
                self.0.connection_lost(err);
            }
        }
        let handle = corio::get_running_loop();
        let server = handle
            .create_server(move || Greeter(Recorder::new(&l)), "127.0.0.1:0")
            .await
            .unwrap();
        let client = std::net::TcpStream::connect(server.local_addr()).unwrap();
        let mut peek = [0; 1];
        client.set_nonblocking(true).unwrap();
        // Wait until the greeting sits unread in the client's buffer, then
        // close: with unread data the kernel sends a reset.
        until(|| client.peek(&mut peek).is_ok()).await;
        drop(client);
        server.close();
        server.wait_closed().await;
    });
    assert_eq!(*log.lock().unwrap(), ["made", "lost:ConnectionReset"]);
}

#[test]
fn server_close_stops_accepting_and_wait_closed_waits_for_connections() {
    run_bounded(async {
        let log: Log = Arc::default();
        let l = log.clone();
        let server = corio::protocol::create_server(
            move || Recorder {
                echo: true,
                ..Recorder::new(&l)
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let addr = server.local_addr();
        let stream = corio::net::TcpStream::connect(addr).await.unwrap();
        until(|| server.connections() == 1).await;
        server.close();
        assert!(!server.is_serving());
        server.serve_forever().await;
        let refused = corio::net::TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
        // The accepted connection still echoes.
        stream.write_all(b"still here").await.unwrap();
        let mut buf = [0; 10];
        let mut got = 0;
        while got < 10 {
            got += stream.read(&mut buf[got..]).await.unwrap();
        }
        assert_eq!(&buf, b"still here");
        let waiting = corio::create_task(async move {
            server.wait_closed().await;
        });
        corio::sleep(Duration::from_millis(20)).await;
        assert!(
            !waiting.is_done(),
            "wait_closed returned with a live connection"
        );
        drop(stream);
        waiting.await.unwrap();
        assert_eq!(fold(&log).0, ["made", "data", "eof", "lost:none"]);
    });
}

#[test]
fn a_panicking_protocol_is_reported_and_loses_its_connection() {
    run_bounded(async {
        struct Bomb(Log);
        impl Protocol for Bomb {
            fn connection_made(&mut self, _transport: Transport) {}
            fn data_received(&mut self, _data: &[u8]) {
                panic!("bad bytes");
            }
            fn connection_lost(&mut self, err: Option<io::Error>) {
                self.0.lock().unwrap().push(format!(
                    "lost:{}",
                    err.map(|e| e.to_string()).unwrap_or_default()
                ));
            }
        }
        let reported: Log = Arc::default();
        let r = reported.clone();
        let handle = corio::get_running_loop();
        handle.set_exception_handler(move |e| {
            r.lock()
                .unwrap()
                .push(e.panic_message().unwrap_or("").to_owned());
        });
        let log: Log = Arc::default();
        let l = log.clone();
        let server = handle
            .create_server(move || Bomb(l.clone()), "127.0.0.1:0")
            .await
            .unwrap();
        let stream = corio::net::TcpStream::connect(server.local_addr())
            .await
            .unwrap();
        stream.write_all(b"x").await.unwrap();
        let mut buf = [0; 1];
        assert_eq!(stream.read(&mut buf).await.unwrap(), 0, "the server closed");
        server.close();
        server.wait_closed().await;
        assert_eq!(*reported.lock().unwrap(), ["bad bytes"]);
        assert_eq!(
            *log.lock().unwrap(),
            ["lost:the protocol's data_received panicked"]
        );
    });
}

#[test]
fn echo_under_workers() {
    let log: Log = Arc::default();
    let l = log.clone();
    let mut runner = corio::Runner::builder().workers(2).build().unwrap();
    runner.run(async move {
        let handle = corio::get_running_loop();
        let server = handle
            .create_server(
                move || Recorder {
                    echo: true,
                    ..Recorder::new(&l)
                },
                "127.0.0.1:0",
            )
            .await
            .unwrap();
        let addr = server.local_addr();
        let clients: Vec<_> = (0..8)
            .map(|_| {
                corio::create_task(async move {
                    let (mut r, mut w) = corio::open_connection(addr).await.unwrap();
                    for _ in 0..50 {
                        w.write(b"0123456789");
                        w.drain().await.unwrap();
                        assert_eq!(r.readexactly(10).await.unwrap(), b"0123456789");
                    }
                    w.close();
                    let _ = w.wait_closed().await;
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
        server.close();
        corio::timeout(Duration::from_secs(20), server.wait_closed())
            .await
            .expect("wait_closed hung under workers");
    });
    let log = log.lock().unwrap();
    assert_eq!(log.iter().filter(|e| *e == "made").count(), 8);
    assert_eq!(log.iter().filter(|e| *e == "lost:none").count(), 8);
}
